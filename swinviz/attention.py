"""Window attention (W-MSA / SW-MSA) with a relative position bias (SPEC facts 6-9)."""

from __future__ import annotations

import weakref

import torch
import torch.nn.functional as F
from torch import nn

from .cost import attention_flops
from .windows import relative_position_index, to_2tuple


def trunc_normal_(t: torch.Tensor, std: float = 0.02) -> torch.Tensor:
    """Truncated normal at +-2 std, the reference's initialisation."""
    return nn.init.trunc_normal_(t, std=std, a=-2 * std, b=2 * std)


def _onednn_ops():
    """oneDNN's linear (bias and GELU fused into the GEMM) and its weight packing, where this
    torch has both and they give the plain answer."""
    try:
        linear = torch.ops.mkldnn._linear_pointwise
        pack = torch.ops.mkldnn._reorder_linear_weight
        probe = linear(torch.ones(1, 2), pack(torch.ones(3, 2)), torch.zeros(3), "gelu", [], "none")
        return (linear, pack) if torch.allclose(probe, F.gelu(torch.full((1, 3), 2.0))) else None
    except (AttributeError, RuntimeError):
        return None


_ONEDNN = _onednn_ops() if torch.backends.mkldnn.is_available() else None
_ONEDNN_LINEAR, _ONEDNN_PACK = _ONEDNN or (None, None)
# each layer's weight in oneDNN's blocked layout, with the (data_ptr, version) it was packed from
_PACKED: weakref.WeakKeyDictionary[nn.Linear, tuple[tuple, torch.Tensor]] = (
    weakref.WeakKeyDictionary()
)


def records_grad(x: torch.Tensor, *params: torch.Tensor) -> bool:
    """Whether autograd would record an op on x and these parameters."""
    return torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in params))


# fewest rows (tokens) for which a linear runs as one oneDNN call: measured round-robin in the
# block pair on a 2-core AVX2 CPU, with every linear in oneDNN on packed weights 9216 tokens
# (96x96) ran 13-28% faster than with plain MKL GEMMs (6-15% faster than oneDNN for fc1 alone,
# unpacked), 3136 tokens (56x56) the same within noise, and 784 tokens (28x28) 1-11% slower
ONEDNN_MIN_ROWS = 2048


def _packed_weight(layer: nn.Linear) -> torch.Tensor:
    """layer.weight packed for oneDNN once, and again whenever the weight is replaced or
    changed in place (load_state_dict, optimiser steps; not writes through `.data`, which
    autograd's version counter does not see)."""
    w = layer.weight
    key = _state_key(w)
    hit = _PACKED.get(layer)
    if hit is None or hit[0] != key:
        hit = _PACKED[layer] = (key, _ONEDNN_PACK(w.detach()))
    return hit[1]


def fused_linear(x: torch.Tensor, layer: nn.Linear, gelu: bool = False) -> torch.Tensor:
    """`layer(x)` (then exact GELU): (..., in) -> (..., out).

    On the CPU in float32 inference, from ONEDNN_MIN_ROWS rows, this is one oneDNN call on a
    weight packed once into oneDNN's blocked layout, with the bias (and GELU) fused into the
    GEMM; otherwise (fewer rows, CUDA, autograd, torch.compile) the plain layers.
    """
    if (_ONEDNN is not None and x.device.type == "cpu" and x.dtype == torch.float32
            and layer.weight.dtype == torch.float32 and not torch.compiler.is_compiling()
            and x.numel() >= ONEDNN_MIN_ROWS * x.shape[-1]
            and not records_grad(x, *layer.parameters())):
        return _ONEDNN_LINEAR(x, _packed_weight(layer), layer.bias, "gelu" if gelu else "none",
                              [], "none")
    y = layer(x)
    return F.gelu(y) if gelu else y


def _version(t: torch.Tensor) -> int:
    """In-place modification counter (inference tensors have none: -1)."""
    return -1 if t.is_inference() else t._version


def _state_key(t: torch.Tensor) -> tuple[int, int]:
    """(storage, version): changes when t is replaced or modified in place."""
    return t.data_ptr(), _version(t)


def _mask_key(mask: torch.Tensor | None) -> tuple | None:
    return None if mask is None else (*_state_key(mask), tuple(mask.shape))


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows, with a learned relative position bias.

    Parameters (SPEC fact 9): `qkv` Linear(C, 3C), `proj` Linear(C, C),
    `relative_position_bias_table` ((2Mh-1)(2Mw-1), nH).

    forward(x, mask=None, return_trace=False):
        x: (B_, N, C) with B_ = B * nW windows, N = Mh * Mw.
        mask: (nW, N, N) of 0 / -100, or None.
        returns (B_, N, C), or ((B_, N, C), trace dict) when return_trace.
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
        self._bias_cache: dict[tuple, torch.Tensor] = {}

    # the fast path on the CPU: windows of at most this many tokens attend through batched GEMMs,
    # larger ones through the fused SDPA kernel (measured in the block pair, round-robin: the
    # GEMMs won for 7x7 windows, SDPA by 2-3% for 12x12)
    CPU_BMM_MAX_TOKENS = 64

    def relative_position_bias(self) -> torch.Tensor:
        """The bias table gathered through the index: (nH, N, N)."""
        N = self.window_size[0] * self.window_size[1]
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        return bias.view(N, N, self.num_heads).permute(2, 0, 1).contiguous()

    def _qkv(self, x: torch.Tensor) -> torch.Tensor:
        """(B_, N, C) -> q, k, v stacked as a view: (3, B_, nH, N, d)."""
        B_, N, C = x.shape
        qkv = fused_linear(x, self.qkv).view(B_, N, 3, self.num_heads, C // self.num_heads)
        return qkv.permute(2, 0, 3, 1, 4)

    def _split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q, k, v = self._qkv(x)
        return q, k, v  # each B_, nH, N, d

    def _merge_heads(self, out: torch.Tensor) -> torch.Tensor:
        B_, nH, N, d = out.shape  # B_, nH, N, d -> B_, N, C
        return self.proj_drop(fused_linear(out.transpose(1, 2).reshape(B_, N, nH * d), self.proj))

    def _cached(self, key: tuple, make) -> torch.Tensor:
        """A tensor derived from the bias table, kept while the weights stay the same."""
        table = self.relative_position_bias_table
        if torch.is_grad_enabled() and table.requires_grad:
            return make()
        key = (*_state_key(table), table.device) + key
        hit = self._bias_cache.get(key)
        if hit is None:
            if len(self._bias_cache) >= 8:
                self._bias_cache.clear()
            hit = self._bias_cache[key] = make()
        return hit

    def _fused_bias(self, mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor:
        """bias + mask as one float mask: (nW or 1, nH, N, N), cached while weights are fixed."""
        def make() -> torch.Tensor:
            fused = self.relative_position_bias().unsqueeze(0)  # 1, nH, N, N
            if mask is not None:
                fused = fused + mask.to(fused).unsqueeze(1)  # nW, nH, N, N
            return fused.to(dtype)

        return self._cached(("fused", dtype, _mask_key(mask)), make)

    def _bias_per_window(
        self, mask: torch.Tensor | None, B_: int, dtype: torch.dtype
    ) -> torch.Tensor:
        """bias + mask for each of the B_ windows, one (N, N) block per (window, head):
        (B_ * nH, N, N), cached."""
        fused = self._fused_bias(mask, dtype)  # nW or 1, nH, N, N
        nW, nH, N, _ = fused.shape
        if nW == B_:
            return fused.view(-1, N, N)
        # the same bias for every window (no mask), or B images of nW windows each
        return self._cached(
            ("per window", dtype, _mask_key(mask), B_),
            lambda: fused.expand(B_ // nW, nW, nH, N, N).reshape(-1, N, N),
        )

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        return_trace: bool = False,
    ):
        if return_trace:
            return self._forward_traced(x, mask)
        B_, N, C = x.shape
        if (x.device.type == "cpu" and N <= self.CPU_BMM_MAX_TOKENS and not self.training
                and not records_grad(x, self.qkv.weight)):
            # small windows on the CPU: bias + mask enter as baddbmm's addend, softmax in place
            q, k, v = self._qkv(x).contiguous().view(3, -1, N, C // self.num_heads)
            attn = torch.baddbmm(
                self._bias_per_window(mask, B_, q.dtype), q, k.transpose(1, 2),
                alpha=self.scale,
            )  # B_*nH, N, N
            torch.softmax(attn, -1, out=attn)
            return self._merge_heads(torch.bmm(attn, v).view(B_, -1, N, v.shape[-1]))

        q, k, v = self._split_heads(x)  # each B_, nH, N, d
        fused = self._fused_bias(mask, q.dtype)  # nW or 1, nH, N, N
        if 1 < fused.shape[0] != B_:
            fused = fused.repeat(B_ // fused.shape[0], 1, 1, 1)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=fused,
            dropout_p=self.attn_drop.p if self.training else 0.0, scale=self.scale,
        )
        return self._merge_heads(out)

    def _forward_traced(self, x: torch.Tensor, mask: torch.Tensor | None):
        q, k, v = self._split_heads(x)  # each B_, nH, N, d
        B_, nH, N, _ = q.shape
        scores = (q * self.scale) @ k.transpose(-2, -1)  # B_, nH, N, N: content only
        bias = self.relative_position_bias()  # nH, N, N
        logits = scores + bias.unsqueeze(0)  # B_, nH, N, N
        # without autograd the logits become the probabilities in place (one big buffer less)
        inplace = not torch.is_grad_enabled()
        if mask is not None:
            nW = mask.shape[0]
            m = mask.to(logits).unsqueeze(1).unsqueeze(0)  # 1, nW, 1, N, N
            if inplace:
                logits.view(B_ // nW, nW, nH, N, N).add_(m)
            else:
                logits = (logits.view(B_ // nW, nW, nH, N, N) + m).view(B_, nH, N, N)
        attn = torch.softmax(logits, -1, out=logits) if inplace else logits.softmax(dim=-1)
        out = self._merge_heads(self.attn_drop(attn) @ v)
        trace = {"scores": scores, "bias": bias, "attn": attn, "q": q, "k": k, "v": v}
        return out, trace

    def flops(self, N: int) -> int:
        """Multiply-adds for one window of N tokens, as the reference counts them."""
        return attention_flops(self.dim, self.num_heads, N)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, window_size={self.window_size}, num_heads={self.num_heads}"
