"""Reach and rollout, the two answers of the flow figure, as plain arrays.

Reach (weights ignored, only who may attend to whom): in one block, query q sees key j when j is
in q's window and the mask is 0 (same region id; always in W-MSA). As an (L, L) boolean matrix
R_b (L = Ht·Wt, flat token index r·Wt + c), the inputs that reach q's output are
  after block 0:        e_q R_0
  after pair 1:         e_q R_1 R_0        (block 1 reads block 0's outputs)
  after pair k:         e_q (R_1 R_0)^k    (if the same pair were repeated at this resolution)
computed as boolean products. R_b[i, j] is true exactly when i and j share a (window, region)
group, so v @ R_b is evaluated group-wise in O(L) (`reach_matrix` builds the dense matrix for
checks; 3136² is fine, a 448 px input's 12544² is not). The residual connection adds nothing new:
q is in its own window. A grid that does not split into whole windows is padded inside the block;
the zero tokens carry nothing and are left out.

Rollout (the model's attention weights, random or pretrained): A_b is block b's head-averaged
attention scattered from window form to original token positions (L, L); with the residual as
0.5·I the pair's rollout is
  (0.5·A_1 + 0.5·I) @ (0.5·A_0 + 0.5·I)          (`rollout`, `rollout_row`: within the pair)
and the figure rolls the query back through every block of `exp.chain` to stage 1 with
`swinviz.rollout.rollout_map` (a merged token's weight spread over its 2x2 children at every
patch merge), drawn on the image at stage 1's patch size. Rows sum to 1, less the weight given to
zero padding.
"""

from __future__ import annotations

import numpy as np

from ...rollout import rollout_map
from .._core import (
    cached,
    cached_latest,
    token_geometry,
)
from .._core.reach import reach_matrix, reach_sets, visibility_groups

__all__ = ["ROLLOUT_FLOOR", "reach_matrix", "reach_sets", "rollout", "rollout_row", "stage_maps",
           "visibility_groups"]

ROLLOUT_FLOOR = 1e-12  # rollout weights below this (paths through masked keys) are left clear


def _windowed(exp, block: int):
    """(order (nW, N), window_of_token (H, W, 2), head-mean attention (nW, N, N)) of a block."""
    def make():
        tr = exp.traces[block]
        order, wot = token_geometry(*tr.input_resolution, tr.window_size, tr.shift_size,
                                    getattr(tr, "roll_first", False))
        return order, wot, tr.attn.numpy().mean(axis=1, dtype=np.float64)
    return cached(exp.traces[block], "flow_windowed", make)


def _a0_rows(exp, tokens: np.ndarray) -> np.ndarray:
    """Dense rows A_0[tokens, :] (len(tokens), L) of block 0's head-mean attention; the row of a
    padding slot (index L) is zero: a zero token brings nothing from the input."""
    order, wot, a = _windowed(exp, 0)
    H, W = exp.grid
    L = H * W
    rows = np.zeros((len(tokens), L + 1))
    real = np.nonzero(tokens < L)[0]
    w, k = wot.reshape(-1, 2)[tokens[real]].T
    rows[real[:, None], order[w]] = a[w, k]
    return rows[:, :L]


def rollout_row(exp, query) -> np.ndarray:
    """Row `query` of `rollout(exp)`, (L,), without building the (L, L) matrix."""
    H, W = exp.grid
    L = H * W
    r, c = int(query[0]), int(query[1])
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"query patch ({r}, {c}) is outside the {H}x{W} token grid")
    q = r * W + c
    order1, wot1, a1 = _windowed(exp, 1)
    w, k = wot1[r, c]
    keys = order1[w]  # the query's block-1 window, slot order (L: a padding slot)
    p1 = a1[w, k]  # (N,) its head-mean attention in block 1
    row = np.zeros(L + 1)
    row[:L] = 0.25 * (p1 @ _a0_rows(exp, keys))  # A1 A0
    np.add.at(row, keys, 0.25 * p1)  # A1 (weight on padding lands in row[L] and leaves)
    row[:L] += 0.25 * _a0_rows(exp, np.array([q]))[0]  # A0
    row[q] += 0.25  # I
    return row[:L]


def rollout(exp) -> np.ndarray:
    """(L, L) float64 attention rollout through the pair, (0.5·A1 + 0.5·I) @ (0.5·A0 + 0.5·I),
    A_b the head-averaged attention of block b in original token positions (flat r·Wt + c).
    Rows sum to 1, less the weight given to zero padding (a grid padded to whole windows)."""
    H, W = exp.grid
    L = H * W
    order1, _, a1 = _windowed(exp, 1)
    order0, _, a0 = _windowed(exp, 0)
    out = np.zeros((L + 1, L + 1))  # row / column L: padding, dropped at the end
    for w in range(order1.shape[0]):  # A1 A0, one block-1 window (N rows) at a time
        keys = order1[w]
        out[keys, :L] += 0.25 * (a1[w] @ _a0_rows(exp, keys))
    np.add.at(out, (order1[:, :, None], order1[:, None, :]), 0.25 * a1)
    np.add.at(out, (order0[:, :, None], order0[:, None, :]), 0.25 * a0)
    out[np.arange(L), np.arange(L)] += 0.25
    return out[:L, :L].copy()


def stage_maps(exp, query) -> tuple[list[np.ndarray], list[int]]:
    """Attention rollout of the query (a token of the explored stage) back through every block of
    `exp.chain` (`swinviz.rollout.rollout_map`): the maps per stage crossed, last stage first,
    as float64 (H_s, W_s) arrays, and the stage of each. Cached on the exploration for the
    latest query only (a session's store does not grow with its clicks)."""
    q = tuple(int(v) for v in query)

    def make():
        maps = rollout_map(exp.chain, q)
        stages = list(range(exp.chain[-1].stage, exp.chain[-1].stage - len(maps), -1))
        return [m.numpy() for m in maps], stages
    return cached_latest(exp, "flow_stage_maps", q, make)


