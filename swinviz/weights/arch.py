"""Which Swin V2 architecture a checkpoint holds, read from its keys and shapes.

    infer_arch(state_dict, "…/swinv2_tiny_window8_256.safetensors")  # "swinv2_tiny_window8_256"

Blocks per stage, the embedding width and the heads per stage are in every checkpoint; the window
is not a weight (the position MLP reads coordinates of any window), so it comes from the buffers
a checkpoint may carry (the official release saves `relative_position_index`, `attn_mask` and
`relative_coords_table`; timm and transformers save none), else from an architecture name in the
file's path (a Hugging Face cache folder names its repository). When several architectures
remain, the error names the `arch=` to pass. Swin V1 checkpoints are left to the caller's default
(V1's loading says what to choose when the blocks differ).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from ..config import V2_ARCHS, SwinConfig
from ..v2.attention import relative_coords_table
from .errors import CheckpointError
from .layouts import NAMES, checkpoint_version, detect_layout, naming_of, source_keys
from .reading import normalise


def _count_blocks(sd: Mapping, naming: str) -> tuple[int, ...]:
    """Blocks per stage, stage 0 up to the first stage with none."""
    depths = []
    while True:
        i, b = len(depths), 0
        while any(k.startswith(NAMES[naming].block(i, b)) for k in sd):
            b += 1
        if not b:
            return tuple(depths)
        depths.append(b)


def _stored_window(sd: Mapping, naming: str) -> tuple[int | None, torch.Tensor | None]:
    """(window of stage 1, its coordinates table) from the buffers of stage 1's blocks, where
    the checkpoint carries them; (None, None) otherwise."""
    prefix = (NAMES[naming].block(0, 0), NAMES[naming].block(0, 1))
    window = table = None
    for key, value in sd.items():
        if not key.startswith(prefix) or not isinstance(value, torch.Tensor):
            continue
        if key.endswith("relative_coords_table") and value.ndim == 4:
            window, table = (value.shape[1] + 1) // 2, value.float()
        elif key.endswith(("relative_position_index", "attn_mask")) and value.ndim >= 2:
            side = math.isqrt(value.shape[-1])
            if side * side == value.shape[-1] and window is None:
                window = side
    return window, table


def _table_matches(cfg: SwinConfig, table: torch.Tensor | None) -> bool:
    if table is None:
        return True
    pws = cfg.pretrained_window_sizes[0] if cfg.pretrained_window_sizes else 0
    mine = relative_coords_table(cfg.window_size, pws)
    return mine.shape == table.shape and torch.allclose(mine, table, atol=1e-4)


def infer_arch(state_dict: Mapping, source: str = "") -> str | None:
    """The name (`swinviz.config.ARCHS`) of the Swin V2 architecture `state_dict` holds, or
    None for a Swin V1 checkpoint. `source`: the file's path, whose text may name the
    architecture. Raises CheckpointError when no V2 architecture fits, or when several do
    (naming the arch= to pass)."""
    sd = normalise(state_dict)
    if checkpoint_version(sd) == 1:
        return None
    naming = naming_of(detect_layout(sd), sd)
    depths = _count_blocks(sd, naming)
    stem = sd.get(source_keys(naming, "patch_embed.proj.weight")[0])
    embed_dim = None if stem is None else int(stem.shape[0])
    heads = []
    for i in range(len(depths)):
        scale = sd.get(source_keys(naming, f"layers.{i}.blocks.0.attn.logit_scale")[0])
        heads.append(None if scale is None else int(scale.shape[0]))
    found = [c for c in V2_ARCHS.values()
             if c.depths == depths and c.embed_dim == embed_dim and c.num_heads == tuple(heads)]
    what = (f"this Swin V2 checkpoint (blocks per stage {depths}, embed dim {embed_dim}, heads "
            f"{tuple(heads)})")
    if not found:
        raise CheckpointError(
            f"{what} is none of swinviz's Swin V2 architectures ({', '.join(V2_ARCHS)}): pass "
            f"arch= a swinviz.config.SwinConfig with version=2 that describes it"
        )
    window, table = _stored_window(sd, naming)
    if window is not None:
        found = [c for c in found if c.window_size == window and _table_matches(c, table)]
    if len(found) > 1 and source:
        named = [c for c in found if c.name in source]
        found = named or found
    if len(found) == 1:
        return found[0].name
    if not found:
        raise CheckpointError(
            f"{what} was trained with window {window}, which none of swinviz's Swin V2 "
            f"architectures of that size uses: pass arch= a swinviz.config.SwinConfig with "
            f"version=2 and window_size={window}"
        )
    raise CheckpointError(
        f"{what} does not say its window size, and its architectures differ only in that: "
        f"pass {' or '.join(f'arch={c.name!r}' for c in found)}"
    )
