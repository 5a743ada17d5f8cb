"""Swin V2's patch merging and stage, placed as timm places them (docs/concepts.md, fact 19).

A stage s > 1 starts with its patch merge (`layers.{s-1}.downsample`), which V2 reduces before
it normalises; then its blocks (`layers.{s-1}.blocks.{b}`), in W-MSA / SW-MSA pairs. The
interface is V1's (`swinviz.stages.SwinTransformerStage`): `geometry`, `downsample`,
`blocks`, `pair(p)`.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import StageGeometry
from ..stages import PatchMerging, SwinTransformerStage
from .block import SwinV2Block


class PatchMergingV2(PatchMerging):
    """(B, H·W, C) -> (B, ceil(H/2)·ceil(W/2), 2C): the 2x2 children concatenated as in V1
    (`PatchMerging.concat_children`, concepts fact 13), then `reduction` Linear(4C, 2C)
    without bias, THEN `norm` LayerNorm(2C) (concepts fact 19): the norm sits on the stage's
    width, as every V2 norm follows the layer it normalises."""

    def __init__(self, dim: int, input_resolution: tuple[int, int], out_dim: int | None = None,
                 eps: float = 1e-5) -> None:
        super().__init__(dim, input_resolution, out_dim, eps)
        self.norm = nn.LayerNorm(self.out_dim, eps=eps)  # V1's is over the 4C children

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.reduction(self.concat_children(x)))


class SwinV2Stage(SwinTransformerStage):
    """One V2 stage: an optional V2 patch merge, then `depth` V2 blocks in W-MSA / SW-MSA
    pairs; forward(x): (B, L_in, C_in) -> (B, L, C), as V1's stage."""

    merge_class = PatchMergingV2

    def block(self, geo: StageGeometry, shift: int, mlp_ratio: float, qkv_bias: bool,
              eps: float) -> nn.Module:
        return SwinV2Block(geo.dim, geo.grid, geo.num_heads, window_size=geo.window_size,
                           shift_size=shift, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias,
                           pretrained_window_size=geo.pretrained_window_size,
                           roll_first=geo.roll_first, eps=eps)
