"""Checkpoint layouts: recognise which release a state dict comes from and rename it to timm's keys.

In the spirit of timm's `checkpoint_filter_fn`, one table per layout says where swinviz's modules
(timm's names) live, and one function does the renaming for every layout:

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

Swin V2 checkpoints (a `logit_scale` and a position MLP in every block) come in the official,
timm and transformers layouts (`transformers-v2`: `attention.self.{query,key,value}`, the
position MLP `continuous_position_bias_mlp`, under `swinv2.`); `checkpoint_version` tells V1 from
V2, and a checkpoint of one version offered to a model of the other is refused in one sentence.

`attn_mask` / `relative_position_index` / `relative_coords_table` buffers are dropped: the model
builds its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

import torch
from torch import nn

from .errors import CheckpointError
from .reading import normalise

LAYOUTS = ("official", "timm", "torchvision", "transformers")


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
NAMES: dict[str, _Naming] = {
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
    "transformers-v2": _Naming(  # Swinv2ForImageClassification (transformers 4 and 5)
        _HF_STEM,
        lambda i, b: f"encoder.layers.{i}.blocks.{b}.",
        {
            "norm1": "layernorm_before",
            "attn.qkv": ("attention.self.query", "attention.self.key", "attention.self.value"),
            "attn.q_bias": "attention.self.query.bias",
            "attn.v_bias": "attention.self.value.bias",
            "attn.logit_scale": "attention.self.logit_scale",
            "attn.cpb_mlp.0": "attention.self.continuous_position_bias_mlp.0",
            "attn.cpb_mlp.2": "attention.self.continuous_position_bias_mlp.2",
            "attn.proj": "attention.output.dense",
            "norm2": "layernorm_after",
            "mlp.fc1": "intermediate.dense",
            "mlp.fc2": "output.dense",
        },
        lambda i: f"encoder.layers.{i - 1}.downsample.", "layernorm", "classifier",
    ),
}
NAMES["swinviz"] = NAMES["timm"]

# A key prefix that marks each layout family (checked in this order).
_SIGNATURES = (
    ("transformers", re.compile(r"^encoder\.layers\.0\.blocks\.\d+\.")),
    ("torchvision", re.compile(r"^features\.1\.\d+\.(norm1|attn|norm2|mlp)\.")),
    ("timm", re.compile(r"^layers\.0\.blocks\.\d+\.")),
)
_V2_MARKERS = ("cpb_mlp", "logit_scale", "continuous_position_bias_mlp")
HEAD_KEYS = ("head.fc.weight", "head.fc.bias")


def checkpoint_version(state_dict: Mapping) -> int:
    """2 for a Swin V2 checkpoint (a `logit_scale` or a position MLP in its blocks), else 1."""
    return 2 if _v2_keys(normalise(state_dict)) else 1


def _v2_keys(sd: Mapping) -> list[str]:
    return [k for k in sd if any(m in k for m in _V2_MARKERS)]


def check_version(state_dict: Mapping, model: nn.Module) -> None:
    """CheckpointError, in one sentence, when a V1 checkpoint meets a V2 model or the reverse."""
    sd = normalise(state_dict)
    config = getattr(model, "config", None)
    mine = getattr(config, "version", 1)
    theirs = 2 if _v2_keys(sd) else 1
    if mine == theirs:
        return
    name = getattr(config, "name", "this model")
    if theirs == 2:
        raise CheckpointError(
            f"this is a Swin V2 checkpoint ({_v2_keys(sd)[0]}, ...: a continuous position bias "
            f"MLP, not a learned bias table), but the model is Swin V1 ({name}): load it with a "
            f"Swin V2 architecture, e.g. arch='swinv2_tiny_window8_256' (load_model without arch= "
            f"infers it from the checkpoint)"
        )
    raise CheckpointError(
        f"this is a Swin V1 checkpoint (a learned relative position bias table in every block, "
        f"no logit_scale), but the model is Swin V2 ({name}): load it with a Swin V1 "
        f"architecture, e.g. arch='swin_tiny_patch4_window7_224'"
    )


def detect_layout(state_dict: Mapping) -> str:
    """Name the layout of a state dict: "official", "timm", "torchvision" or "transformers"
    (swinviz's own names are timm's), for Swin V1 and V2 alike (V2 in torchvision's layout is
    refused). Raises CheckpointError for anything else."""
    sd = normalise(state_dict)
    layout = next((name for name, sig in _SIGNATURES if any(map(sig.match, sd))), None)
    if layout is None:
        first = ", ".join(list(sd)[:5]) or "none"
        raise CheckpointError(
            f"this file is not a Swin checkpoint: none of its {len(sd)} keys look like "
            f"a Swin Transformer's blocks (official/timm 'layers.0.blocks.*', torchvision "
            f"'features.1.*', transformers 'encoder.layers.0.blocks.*') (first keys: {first})"
        )
    if layout == "torchvision" and _v2_keys(sd):
        raise CheckpointError(
            "this is a Swin V2 checkpoint in torchvision's layout (features.*), which swinviz "
            "does not read; use timm's, transformers' or the official Swin V2 weights"
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


def naming_of(layout: str, sd: Mapping[str, torch.Tensor]) -> str:
    """The renaming table for a layout (transformers has two generations of names)."""
    if layout == "transformers" and _v2_keys(sd):
        return "transformers-v2"
    if layout == "transformers" and any(".attention.self." in k for k in sd):
        return "transformers-classic"
    return layout


_BLOCK_KEY = re.compile(r"^layers\.(\d+)\.blocks\.(\d+)\.(.+)$")
_MERGE_KEY = re.compile(r"^layers\.(\d+)\.downsample\.(norm|reduction)\.(weight|bias)$")


def source_keys(naming: str, key: str) -> tuple[str, ...]:
    """The checkpoint key(s) that swinviz key `key` is made from, in one naming table
    (several for transformers' separate query / key / value)."""
    table = NAMES[naming]
    if (m := _BLOCK_KEY.match(key)) is not None:
        i, b, rest = int(m.group(1)), int(m.group(2)), m.group(3)
        module, _, param = rest.rpartition(".")
        if rest == "attn.relative_position_bias_table" or rest in table.parts:
            module, param = rest, ""  # a parameter named as a whole (V2's attn.q_bias ...)
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
    CheckpointError for an unrecognised layout, or a Swin version other than the model's.
    """
    sd = normalise(state_dict)
    naming = naming_of(detect_layout(sd), sd)
    check_version(sd, model)
    out: dict[str, torch.Tensor] = {}
    for target in model.state_dict():
        srcs = source_keys(naming, target)
        if all(s in sd for s in srcs):
            tensors = [sd[s] for s in srcs]
            out[target] = tensors[0] if len(tensors) == 1 else torch.cat(tensors, dim=0)
    return out


