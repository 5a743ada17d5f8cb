"""Pretrained weights for stage 1: read a checkpoint, recognise its layout, convert its names.

swinviz holds only Swin-T's first stage (the patch embedding and the first block pair), so a
checkpoint of the full network is read, the stage-1 tensors are renamed to swinviz's keys, and
everything else (later stages, patch merging, final norm, classifier head, the `attn_mask` and
`relative_position_index` buffers) is dropped. In the spirit of timm's `checkpoint_filter_fn`,
one function (`checkpoint_filter_fn`) does the renaming for every supported layout:

- "official":     Microsoft's release (`layers.0.blocks.*`, `patch_embed.*`, `head.weight`,
                  usually with `attn_mask` / `relative_position_index` buffers);
- "timm":         the same block names, head `head.fc.*`, no buffers (converts like "official");
- "torchvision":  `features.0.{0,2}` (conv, LayerNorm), `features.1.{0,1}.*` with `mlp.0` / `mlp.3`;
- "transformers": `embeddings.*`, `encoder.layers.0.blocks.*` (optionally under `swin.`), with
                  the attention named either the classic way (`attention.self.query` ...) or the
                  transformers>=5 way (`attention.q_proj` ...); q, k, v are concatenated into qkv;
- "swinviz":      a state dict already in swinviz's own names.

Every failure is a `CheckpointError` whose message names the offending keys and shapes.
Files are read with safetensors, or with `torch.load(..., weights_only=True)`: a pickle that
holds anything but tensors and plain containers is refused without running its code.
"""

from __future__ import annotations

import importlib
import math
import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

__all__ = [
    "HUB_REPO",
    "LAYOUTS",
    "STAGE1_KEYS",
    "CheckpointError",
    "checkpoint_filter_fn",
    "detect_layout",
    "hub_checkpoint",
    "load_stage1",
    "read_state_dict",
]

HUB_REPO = "timm/swin_tiny_patch4_window7_224.ms_in1k"
LAYOUTS = ("official", "timm", "torchvision", "transformers", "swinviz")

_PICKLE_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt")
_WRAPPER_KEYS = ("model", "state_dict", "model_state")  # {"model": sd} and friends
_FOLDER_FILES = ("model.safetensors", "pytorch_model.bin")  # the Hugging Face layout

# swinviz's stage-1 parameters: module name -> parameter names.
_STEM_PARAMS = {"patch_embed.proj": ("weight", "bias"), "patch_embed.norm": ("weight", "bias")}
_BLOCK_PARAMS = {
    "norm1": ("weight", "bias"),
    "attn.qkv": ("weight", "bias"),
    "attn.proj": ("weight", "bias"),
    "attn.relative_position_bias_table": ("",),  # a parameter itself, not a module
    "norm2": ("weight", "bias"),
    "mlp.fc1": ("weight", "bias"),
    "mlp.fc2": ("weight", "bias"),
}


def _join(module: str, param: str) -> str:
    return f"{module}.{param}" if param else module


STAGE1_KEYS: tuple[str, ...] = tuple(
    [_join(m, p) for m, ps in _STEM_PARAMS.items() for p in ps]
    + [
        _join(f"pair.blocks.{i}.{m}", p)
        for i in range(2)
        for m, ps in _BLOCK_PARAMS.items()
        for p in ps
    ]
)
"""The 30 state-dict keys of swinviz's stage 1, in model order."""


class _Naming(NamedTuple):
    """Where swinviz's stage-1 modules live in one layout. A tuple of names in `parts` means
    "concatenate these along dim 0" (transformers' query / key / value make swinviz's qkv)."""

    stem: dict[str, str]  # swinviz stem module -> checkpoint module
    block: str  # prefix of block i, with {i}
    parts: dict[str, str | tuple[str, ...]]  # swinviz block module -> checkpoint module(s)


_SAME_STEM = {m: m for m in _STEM_PARAMS}
_SAME_PARTS: dict[str, str | tuple[str, ...]] = {m: m for m in _BLOCK_PARAMS}
_HF_STEM = {
    "patch_embed.proj": "embeddings.patch_embeddings.projection",
    "patch_embed.norm": "embeddings.norm",
}
_NAMES: dict[str, _Naming] = {
    "swinviz": _Naming(_SAME_STEM, "pair.blocks.{i}.", _SAME_PARTS),
    "official": _Naming(_SAME_STEM, "layers.0.blocks.{i}.", _SAME_PARTS),
    "torchvision": _Naming(
        {"patch_embed.proj": "features.0.0", "patch_embed.norm": "features.0.2"},
        "features.1.{i}.",
        {**_SAME_PARTS, "mlp.fc1": "mlp.0", "mlp.fc2": "mlp.3"},
    ),
    "transformers": _Naming(  # transformers >= 5, in memory
        _HF_STEM,
        "encoder.layers.0.blocks.{i}.",
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
    ),
    "transformers-classic": _Naming(  # transformers < 5, and what save_pretrained still writes
        _HF_STEM,
        "encoder.layers.0.blocks.{i}.",
        {
            "norm1": "layernorm_before",
            "attn.qkv": ("attention.self.query", "attention.self.key", "attention.self.value"),
            "attn.proj": "attention.output.dense",
            "attn.relative_position_bias_table": "attention.self.relative_position_bias_table",
            "norm2": "layernorm_after",
            "mlp.fc1": "intermediate.dense",
            "mlp.fc2": "output.dense",
        },
    ),
}
_NAMES["timm"] = _NAMES["official"]

# A key prefix that marks each layout family (checked in this order).
_SIGNATURES = (
    ("swinviz", re.compile(r"^pair\.blocks\.\d+\.")),
    ("transformers", re.compile(r"^encoder\.layers\.0\.blocks\.\d+\.")),
    ("torchvision", re.compile(r"^features\.1\.\d+\.(norm1|attn|norm2|mlp)\.")),
    ("official", re.compile(r"^layers\.0\.blocks\.\d+\.")),
)
_V2_MARKERS = ("cpb_mlp", "logit_scale", "continuous_position_bias_mlp")


class CheckpointError(ValueError):
    """A checkpoint could not be read, recognised or loaded; the message says why."""


# ---------------------------------------------------------------------------------- reading


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a checkpoint file (or Hugging Face model folder) into a flat name -> tensor dict.

    `.safetensors` is read with safetensors; `.pth` / `.pt` / `.bin` / `.ckpt` only with
    `torch.load(map_location="cpu", weights_only=True)`, so a pickle that holds arbitrary
    objects is refused without running its code. A folder is read through its
    `model.safetensors`, else its `pytorch_model.bin`. A `{"model": sd}`, `{"state_dict": sd}`
    or `{"model_state": sd}` wrapper is unwrapped. Raises CheckpointError.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise CheckpointError(f"checkpoint not found: {p}")
    if p.is_dir():
        for name in _FOLDER_FILES:
            if (p / name).is_file():
                return read_state_dict(p / name)
        present = sorted(q.name for q in p.iterdir())[:10]
        raise CheckpointError(
            f"the folder {p} holds no {' or '.join(_FOLDER_FILES)} "
            f"(it holds: {', '.join(present) or 'nothing'})"
        )
    suffix = p.suffix.lower()
    if suffix == ".safetensors":
        return _unwrap(_read_safetensors(p))
    if suffix in _PICKLE_SUFFIXES:
        return _unwrap(_read_pickle(p))
    raise CheckpointError(
        f"unsupported checkpoint file {p.name!r}: expected .safetensors, "
        f"{', '.join(_PICKLE_SUFFIXES)} or a Hugging Face model folder"
    )


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"could not read {path} as a safetensors file: {exc}") from exc


def _read_pickle(path: Path) -> object:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        found = re.search(r"GLOBAL ([\w.]+)", text)  # torch names the global it blocked
        if found:
            raise CheckpointError(
                f"refusing to unpickle arbitrary objects from {path}: it references "
                f"{found.group(1)}, and loading it could run code. Only tensors and plain "
                f"containers are read (torch.load weights_only=True); if you trust the file, "
                f"re-save its state dict as .safetensors."
            ) from exc
        detail = text.partition("WeightsUnpickler error:")[2].strip().split("\n")[0]
        raise CheckpointError(
            f"could not read {path} as a PyTorch checkpoint: it is corrupt or holds objects "
            f"other than tensors{f' ({detail})' if detail else ''}, and swinviz refuses to "
            f"unpickle arbitrary objects (torch.load weights_only=True)"
        ) from exc
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"could not read {path} as a PyTorch checkpoint: {exc}") from exc


def _unwrap(obj: object) -> dict[str, torch.Tensor]:
    """Peel `{"model": sd}`-style wrappers and keep the tensor entries of the state dict."""
    while isinstance(obj, Mapping):
        inner = next((obj[k] for k in _WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, Mapping):
        raise CheckpointError(
            f"expected a state dict (a mapping of names to tensors), got {type(obj).__name__}"
        )
    return {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}


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
    """Name the layout of a state dict: "official", "timm", "torchvision", "transformers" or
    "swinviz" (see the module docstring). Raises CheckpointError for anything else, including
    Swin V2 checkpoints (swinviz implements Swin V1)."""
    sd = _normalise(state_dict)
    layout = next((name for name, sig in _SIGNATURES if any(map(sig.match, sd))), None)
    if layout is None:
        first = ", ".join(list(sd)[:5]) or "none"
        raise CheckpointError(
            f"this file is not a Swin checkpoint: none of its {len(sd)} keys look like "
            f"a Swin Transformer's first stage (official/timm 'layers.0.blocks.*', torchvision "
            f"'features.1.*', transformers 'encoder.layers.0.blocks.*', swinviz "
            f"'pair.blocks.*') (first keys: {first})"
        )
    v2 = [k for k in sd if any(m in k for m in _V2_MARKERS)]
    if v2:
        raise CheckpointError(
            f"this is a Swin V2 checkpoint ({v2[0]}, ...); swinviz implements Swin V1 "
            f"(a learned relative position bias table, not a continuous position bias MLP)"
        )
    if layout == "official":
        has_buffers = any(k.endswith(("attn_mask", "relative_position_index")) for k in sd)
        old_head = "head.weight" in sd and "head.fc.weight" not in sd
        layout = "official" if has_buffers or old_head else "timm"
    return layout


def _naming(layout: str, sd: Mapping[str, torch.Tensor]) -> str:
    """The renaming table for a layout (transformers has two generations of names)."""
    if layout == "transformers" and any(".attention.self." in k for k in sd):
        return "transformers-classic"
    return layout


def _sources(naming: str) -> dict[str, tuple[str, ...]]:
    """swinviz key -> the checkpoint key(s) it is made from, for one naming table."""
    table = _NAMES[naming]
    out: dict[str, tuple[str, ...]] = {}
    for module, params in _STEM_PARAMS.items():
        src = table.stem[module]
        for p in params:
            out[_join(module, p)] = (_join(src, p),)
    for i in range(2):
        prefix = table.block.format(i=i)
        for module, params in _BLOCK_PARAMS.items():
            src = table.parts[module]
            srcs = src if isinstance(src, tuple) else (src,)
            for p in params:
                out[_join(f"pair.blocks.{i}.{module}", p)] = tuple(
                    _join(prefix + s, p) for s in srcs
                )
    return out


def checkpoint_filter_fn(state_dict: Mapping) -> dict[str, torch.Tensor]:
    """Convert a Swin checkpoint of any supported layout to swinviz's stage-1 keys.

    Keeps only `STAGE1_KEYS` (the patch embedding and the first two blocks) and drops
    everything else: later stages, patch merging, final norm, heads, `attn_mask` and
    `relative_position_index` buffers. transformers' separate query / key / value weights and
    biases are concatenated in q, k, v order into one qkv ([3C, C] weight, [3C] bias), which is
    the order swinviz's `qkv` output is split in. Keys the checkpoint lacks are left out (they
    are reported by `load_stage1`). Raises CheckpointError for an unrecognised layout.
    """
    sd = _normalise(state_dict)
    naming = _naming(detect_layout(sd), sd)
    out: dict[str, torch.Tensor] = {}
    for target, srcs in _sources(naming).items():
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
    return ""


def load_stage1(model: nn.Module, source: str | os.PathLike[str] | Mapping) -> str:
    """Load stage-1 weights into `model` (with `patch_embed` and `pair`); return the layout name.

    `source` is a checkpoint path (see `read_state_dict`) or an already-read state dict. The
    converted tensors must cover every stage-1 key of the model with the model's own shapes;
    otherwise CheckpointError lists the missing keys and the mismatched shapes and nothing is
    loaded (no partial weights). Only the stage-1 keys are loaded.
    """
    raw = source if isinstance(source, Mapping) else read_state_dict(source)
    sd = _normalise(raw)
    layout = detect_layout(sd)
    converted = checkpoint_filter_fn(sd)
    sources = _sources(_naming(layout, sd))
    own = model.state_dict()
    expected = [k for k in STAGE1_KEYS if k in own]
    if not expected:
        raise CheckpointError(
            f"the model ({type(model).__name__}) has none of swinviz's stage-1 parameters "
            f"(e.g. {STAGE1_KEYS[0]}); load_stage1 expects a model with patch_embed and pair"
        )

    problems = []
    missing = [k for k in expected if k not in converted]
    if missing:
        named = [f"{k} (from {' + '.join(sources[k])})" for k in missing]
        problems.append(f"missing keys in the {layout} checkpoint: {', '.join(named)}")
    unexpected = [k for k in converted if k not in own]
    if unexpected:
        problems.append(f"keys the model does not have: {', '.join(unexpected)}")
    for k in expected:
        if k in converted and converted[k].shape != own[k].shape:
            got, need = converted[k].shape, own[k].shape
            problems.append(
                f"{k}: checkpoint has {tuple(got)}, model needs {tuple(need)}"
                + _shape_hint(k, got, need)
            )
    if problems:
        raise CheckpointError(
            "cannot load the stage-1 weights (nothing was loaded):\n  " + "\n  ".join(problems)
        )

    result = model.load_state_dict({k: converted[k] for k in expected}, strict=False)
    if result.unexpected_keys:  # cannot happen after the checks above; never load silently
        raise CheckpointError(f"unexpected keys: {', '.join(result.unexpected_keys)}")
    return layout


# ---------------------------------------------------------------------------------- the Hub


def _download_errors() -> tuple[type[BaseException], ...]:
    """Exceptions hf_hub_download raises for network, offline and cache failures."""
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    errors: list[type[BaseException]] = [
        OSError,  # includes LocalEntryNotFoundError, OfflineModeIsEnabled, requests' errors
        ValueError,  # HFValidationError
        HfHubHTTPError,
        LocalEntryNotFoundError,
    ]
    for module_name in ("httpx2", "httpx"):  # the HTTP clients huggingface_hub has used
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        base = getattr(module, "HTTPError", None)
        if isinstance(base, type) and issubclass(base, BaseException):
            errors.append(base)
    return tuple(errors)


def hub_checkpoint(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Path of the pretrained Swin-T weights (timm's `model.safetensors` from `HUB_REPO`).

    Downloaded once by huggingface_hub and cached (in `cache_dir`, else its default cache).
    Raises CheckpointError when the file is neither cached nor downloadable (offline,
    `HF_HUB_OFFLINE=1`, network or Hub errors).
    """
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(
            HUB_REPO, "model.safetensors", cache_dir=None if cache_dir is None else str(cache_dir)
        )
    except _download_errors() as exc:
        text = str(exc).strip()
        reason = text.splitlines()[0].rstrip(".") if text else type(exc).__name__
        raise CheckpointError(
            f"Could not download the pretrained Swin-T weights from the Hugging Face Hub "
            f"({type(exc).__name__}: {reason}). Use weights='random' or a checkpoint file "
            f"on disk."
        ) from exc
    return Path(path)
