"""timm's pretrained weights on the Hugging Face Hub: the repository per architecture, the local
cache, and one quick reachability check before any download.
"""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path

from ..config import short
from .errors import CheckpointError

HUB_REPO = "timm/swin_tiny_patch4_window7_224.ms_in1k"
# timm's ImageNet-1k weights on the Hugging Face Hub, per architecture (swinviz.config.ARCHS)
HUB_REPOS = {
    "swin_tiny_patch4_window7_224": HUB_REPO,
    "swin_small_patch4_window7_224": "timm/swin_small_patch4_window7_224.ms_in22k_ft_in1k",
    "swin_base_patch4_window7_224": "timm/swin_base_patch4_window7_224.ms_in22k_ft_in1k",
    "swin_base_patch4_window12_384": "timm/swin_base_patch4_window12_384.ms_in22k_ft_in1k",
    # Swin V2 (swinviz.config.V2_ARCHS)
    **{f"swinv2_{size}_window{M}_256": f"timm/swinv2_{size}_window{M}_256.ms_in1k"
       for size in ("tiny", "small", "base") for M in (8, 16)},
    **{f"swinv2_{size}_window12to{M}_192to{px}": (
        f"timm/swinv2_{size}_window12to{M}_192to{px}.ms_in22k_ft_in1k")
       for size in ("base", "large") for M, px in ((16, 256), (24, 384))},
}


def hub_repo(arch: str) -> str:
    """The Hub repository of timm's pretrained weights for an architecture name (a config
    changed only in input size keeps its weights: `swin_tiny_patch4_window7_224+img_size=448`)."""
    base = arch.split("+")[0]
    if base not in HUB_REPOS:
        raise CheckpointError(
            f"there are no pretrained weights for {short(arch)} on the Hub; choose one of "
            f"{', '.join(HUB_REPOS)}, or use weights='random' or a checkpoint file"
        )
    return HUB_REPOS[base]


HUB_FILE = "model.safetensors"
_HUB_PROBE_TIMEOUT = 2.0
"""Seconds the one reachability check of the Hub may take in all (name lookup, connect and
answer), before hf_hub_download is called. Without it, an offline hf_hub_download retries its
request five times with a 1-2-4-8-8 s backoff (huggingface_hub 2.4.0: after a failed HEAD and
no cached file, `_hf_hub_download_to_cache_dir` retries with `retry_on_errors=True`, which no
setting turns off), about 24 s in all."""


def _download_errors() -> tuple[type[BaseException], ...]:
    """Exceptions hf_hub_download raises for network, offline and cache failures."""
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    errors: list[type[BaseException]] = [
        OSError,  # includes LocalEntryNotFoundError, OfflineModeIsEnabled, requests' errors
        ValueError,  # HFValidationError
        RuntimeError,  # "etag is empty due to uncovered problems"
        HfHubHTTPError,
        LocalEntryNotFoundError,
    ]
    for module_name in ("httpx2", "httpx"):  # the HTTP clients huggingface_hub has used
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in ("HTTPError", "TransportError", "InvalidURL", "StreamError"):
            base = getattr(module, name, None)
            if isinstance(base, type) and issubclass(base, BaseException):
                errors.append(base)
    return tuple(errors)


def hub_offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE), as huggingface_hub read it at import or as the
    environment says now."""
    from huggingface_hub import constants

    now = (os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or "")
    return constants.is_offline_mode() or now.strip().upper() in {"1", "ON", "YES", "TRUE"}


def cached_hub_file(cache_dir: str | None, repo_id: str = HUB_REPO) -> Path | None:
    """The Hub weights in the local Hub cache (huggingface_hub's own lookup: refs/main ->
    snapshots/<commit>/model.safetensors), or None. Touches no network."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, HUB_FILE, cache_dir=cache_dir)
    except (OSError, ValueError):  # an unreadable cache counts as an empty one
        return None
    return Path(found) if isinstance(found, str) else None


def probe_hub(timeout: float = _HUB_PROBE_TIMEOUT,
               repo_id: str = HUB_REPO) -> BaseException | None:
    """One HEAD request for the Hub weights' metadata, without retries, bounded by `timeout`
    seconds in all (it runs in a daemon thread, so even a name lookup, which sockets cannot
    time out, cannot hold it up). None when the Hub answered; else the error (a TimeoutError
    when it did not finish in time)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo_id, HUB_FILE)
    outcome: list[BaseException | None] = []

    def probe() -> None:
        try:
            get_hf_file_metadata(url, timeout=timeout, retry_on_errors=False)
        except Exception as exc:  # reported to the caller
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=probe, name="swinviz-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        return TimeoutError(f"no answer within {timeout:g} s")
    return outcome[0]


def reason(exc: BaseException) -> str:
    """`Type: first line of the message`, for a parenthesis."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    return f"{type(exc).__name__}: {text.splitlines()[0].rstrip('.')}"


def hub_checkpoint(cache_dir: str | os.PathLike[str] | None = None, *,
                   repo_id: str = HUB_REPO) -> Path:
    """Path of timm's pretrained weights (`model.safetensors` of `repo_id`, by default Swin-T's
    `HUB_REPO`; `hub_repo(arch)` names the others).

    Looked up first in the local Hub cache (`cache_dir`, else huggingface_hub's default cache)
    through huggingface_hub's own lookup, with no network. If it is not cached: with
    `HF_HUB_OFFLINE=1` a CheckpointError right away; otherwise one quick request checks that the
    Hub answers (`_HUB_PROBE_TIMEOUT`, no retries, so an offline machine gets its answer in
    under 3 s, not after huggingface_hub's ~24 s of retries), and then hf_hub_download fetches
    and caches the file. Raises CheckpointError, saying how to get the weights, when the file
    is neither cached nor downloadable.
    """
    from huggingface_hub import constants, hf_hub_download

    cache = None if cache_dir is None else str(cache_dir)
    cached = cached_hub_file(cache, repo_id)
    if cached is not None:
        return cached
    where = cache or constants.HF_HUB_CACHE
    command = f"hf download {repo_id} {HUB_FILE}" + (f" --cache-dir {cache}" if cache else "")
    how = (
        f"run `{command}` once with a network connection (it fills the cache {where}), or use "
        f"weights='random' or a checkpoint file on disk."
    )
    if hub_offline():
        raise CheckpointError(
            f"The pretrained weights ({repo_id}) are not in the local Hugging Face cache "
            f"({where}), "
            f"and HF_HUB_OFFLINE is set, so they are not downloaded from the Hugging Face Hub. "
            f"To get them, unset HF_HUB_OFFLINE and {how}"
        )
    problem = probe_hub(repo_id=repo_id)
    if problem is not None:
        from huggingface_hub.errors import HfHubHTTPError

        answer = "refused the request" if isinstance(problem, HfHubHTTPError) else "did not answer"
        raise CheckpointError(
            f"Could not download the pretrained weights ({repo_id}): the Hugging Face Hub "
            f"({constants.ENDPOINT}) {answer} ({reason(problem)}), and they are not in the "
            f"local cache. To get them, {how}"
        )
    try:
        path = hf_hub_download(repo_id, HUB_FILE, cache_dir=cache)
    except _download_errors() as exc:
        raise CheckpointError(
            f"Could not download the pretrained weights ({repo_id}) from the Hugging Face Hub "
            f"({reason(exc)}). To get them, {how}"
        ) from exc
    return Path(path)


