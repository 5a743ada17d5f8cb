"""The attention paths of the fast path, and the one choice among them.

`choose(attn, x, N, attn_out, *others)` picks one `Backend` for windows of N tokens, once per
forward; everything after it follows that choice:
- FUSED: the fused C window attention (`window_kernel`), on token rows through the window order
  (on the CPU in float32 inference where the kernel is built; blocks only);
- SDPA: fused scaled-dot-product attention on strided q, k, v (windows of more than
  `switches.CPU_BMM_MAX_TOKENS` tokens on the CPU, and other devices);
- GEMMS: batched GEMMs with the scores as (keys, queries) and an in-place softmax down the
  columns (the CPU without autograd, small windows, or where the probabilities are asked for);
- GEMMS_GRAD: batched GEMMs with the scores as (queries, keys), softmax along rows (where
  autograd records, or `switches.TRANSPOSED_SCORES` is off).

All four compute softmax(q kᵀ · scale + bias + mask) v, the traced path's answer to 1e-5
(`swinviz.functional`). Each but GEMMS_GRAD takes bias + mask made beforehand in its own layout
(`addend`), cached on the CPU without autograd (`_derived_bias`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from ..functional import relative_position_bias
from . import switches
from .onednn import fused_linear, gather_rows, records_grad, same_bits
from .window_kernel import fused_attention_takes, window_attention


class Backend(NamedTuple):
    """One attention path: its name, and whether it adds bias + mask made beforehand."""

    name: str
    takes_addend: bool


FUSED = Backend("fused", True)
SDPA = Backend("sdpa", True)
GEMMS = Backend("gemms", True)
GEMMS_GRAD = Backend("gemms, scores as (queries, keys)", False)


def choose(attn, x: torch.Tensor, N: int, attn_out: list | None = None,
           *others: torch.Tensor, fused: bool = True) -> Backend:
    """The path a `WindowAttention` takes for windows of N tokens, x its input (x, others: the
    tensors autograd may record on); fused=False leaves out FUSED (which needs the token rows
    and the window order a block has)."""
    grad = records_grad(x, *others)
    if (fused and attn_out is None and not attn.training and not grad
            and fused_attention_takes(x, attn.dim // attn.num_heads)):
        return FUSED
    if attn_out is None and not (x.device.type == "cpu" and N <= switches.CPU_BMM_MAX_TOKENS
                                 and not attn.training and not grad):
        return SDPA
    return GEMMS if switches.TRANSPOSED_SCORES and not grad else GEMMS_GRAD


# --- bias + mask, in each path's layout ---------------------------------------------------------

def addend(attn, mask: torch.Tensor | None, dtype: torch.dtype, B_: int, backend: Backend,
           fixed_mask: bool = False) -> torch.Tensor:
    """bias + mask as `backend` adds them to the scores of B_ windows: for FUSED the bias and
    the mask apart, (nH + nW or nH, N keys, nq queries) padded with zeros; for SDPA
    (nW or 1, nH, N, N), repeated to (B_, nH, N, N) for more than one image; for GEMMS
    (B_*nH, N, N), each (N, N) block transposed (keys, queries). fixed_mask: the mask is a
    block's own (`SwinTransformerBlock.owns`)."""
    if backend is FUSED:
        return _derived_bias(attn, mask, dtype, padded=True, fixed_mask=fixed_mask)
    if backend is not SDPA:
        return _derived_bias(attn, mask, dtype, B_, transposed=True, fixed_mask=fixed_mask)
    fused = _derived_bias(attn, mask, dtype, fixed_mask=fixed_mask)  # nW or 1, nH, N, N
    if 1 < fused.shape[0] != B_:
        fused = fused.repeat(B_ // fused.shape[0], 1, 1, 1)
    return fused


def _derived_bias(attn, mask: torch.Tensor | None, dtype: torch.dtype, B_: int | None = None,
                  transposed: bool = False, padded: bool = False,
                  fixed_mask: bool = False) -> torch.Tensor:
    """bias + mask as one float mask: (nW or 1, nH, N, N); with B_, one (N, N) block per
    (window, head) of B_ windows: (B_ * nH, N, N), each block transposed (keys, queries) with
    transposed=True; with padded=True, the fused kernel's layout: the bias of each head, then the
    mask of each window, apart (the kernel adds them in the reference's order), as
    (nH + nW or nH, N keys, nq queries), the queries padded with zeros to nq = N rounded up to 16.

    Cached in `attn._bias_cache` on the CPU without autograd, with private copies of the table
    and mask it was made from, and used only while both equal the current ones bit for bit:
    correct for any mask the caller passes, fresh or edited in place. On other devices it is
    rebuilt per call (a compare would wait for the device), and under torch.compile it is
    traced. fixed_mask: the mask is a block's own cached one, which nothing can edit: then it is
    matched by identity, not read."""
    table = attn.relative_position_bias_table
    if torch.is_grad_enabled() or table.device.type != "cpu" or torch.compiler.is_compiling():
        return _make_bias(attn, mask, dtype, B_, transposed=transposed, padded=padded)
    key = (dtype, B_, transposed, padded,
           None if mask is None else (tuple(mask.shape), mask.dtype, mask.device))
    cache = attn._bias_cache
    hit = cache.get(key)
    if (hit is not None and same_bits(hit[0], table)
            and (mask is None or (fixed_mask and hit[3] is mask) or same_bits(hit[1], mask))):
        return hit[2]
    owned = mask if fixed_mask else None
    table = table.detach().clone()
    mask = None if mask is None else mask.detach().clone()
    if len(cache) >= 8:
        cache.clear()
    value = _make_bias(attn, mask, dtype, B_, table=table, transposed=transposed, padded=padded)
    cache[key] = (table, mask, value, owned)
    return value


def _make_bias(attn, mask: torch.Tensor | None, dtype: torch.dtype, B_: int | None = None,
               table: torch.Tensor | None = None, transposed: bool = False,
               padded: bool = False) -> torch.Tensor:
    """What `_derived_bias` returns, computed now (from `table` in place of the module's)."""
    fused = relative_position_bias(
        attn.relative_position_bias_table if table is None else table,
        attn.relative_position_index, attn.num_heads,
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


# --- the attention of windows: q, k, v -> heads ------------------------------------------------

def attend_windows(attn, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, backend: Backend,
                   mask: torch.Tensor | None = None, attn_out: list[torch.Tensor] | None = None,
                   bias_mask: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(q kᵀ * scale + bias + mask) v for q, k, v (B_, nH, N, d) -> (B_, nH, N, d) on
    `backend` (SDPA, GEMMS or GEMMS_GRAD), contiguous from the GEMMs, possibly strided from SDPA.
    The GEMMs want q, k, v contiguous; SDPA takes any strides with a contiguous last dimension.
    With attn_out, the probabilities averaged over heads, (B_, N, N) float32, are appended.
    bias_mask: `addend(attn, mask, q.dtype, B_, backend)` made beforehand (the compiled path
    passes it in); else made here."""
    B_, nH, N, d = q.shape
    if bias_mask is None and backend.takes_addend:
        bias_mask = addend(attn, mask, q.dtype, B_, backend)
    if backend is SDPA:
        return F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias_mask,
            dropout_p=attn.attn_drop.p if attn.training else 0.0, scale=attn.scale,
        )
    q, k, v = (t.reshape(B_ * nH, N, d) for t in (q, k, v))
    if backend is GEMMS:
        # the scores as (keys, queries): the softmax runs down the columns, vectorised across
        # the queries; bias + mask enter as baddbmm's addend and the softmax runs in place
        if torch.compiler.is_compiling() and switches.COMPILED_FUSED_SOFTMAX:
            probs = torch.softmax(torch.bmm(k, q.transpose(1, 2)) * attn.scale + bias_mask, 1)
        else:
            probs = torch.baddbmm(bias_mask, k, q.transpose(1, 2), alpha=attn.scale)
            torch.softmax(probs, 1, out=probs)
        probs = probs.transpose(1, 2)  # B_*nH, N (queries), N (keys)
        if attn_out is not None:
            attn_out.append(probs.view(B_, nH, N, N).float().mean(1))
        return torch.bmm(probs, v).view(B_, nH, N, d)
    probs = torch.baddbmm(
        _derived_bias(attn, mask, q.dtype, B_), q, k.transpose(1, 2), alpha=attn.scale,
    )  # B_*nH, N, N
    if records_grad(probs):
        probs = probs.softmax(-1)
    else:
        torch.softmax(probs, -1, out=probs)
    if attn_out is not None:
        attn_out.append(probs.detach().view(B_, nH, N, N).float().mean(1))
    return torch.bmm(attn.attn_drop(probs), v).view(B_, nH, N, d)


# --- a block's attention on token rows ---------------------------------------------------------

def block_attention(blk, x: torch.Tensor, L: int, order: torch.Tensor, inv: torch.Tensor,
                    mask: torch.Tensor | None, backend: Backend,
                    attn_out: list[torch.Tensor] | None = None,
                    bias_mask: torch.Tensor | None = None,
                    rows: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """What a block's attention does between norm1 and proj, on `backend`: x (B, L', C)
    normalised tokens (L' = L + 1 with a zero row for the padding slots) -> (B, L, C), the heads
    merged back onto their tokens. Every path is (pad +) roll + window_partition, the attention
    of each window, window_reverse + roll back (+ crop), with the permutations as gathers through
    `order` (nW*N,) and `inv` (L,) (`swinviz.windows.window_order`)."""
    B, _, C = x.shape
    N, nH = blk.window_size**2, blk.num_heads
    attn = blk.attn
    d = C // nH
    if backend is FUSED:
        # qkv per token, then the whole window attention in one C kernel that reads and writes
        # token rows through the order: B, L', 3C -> B, L, C
        if bias_mask is None:
            bias_mask = addend(attn, mask, x.dtype, B * (order.numel() // N), backend,
                               blk.owns(mask, x.device))
        return window_attention(fused_linear(x, attn.qkv), order, bias_mask, L, nH, attn.scale)
    if backend is SDPA:
        # one gather of tokens (C wide, a third of the qkv output's bytes), qkv in window order,
        # and the split into heads as views: B, nW*N, 3C -> 3 of B*nW, nH, N, d
        qkv = fused_linear(gather_rows(x, 1, order), attn.qkv)
        q, k, v = qkv.view(-1, N, 3, nH, d).permute(2, 0, 3, 1, 4)
        heads = attend_windows(attn, q, k, v, backend, mask=mask, bias_mask=bias_mask)
        return merge_gather(heads, inv, B)
    # qkv per token, then one gather of d-wide rows: B, L', 3C -> 3, B*nW, nH, N, d (contiguous)
    qkv = fused_linear(x, attn.qkv)
    qkv_rows, merge_rows = rows or (None, None)
    if qkv_rows is None:
        qkv_rows = cached_rows("qkv", order, nH, N)
    if B > 1:  # image b's rows follow image b-1's
        step = qkv.shape[1] * 3 * nH
        qkv_rows = (qkv_rows.view(3, 1, -1)
                    + torch.arange(B, device=x.device).view(1, B, 1) * step).view(-1)
    q, k, v = gather_rows(qkv.view(-1, d), 0, qkv_rows).view(3, -1, nH, N, d)
    heads = attend_windows(attn, q, k, v, backend, mask=mask, attn_out=attn_out,
                           bias_mask=bias_mask)  # B*nW, nH, N, d
    return merge_gather(heads, inv, B, merge_rows)


def merge_gather(heads: torch.Tensor, inv: torch.Tensor, B: int,
                 rows: torch.Tensor | None = None) -> torch.Tensor:
    """Merge the heads, window_reverse, roll(+s, +s) and crop: (B*nW, nH, N, d) -> (B, L, C).

    From contiguous heads one gather of d-wide rows (token t, head h <- row (w*nH + h)*N + n of
    its image, where inv[t] = w*N + n); from SDPA's strided output (its memory is
    (B*nW, N, nH, d)) a free reshape, then one gather of tokens."""
    Bn, nH, N, d = heads.shape
    if not heads.is_contiguous():
        return gather_rows(heads.transpose(1, 2).reshape(B, -1, nH * d), 1, inv)
    if rows is None:
        rows = cached_rows("merge", inv, nH, N)
    return gather_rows(heads.view(B, -1, d), 1, rows).view(B, -1, nH * d)


def window_rows(kind: str, index: torch.Tensor, nH: int, N: int) -> torch.Tensor:
    """The row gathers of the GEMMS paths, as rows of d = C / nH values:

    kind "qkv", index = order (nW*N,): row t*3nH + j*nH + h of a (L', 3C) qkv output for q/k/v
        j, window w, head h and slot n, where t = order[w*N + n]: (3*nW*nH*N,) in (j, w, h, n)
        order, so the gather gives q, k, v as (3, nW*nH, N, d), contiguous;
    kind "merge", index = inverse order (L,): row (w*nH + h)*N + n of a (nW*nH*N, d) attention
        output for token t and head h, where inv[t] = w*N + n: (L*nH,), token-major.
    """
    dev = index.device
    if kind == "qkv":
        heads = torch.arange(nH, device=dev).view(1, nH, 1)
        rows = index.view(-1, 1, N) * (3 * nH) + heads  # nW, nH, N
        return (rows.unsqueeze(0) + (torch.arange(3, device=dev) * nH).view(3, 1, 1, 1)).view(-1)
    return (((index // N) * nH * N + index % N).unsqueeze(1)
            + torch.arange(nH, device=dev) * N).view(-1)


# the rows per (kind, length, heads, window tokens, device): a few entries (a private copy of
# the order, rows), each used only while its copy equals the order asked for bit for bit (the
# blocks of one grid share two orders: shifted or not); never handed out
_ROWS: dict[tuple, list[tuple[torch.Tensor, torch.Tensor]]] = {}


def cached_rows(kind: str, index: torch.Tensor, nH: int, N: int) -> torch.Tensor:
    """`window_rows(kind, index, nH, N)`, cached by the values of index; computed in the graph
    under torch.compile."""
    if torch.compiler.is_compiling():
        return window_rows(kind, index, nH, N)
    key = (kind, index.shape[0], nH, N, index.device)
    entries = _ROWS.setdefault(key, [])
    for source, rows in entries:
        if same_bits(source, index):
            return rows
    with torch.inference_mode(False):  # normal tensors: a later autograd run may use them
        source = index.clone()
        rows = window_rows(kind, source, nH, N)
    if len(entries) >= 4:
        entries.pop(0)
    if len(_ROWS) >= 64:
        _ROWS.clear()
        _ROWS[key] = entries
    entries.append((source, rows))
    return rows
