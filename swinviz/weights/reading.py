"""Reading a checkpoint: a file or a Hugging Face model folder -> a flat name -> tensor dict.

Files are read with safetensors, or with `torch.load(..., weights_only=True)`: a pickle that
holds anything but tensors and plain containers is refused without running its code. Every
failure is a `CheckpointError` whose sentence names the file, its size, what it looks like
(`sniff.describe`) and what was expected.
"""

from __future__ import annotations

import errno
import io
import json
import os
import pickle
import re
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch

from ..config import expanduser, short
from .errors import EXPECTED, FOLDER_FILES, PICKLE_SUFFIXES, CheckpointError, path_text, size_text
from .sniff import describe, kind_of

_WRAPPER_KEYS = ("model", "state_dict", "model_state")  # {"model": sd} and friends

MAX_CHECKPOINT_BYTES = 2 * 1024**3
"""The largest checkpoint file `read_state_dict` reads: 2 GiB (2,147,483,648 bytes).

A whole Swin-T checkpoint is about 110 MB and Swin-L's about 800 MB.
A larger file is refused with a sentence before any of it is read, and a file is never read past
this size, so reading a checkpoint takes at most about twice this much memory."""


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a checkpoint file (or Hugging Face model folder) into a flat name -> tensor dict.

    A file named `.safetensors`, `.pth`, `.pt`, `.bin` or `.ckpt` is read whole (at most
    `MAX_CHECKPOINT_BYTES`; a larger one is refused before reading) and parsed by what it holds:
    a safetensors file with safetensors, a torch.save file (zip or legacy) only with
    `torch.load(map_location="cpu", weights_only=True)`, so a pickle that holds arbitrary
    objects is refused without running its code. A folder is read through its
    `model.safetensors`, else its `pytorch_model.bin`. A `{"model": sd}`, `{"state_dict": sd}`
    or `{"model_state": sd}` wrapper is unwrapped; entries that are not tensors are dropped.
    Any failure raises CheckpointError, with a message that names the file, its size, what it
    looks like (text, an HTML page, an empty or truncated file, a zip that is not a torch
    checkpoint ...) and what was expected.
    """
    p = _expand(path)
    st = _stat(p)
    if stat.S_ISDIR(st.st_mode):
        return read_state_dict(_folder_file(p))
    if not stat.S_ISREG(st.st_mode):
        raise CheckpointError(
            f"{path_text(p)} is not a regular file (it is a pipe, socket or device), so it is not "
            "read. "
            + EXPECTED
        )
    suffix = p.suffix.lower()
    if suffix != ".safetensors" and suffix not in PICKLE_SUFFIXES:
        raise CheckpointError(
            f"unsupported checkpoint file {short(p.name)}: expected .safetensors, "
            f"{', '.join(PICKLE_SUFFIXES)} or a Hugging Face model folder"
        )
    data = _read_bounded(p, st.st_size)
    kind = kind_of(data)
    if kind == "safetensors":
        return _unwrap(_read_safetensors(p, data), _where(p, data))
    if kind in ("torch", "torch-legacy", "pickle"):
        return _unwrap(_read_pickle(p, data), _where(p, data))
    raise CheckpointError(
        f"could not read {_where(p, data)} as a checkpoint: it is {describe(data)}. {EXPECTED}"
    )


def _expand(path: str | os.PathLike[str]) -> Path:
    text = os.fsdecode(path)
    if "\x00" in text:
        raise CheckpointError(
            f"the checkpoint path contains a NUL character (\\0), which no file name can hold: "
            f"{short(text)}; please check the path"
        )
    return Path(expanduser(text))  # "~someone/x" for an unknown user: not found, as it is


def _stat(p: Path) -> os.stat_result:
    """os.stat of a checkpoint path, every failure a CheckpointError that says why."""
    try:
        return p.stat()
    except ValueError as exc:  # a name the system cannot encode (a lone surrogate ...)
        raise CheckpointError(
            f"the checkpoint path {short(str(p))} is not a name this system can open"
        ) from exc
    except OSError as exc:
        raise CheckpointError(_os_problem(p, exc)) from exc


def _os_problem(p: Path, exc: OSError) -> str:
    """A sentence for an OSError met while opening or reading the checkpoint path `p`."""
    shown = path_text(p)
    if exc.errno == errno.ENOENT:
        try:
            target = os.readlink(p)  # a broken link (an HF cache whose blob was deleted ...)
        except (OSError, ValueError):
            return f"checkpoint not found: {shown}"
        return (f"checkpoint not found: {shown} is a symbolic link to {path_text(target)}, which "
                "does not exist")
    if exc.errno == errno.ELOOP:
        return (
            f"cannot open the checkpoint {shown}: it is a symbolic link loop (following its links "
            f"never reaches a file); point it at the checkpoint file itself"
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"cannot open the checkpoint {shown}: permission denied (the file, or a folder above "
            f"it, is not readable by this user); check its permissions"
        )
    if exc.errno == errno.ENOTDIR:
        return f"checkpoint not found: {shown} (a part of the path is a file, not a folder)"
    if exc.errno == errno.ENAMETOOLONG:
        return f"the checkpoint path is too long for this system: {str(p)[:80]}..."
    return f"cannot read the checkpoint {shown}: {exc.strerror or exc}"


def _folder_file(p: Path) -> Path:
    """The checkpoint file of a Hugging Face model folder (see `FOLDER_FILES`)."""
    try:
        for name in FOLDER_FILES:
            candidate = p / name
            if candidate.is_symlink() or candidate.is_file():  # a broken link is reported
                return candidate
        present = sorted(os.listdir(p))
    except OSError as exc:
        raise CheckpointError(_os_problem(p, exc)) from exc
    shown = ", ".join(present[:10])
    if len(present) > 10:
        shown += f" and {len(present) - 10} more"
    raise CheckpointError(
        f"the folder {path_text(p)} holds no {' or '.join(FOLDER_FILES)} "
        f"({f'it holds: {shown}' if present else 'it is empty'}). {EXPECTED} "
        f"If the checkpoint in it has another name, pass that file."
    )


def _read_bounded(p: Path, size: int) -> bytes:
    """The whole file, refused (before reading) when larger than MAX_CHECKPOINT_BYTES."""

    def too_big(n: int) -> CheckpointError:
        return CheckpointError(
            f"the checkpoint {path_text(p)} is {n:,} bytes ({size_text(n)}), more than the "
            f"{MAX_CHECKPOINT_BYTES:,} bytes (MAX_CHECKPOINT_BYTES) swinviz reads, so it was not "
            f"read. swinviz needs only Swin-T's first stage: save a smaller state dict (e.g. "
            f"{{k: v for k, v in sd.items() if k.startswith(('patch_embed.', 'layers.0.'))}}) "
            f"as .safetensors."
        )

    if size > MAX_CHECKPOINT_BYTES:
        raise too_big(size)
    try:
        with open(p, "rb") as f:
            data = f.read(MAX_CHECKPOINT_BYTES + 1)
    except OSError as exc:
        raise CheckpointError(_os_problem(p, exc)) from exc
    if len(data) > MAX_CHECKPOINT_BYTES:  # it grew after the stat
        raise too_big(len(data))
    return data


def _where(p: Path, data: bytes) -> str:
    return f"{path_text(p)} ({size_text(len(data))})"


def _detail(exc: BaseException) -> str:
    """The first sentence of an exception's message, for a parenthesis."""
    text = str(exc).strip().split("\n")[0]
    text = text.removeprefix("Error while deserializing: ")
    text = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    if isinstance(exc, KeyError) and exc.args:
        text = f"unknown key {exc.args[0]!r}"
    if not text:
        text = "the data ends early" if isinstance(exc, EOFError) else type(exc).__name__
    return text[:200]


def _read_safetensors(path: Path, data: bytes) -> dict[str, torch.Tensor]:
    """Parse a safetensors file's bytes; every failure a CheckpointError that says why."""
    from safetensors.torch import load

    where = _where(path, data)
    head = f"could not read {where} as a safetensors file"
    n = int.from_bytes(data[:8], "little")
    body = len(data) - 8
    if n > body:
        raise CheckpointError(
            f"{head}: its header claims to be {n:,} bytes long, but only {body:,} bytes follow "
            f"the 8-byte length: the file is truncated (an interrupted download?) or is not a "
            f"safetensors file. {EXPECTED}"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except RecursionError as exc:  # "[[[[..." deeper than Python's parser goes
        raise CheckpointError(
            f"{head}: its header nests deeper than any table of tensors does (a JSON list or "
            f"object inside another, thousands of times over); the file is damaged or hostile. "
            f"{EXPECTED}"
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"{head}: its {n}-byte header is not valid JSON ({exc}); the file is damaged. "
            f"{EXPECTED}"
        ) from exc
    if not isinstance(header, dict):
        raise CheckpointError(
            f"{head}: its header is a JSON {type(header).__name__}, not a table of tensors; "
            f"the file is damaged. {EXPECTED}"
        )
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    ends = [
        v["data_offsets"][1] for v in entries.values()
        if isinstance(v, dict) and isinstance(v.get("data_offsets"), list)
        and len(v["data_offsets"]) == 2 and isinstance(v["data_offsets"][1], int)
    ]
    if ends and max(ends) > body - n:
        raise CheckpointError(
            f"{head}: its tensors need {max(ends):,} bytes of data, but the file holds only "
            f"{body - n:,} after its header: it is truncated (an interrupted download?). "
            f"{EXPECTED}"
        )
    try:
        return load(data)
    except Exception as exc:  # SafetensorError, and KeyError for a dtype torch lacks
        dtypes = sorted(
            {str(v.get("dtype")) for v in entries.values() if isinstance(v, dict)}
        )
        bad = exc.args[0] if isinstance(exc, KeyError) and exc.args else None
        unknown = re.search(r"unknown variant `([^`]*)`", str(exc))
        if unknown:
            names = [k for k, v in entries.items() if isinstance(v, dict)
                     and v.get("dtype") == unknown.group(1)]
            reason = (
                f"its tensor {names[0] if names else '?'!r} has the unknown dtype "
                f"{unknown.group(1)!r}; the file is damaged or was not written by safetensors"
            )
        elif bad is not None:
            names = [k for k, v in entries.items() if isinstance(v, dict) and v.get("dtype") == bad]
            reason = (
                f"its tensor {names[0] if names else '?'!r} has dtype {bad}, which swinviz does "
                f"not read (Swin weights are float32, float16 or bfloat16)"
            )
        else:
            reason = f"{_detail(exc)} (dtypes in the file: {', '.join(dtypes) or 'none'})"
        raise CheckpointError(f"{head}: {reason}. {EXPECTED}") from exc


def _read_pickle(path: Path, data: bytes) -> object:
    """torch.load a torch.save file's bytes with weights_only=True (never runs pickled code)."""
    where = _where(path, data)
    torch_file = kind_of(data) in ("torch", "torch-legacy")
    try:
        with warnings.catch_warnings():  # "Detected pickle protocol 4 ...": not for the user
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        found = re.search(r"GLOBAL ([\w.]+)", text)  # torch names the global it blocked
        if found:
            raise CheckpointError(
                f"refusing to unpickle arbitrary objects from {path_text(path)}: it references "
                f"{found.group(1)}, and loading it could run code. Only tensors and plain "
                f"containers are read (torch.load weights_only=True); if you trust the file, "
                f"re-save its state dict as .safetensors."
            ) from exc
        detail = text.partition("WeightsUnpickler error:")[2].strip().split("\n")[0]
        if not detail and "magic number" in text.lower():
            detail = "no torch.save magic number"
        detail = f" ({detail})" if detail else ""
        if not torch_file:
            raise CheckpointError(
                f"could not read {where} as a PyTorch checkpoint: it is {describe(data)}"
                f"{detail}. {EXPECTED}"
            ) from exc
        raise CheckpointError(
            f"could not read {where} as a PyTorch checkpoint: torch.load (weights_only=True) "
            f"rejects this torch.save file{detail}; it is damaged or holds objects other than "
            f"tensors, and swinviz refuses to unpickle arbitrary objects. {EXPECTED}"
        ) from exc
    except Exception as exc:  # RuntimeError, EOFError, OSError, KeyError, struct.error ...
        raise CheckpointError(
            f"could not read {where} as a PyTorch checkpoint: it is {describe(data)} "
            f"({_detail(exc)}). {EXPECTED}"
        ) from exc


def _unwrap(obj: object, where: str | None = None) -> dict[str, torch.Tensor]:
    """Peel `{"model": sd}`-style wrappers and keep the tensor entries of the state dict.
    `where` names the file the object was read from, for the messages."""
    while isinstance(obj, Mapping):
        inner = next((obj[k] for k in _WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            break
        obj = inner
    source = f"{where} holds" if where else "got"
    advice = "(a mapping of names to tensors, e.g. model.state_dict())" + (
        f". {EXPECTED}" if where else ""
    )
    if isinstance(obj, torch.Tensor):
        raise CheckpointError(
            f"{source} a single tensor of shape {tuple(obj.shape)}, not a state dict {advice}"
        )
    if not isinstance(obj, Mapping):
        n = len(obj) if isinstance(obj, (list, tuple)) else None
        size = "" if n is None else f" of {n} item{'' if n == 1 else 's'}"
        raise CheckpointError(f"{source} a {type(obj).__name__}{size}, not a state dict {advice}")
    tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if obj and not tensors:
        shown = ", ".join(f"{k!r}: {type(v).__name__}" for k, v in list(obj.items())[:5])
        raise CheckpointError(
            f"{source} a mapping of {len(obj)} entries, none of them a tensor ({shown}"
            f"{', ...' if len(obj) > 5 else ''}), not a state dict {advice}"
        )
    return tensors


def normalise(state_dict: Mapping) -> dict[str, torch.Tensor]:
    """Unwrap, then drop the `module.` (DDP), `_orig_mod.` (torch.compile) and `swin.` /
    `swinv2.` (transformers' task models) prefixes."""
    out = {}
    for key, value in _unwrap(state_dict).items():
        for prefix in ("module.", "_orig_mod.", "swin.", "swinv2."):
            key = key.removeprefix(prefix)
        out[key] = value
    return out


