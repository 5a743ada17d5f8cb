"""The Swin Transformer block (W-MSA or SW-MSA) and the block pair, with an optional trace.

    x (B, H*W, C) -> x + attention(norm1(x)) in (shifted) windows -> x + mlp(norm2(x))

Two paths through a block, equal to 1e-5 in float32:
- traced (`return_trace=True`): the reference's steps one by one (`functional`: pad, roll,
  partition, q kᵀ, + bias, + mask, softmax, reverse, roll back), keeping the tensors the figures
  draw (`BlockTrace`);
- fast (default): the same computation with the permutations as gathers through the window
  order and the attention on the path `WindowAttention.backend` chooses once per forward
  (`backends.attention.block_attention`: the fused C kernel, SDPA or batched GEMMs); the linears
  through `backends.onednn.fused_linear`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from .attention import WindowAttention, trunc_normal_
from .backends.attention import addend, block_attention, window_rows
from .backends.onednn import fused_linear
from .cost import block_flops
from .functional import shifted_window_attention
from .windows import (
    attention_mask,
    effective_window,
    inverse_order,
    padded_size,
    region_ids,
    window_order,
)


@dataclass
class BlockTrace:
    """What one block computed, for the figures. Window order is `window_partition` order of the
    (rolled, if shift_size > 0) map; token (r, c) of the original map sits in window/slot
    `swinviz.windows.window_of_token(H, W, M, s)[r, c]`.

    attn:   (B*nW, nH, N, N) softmax probabilities (query rows, key columns).
    scores: (B*nW, nH, N, N) content logits q kᵀ * scale, before bias and mask.
    bias:   (nH, N, N) relative position bias gathered from the table.
    mask:   (nW, N, N) of 0 / -100, or None when shift_size == 0.
    region_ids: (H, W) ids of concepts fact 4 (all 0 without shift); when H or W is not a multiple
            of the window, the block pads them to whole windows and this map, the mask and the
            windows are those of the padded (Hp, Wp) grid.
    """

    attn: torch.Tensor
    scores: torch.Tensor
    bias: torch.Tensor
    mask: torch.Tensor | None
    region_ids: torch.Tensor
    window_size: int
    shift_size: int
    input_resolution: tuple[int, int]
    num_heads: int
    x_in: torch.Tensor  # (B, L, C) block input
    x_out: torch.Tensor  # (B, L, C) block output
    # on a grid that is not whole windows: the block rolled the unpadded map, then padded it
    # (timm's Swin V2), not padded and then rolled; the windows' order follows
    # (`swinviz.windows.window_order(..., roll_first=)`)
    roll_first: bool = False
    # Swin V2 (concepts fact 17), None otherwise and without its bias: its bias MLP evaluated
    # for a window of `wide_window` = 2M tokens, (nH, 2M'-1, 2M'-1) (entry [h, dh + M'-1,
    # dw + M'-1]; its centre (2M-1)² is this block's own table), and the log-spaced coordinate
    # the MLP reads for each offset -(M'-1)..M'-1 of one axis, (2M'-1,)
    bias_wide: torch.Tensor | None = None
    coords_wide: torch.Tensor | None = None

    @property
    def wide_window(self) -> int | None:
        return None if self.bias_wide is None else (self.bias_wide.shape[-1] + 1) // 2

    def __getitem__(self, name: str):
        return getattr(self, name)

    def keys(self) -> list[str]:
        return list(self.__dataclass_fields__)


class Mlp(nn.Module):
    """fc1 (C -> hidden), GELU, fc2 (hidden -> C): (B, L, C) -> (B, L, C)."""

    def __init__(self, in_features: int, hidden_features: int, drop: float = 0.0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))
        return fused_linear(fused_linear(x, self.fc1, gelu=True), self.fc2)


class DropPath(nn.Module):
    """Stochastic depth per sample (identity in eval mode)."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


@lru_cache(maxsize=64)
@torch.inference_mode(False)  # normal tensors: autograd may use them after an inference run
def _cached_geometry(H: int, W: int, M: int, s: int, device: torch.device):
    order = window_order(H, W, M, s, device)
    mask = attention_mask(*padded_size(H, W, M), M, s).to(device) if s > 0 else None
    return order, inverse_order(order, H * W), mask


class SwinTransformerBlock(nn.Module):
    """One Swin block: x + attn(norm1(x)) in (shifted) windows, then x + mlp(norm2(x)).

    forward(x, return_trace=False, attn_out=None): x (B, H*W, C) -> (B, H*W, C), or
    (y, BlockTrace). If min(H, W) <= window_size the window becomes min(H, W) and the shift 0
    (concepts fact 2).
    """

    def __init__(
        self,
        dim: int,
        input_resolution: tuple[int, int],
        num_heads: int,
        window_size: int = 7,
        shift_size: int = 0,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        self.dim = dim
        self.input_resolution = (int(input_resolution[0]), int(input_resolution[1]))
        self.num_heads = num_heads
        self.mlp_ratio = mlp_ratio
        self.window_size, self.shift_size = effective_window(
            self.input_resolution, window_size, shift_size
        )
        self.padded_resolution = padded_size(*self.input_resolution, self.window_size)
        # False in a model without its mask (`swinviz.without`): the shifted windows still
        # roll, but add no -100
        self.masked = True
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(
            dim, self.window_size, num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
            attn_drop=attn_drop, proj_drop=drop,
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)

    def _geometry(self, device: torch.device | str = "cpu"):
        """(order, inverse order, mask) for this block on `device`: the cached tensors
        themselves, shared by every block of the same geometry and never handed out, so nothing
        outside the blocks' own paths can change them (the bias + mask cache matches this mask
        by identity)."""
        H, W = self.input_resolution
        order, inv, mask = _cached_geometry(H, W, self.window_size, self.shift_size,
                                            torch.device(device))
        return order, inv, mask if self.masked else None

    def geometry(self, device: torch.device | str = "cpu"):
        """(order (nW*N,), inverse order (H*W,), mask (nW, N, N) or None) for this block on
        `device`: copies (the block's own are never handed out)."""
        return tuple(None if t is None else t.clone() for t in self._geometry(device))

    def owns(self, mask: torch.Tensor | None, device: torch.device | str) -> bool:
        """Whether mask is the block's own cached mask (`_geometry`), which nothing can edit."""
        return mask is not None and mask is self._geometry(device)[2]

    @property
    def attn_mask(self) -> torch.Tensor | None:
        """The reference's buffer: (nW, N, N) of 0 / -100, or None without shift (a copy)."""
        return self.geometry()[2]

    def forward(self, x: torch.Tensor, return_trace: bool = False,
                attn_out: list[torch.Tensor] | None = None):
        """x (B, H*W, C) -> (B, H*W, C), or (y, BlockTrace) with return_trace.

        attn_out: a list to which the block appends its softmax probabilities averaged over the
        heads, (B*nW, N, N) float32 (windows in partition order of the padded, rolled map, as
        in the trace; (nW, N, N) for one image) on x's device; the fast path then takes the
        explicit softmax (batched GEMMs) wherever it would otherwise run SDPA.
        """
        H, W = self.input_resolution
        B, L, C = x.shape
        if L != H * W:
            raise ValueError(f"input has {L} tokens, expected H*W = {H}*{W} = {H * W}")
        if not return_trace:
            return self.forward_fast(x, *self._geometry(x.device), attn_out=attn_out)

        # the reference's steps, one by one
        M, s = self.window_size, self.shift_size
        _, _, mask = self._geometry(x.device)
        shortcut = x
        y, t = shifted_window_attention(self.norm1(x), self.attn, (H, W), M, s, mask)
        x = shortcut + self.drop_path(y)
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        if attn_out is not None:
            attn_out.append(t["attn"].detach().float().mean(1))
        return x, BlockTrace(
            attn=t["attn"], scores=t["scores"], bias=t["bias"],
            mask=None if mask is None else mask.clone(),  # the trace owns its copy
            region_ids=region_ids(*self.padded_resolution, M, s), window_size=M, shift_size=s,
            input_resolution=(H, W), num_heads=self.num_heads, x_in=shortcut, x_out=x,
        )

    def forward_fast(self, x: torch.Tensor, order: torch.Tensor, inv: torch.Tensor,
                     mask: torch.Tensor | None,
                     attn_out: list[torch.Tensor] | None = None,
                     addend: torch.Tensor | None = None,
                     rows: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """The fast path with the block's geometry given (what `geometry(x.device)` returns):
        x (B, H*W, C) -> (B, H*W, C).

        order: (nW*N,) int64, the token each window slot gathers (H*W for a padding slot);
        inv: (H*W,) int64, the slot each token comes back from; mask: (nW, N, N) or None;
        addend: bias + mask made beforehand (`fast_addend`), else made in the attention;
        rows: the qkv and merge row gathers made beforehand (`fast_rows`), else cached here.
        (The compiled path passes both in, made outside its graph.)
        """
        L = x.shape[1]
        shortcut = x
        x = self.norm1(x)
        if self.padded_resolution != self.input_resolution:
            # padding slots gather token L: zeros after the norm, as F.pad would give
            x = torch.cat([x, x.new_zeros(x.shape[0], 1, x.shape[2])], dim=1)
        backend = self.attn.backend(x, attn_out)
        heads = block_attention(self, x, L, order, inv, mask, backend, attn_out, addend, rows)
        return self._finish(heads, shortcut)

    def fast_rows(self, order: torch.Tensor,
                  inv: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The row gathers `forward_fast` makes from this block's geometry, as new tensors:
        qkv rows (3*nW*nH*N,) and merge rows (H*W*nH,) (`backends.attention.window_rows`)."""
        N, nH = self.window_size**2, self.num_heads
        return window_rows("qkv", order, nH, N), window_rows("merge", inv, nH, N)

    def fast_addend(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor | None:
        """The bias + mask that `forward_fast(x, ...)` adds to its scores (see
        `backends.attention.addend`), made now (cached on the CPU); None where the chosen path
        takes none (batched GEMMs under autograd)."""
        backend = self.attn.backend(x)
        if not backend.takes_addend:
            return None
        Hp, Wp = self.padded_resolution
        nW = (Hp // self.window_size) * (Wp // self.window_size)
        return addend(self.attn, mask, x.dtype, x.shape[0] * nW, backend,
                      self.owns(mask, x.device))

    def _finish(self, heads: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        """The block after its attention core: heads merged back to tokens (B, L, C), then
        proj, the residual, the MLP with its residual: -> (B, L, C)."""
        if self.training:
            x = self.attn.proj_drop(self.attn.proj(heads))
            x = shortcut + self.drop_path(x)
            return x + self.drop_path(self.mlp(self.norm2(x)))
        # eval: the residual adds fused into proj and fc2 (oneDNN, where it runs)
        x = fused_linear(heads, self.attn.proj, residual=shortcut)
        h = fused_linear(self.norm2(x), self.mlp.fc1, gelu=True)
        return fused_linear(h, self.mlp.fc2, residual=x)

    def flops(self) -> int:
        """Multiply-adds of one block (concepts fact 10)."""
        return block_flops(
            self.dim, self.input_resolution, self.num_heads, self.window_size, self.mlp_ratio
        )

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, input_resolution={self.input_resolution}, "
            f"num_heads={self.num_heads}, window_size={self.window_size}, "
            f"shift_size={self.shift_size}, mlp_ratio={self.mlp_ratio}"
        )


class SwinBlockPair(nn.Module):
    """Block 0 with regular windows (W-MSA), block 1 with shifted windows (SW-MSA).

    forward(x, return_trace=False): (B, H*W, C) -> (B, H*W, C), or (y, [trace0, trace1]).
    """

    def __init__(
        self,
        dim: int,
        input_resolution: tuple[int, int],
        num_heads: int,
        window_size: int = 7,
        shift_size: int | None = None,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float | tuple[float, float] = 0.0,
    ) -> None:
        super().__init__()
        if shift_size is None:
            shift_size = window_size // 2
        dp = drop_path if isinstance(drop_path, (tuple, list)) else (drop_path, drop_path)
        self.blocks = nn.ModuleList(
            SwinTransformerBlock(
                dim, input_resolution, num_heads, window_size=window_size,
                shift_size=0 if i == 0 else shift_size, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias,
                qk_scale=qk_scale, drop=drop, attn_drop=attn_drop, drop_path=dp[i],
            )
            for i in range(2)
        )

    def forward(self, x: torch.Tensor, return_trace: bool = False):
        if not return_trace:
            for blk in self.blocks:
                x = blk(x)
            return x
        traces = []
        for blk in self.blocks:
            x, t = blk(x, return_trace=True)
            traces.append(t)
        return x, traces

    def flops(self) -> int:
        return sum(b.flops() for b in self.blocks)


def init_weights(module: nn.Module) -> None:
    """The reference's initialisation: Linear weights ~ truncated normal(0.02), biases 0,
    LayerNorm weight 1 and bias 0 (bias tables are initialised in WindowAttention); for Swin V2
    timm's (its position MLP's Linears included, then `reset_v2_parameters`)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            trunc_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, WindowAttention):
            trunc_normal_(m.relative_position_bias_table)
    # Swin V2's modules then set what is not a Linear or set otherwise (the temperature, the
    # q / v biases, the res-post-norms at zero), as timm does (`swinviz.v2`)
    for m in module.modules():
        if callable(reset := getattr(m, "reset_v2_parameters", None)):
            reset()
