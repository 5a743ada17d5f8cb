"""Pretrained weights: read a checkpoint, recognise its layout, convert its names to timm's.

A checkpoint of the whole network (patch embedding, every stage's blocks, the patch merges, the
final norm and the classifier head) is read and renamed to swinviz's keys, which are timm's;
`attn_mask` / `relative_position_index` buffers are dropped. In the spirit of timm's
`checkpoint_filter_fn`, one function does the renaming for every supported layout:

- "official":     Microsoft's release (`layers.{i}.blocks.*`, the merge at the END of stage i as
                  `layers.{i}.downsample`, head `head`, usually with buffers);
- "timm":         the same block names, the merge at the START of stage i
                  (`layers.{i}.downsample`, i >= 1), head `head.fc`; swinviz's own names;
- "torchvision":  `features.0.{0,2}` (conv, LayerNorm), stage i's blocks `features.{2i+1}.*`
                  with `mlp.0` / `mlp.3`, merges `features.{2i}`, `norm`, `head`;
- "transformers": `embeddings.*`, `encoder.layers.{i}.blocks.*` (under `swin.` in
                  `SwinForImageClassification`), the merge at the end of stage i, `layernorm`,
                  `classifier`; the attention named either the classic way
                  (`attention.self.query` ...) or the transformers>=5 way (`attention.q_proj`
                  ...); q, k, v are concatenated into qkv.

Every failure is a `CheckpointError` whose message names the offending keys and shapes.
Files are read with safetensors, or with `torch.load(..., weights_only=True)`: a pickle that
holds anything but tensors and plain containers is refused without running its code.
"""

from __future__ import annotations

import errno
import importlib
import io
import json
import math
import os
import pickle
import re
import stat
import threading
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from .config import expanduser, short

__all__ = [
    "HUB_REPO",
    "HUB_REPOS",
    "LAYOUTS",
    "CheckpointError",
    "WeightsChoice",
    "checkpoint_filter_fn",
    "default_weights",
    "detect_layout",
    "hub_checkpoint",
    "list_checkpoint_files",
    "load_checkpoint",
    "read_state_dict",
    "source_keys",
]

HUB_REPO = "timm/swin_tiny_patch4_window7_224.ms_in1k"
# timm's ImageNet-1k weights on the Hugging Face Hub, per architecture (swinviz.config.ARCHS)
HUB_REPOS = {
    "swin_tiny_patch4_window7_224": HUB_REPO,
    "swin_small_patch4_window7_224": "timm/swin_small_patch4_window7_224.ms_in22k_ft_in1k",
    "swin_base_patch4_window7_224": "timm/swin_base_patch4_window7_224.ms_in22k_ft_in1k",
    "swin_base_patch4_window12_384": "timm/swin_base_patch4_window12_384.ms_in22k_ft_in1k",
}
LAYOUTS = ("official", "timm", "torchvision", "transformers")


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

_PICKLE_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt")
_WRAPPER_KEYS = ("model", "state_dict", "model_state")  # {"model": sd} and friends
_FOLDER_FILES = ("model.safetensors", "pytorch_model.bin")  # the Hugging Face layout

# How swinviz's modules (timm's names) are named in each layout. A tuple of names means
# "concatenate these along dim 0" (transformers' query / key / value make swinviz's qkv).
_BLOCK_MODULES = ("norm1", "attn.qkv", "attn.proj", "attn.relative_position_bias_table", "norm2",
                  "mlp.fc1", "mlp.fc2")
_SAME_PARTS: dict[str, str | tuple[str, ...]] = {m: m for m in _BLOCK_MODULES}


class _Naming(NamedTuple):
    """Where swinviz's modules live in one layout. `block(i, b)` and `merge(i)` give the prefix
    of block b of stage i (0-based) and of the patch merge that precedes stage i (i >= 1)."""

    stem: dict[str, str]  # patch_embed.proj / patch_embed.norm -> checkpoint module
    block: Callable[[int, int], str]
    parts: dict[str, str | tuple[str, ...]]  # block module -> checkpoint module(s)
    merge: Callable[[int], str]
    norm: str
    head: str


_HF_STEM = {
    "patch_embed.proj": "embeddings.patch_embeddings.projection",
    "patch_embed.norm": "embeddings.norm",
}
_NAMES: dict[str, _Naming] = {
    "timm": _Naming(
        {"patch_embed.proj": "patch_embed.proj", "patch_embed.norm": "patch_embed.norm"},
        lambda i, b: f"layers.{i}.blocks.{b}.", _SAME_PARTS,
        lambda i: f"layers.{i}.downsample.", "norm", "head.fc",
    ),
    # Microsoft's release: the merge ends stage i - 1 instead of starting stage i; head `head`
    "official": _Naming(
        {"patch_embed.proj": "patch_embed.proj", "patch_embed.norm": "patch_embed.norm"},
        lambda i, b: f"layers.{i}.blocks.{b}.", _SAME_PARTS,
        lambda i: f"layers.{i - 1}.downsample.", "norm", "head",
    ),
    "torchvision": _Naming(
        {"patch_embed.proj": "features.0.0", "patch_embed.norm": "features.0.2"},
        lambda i, b: f"features.{2 * i + 1}.{b}.",
        {**_SAME_PARTS, "mlp.fc1": "mlp.0", "mlp.fc2": "mlp.3"},
        lambda i: f"features.{2 * i}.", "norm", "head",
    ),
    "transformers": _Naming(  # transformers >= 5, in memory
        _HF_STEM,
        lambda i, b: f"encoder.layers.{i}.blocks.{b}.",
        {
            "norm1": "layernorm_before",
            "attn.qkv": ("attention.q_proj", "attention.k_proj", "attention.v_proj"),
            "attn.proj": "attention.o_proj",
            "attn.relative_position_bias_table": (
                "attention.relative_position_bias.relative_position_bias_table"
            ),
            "norm2": "layernorm_after",
            "mlp.fc1": "mlp.fc1",
            "mlp.fc2": "mlp.fc2",
        },
        lambda i: f"encoder.layers.{i - 1}.downsample.", "layernorm", "classifier",
    ),
    "transformers-classic": _Naming(  # transformers < 5, and what save_pretrained still writes
        _HF_STEM,
        lambda i, b: f"encoder.layers.{i}.blocks.{b}.",
        {
            "norm1": "layernorm_before",
            "attn.qkv": ("attention.self.query", "attention.self.key", "attention.self.value"),
            "attn.proj": "attention.output.dense",
            "attn.relative_position_bias_table": "attention.self.relative_position_bias_table",
            "norm2": "layernorm_after",
            "mlp.fc1": "intermediate.dense",
            "mlp.fc2": "output.dense",
        },
        lambda i: f"encoder.layers.{i - 1}.downsample.", "layernorm", "classifier",
    ),
}
_NAMES["swinviz"] = _NAMES["timm"]

# A key prefix that marks each layout family (checked in this order).
_SIGNATURES = (
    ("transformers", re.compile(r"^encoder\.layers\.0\.blocks\.\d+\.")),
    ("torchvision", re.compile(r"^features\.1\.\d+\.(norm1|attn|norm2|mlp)\.")),
    ("timm", re.compile(r"^layers\.0\.blocks\.\d+\.")),
)
_V2_MARKERS = ("cpb_mlp", "logit_scale", "continuous_position_bias_mlp")
_HEAD_KEYS = ("head.fc.weight", "head.fc.bias")

class CheckpointError(ValueError):
    """A checkpoint could not be read, recognised or loaded; the message says why."""


# ---------------------------------------------------------------------------------- reading

MAX_CHECKPOINT_BYTES = 2 * 1024**3
"""The largest checkpoint file `read_state_dict` reads: 2 GiB (2,147,483,648 bytes).

A whole Swin-T checkpoint is about 110 MB and Swin-L's about 800 MB; swinviz keeps only stage 1.
A larger file is refused with a sentence before any of it is read, and a file is never read past
this size, so reading a checkpoint takes at most about twice this much memory."""

_EXPECTED = (
    "Expected a .safetensors file, a PyTorch state dict saved with torch.save "
    f"({', '.join(_PICKLE_SUFFIXES)}), or a Hugging Face model folder "
    f"(holding {' or '.join(_FOLDER_FILES)})."
)
# How a torch.save file from before PyTorch 1.6 (not a zip) starts: its pickled magic number.
_TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"


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
            f"{_shown(p)} is not a regular file (it is a pipe, socket or device), so it is not "
            "read. "
            + _EXPECTED
        )
    suffix = p.suffix.lower()
    if suffix != ".safetensors" and suffix not in _PICKLE_SUFFIXES:
        raise CheckpointError(
            f"unsupported checkpoint file {short(p.name)}: expected .safetensors, "
            f"{', '.join(_PICKLE_SUFFIXES)} or a Hugging Face model folder"
        )
    data = _read_bounded(p, st.st_size)
    kind = _kind(data)
    if kind == "safetensors":
        return _unwrap(_read_safetensors(p, data), _where(p, data))
    if kind in ("torch", "torch-legacy", "pickle"):
        return _unwrap(_read_pickle(p, data), _where(p, data))
    raise CheckpointError(
        f"could not read {_where(p, data)} as a checkpoint: it is {_describe(data)}. {_EXPECTED}"
    )


def _shown(p: str | os.PathLike[str]) -> str:
    """A path for a message: whole up to 120 characters, else its start and its end."""
    text = os.fsdecode(p)
    return text if len(text) <= 120 else f"{text[:40]}…{text[-60:]}"


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
    shown = _shown(p)
    if exc.errno == errno.ENOENT:
        try:
            target = os.readlink(p)  # a broken link (an HF cache whose blob was deleted ...)
        except (OSError, ValueError):
            return f"checkpoint not found: {shown}"
        return (f"checkpoint not found: {shown} is a symbolic link to {_shown(target)}, which "
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
    """The checkpoint file of a Hugging Face model folder (see `_FOLDER_FILES`)."""
    try:
        for name in _FOLDER_FILES:
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
        f"the folder {_shown(p)} holds no {' or '.join(_FOLDER_FILES)} "
        f"({f'it holds: {shown}' if present else 'it is empty'}). {_EXPECTED} "
        f"If the checkpoint in it has another name, pass that file."
    )


def _read_bounded(p: Path, size: int) -> bytes:
    """The whole file, refused (before reading) when larger than MAX_CHECKPOINT_BYTES."""

    def too_big(n: int) -> CheckpointError:
        return CheckpointError(
            f"the checkpoint {_shown(p)} is {n:,} bytes ({_size(n)}), more than the "
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


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} byte{'' if n == 1 else 's'}"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"
    raise AssertionError("unreachable")


def _where(p: Path, data: bytes) -> str:
    return f"{_shown(p)} ({_size(len(data))})"


def _safetensors_header_len(data: bytes) -> int | None:
    """The header length a safetensors file starts with, if `data` looks like one (an 8-byte
    little-endian length, then a JSON object); None otherwise."""
    if len(data) < 9 or data[8:9] not in (b"{", b"["):
        return None
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8 and (
        data[8:9] == b"[" or all(32 <= b < 127 or b in b"\t\n\r" for b in data[:8])
    ):
        return None  # text that happens to have a "{" as its ninth character
    return n


def _zip_names(data: bytes) -> list[str] | None:
    """The member names of a zip archive, or None when its directory cannot be read
    (a truncated or damaged archive)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _is_torch_member(name: str) -> bool:
    return name == "data.pkl" or name.endswith("/data.pkl")


def _first_zip_member(data: bytes) -> str:
    """The file name in a zip's first local header (readable even when the archive is cut)."""
    n = int.from_bytes(data[26:28], "little")
    return data[30 : 30 + n].decode("utf-8", "replace")


def _kind(data: bytes) -> str:
    """What a checkpoint's bytes are: "safetensors", "torch" (a torch.save zip), "torch-damaged"
    (a torch.save zip without a readable directory), "torch-legacy" (torch.save before 1.6),
    "pickle" (another pickle), or "other"."""
    if _safetensors_header_len(data) is not None:
        return "safetensors"
    if data.startswith(b"PK\x03\x04"):
        names = _zip_names(data)
        if names is None:
            return "torch-damaged" if _is_torch_member(_first_zip_member(data)) else "other"
        return "torch" if any(map(_is_torch_member, names)) else "other"
    if data.startswith(_TORCH_LEGACY_MAGIC):
        return "torch-legacy"
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return "pickle"
    return "other"


def _text_start(data: bytes) -> str | None:
    """The start of `data` as text, if it is text (UTF-8, printable); else None."""
    head = data[:256]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3 or exc.reason != "unexpected end of data":
            return None
        text = head[: exc.start].decode("utf-8")
    if not text or not all(c.isprintable() or c in "\t\n\r\f" for c in text):
        return None
    return text


def _describe(data: bytes) -> str:
    """What a file's bytes look like, in words ("an HTML page", "empty (0 bytes)" ...)."""
    if not data:
        return "empty (0 bytes)"
    text = _text_start(data)
    if text is not None:
        start = text.lstrip()
        shown = repr(start[:40] + ("..." if len(start) > 40 else ""))
        if start.startswith("version https://git-lfs"):
            return (
                "a Git LFS pointer (the small text file Git keeps in place of the weights): "
                "fetch the real file with `git lfs pull`, or download it again"
            )
        lower = start.lower()
        if lower.startswith(("<!doctype html", "<html")) or (
            lower.startswith("<") and "<html" in lower
        ):
            return (
                f"an HTML page, starting {shown} (a web page saved instead of the file? "
                f"download the raw file)"
            )
        if start.startswith(("{", "[")):
            return f"a text file (JSON?), starting {shown}"
        return f"a text file, starting {shown}"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        names = _zip_names(data)
        if names is None:
            if _is_torch_member(_first_zip_member(data)):
                return (
                    "a PyTorch checkpoint (a torch.save zip archive) that is truncated: "
                    "its zip directory is missing, so the file was cut short (an interrupted "
                    "download or copy?)"
                )
            return "a truncated or damaged zip archive"
        if any(map(_is_torch_member, names)):
            return "a PyTorch checkpoint (a torch.save zip archive) that is damaged"
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        npz = bool(names) and all(n.endswith(".npy") for n in names)
        what = "a NumPy .npz archive" if npz else "a zip archive"
        return (
            f"{what} that is not a PyTorch checkpoint (it holds {shown or 'nothing'}; "
            f"torch.save writes <name>/data.pkl)"
        )
    if data.startswith(_TORCH_LEGACY_MAGIC):
        return (
            "a legacy PyTorch checkpoint (torch.save before 1.6, not a zip) that is truncated "
            "or damaged"
        )
    if data[0] == 0x80 and len(data) >= 2 and 2 <= data[1] <= 5:
        return "a Python pickle that is not a torch.save file torch.load can read"
    if data.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file (decompress it first)"
    if data.startswith(b"\x89HDF"):
        return "an HDF5 file (Keras / TensorFlow weights?)"
    if data.startswith(b"\x93NUMPY"):
        return "a NumPy .npy array"
    if len(data) < 9:
        return f"{len(data)} bytes of binary data ({data.hex(' ')}), too short to be a checkpoint"
    return f"binary data of an unknown format (it starts {data[:12].hex(' ')})"


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
            f"safetensors file. {_EXPECTED}"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except RecursionError as exc:  # "[[[[..." deeper than Python's parser goes
        raise CheckpointError(
            f"{head}: its header nests deeper than any table of tensors does (a JSON list or "
            f"object inside another, thousands of times over); the file is damaged or hostile. "
            f"{_EXPECTED}"
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"{head}: its {n}-byte header is not valid JSON ({exc}); the file is damaged. "
            f"{_EXPECTED}"
        ) from exc
    if not isinstance(header, dict):
        raise CheckpointError(
            f"{head}: its header is a JSON {type(header).__name__}, not a table of tensors; "
            f"the file is damaged. {_EXPECTED}"
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
            f"{_EXPECTED}"
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
        raise CheckpointError(f"{head}: {reason}. {_EXPECTED}") from exc


def _read_pickle(path: Path, data: bytes) -> object:
    """torch.load a torch.save file's bytes with weights_only=True (never runs pickled code)."""
    where = _where(path, data)
    torch_file = _kind(data) in ("torch", "torch-legacy")
    try:
        with warnings.catch_warnings():  # "Detected pickle protocol 4 ...": not for the user
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        found = re.search(r"GLOBAL ([\w.]+)", text)  # torch names the global it blocked
        if found:
            raise CheckpointError(
                f"refusing to unpickle arbitrary objects from {_shown(path)}: it references "
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
                f"could not read {where} as a PyTorch checkpoint: it is {_describe(data)}"
                f"{detail}. {_EXPECTED}"
            ) from exc
        raise CheckpointError(
            f"could not read {where} as a PyTorch checkpoint: torch.load (weights_only=True) "
            f"rejects this torch.save file{detail}; it is damaged or holds objects other than "
            f"tensors, and swinviz refuses to unpickle arbitrary objects. {_EXPECTED}"
        ) from exc
    except Exception as exc:  # RuntimeError, EOFError, OSError, KeyError, struct.error ...
        raise CheckpointError(
            f"could not read {where} as a PyTorch checkpoint: it is {_describe(data)} "
            f"({_detail(exc)}). {_EXPECTED}"
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
        f". {_EXPECTED}" if where else ""
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


def _normalise(state_dict: Mapping) -> dict[str, torch.Tensor]:
    """Unwrap, then drop the `module.` (DDP), `_orig_mod.` (torch.compile) and `swin.`
    (transformers' task models) prefixes."""
    out = {}
    for key, value in _unwrap(state_dict).items():
        for prefix in ("module.", "_orig_mod.", "swin."):
            key = key.removeprefix(prefix)
        out[key] = value
    return out


# ---------------------------------------------------------------------------------- layouts


def detect_layout(state_dict: Mapping) -> str:
    """Name the layout of a state dict: "official", "timm", "torchvision" or "transformers"
    (swinviz's own names are timm's). Raises CheckpointError for anything else, including
    Swin V2 checkpoints (swinviz implements Swin V1)."""
    sd = _normalise(state_dict)
    layout = next((name for name, sig in _SIGNATURES if any(map(sig.match, sd))), None)
    if layout is None:
        first = ", ".join(list(sd)[:5]) or "none"
        raise CheckpointError(
            f"this file is not a Swin checkpoint: none of its {len(sd)} keys look like "
            f"a Swin Transformer's blocks (official/timm 'layers.0.blocks.*', torchvision "
            f"'features.1.*', transformers 'encoder.layers.0.blocks.*') (first keys: {first})"
        )
    v2 = [k for k in sd if any(m in k for m in _V2_MARKERS)]
    if v2:
        raise CheckpointError(
            f"this is a Swin V2 checkpoint ({v2[0]}, ...); swinviz implements Swin V1 "
            f"(a learned relative position bias table, not a continuous position bias MLP)"
        )
    if layout == "timm":
        layout = _official_or_timm(sd)
    return layout


_MERGE_PREFIX = re.compile(r"^layers\.(\d+)\.downsample\.")
_STAGE_PREFIX = re.compile(r"^layers\.(\d+)\.blocks\.")


def _official_or_timm(sd: Mapping[str, torch.Tensor]) -> str:
    """Microsoft's layout or timm's, for keys named `layers.{i}.blocks.*`, decided by the keys
    that cannot lie. Where the patch merges sit: the official layout ends stages 0..n-2 with
    one (`layers.0.downsample` is there), timm starts stages 1..n-1 with one (the last stage's
    is there, stage 0's never). Then the head's name: `head.weight` official, `head.fc.weight`
    timm. The wrapper and the `attn_mask` / `relative_position_index` buffers say nothing (timm
    state dicts saved as {"model": sd} carry stale buffers too); they only name a checkpoint
    that has neither merges nor a head, whose keys are the same in both layouts."""
    merges = {int(m.group(1)) for k in sd if (m := _MERGE_PREFIX.match(k))}
    stages = {int(m.group(1)) for k in sd if (m := _STAGE_PREFIX.match(k))}
    if 0 in merges:
        return "official"
    if merges and max(stages) in merges:
        return "timm"
    if "head.fc.weight" in sd or "head.fc.bias" in sd:
        return "timm"
    if "head.weight" in sd or "head.bias" in sd:
        return "official"
    if merges:  # merges of the middle stages only: timm's numbering (official has stage 0's)
        return "timm"
    buffers = any(k.endswith(("attn_mask", "relative_position_index")) for k in sd)
    return "official" if buffers else "timm"


def _naming(layout: str, sd: Mapping[str, torch.Tensor]) -> str:
    """The renaming table for a layout (transformers has two generations of names)."""
    if layout == "transformers" and any(".attention.self." in k for k in sd):
        return "transformers-classic"
    return layout


_BLOCK_KEY = re.compile(r"^layers\.(\d+)\.blocks\.(\d+)\.(.+)$")
_MERGE_KEY = re.compile(r"^layers\.(\d+)\.downsample\.(norm|reduction)\.(weight|bias)$")


def source_keys(naming: str, key: str) -> tuple[str, ...]:
    """The checkpoint key(s) that swinviz key `key` is made from, in one naming table
    (several for transformers' separate query / key / value)."""
    table = _NAMES[naming]
    if (m := _BLOCK_KEY.match(key)) is not None:
        i, b, rest = int(m.group(1)), int(m.group(2)), m.group(3)
        module, _, param = rest.rpartition(".")
        if rest == "attn.relative_position_bias_table":
            module, param = rest, ""
        src = table.parts.get(module, module)
        srcs = src if isinstance(src, tuple) else (src,)
        return tuple(_join(table.block(i, b) + s, param) for s in srcs)
    if (m := _MERGE_KEY.match(key)) is not None:
        return (f"{table.merge(int(m.group(1)))}{m.group(2)}.{m.group(3)}",)
    module, _, param = key.rpartition(".")
    if module in table.stem:
        return (_join(table.stem[module], param),)
    if module == "norm":
        return (_join(table.norm, param),)
    if module == "head.fc":
        return (_join(table.head, param),)
    return (key,)


def _join(module: str, param: str) -> str:
    return f"{module}.{param}" if param else module


def checkpoint_filter_fn(state_dict: Mapping, model: nn.Module) -> dict[str, torch.Tensor]:
    """Convert a Swin checkpoint of any supported layout to `model`'s (timm's) keys.

    Every key of the model's state dict is looked up under its name in the checkpoint's layout;
    everything else (`attn_mask` and `relative_position_index` buffers, extra heads) is dropped.
    transformers' separate query / key / value weights and biases are concatenated in q, k, v
    order into one qkv ([3C, C] weight, [3C] bias), the order swinviz's `qkv` output is split in.
    Keys the checkpoint lacks are left out (`load_checkpoint` reports them). Raises
    CheckpointError for an unrecognised layout.
    """
    sd = _normalise(state_dict)
    naming = _naming(detect_layout(sd), sd)
    out: dict[str, torch.Tensor] = {}
    for target in model.state_dict():
        srcs = source_keys(naming, target)
        if all(s in sd for s in srcs):
            tensors = [sd[s] for s in srcs]
            out[target] = tensors[0] if len(tensors) == 1 else torch.cat(tensors, dim=0)
    return out


# ---------------------------------------------------------------------------------- loading


def _shape_hint(key: str, got: torch.Size, need: torch.Size) -> str:
    """Why two shapes of one key may differ, in the terms a person chose the model by."""
    if key.endswith("relative_position_bias_table") and len(got) == 2 and len(need) == 2:
        hints = []
        side = math.isqrt(got[0])
        if side * side == got[0] and side % 2 == 1 and got[0] != need[0]:
            hints.append(f"the checkpoint was trained with window {(side + 1) // 2}")
        if got[1] != need[1]:
            hints.append(f"the checkpoint has {got[1]} heads")
        return " — " + ", ".join(hints) if hints else ""
    if key == "patch_embed.proj.weight" and len(got) == 4:
        return f" — the checkpoint has embed dim {got[0]} and patch size {got[2]}"
    if key == "head.fc.weight" and len(got) == 2:
        return f" — the checkpoint's head has {got[0]} classes"
    return ""


def _architecture_hint(sd: Mapping[str, torch.Tensor], naming: str, model: nn.Module) -> str:
    """'the checkpoint has depths (2, 2, 18, 2)' when its blocks per stage differ from the
    model's (Swin-S or Swin-B weights offered to a Swin-T)."""
    depths = []
    for i in range(len(getattr(model, "layers", []))):
        b = 0
        while any(k.startswith(_NAMES[naming].block(i, b)) for k in sd):
            b += 1
        depths.append(b)
    mine = tuple(len(layer.blocks) for layer in getattr(model, "layers", []))
    if depths and tuple(depths) != mine:
        return (f"\n  the checkpoint has {tuple(depths)} blocks per stage, the model {mine}: "
                f"choose the architecture the checkpoint was trained as (swinviz.config.ARCHS)")
    return ""


def load_checkpoint(model: nn.Module, source: str | os.PathLike[str] | Mapping) -> str:
    """Load a whole Swin checkpoint into `model` (a `SwinTransformer`); return the layout name.

    `source` is a checkpoint path (see `read_state_dict`) or an already-read state dict. The
    converted tensors must cover every parameter of the model with the model's own shapes,
    except that a checkpoint without a classifier head (a transformers `SwinModel`, a backbone)
    loads into a model whose head is then removed (`num_classes` 0). Otherwise CheckpointError
    lists the missing keys and the mismatched shapes and nothing is loaded.
    """
    raw = source if isinstance(source, Mapping) else read_state_dict(source)
    sd = _normalise(raw)
    layout = detect_layout(sd)
    naming = _naming(layout, sd)
    converted = checkpoint_filter_fn(sd, model)
    own = model.state_dict()
    missing = [k for k in own if k not in converted]
    headless = bool(missing) and set(missing) <= set(_HEAD_KEYS)
    if headless:
        missing = []
    problems = []
    if missing:
        named = [f"{k} (from {' + '.join(source_keys(naming, k))})" for k in missing[:12]]
        more = f" and {len(missing) - 12} more" if len(missing) > 12 else ""
        problems.append(f"missing keys in the {layout} checkpoint: {', '.join(named)}{more}")
    for k, v in converted.items():
        if v.shape != own[k].shape:
            problems.append(f"{k}: checkpoint has {tuple(v.shape)}, model needs "
                            f"{tuple(own[k].shape)}" + _shape_hint(k, v.shape, own[k].shape))
    if problems:
        raise CheckpointError(
            "cannot load the weights (nothing was loaded):\n  " + "\n  ".join(problems[:20])
            + _architecture_hint(sd, naming, model)
        )
    if headless:
        from dataclasses import replace

        from .model import ClassifierHead

        model.head = ClassifierHead(model.config.num_features, 0)
        model.config = replace(model.config, num_classes=0)
        converted = {k: v for k, v in converted.items() if k not in _HEAD_KEYS}
    model.load_state_dict(converted, strict=True)
    return layout



# ---------------------------------------------------------------------------------- the Hub

_HUB_FILE = "model.safetensors"
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


def _hub_offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE), as huggingface_hub read it at import or as the
    environment says now."""
    from huggingface_hub import constants

    now = (os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or "")
    return constants.is_offline_mode() or now.strip().upper() in {"1", "ON", "YES", "TRUE"}


def _cached_hub_file(cache_dir: str | None, repo_id: str = HUB_REPO) -> Path | None:
    """The Hub weights in the local Hub cache (huggingface_hub's own lookup: refs/main ->
    snapshots/<commit>/model.safetensors), or None. Touches no network."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, _HUB_FILE, cache_dir=cache_dir)
    except (OSError, ValueError):  # an unreadable cache counts as an empty one
        return None
    return Path(found) if isinstance(found, str) else None


def _probe_hub(timeout: float = _HUB_PROBE_TIMEOUT,
               repo_id: str = HUB_REPO) -> BaseException | None:
    """One HEAD request for the Hub weights' metadata, without retries, bounded by `timeout`
    seconds in all (it runs in a daemon thread, so even a name lookup, which sockets cannot
    time out, cannot hold it up). None when the Hub answered; else the error (a TimeoutError
    when it did not finish in time)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo_id, _HUB_FILE)
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


def _reason(exc: BaseException) -> str:
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
    cached = _cached_hub_file(cache, repo_id)
    if cached is not None:
        return cached
    where = cache or constants.HF_HUB_CACHE
    command = f"hf download {repo_id} {_HUB_FILE}" + (f" --cache-dir {cache}" if cache else "")
    how = (
        f"run `{command}` once with a network connection (it fills the cache {where}), or use "
        f"weights='random' or a checkpoint file on disk."
    )
    if _hub_offline():
        raise CheckpointError(
            f"The pretrained weights ({repo_id}) are not in the local Hugging Face cache "
            f"({where}), "
            f"and HF_HUB_OFFLINE is set, so they are not downloaded from the Hugging Face Hub. "
            f"To get them, unset HF_HUB_OFFLINE and {how}"
        )
    problem = _probe_hub(repo_id=repo_id)
    if problem is not None:
        from huggingface_hub.errors import HfHubHTTPError

        answer = "refused the request" if isinstance(problem, HfHubHTTPError) else "did not answer"
        raise CheckpointError(
            f"Could not download the pretrained weights ({repo_id}): the Hugging Face Hub "
            f"({constants.ENDPOINT}) {answer} ({_reason(problem)}), and they are not in the "
            f"local cache. To get them, {how}"
        )
    try:
        path = hf_hub_download(repo_id, _HUB_FILE, cache_dir=cache)
    except _download_errors() as exc:
        raise CheckpointError(
            f"Could not download the pretrained weights ({repo_id}) from the Hugging Face Hub "
            f"({_reason(exc)}). To get them, {how}"
        ) from exc
    return Path(path)


# ------------------------------------------------------------------ which weights by default

WEIGHTS_ENV = "SWINVIZ_WEIGHTS"
CHECKPOINT_DIR_ENV = "SWINVIZ_CHECKPOINT_DIR"
CHECKPOINT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")


@dataclass(frozen=True)
class WeightsChoice:
    """What "the best weights available" resolved to, and why.

    weights: "hub", a checkpoint path, or "random" (what `load_model` takes).
    source:  "hub cache", "hub", "SWINVIZ_WEIGHTS", "checkpoint folder" or "random".
    notice:  with random weights, a sentence for the page / the terminal: why, and how to get
             real ones; None otherwise.
    """

    weights: str | Path
    source: str
    notice: str | None = None

    @property
    def pretrained(self) -> bool:
        return self.weights != "random"


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
                    probe: bool = True) -> WeightsChoice:
    """The pretrained weights when they can be had, else random weights with a notice.

    In order: timm's weights for `arch` in the local Hugging Face cache; the Hub itself when it
    answers within a second or two (not tried with HF_HUB_OFFLINE=1 or probe=False); the file
    named by $SWINVIZ_WEIGHTS (when it is a readable file or a folder); the first checkpoint
    the page lists from $SWINVIZ_CHECKPOINT_DIR (`list_checkpoint_files`); else random.
    Decides in under 3 s without a network. Never downloads anything itself.
    """
    reasons = []
    try:
        repo = hub_repo(arch)
    except CheckpointError as exc:
        repo, reasons = None, [str(exc)]
    if repo is not None:
        if _cached_hub_file(None, repo) is not None:
            return WeightsChoice("hub", "hub cache")
        if _hub_offline():
            reasons.append("they are not in the local Hugging Face cache and HF_HUB_OFFLINE is set")
        elif not probe:
            reasons.append("they are not in the local Hugging Face cache")
        else:
            problem = _probe_hub(repo_id=repo)
            if problem is None:
                return WeightsChoice("hub", "hub")
            reasons.append(f"the Hugging Face Hub could not be reached ({_reason(problem)}) and "
                           f"they are not in the local cache")
    named = os.environ.get(WEIGHTS_ENV, "").strip()
    if named:
        try:
            path = Path(expanduser(named))
            usable = _readable_file(path) or path.is_dir()
        except (OSError, ValueError):
            usable = False
        if usable:
            return WeightsChoice(path, WEIGHTS_ENV)
        reasons.append(f"{WEIGHTS_ENV}={_shown(named)} is not a readable checkpoint file or "
                       "folder")
    folder = os.environ.get(CHECKPOINT_DIR_ENV, "").strip()
    found = list_checkpoint_files(folder) if folder else []
    if found:
        return WeightsChoice(found[0], "checkpoint folder")
    how = (f"run `hf download {repo or HUB_REPO} {_HUB_FILE}` once with a network, or set "
           f"{WEIGHTS_ENV} to a Swin checkpoint file (official, timm, torchvision or "
           f"transformers layout)")
    return WeightsChoice(
        "random", "random",
        f"Random weights: no pretrained weights could be had ({'; '.join(reasons)}). The "
        f"windows, shift, masks and shapes are exact, but attention, bias and the prediction "
        f"mean nothing. To use the pretrained Swin: {how}.",
    )
