"""The block's attention as the paper and the reference draw it, step by step: the traced path,
which keeps every tensor the figures show (docs/concepts.md, facts 3-8).

    shifted_window_attention(x, attn, (H, W), M, s, mask): (B, H*W, C) -> (B, H*W, C), trace
        pad to whole windows -> roll by (-s, -s) -> window_partition -> window_attention
        -> window_reverse -> roll back by (+s, +s) -> crop
    window_attention(attn, windows, mask): (B_, N, C) -> (B_, N, C), trace
        qkv -> q kᵀ · scale -> + bias -> + mask -> softmax -> · v -> proj
    relative_position_bias(table, index, nH): ((2Mh-1)(2Mw-1), nH) -> (nH, N, N)

`attn` is a `WindowAttention`: these functions read its layers and parameters, nothing else.
The fast path (`swinviz.backends`) computes the same to 1e-5 without keeping the steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .windows import window_partition, window_reverse


def relative_position_bias(table: torch.Tensor, index: torch.Tensor,
                           num_heads: int) -> torch.Tensor:
    """The bias table ((2Mh-1)(2Mw-1), nH) gathered through the relative position index (N, N):
    (nH, N, N), a view (concepts facts 6-7)."""
    N = index.shape[-1]
    bias = table[index.view(-1)]
    return bias.view(N, N, num_heads).permute(2, 0, 1)


def window_attention(attn, x: torch.Tensor, mask: torch.Tensor | None):
    """Multi-head attention inside each window, the reference's steps (concepts fact 8):
    x (B_, N, C) -> (B_, N, C), and a dict of what it computed: `scores` (B_, nH, N, N) content
    logits q kᵀ · scale, `bias` (nH, N, N), `attn` (B_, nH, N, N) softmax probabilities, and
    `q`, `k`, `v` (B_, nH, N, d). mask: (nW, N, N) of 0 / -100 or None, broadcast as
    (1, nW, 1, N, N) over the scores viewed as (B, nW, nH, N, N)."""
    q, k, v = attn._split_heads(x)  # each B_, nH, N, d
    B_, nH, N, _ = q.shape
    scores = (q * attn.scale) @ k.transpose(-2, -1)  # B_, nH, N, N: content only
    bias = attn.relative_position_bias()  # nH, N, N
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
    probs = torch.softmax(logits, -1, out=logits) if inplace else logits.softmax(dim=-1)
    out = attn._merge_heads(attn.attn_drop(probs) @ v)
    return out, {"scores": scores, "bias": bias, "attn": probs, "q": q, "k": k, "v": v}


def shifted_window_attention(x: torch.Tensor, attn, input_resolution: tuple[int, int],
                             window_size: int, shift_size: int, mask: torch.Tensor | None):
    """W-MSA (shift_size 0) or SW-MSA on normalised tokens, the reference's steps (concepts
    fact 3): x (B, H*W, C) -> (B, H*W, C) (after `proj`, before the residual), and the trace of
    `window_attention` (windows in `window_partition` order of the padded, rolled map).

    The map is padded at the bottom and right to whole windows (Hp, Wp) with zeros, rolled by
    (-s, -s) (patches move up and left), cut into windows of M x M, attended with `mask`
    ((nW, N, N) of the padded map, or None), put back, rolled by (+s, +s) and cropped: the roll
    is temporary, every patch keeps its place."""
    H, W = input_resolution
    B, L, C = x.shape
    M, s = window_size, shift_size
    Hp, Wp = -(-H // M) * M, -(-W // M) * M
    x = F.pad(x.view(B, H, W, C), (0, 0, 0, Wp - W, 0, Hp - H))  # B, Hp, Wp, C
    if s > 0:
        x = torch.roll(x, shifts=(-s, -s), dims=(1, 2))  # patches move up and left
    x_windows = window_partition(x, M).view(-1, M * M, C)  # B*nW, N, C
    attn_windows, trace = attn(x_windows, mask=mask, return_trace=True)
    x = window_reverse(attn_windows.view(-1, M, M, C), M, Hp, Wp)  # B, Hp, Wp, C
    if s > 0:
        x = torch.roll(x, shifts=(s, s), dims=(1, 2))  # every patch back in its place
    return x[:, :H, :W].reshape(B, L, C), trace
