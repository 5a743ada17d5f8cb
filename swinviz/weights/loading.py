"""Loading a checkpoint into a model: convert (`layouts`), check every key and shape, then load.

Nothing is loaded unless everything fits; the error lists the missing keys (with the checkpoint
keys they would come from) and the mismatched shapes, with a hint in the terms a person chose the
model by (window, heads, embed dim, classes, blocks per stage).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

import torch
from torch import nn

from .errors import CheckpointError
from .layouts import HEAD_KEYS, NAMES, checkpoint_filter_fn, detect_layout, naming_of, source_keys
from .reading import normalise, read_state_dict


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
        while any(k.startswith(NAMES[naming].block(i, b)) for k in sd):
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
    loads into a model whose head is then removed (`model.reset_classifier(0)`, `num_classes`
    0). Otherwise CheckpointError lists the missing keys and the mismatched shapes and nothing
    is loaded.
    """
    raw = source if isinstance(source, Mapping) else read_state_dict(source)
    sd = normalise(raw)
    layout = detect_layout(sd)
    naming = naming_of(layout, sd)
    converted = checkpoint_filter_fn(sd, model)
    own = model.state_dict()
    missing = [k for k in own if k not in converted]
    headless = bool(missing) and set(missing) <= set(HEAD_KEYS)
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
    if headless:  # the model's own method (timm's name), so this package never builds a model
        model.reset_classifier(0)
        converted = {k: v for k, v in converted.items() if k not in HEAD_KEYS}
    model.load_state_dict(converted, strict=True)
    return layout



