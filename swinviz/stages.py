"""Patch merging and a stage of block pairs, as timm places them.

A stage s > 1 starts with its patch merge (`layers.{s-1}.downsample`): the 2x2 neighbouring tokens
are concatenated (4C), normalised and projected to 2C, halving the grid. Then come its blocks
(`layers.{s-1}.blocks.{b}`), in pairs: block 2p with regular windows, block 2p+1 shifted.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .backends.onednn import fused_linear
from .block import SwinTransformerBlock
from .config import StageGeometry


class PatchMerging(nn.Module):
    """(B, H·W, C) -> (B, ceil(H/2)·ceil(W/2), 2C).

    An odd H or W is padded with a zero row / column at the bottom / right first (as
    transformers and timm do). The 2x2 children of merged token (i, j) are concatenated in the
    reference's order: (2i, 2j), (2i+1, 2j), (2i, 2j+1), (2i+1, 2j+1); then LayerNorm(4C) and a
    Linear(4C, 2C) without bias (`norm`, `reduction`).
    """

    def __init__(self, dim: int, input_resolution: tuple[int, int], out_dim: int | None = None,
                 eps: float = 1e-5) -> None:
        super().__init__()
        self.dim = dim
        self.input_resolution = (int(input_resolution[0]), int(input_resolution[1]))
        self.out_dim = out_dim or 2 * dim
        self.norm = nn.LayerNorm(4 * dim, eps=eps)
        self.reduction = nn.Linear(4 * dim, self.out_dim, bias=False)

    @property
    def output_resolution(self) -> tuple[int, int]:
        H, W = self.input_resolution
        return -(-H // 2), -(-W // 2)

    def concat_children(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H·W, C) -> (B, Ho·Wo, 4C): each merged token's 2x2 children concatenated in the
        reference's order, an odd side padded with zeros first (V1 and V2 alike)."""
        H, W = self.input_resolution
        B, L, C = x.shape
        if L != H * W:
            raise ValueError(f"input has {L} tokens, expected H*W = {H}*{W} = {H * W}")
        x = x.view(B, H, W, C)
        if H % 2 or W % 2:
            x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))
        Ho, Wo = self.output_resolution
        # B, Ho, 2 (row in pair), Wo, 2 (col in pair), C -> B, Ho, Wo, col, row, C
        return x.view(B, Ho, 2, Wo, 2, C).permute(0, 1, 3, 4, 2, 5).reshape(B, Ho * Wo, 4 * C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.concat_children(x)
        if self.training:
            return self.reduction(self.norm(x))
        return fused_linear(self.norm(x), self.reduction)  # oneDNN where it runs

    def extra_repr(self) -> str:
        return f"dim={self.dim}, input_resolution={self.input_resolution}"


class SwinTransformerStage(nn.Module):
    """One stage: an optional patch merge, then `depth` blocks in W-MSA / SW-MSA pairs.

    forward(x): (B, L_in, C_in) -> (B, L, C) where (L, C) is the stage's grid and width.
    """

    merge_class = PatchMerging  # Swin V2's stage changes these two (`swinviz.v2.stages`)

    def __init__(self, geo: StageGeometry, in_dim: int, in_grid: tuple[int, int],
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, eps: float = 1e-5) -> None:
        super().__init__()
        self.geometry = geo
        self.downsample = (self.merge_class(in_dim, in_grid, geo.dim, eps=eps)
                           if geo.downsample else nn.Identity())
        self.blocks = nn.ModuleList(
            self.block(geo, 0 if b % 2 == 0 else geo.shift_size, mlp_ratio, qkv_bias, eps)
            for b in range(geo.depth)
        )

    def block(self, geo: StageGeometry, shift: int, mlp_ratio: float, qkv_bias: bool,
              eps: float) -> nn.Module:
        """One of the stage's blocks, with this shift."""
        blk = SwinTransformerBlock(geo.dim, geo.grid, geo.num_heads, window_size=geo.window_size,
                                   shift_size=shift, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias)
        blk.norm1.eps = blk.norm2.eps = eps
        return blk

    def pair(self, p: int) -> tuple[SwinTransformerBlock, SwinTransformerBlock]:
        """Blocks 2p (W-MSA) and 2p+1 (SW-MSA)."""
        return self.blocks[2 * p], self.blocks[2 * p + 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.downsample(x)
        for blk in self.blocks:
            x = blk(x)
        return x
