"""The masks figure's check (c): is adding -100 the same as attending only inside the paper's
irregular windows? Computed from original coordinates alone (no region ids, no mask) and set
against the trace's own probabilities."""

from __future__ import annotations

import numpy as np
import torch

from ...windows import padded_size, window_order
from .._core import cached


def paper_groups(H: int, W: int, window_size: int, shift_size: int) -> torch.Tensor:
    """(nW, N) id of the irregular window of the UNROLLED map (the paper's picture: the grid moved
    right and down by s, cut at the border) that holds each slot of each window of the shifted
    block. Computed from original coordinates only (no region ids, no mask)."""
    M, s = window_size, shift_size
    order = window_order(H, W, M, s).numpy()  # flat original position of every slot
    r, c = order // W, order % W
    band_r = np.floor_divide(r - s, M) + 1  # 0 = the strip above the moved grid
    band_c = np.floor_divide(c - s, M) + 1
    return torch.from_numpy(band_r * (W // M + 1) + band_c).view(-1, M * M)


def mask_check(exp) -> dict:
    """Is adding -100 the same as attending only inside the paper's irregular windows?

    Direct computation for block 1, on the grid it attends on (padded to whole windows when
    needed, the padding tokens included): for every query, softmax of (scores + bias) from the trace
    over ONLY the keys in the same irregular window of the unrolled map (keys elsewhere excluded,
    not -100); compared with the trace's probabilities. Returns max_abs_diff (largest
    |p_trace - p_direct|), max_leak (largest trace probability on a key the direct way excludes,
    i.e. through a -100 entry), masked_pairs (excluded (query, key) pairs per head, all windows),
    mask_mismatch (entries where the trace's mask disagrees with the direct grouping) and
    groups (how many irregular windows).
    """
    # memoised on the exploration itself (the figure is redrawn often): no key by address
    return dict(cached(exp, ("mask_check",), lambda: _mask_check(exp.traces[1])))


def _mask_check(t) -> dict:
    M, s = t.window_size, t.shift_size
    H, W = padded_size(*t.input_resolution, M)  # the grid the block attends on (padding too)
    N = M * M
    nW = (H // M) * (W // M)
    # numpy, single-threaded: torch's thread pool stalls badly on a busy 2-core server
    groups = paper_groups(H, W, M, s).numpy()  # nW, N
    allowed = groups[:, :, None] == groups[:, None, :]  # nW, N(query), N(key)
    nH = t.attn.shape[1]
    B = t.attn.shape[0] // nW
    blocked = ~allowed[None, :, None]  # 1, nW, 1, N, N
    logits = (t.scores.numpy().astype(np.float64).reshape(B, nW, nH, N, N)
              + t.bias.numpy().astype(np.float64)[None, None])
    logits = np.where(blocked, -np.inf, logits)
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    direct = e / e.sum(axis=-1, keepdims=True)
    attn = t.attn.numpy().reshape(B, nW, nH, N, N)
    mask = t.mask.numpy() if t.mask is not None else np.zeros((nW, N, N), np.float32)
    out = dict(
        max_abs_diff=float(np.abs(attn - direct).max()),
        max_leak=float(np.where(blocked, attn, 0.0).max()),
        masked_pairs=int((~allowed).sum()),
        mask_mismatch=int(((mask == 0) != allowed).sum()),
        groups=int(np.unique(groups).size),
    )
    return out
