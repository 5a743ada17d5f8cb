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

import importlib
import math
import os
import pickle
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

__all__ = [
    "HUB_REPO",
    "HUB_REPOS",
    "LAYOUTS",
    "CheckpointError",
    "checkpoint_filter_fn",
    "detect_layout",
    "hub_checkpoint",
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
            f"there are no pretrained weights for {arch!r} on the Hub; choose one of "
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
        official = (
            any(k.endswith(("attn_mask", "relative_position_index")) for k in sd)
            or any(k.startswith("layers.0.downsample.") for k in sd)
            or ("head.weight" in sd and "head.fc.weight" not in sd)
        )
        layout = "official" if official else "timm"
    return layout


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
