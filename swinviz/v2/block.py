"""The Swin V2 block: res-post-norm around (shifted) window cosine attention and the MLP
(docs/concepts.md, facts 16-18 and 20).

    x (B, H*W, C) -> x + norm1(attention(x)) in (shifted) windows -> x + norm2(mlp(x))

It honours the V1 block's interface (`swinviz.block.SwinTransformerBlock`): `forward(x,
return_trace=False, attn_out=None)`, `input_resolution`, `window_size`, `shift_size`,
`mlp_ratio`, `masked`, so that `SwinTransformer.explore` and `swinviz.without` drive both.
Two paths, equal to 1e-5 in float32:
- traced (`return_trace=True`): the reference's steps one by one (pad and roll in the order the
  block was built with, partition, attend, reverse, roll back, crop), keeping a `BlockTrace`;
- fast (default): plain torch; the qkv projection on the tokens, the roll + partition (+ pad)
  as one gather through the window order, batched GEMMs with the softmax in place, one gather
  back; no fused kernel (cosine attention normalises q and k, which V1's kernels do not).
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from ..block import BlockTrace, DropPath, Mlp
from ..cost import block_flops
from ..windows import (
    attention_mask,
    effective_window,
    inverse_order,
    padded_size,
    region_ids,
    window_order,
    window_partition,
    window_reverse,
)
from .attention import WindowAttentionV2, relative_coords_table


@lru_cache(maxsize=64)
@torch.inference_mode(False)  # normal tensors: autograd may use them after an inference run
def _cached_geometry(H: int, W: int, M: int, s: int, roll_first: bool, device: torch.device):
    order = window_order(H, W, M, s, device, roll_first=roll_first)
    mask = attention_mask(*padded_size(H, W, M), M, s).to(device) if s > 0 else None
    return order, inverse_order(order, H * W), mask


class SwinV2Block(nn.Module):
    """One Swin V2 block (W-MSA when shift_size is 0, else SW-MSA).

    forward(x, return_trace=False, attn_out=None): x (B, H*W, C) -> (B, H*W, C), or
    (y, BlockTrace) with return_trace (`scores` the cosine logits times the temperature, `bias`
    16·sigmoid of the position MLP, gathered). If min(H, W) <= window_size the window becomes
    min(H, W) and the shift 0 (concepts fact 2, as timm and transformers do for V2).
    roll_first: on a grid that is not whole windows, roll and then pad (timm) or pad and then
    roll (transformers) (concepts fact 20); the mask is that of the padded grid either way.
    """

    def __init__(self, dim: int, input_resolution: tuple[int, int], num_heads: int,
                 window_size: int = 8, shift_size: int = 0, mlp_ratio: float = 4.0,
                 qkv_bias: bool = True, pretrained_window_size: int = 0,
                 roll_first: bool = True, eps: float = 1e-5, drop: float = 0.0,
                 attn_drop: float = 0.0, drop_path: float = 0.0) -> None:
        super().__init__()
        self.dim = dim
        self.input_resolution = (int(input_resolution[0]), int(input_resolution[1]))
        self.num_heads = num_heads
        self.mlp_ratio = mlp_ratio
        self.window_size, self.shift_size = effective_window(
            self.input_resolution, window_size, shift_size)
        self.padded_resolution = padded_size(*self.input_resolution, self.window_size)
        self.roll_first = bool(roll_first)
        self.masked = True  # False without the mask (`swinviz.without`)
        self.attn = WindowAttentionV2(dim, self.window_size, num_heads, qkv_bias=qkv_bias,
                                      pretrained_window_size=pretrained_window_size,
                                      attn_drop=attn_drop, proj_drop=drop)
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)
        self.norm2 = nn.LayerNorm(dim, eps=eps)

    def reset_v2_parameters(self) -> None:
        """timm's res-post-norm initialisation: norm1 and norm2 weights and biases 0, so that a
        fresh block starts as the identity (concepts fact 18)."""
        for norm in (self.norm1, self.norm2):
            nn.init.zeros_(norm.weight)
            nn.init.zeros_(norm.bias)

    def _geometry(self, device: torch.device | str = "cpu"):
        """(order (nW*N,), inverse order (H*W,), mask (nW, N, N) or None) on `device`: the
        cached tensors themselves, never handed out."""
        H, W = self.input_resolution
        order, inv, mask = _cached_geometry(H, W, self.window_size, self.shift_size,
                                            self.roll_first, torch.device(device))
        return order, inv, mask if self.masked else None

    def geometry(self, device: torch.device | str = "cpu"):
        """Copies of (order, inverse order, mask or None) for this block on `device`."""
        return tuple(None if t is None else t.clone() for t in self._geometry(device))

    @property
    def attn_mask(self) -> torch.Tensor | None:
        """(nW, N, N) of 0 / -100 of the padded grid, or None without shift (a copy)."""
        return self.geometry()[2]

    def forward(self, x: torch.Tensor, return_trace: bool = False,
                attn_out: list[torch.Tensor] | None = None):
        """x (B, H*W, C) -> (B, H*W, C), or (y, BlockTrace) with return_trace.

        attn_out: a list to which the block appends its probabilities averaged over the heads,
        (B*nW, N, N) float32, windows in partition order of the padded, rolled map (the trace's).
        """
        H, W = self.input_resolution
        B, L, C = x.shape
        if L != H * W:
            raise ValueError(f"input has {L} tokens, expected H*W = {H}*{W} = {H * W}")
        if not return_trace:
            return self.forward_windows(x, attn_out)
        M, s = self.window_size, self.shift_size
        _, _, mask = self._geometry(x.device)
        y, t = self._windowed_attention(x, mask, attn_out)
        out = x + self.drop_path(self.norm1(y))
        out = out + self.drop_path(self.norm2(self.mlp(out)))
        return out, BlockTrace(
            attn=t["attn"], scores=t["scores"], bias=t["bias"],
            mask=None if mask is None else mask.clone(),
            region_ids=region_ids(*self.padded_resolution, M, s), window_size=M, shift_size=s,
            input_resolution=(H, W), num_heads=self.num_heads, x_in=x, x_out=out,
            roll_first=self.roll_first, **self._wide_bias(),
        )

    def _wide_bias(self) -> dict:
        """The trace's `bias_wide` and `coords_wide`: the bias MLP for a window twice this
        block's (what Swin V2's continuous bias makes possible, concepts fact 17), and the
        coordinates it reads along one axis; nothing without the position bias."""
        attn = self.attn
        if not attn.position_bias:
            return {}
        wide = 2 * self.window_size
        with torch.no_grad():
            coords = relative_coords_table(wide, attn.trained_window())[0, :, wide - 1, 0]
            return dict(bias_wide=attn.bias_table(wide).detach(), coords_wide=coords)

    def _windowed_attention(self, x: torch.Tensor, mask: torch.Tensor | None,
                            attn_out: list[torch.Tensor] | None):
        """The reference's steps (concepts facts 3 and 20) on the raw tokens (V2 normalises
        after the attention): (B, H*W, C) -> (B, H*W, C) after `proj`, and the attention's
        trace (windows in partition order of the padded, rolled map)."""
        H, W = self.input_resolution
        Hp, Wp = self.padded_resolution
        B, L, C = x.shape
        M, s = self.window_size, self.shift_size
        pad = (0, 0, 0, Wp - W, 0, Hp - H)
        z = x.view(B, H, W, C)
        if self.roll_first:  # timm: roll the grid, then pad the rolled grid
            z = torch.roll(z, shifts=(-s, -s), dims=(1, 2)) if s else z
            z = nn.functional.pad(z, pad)
        else:  # transformers: pad, then roll the padded grid
            z = nn.functional.pad(z, pad)
            z = torch.roll(z, shifts=(-s, -s), dims=(1, 2)) if s else z
        windows = window_partition(z, M).view(-1, M * M, C)
        y, trace = self.attn(windows, mask=mask, return_trace=True, attn_out=attn_out)
        z = window_reverse(y.view(-1, M, M, C), M, Hp, Wp)
        if self.roll_first:
            z = z[:, :H, :W]
            z = torch.roll(z, shifts=(s, s), dims=(1, 2)) if s else z
        else:
            z = torch.roll(z, shifts=(s, s), dims=(1, 2)) if s else z
            z = z[:, :H, :W]
        return z.reshape(B, L, C), trace

    def forward_windows(self, x: torch.Tensor,
                        attn_out: list[torch.Tensor] | None = None) -> torch.Tensor:
        """The fast path: x (B, H*W, C) -> (B, H*W, C), the traced path's answer to 1e-5.

        q, k, v are projected on the H*W tokens (a padding token is a zero token, whose
        projection is the bias), gathered into windows through the window order (roll, pad and
        partition in one index), attended with batched GEMMs, gathered back through the inverse
        order, and projected (`proj`) on the tokens only.
        """
        order, inv, mask = self._geometry(x.device)
        attn = self.attn
        B, L, C = x.shape
        N, nH = self.window_size**2, self.num_heads
        qkv = attn.project_qkv(x)  # B, L, 3C
        if self.padded_resolution != self.input_resolution:
            bias = attn.qkv_bias()
            pad = qkv.new_zeros(B, 1, 3 * C) if bias is None else bias.expand(B, 1, 3 * C)
            qkv = torch.cat([qkv, pad], dim=1)
        qkv = qkv[:, order].view(-1, N, 3 * C)  # B*nW, N, 3C
        q, k, v = attn.split_heads(qkv)
        logits = attn.cosine_scores(q, k)  # B*nW, nH, N, N
        bias = attn.relative_position_bias()
        inplace = not torch.is_grad_enabled()
        if mask is not None:
            bias = bias.unsqueeze(0) + mask.to(bias).unsqueeze(1)  # nW, nH, N, N
            shape = (-1, mask.shape[0], nH, N, N)
        else:
            shape = (-1, 1, nH, N, N)
        if inplace:
            logits.view(shape).add_(bias)
            probs = torch.softmax(logits, -1, out=logits)
        else:
            probs = (logits.view(shape) + bias).view_as(logits).softmax(dim=-1)
        if attn_out is not None:
            attn_out.append(probs.detach().float().mean(1))
        heads = (attn.attn_drop(probs) @ v).transpose(1, 2).reshape(B, -1, C)  # B, nW*N, C
        y = attn.proj_drop(attn.proj(heads[:, inv]))  # B, L, C
        x = x + self.drop_path(self.norm1(y))
        return x + self.drop_path(self.norm2(self.mlp(x)))

    def flops(self) -> int:
        """Multiply-adds of one block as V1 counts them (concepts fact 10); the cosine
        normalisation and the position MLP (run once per forward) are left out."""
        return block_flops(self.dim, self.input_resolution, self.num_heads, self.window_size,
                           self.mlp_ratio)

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, input_resolution={self.input_resolution}, "
                f"num_heads={self.num_heads}, window_size={self.window_size}, "
                f"shift_size={self.shift_size}, mlp_ratio={self.mlp_ratio}, "
                f"roll_first={self.roll_first}")
