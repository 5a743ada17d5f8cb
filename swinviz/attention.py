"""Window attention (W-MSA / SW-MSA) with a relative position bias (docs/concepts.md, facts 6-9)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .cost import attention_flops
from .kernels import fused_attention_takes, fused_linear, records_grad, same_bits
from .windows import relative_position_index, to_2tuple


@torch.no_grad()
def trunc_normal_(t: torch.Tensor, std: float = 0.02) -> torch.Tensor:
    """Truncated normal at +-2 std, the reference's initialisation, in place.

    Drawn by rejection: normal samples outside +-2 std are drawn again until none is left, which
    gives exactly the truncated distribution (about 4.6% are redrawn per round). torch's
    `nn.init.trunc_normal_` (inverse-CDF) measured 3.5 s for Swin-T's 28M weights on 2 cores;
    this takes a fraction of a second.
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
        # (dtype, B_, layout, mask's kind) -> (table copy, mask copy, bias + mask made from the
        # copies, the mask itself when it is a block's own, matched by identity)
        self._bias_cache: dict[tuple, tuple] = {}

    # the fast path on the CPU: windows of at most this many tokens attend through batched GEMMs,
    # larger ones through the fused SDPA kernel (measured in the block pair, round-robin: the
    # GEMMs won for 7x7 windows, SDPA by 2-3% for 12x12)
    CPU_BMM_MAX_TOKENS = 64
    # the GEMMs' scores as (keys, queries) without autograd: the softmax then runs down columns,
    # vectorised across queries (1-5% faster block pairs at 56x56 and 28x28 in five A/B runs,
    # 1 and 2 threads, all the same way; the lone softmax 3-17% faster at 1 thread)
    TRANSPOSED_SCORES = True
    # under torch.compile: the scores from a plain batched GEMM, then scale + bias + mask +
    # softmax as one loop of inductor's (baddbmm first copies the bias into its output): 2.6%
    # faster whole Swin-T forwards (compiled both ways in one process, 80 rounds)
    COMPILED_FUSED_SOFTMAX = True

    def relative_position_bias(self) -> torch.Tensor:
        """The bias table gathered through the index: (nH, N, N)."""
        return self._gather(self.relative_position_bias_table).contiguous()

    def _gather(self, table: torch.Tensor) -> torch.Tensor:
        """A ((2Mh-1)(2Mw-1), nH) table gathered through the index: (nH, N, N), a view."""
        N = self.window_size[0] * self.window_size[1]
        bias = table[self.relative_position_index.view(-1)]
        return bias.view(N, N, self.num_heads).permute(2, 0, 1)

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

    def _derived_bias(self, mask: torch.Tensor | None, dtype: torch.dtype,
                      B_: int | None = None, transposed: bool = False,
                      padded: bool = False, fixed_mask: bool = False) -> torch.Tensor:
        """bias + mask as one float mask: (nW or 1, nH, N, N); with B_, one (N, N) block per
        (window, head) of B_ windows: (B_ * nH, N, N), each block transposed (keys, queries)
        with transposed=True; with padded=True, the fused kernel's layout: the bias of each head,
        then the mask of each window, apart (the kernel adds them in the reference's order), as
        (nH + nW or nH, N keys, nq queries), the queries padded with zeros to nq = N rounded up
        to 16.

        Cached on the CPU without autograd, with private copies of the table and mask it was made
        from, and used only while both equal the current ones bit for bit: correct for any mask
        the caller passes, fresh or edited in place. The compare pays: rebuilding per call made
        the 56x56 and 28x28 block pairs 4-8% slower (1 thread, round-robin), the compare
        within noise of no check. On other devices it is rebuilt per call (a compare would wait
        for the device), and under torch.compile it is traced (freezing folds it to a constant).
        fixed_mask: the mask is a block's own cached one, which nothing can edit
        (`SwinTransformerBlock.owns`): then it is matched by identity, not read (stage 1's is
        614 KB, cold in cache on every forward: ~0.1 ms a read)."""
        table = self.relative_position_bias_table
        if (torch.is_grad_enabled() or table.device.type != "cpu"
                or torch.compiler.is_compiling()):
            return self._make_bias(mask, dtype, B_, transposed=transposed, padded=padded)
        key = (dtype, B_, transposed, padded,
               None if mask is None else (tuple(mask.shape), mask.dtype, mask.device))
        hit = self._bias_cache.get(key)
        if (hit is not None and same_bits(hit[0], table)
                and (mask is None or (fixed_mask and hit[3] is mask)
                     or same_bits(hit[1], mask))):
            return hit[2]
        owned = mask if fixed_mask else None
        table = table.detach().clone()
        mask = None if mask is None else mask.detach().clone()
        if len(self._bias_cache) >= 8:
            self._bias_cache.clear()
        value = self._make_bias(mask, dtype, B_, table=table, transposed=transposed,
                                padded=padded)
        self._bias_cache[key] = (table, mask, value, owned)
        return value

    def _make_bias(self, mask: torch.Tensor | None, dtype: torch.dtype, B_: int | None = None,
                   table: torch.Tensor | None = None, transposed: bool = False,
                   padded: bool = False) -> torch.Tensor:
        """What `_derived_bias` returns, computed now (from `table` in place of the module's)."""
        fused = self._gather(
            self.relative_position_bias_table if table is None else table
        ).unsqueeze(0)  # 1, nH, N, N
        if padded:  # nH (+ nW), N keys, nq queries
            parts = fused[0] if mask is None else torch.cat([fused[0], mask.to(fused)])
            N = fused.shape[-1]
            return F.pad(parts.transpose(-1, -2), (0, -(-N // 16) * 16 - N)).to(dtype).contiguous()
        if mask is not None:
            fused = fused + mask.to(fused).unsqueeze(1)  # nW, nH, N, N
        fused = fused.to(dtype)
        if B_ is None:
            return fused.contiguous()
        # the same bias for every window (no mask), or B images of nW windows each
        nW, nH, N, _ = fused.shape
        if transposed:
            fused = fused.transpose(-1, -2)
        return fused.expand(B_ // nW, nW, nH, N, N).reshape(-1, N, N)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        return_trace: bool = False,
        attn_out: list[torch.Tensor] | None = None,
    ):
        if return_trace:
            out, trace = self._forward_traced(x, mask)
            if attn_out is not None:
                attn_out.append(trace["attn"].detach().float().mean(1))
            return out, trace
        return self._merge_heads(self.attend(x, mask, attn_out))

    def attend(self, x: torch.Tensor, mask: torch.Tensor | None = None,
               attn_out: list[torch.Tensor] | None = None) -> torch.Tensor:
        """The attention core of the fast path, before the heads merge and `proj`:
        (B_, N, C) -> (B_, nH, N, d) (contiguous from the GEMMs; SDPA's may be strided)."""
        B_, N, C = x.shape
        q, k, v = self._qkv(x).contiguous()  # each B_, nH, N, d
        return self.attend_qkv(q, k, v, mask, attn_out)

    def uses_sdpa(self, x: torch.Tensor, N: int, attn_out: list | None = None,
                  *others: torch.Tensor) -> bool:
        """Whether `attend_qkv` runs fused SDPA (True) or batched GEMMs with an explicit softmax
        (False) for windows of N tokens on x's device (x, others: the tensors autograd may
        record on). The GEMMs on the CPU for up to CPU_BMM_MAX_TOKENS tokens without autograd,
        and wherever attn_out asks for the probabilities."""
        return attn_out is None and not (
            x.device.type == "cpu" and N <= self.CPU_BMM_MAX_TOKENS and not self.training
            and not records_grad(x, *others))

    def core(self, x: torch.Tensor, N: int, attn_out: list | None = None,
             *others: torch.Tensor) -> str:
        """The attention core the block's fast path runs for windows of N tokens, x its input
        (x, others: the tensors autograd may record on): "fused" (`kernels.window_attention`,
        on the CPU in float32 inference where the kernel is built, without attn_out), else
        "sdpa" or "gemms" as `uses_sdpa` says."""
        if (attn_out is None and not self.training and not records_grad(x, *others)
                and fused_attention_takes(x, self.dim // self.num_heads)):
            return "fused"
        return "sdpa" if self.uses_sdpa(x, N, attn_out, *others) else "gemms"

    def takes_addend(self, core: str, *tensors: torch.Tensor) -> bool:
        """Whether the attention core ("fused", "sdpa" or "gemms") adds `addend(...)` to its
        scores: the fused kernel and SDPA do, the batched GEMMs with (keys, queries) scores when
        autograd records nothing on `tensors` (else the GEMMs build their own bias + mask)."""
        return core != "gemms" or (self.TRANSPOSED_SCORES and not records_grad(*tensors))

    def addend(self, mask: torch.Tensor | None, dtype: torch.dtype, B_: int,
               core: str, fixed_mask: bool = False) -> torch.Tensor:
        """bias + mask as the fast path's core adds them to the scores of B_ windows: for the
        fused kernel the bias and the mask apart, (nH + nW or nH, N keys, nq queries) padded
        with zeros; for SDPA (nW or 1, nH, N, N), repeated to (B_, nH, N, N) for more than one
        image; for the batched GEMMs without autograd (B_*nH, N, N), each (N, N) block
        transposed (keys, queries). Cached on the CPU without autograd (`_derived_bias`;
        fixed_mask: the mask is a block's own)."""
        if core == "fused":
            return self._derived_bias(mask, dtype, padded=True, fixed_mask=fixed_mask)
        if core == "gemms":
            return self._derived_bias(mask, dtype, B_, transposed=True, fixed_mask=fixed_mask)
        fused = self._derived_bias(mask, dtype, fixed_mask=fixed_mask)  # nW or 1, nH, N, N
        if 1 < fused.shape[0] != B_:
            fused = fused.repeat(B_ // fused.shape[0], 1, 1, 1)
        return fused

    def attend_qkv(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                   mask: torch.Tensor | None = None,
                   attn_out: list[torch.Tensor] | None = None,
                   addend: torch.Tensor | None = None) -> torch.Tensor:
        """softmax(q kᵀ * scale + bias + mask) v for q, k, v (B_, nH, N, d) -> (B_, nH, N, d)
        (contiguous from the GEMMs; SDPA's may be strided). The GEMMs want q, k, v contiguous;
        SDPA takes any strides with a contiguous last dimension.

        Batched GEMMs with an explicit softmax on the CPU for windows of up to CPU_BMM_MAX_TOKENS
        tokens (and wherever attn_out asks for the probabilities), else fused SDPA. With
        attn_out, the probabilities averaged over heads, (B_, N, N) float32, are appended.

        addend: bias + mask as `addend(mask, q.dtype, B_, sdpa)` gives them, made beforehand
        (the compiled path passes them in: built inside inductor's graph on every call they cost
        ~4 ms of a 70 ms Swin-T forward); else made here."""
        B_, nH, N, d = q.shape
        sdpa = self.uses_sdpa(q, N, attn_out, k, v)
        gemms = not sdpa and self.takes_addend("gemms", q, k, v)
        if addend is None and (sdpa or gemms):
            addend = self.addend(mask, q.dtype, B_, "sdpa" if sdpa else "gemms")
        if sdpa:
            return F.scaled_dot_product_attention(
                q, k, v, attn_mask=addend,
                dropout_p=self.attn_drop.p if self.training else 0.0, scale=self.scale,
            )
        # bias + mask enter as baddbmm's addend; without autograd the softmax runs in place
        q, k, v = (t.reshape(B_ * nH, N, d) for t in (q, k, v))
        if gemms:
            # the scores as (keys, queries): the softmax runs down the columns, vectorised
            # across the queries
            if torch.compiler.is_compiling() and self.COMPILED_FUSED_SOFTMAX:
                attn = torch.softmax(torch.bmm(k, q.transpose(1, 2)) * self.scale + addend, 1)
            else:
                attn = torch.baddbmm(addend, k, q.transpose(1, 2), alpha=self.scale)
                torch.softmax(attn, 1, out=attn)
            # attn: B_*nH, N (keys), N (queries)
            attn = attn.transpose(1, 2)
            if attn_out is not None:
                attn_out.append(attn.view(B_, nH, N, N).float().mean(1))
            return torch.bmm(attn, v).view(B_, nH, N, d)
        attn = torch.baddbmm(
            self._derived_bias(mask, q.dtype, B_), q, k.transpose(1, 2), alpha=self.scale,
        )  # B_*nH, N, N
        if records_grad(attn):
            attn = attn.softmax(-1)
        else:
            torch.softmax(attn, -1, out=attn)
        if attn_out is not None:
            attn_out.append(attn.detach().view(B_, nH, N, N).float().mean(1))
        return torch.bmm(self.attn_drop(attn), v).view(B_, nH, N, d)

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
