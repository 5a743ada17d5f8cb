"""Swin without one of its parts: the counterfactual models of `SwinTransformer.without`.

Each part answers "what breaks without it" (docs/concepts.md, facts 3-7):

- "shift": every block is W-MSA (shift 0, so no roll and no mask): information never crosses a
  window border inside a stage;
- "mask": the shifted blocks still roll, but add no -100 mask: tokens that the roll wrapped
  around into one window attend to each other although they are far apart in the image;
- "bias": no relative position bias is added: attention inside a window sees content only
  (in Swin V2: no continuous position bias, 16·sigmoid(cpb_mlp(...)), docs/concepts.md fact 17).

The counterfactual model is a new module tree whose leaves are the original's: the same
LayerNorms, linears and MLPs (the same Parameter objects, nothing is copied), only the blocks
(their shift or mask) and, without the bias, the attention modules are new objects, whose bias
table is a zero buffer in place of the learned one. The original model is untouched.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import torch
from torch import nn

# the parts and their names are settings (swinviz.settings, torch-free); re-exported here
from .settings import PART_NAMES, PARTS, parse_parts, removed_text  # noqa: E402,F401


def _shallow(module: nn.Module) -> nn.Module:
    """A new module object over the same parameters, buffers and children (own dicts, so that
    replacing a child of the copy leaves the original as it was)."""
    new = copy.copy(module)
    new._parameters = OrderedDict(module._parameters)
    new._buffers = OrderedDict(module._buffers)
    new._non_persistent_buffers_set = set(module._non_persistent_buffers_set)
    new._modules = OrderedDict(module._modules)
    return new


def _without_bias(attn: nn.Module) -> nn.Module:
    """The window attention with a zero bias table: the same qkv and proj (shared), the table
    a zero buffer of the learned one's shape (not a parameter: nothing to learn or load).
    Swin V2's attention (`swinviz.v2`) keeps its position MLP and adds no bias from it."""
    new = _shallow(attn)
    if "relative_position_bias_table" not in new._parameters:  # V2: a switch, no table
        new.position_bias = False
        return new
    table = new._parameters.pop("relative_position_bias_table")
    new.register_buffer("relative_position_bias_table", torch.zeros_like(table.detach()),
                        persistent=False)
    new._bias_cache = {}  # the fast path's bias + mask, made from this table
    return new


def _block(blk: nn.Module, parts: tuple[str, ...]) -> nn.Module:
    new = _shallow(blk)
    if "shift" in parts:
        new.shift_size = 0  # W-MSA: the geometry without roll and mask
    if "mask" in parts:
        new.masked = False
    if "bias" in parts and "attn" in new._modules:
        new._modules["attn"] = _without_bias(blk.attn)
    return new


def without(model: nn.Module, parts) -> nn.Module:
    """`model` with `parts` (PARTS) removed in every block, sharing its weights; the parts it
    already lacked stay removed (`model.removed`)."""
    parts = parse_parts(parts)
    new = _shallow(model)
    stages = []
    for stage in model.layers:
        s = _shallow(stage)
        s._modules["blocks"] = nn.ModuleList(_block(b, parts) for b in stage.blocks)
        stages.append(s)
    new._modules["layers"] = nn.ModuleList(stages)
    new.removed = tuple(p for p in PARTS if p in parts or p in model.removed)
    new._fast_ms = {}
    return new
