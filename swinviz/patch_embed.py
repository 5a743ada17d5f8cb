"""Patch embedding: a strided convolution cuts the image into p x p patches and projects each to C
channels, then LayerNorm (Swin's stage-1 input)."""

from __future__ import annotations

import torch
from torch import nn


class PatchEmbed(nn.Module):
    """(B, 3, H, W) -> (B, H/p * W/p, C) tokens in row-major order of the (H/p, W/p) grid.

    Parameters: `proj` Conv2d(in_chans, embed_dim, p, stride p), `norm` LayerNorm(embed_dim).
    """

    def __init__(
        self,
        img_size: int | tuple[int, int] = 224,
        patch_size: int = 4,
        in_chans: int = 3,
        embed_dim: int = 96,
        norm: bool = True,
    ) -> None:
        super().__init__()
        h, w = (img_size, img_size) if isinstance(img_size, int) else img_size
        if h % patch_size or w % patch_size:
            raise ValueError(f"image size {h}x{w} is not a multiple of patch_size={patch_size}")
        self.img_size = (h, w)
        self.patch_size = patch_size
        self.patches_resolution = (h // patch_size, w // patch_size)
        self.num_patches = self.patches_resolution[0] * self.patches_resolution[1]
        self.embed_dim = embed_dim
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dim) if norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, H, W = x.shape
        if (H, W) != self.img_size:
            raise ValueError(f"input image is {H}x{W}, this embedding expects {self.img_size}")
        x = self.proj(x).flatten(2).transpose(1, 2)  # B, H/p * W/p, C
        return self.norm(x)
