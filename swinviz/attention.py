"""Window attention (W-MSA / SW-MSA) with a relative position bias (docs/concepts.md, facts 6-9)."""

from __future__ import annotations

import torch
from torch import nn

from . import functional
from .backends.attention import attend_windows, choose
from .backends.onednn import fused_linear
from .cost import attention_flops
from .windows import relative_position_index, to_2tuple


@torch.no_grad()
def trunc_normal_(t: torch.Tensor, std: float = 0.02) -> torch.Tensor:
    """Truncated normal at +-2 std, the reference's initialisation, in place.

    Drawn by rejection: normal samples outside +-2 std are drawn again until none is left, which
    gives exactly the truncated distribution (about 4.6% are redrawn per round).
    """
    flat = t.view(-1)  # parameters are contiguous
    flat.normal_(0.0, std)
    redo = torch.nonzero(flat.abs() > 2 * std).squeeze(1)
    while redo.numel():
        values = torch.empty(redo.numel(), dtype=t.dtype, device=t.device).normal_(0.0, std)
        flat[redo] = values
        redo = redo[values.abs() > 2 * std]
    return t


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows, with a learned relative position bias.

    Parameters (concepts fact 9): `qkv` Linear(C, 3C), `proj` Linear(C, C),
    `relative_position_bias_table` ((2Mh-1)(2Mw-1), nH).

    forward(x, mask=None, return_trace=False, attn_out=None):
        x: (B_, N, C) with B_ = B * nW windows, N = Mh * Mw.
        mask: (nW, N, N) of 0 / -100, or None.
        returns (B_, N, C), or ((B_, N, C), trace dict) when return_trace.
        attn_out: a list to which the softmax probabilities averaged over the heads,
        (B_, N, N) float32, are appended; the explicit softmax then runs on every device.

    With return_trace the reference's steps run one by one (`functional.window_attention`);
    otherwise forward asks the backends once which path to take (`backends.attention.choose`)
    and runs it.
    """

    def __init__(
        self,
        dim: int,
        window_size: int | tuple[int, int],
        num_heads: int,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"num_heads={num_heads} does not divide dim={dim}")
        self.dim = dim
        self.window_size = to_2tuple(window_size)
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.scale = qk_scale or head_dim**-0.5
        mh, mw = self.window_size
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * mh - 1) * (2 * mw - 1), num_heads)
        )
        self.register_buffer(
            "relative_position_index", relative_position_index(self.window_size), persistent=False
        )
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        trunc_normal_(self.relative_position_bias_table)
        # the fast path's bias + mask per (dtype, B_, layout, mask's kind): (table copy, mask
        # copy, bias + mask made from the copies, the mask itself when it is a block's own);
        # kept by `backends.attention`
        self._bias_cache: dict[tuple, tuple] = {}

    def relative_position_bias(self) -> torch.Tensor:
        """The bias table gathered through the index: (nH, N, N)."""
        return functional.relative_position_bias(
            self.relative_position_bias_table, self.relative_position_index, self.num_heads
        ).contiguous()

    def _qkv(self, x: torch.Tensor) -> torch.Tensor:
        """(B_, N, C) -> q, k, v stacked as a view: (3, B_, nH, N, d)."""
        B_, N, C = x.shape
        qkv = fused_linear(x, self.qkv).view(B_, N, 3, self.num_heads, C // self.num_heads)
        return qkv.permute(2, 0, 3, 1, 4)

    def _split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B_, N, C) -> q, k, v, each a view (B_, nH, N, d)."""
        q, k, v = self._qkv(x)
        return q, k, v

    def _merge_heads(self, out: torch.Tensor) -> torch.Tensor:
        """(B_, nH, N, d) -> heads side by side (B_, N, C), then `proj`."""
        B_, nH, N, d = out.shape
        return self.proj_drop(fused_linear(out.transpose(1, 2).reshape(B_, N, nH * d), self.proj))

    def backend(self, x: torch.Tensor, attn_out: list | None = None, *, fused: bool = True):
        """The attention path the fast path takes for x (its input, (B_, N, C) windows or a
        block's (B, L, C) tokens): one of `backends.attention`'s FUSED, SDPA, GEMMS, GEMMS_GRAD.
        fused=False leaves out the fused C kernel, which works on a block's token rows."""
        N = self.window_size[0] * self.window_size[1]
        return choose(self, x, N, attn_out, *self.qkv.parameters(), fused=fused)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        return_trace: bool = False,
        attn_out: list[torch.Tensor] | None = None,
    ):
        if return_trace:
            out, trace = functional.window_attention(self, x, mask)
            if attn_out is not None:
                attn_out.append(trace["attn"].detach().float().mean(1))
            return out, trace
        backend = self.backend(x, attn_out, fused=False)
        q, k, v = self._qkv(x).contiguous()  # each B_, nH, N, d
        return self._merge_heads(attend_windows(self, q, k, v, backend, mask, attn_out))

    def flops(self, N: int) -> int:
        """Multiply-adds for one window of N tokens, as the reference counts them."""
        return attention_flops(self.dim, self.num_heads, N)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, window_size={self.window_size}, num_heads={self.num_heads}"
