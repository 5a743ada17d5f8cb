"""Which weights by default, and which checkpoints a server offers by name.

`default_weights` decides, without downloading, what "the best weights available" are: timm's
pretrained weights from the Hub cache or the Hub, else a checkpoint the operator named or put in
the checkpoint folder, else random weights with a sentence that says why and how to get real ones.
`list_checkpoint_files` is the one listing rule for that folder: `default_weights` and the page's
checkpoint list (`offered_checkpoints`, `offered_checkpoint`) both follow it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .. import environment
from ..config import SettingsError, expanduser, short
from .errors import CheckpointError, path_text
from .hub import HUB_FILE, HUB_REPO, cached_hub_file, hub_offline, hub_repo, probe_hub, reason

CHECKPOINT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")


@dataclass(frozen=True)
class WeightsChoice:
    """What "the best weights available" resolved to, and why.

    weights: "hub", a checkpoint path, or "random" (what `load_model` takes).
    source:  "hub cache", "hub", "SWINVIZ_WEIGHTS", "checkpoint folder" or "random".
    notice:  with random weights, a sentence for the page / the terminal: why, and how to get
             real ones; None otherwise.
    reasons, how: the notice's parts, each (sentence template, its fields), so that the page
             can say it in its language (`notice_in`).
    """

    weights: str | Path
    source: str
    notice: str | None = None
    reasons: tuple = ()
    how: tuple = ()

    @property
    def pretrained(self) -> bool:
        return self.weights != "random"

    def notice_in(self, say=None) -> str | None:
        """The notice with each sentence template passed through `say(template, **fields)`
        (the page's `app.words.say` in its language; the templates are NOTICE and those of
        `reasons` and `how`); English without it. None with pretrained weights."""
        if self.notice is None or say is None:
            return self.notice
        return say(NOTICE, reasons="; ".join(say(t, **f) for t, f in self.reasons),
                   how="".join(say(t, **f) for t, f in self.how))


NOTICE = ("Random weights: no pretrained weights could be had ({reasons}). The windows, shift, "
          "masks and shapes are exact, but attention, bias and the prediction mean nothing. To "
          "use the pretrained Swin: {how}.")


def _english(template: str, **fields) -> str:
    return template.format(**fields)


def _readable_file(path: Path) -> bool:
    """A regular file this process may read (os.stat and os.access only: nothing is opened,
    so a named pipe or a device is never touched)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode) and os.access(path, os.R_OK)
    except (OSError, ValueError):
        return False


def list_checkpoint_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The checkpoints a folder offers, sorted by name: the one listing rule for the page's
    checkpoint list and `default_weights`.

    An entry is listed when its name does not start with "." and it is either a regular,
    readable file with a checkpoint suffix (CHECKPOINT_SUFFIXES) or a folder holding a regular,
    readable `model.safetensors` (a Hugging Face model folder). Nothing is opened; a folder
    that is missing or cannot be listed lists nothing. Returns the paths (folder / name).
    """
    try:
        base = Path(expanduser(folder))
        with os.scandir(base) as entries:
            names = sorted(entry.name for entry in entries)
    except (OSError, ValueError, TypeError):
        return []
    found = []
    for name in names:
        path = base / name
        if name.startswith("."):
            continue
        if path.suffix.lower() in CHECKPOINT_SUFFIXES and _readable_file(path):
            found.append(path)
        elif path.is_dir() and _readable_file(path / "model.safetensors"):
            found.append(path)
    return found


def default_weights(arch: str = "swin_tiny_patch4_window7_224", *,
                    probe: bool = True, files: bool = True) -> WeightsChoice:
    """The pretrained weights when they can be had, else random weights with a notice.

    In order: timm's weights for `arch` in the local Hugging Face cache; the Hub itself when it
    answers within a second or two (not tried with HF_HUB_OFFLINE=1 or probe=False); the file
    named by $SWINVIZ_WEIGHTS (when it is a readable file or a folder); the first checkpoint
    the page lists from $SWINVIZ_CHECKPOINT_DIR (`list_checkpoint_files`); else random.
    Decides in under 3 s without a network. Never downloads anything itself.
    files=False: the Hub only (the page's second model: the operator's file and folder hold
    weights for the page's first one, Swin-T).
    """
    reasons: list[tuple[str, dict]] = []  # (sentence template, its fields): `notice_in`
    try:
        repo = hub_repo(arch)
    except CheckpointError as exc:
        repo, reasons = None, [("{text}", {"text": str(exc)})]
    if repo is not None:
        if cached_hub_file(None, repo) is not None:
            return WeightsChoice("hub", "hub cache")
        if hub_offline():
            reasons.append(("they are not in the local Hugging Face cache and HF_HUB_OFFLINE "
                            "is set", {}))
        elif not probe:
            reasons.append(("they are not in the local Hugging Face cache", {}))
        else:
            problem = probe_hub(repo_id=repo)
            if problem is None:
                return WeightsChoice("hub", "hub")
            reasons.append(("the Hugging Face Hub could not be reached ({why}) and they are "
                            "not in the local cache", {"why": reason(problem)}))
    named = environment.weights_file() if files else None
    if named:
        try:
            path = Path(expanduser(named))
            usable = _readable_file(path) or path.is_dir()
        except (OSError, ValueError):
            usable = False
        if usable:
            return WeightsChoice(path, environment.WEIGHTS)
        reasons.append(("{name}={path} is not a readable checkpoint file or folder",
                        {"name": environment.WEIGHTS, "path": path_text(named)}))
    folder = environment.checkpoint_dir()
    found = list_checkpoint_files(folder) if folder and files else []
    if found:
        return WeightsChoice(found[0], "checkpoint folder")
    how = [("run `hf download {repo} {file}` once with a network",
            {"repo": repo or HUB_REPO, "file": HUB_FILE})]
    if files:
        how.append((", or set {name} to a Swin checkpoint file (official, timm, torchvision or "
                    "transformers layout)", {"name": environment.WEIGHTS}))
    choice = WeightsChoice("random", "random", "", tuple(reasons), tuple(how))
    return WeightsChoice("random", "random", choice.notice_in(_english), tuple(reasons),
                         tuple(how))


# ------------------------------------------------------- the checkpoints a server offers by name


def checkpoint_folder() -> Path | None:
    """The folder of checkpoints the operator allowed (`environment.checkpoint_dir()`), or None
    when none is set or it is not a folder."""
    value = environment.checkpoint_dir()
    if not value:
        return None
    path = Path(expanduser(value))
    return path if path.is_dir() else None


def offered_checkpoints() -> list[str]:
    """Names of the checkpoints in the allowed folder (`list_checkpoint_files`, the one listing
    rule, which `default_weights` follows too). Only names, never paths."""
    folder = checkpoint_folder()
    return [] if folder is None else [p.name for p in list_checkpoint_files(folder)]


def offered_checkpoint(name: str) -> Path:
    """The path of a listed checkpoint; a name that is not in the listing is refused with a
    SettingsError (so no path a visitor types, such as ../../etc/passwd, ever reaches the
    loader)."""
    folder = checkpoint_folder()
    if folder is None:
        raise SettingsError(
            f"no checkpoint folder is set up on this server (the operator sets "
            f"{environment.CHECKPOINT_DIR})"
        )
    if name not in offered_checkpoints():
        raise SettingsError(f"{short(name)} is not one of the checkpoints offered by this server")
    return folder / name
