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

from functools import lru_cache

import numpy as np

from ...rollout import rollout_map
from ...windows import (
    attention_mask,
    padded_size,
    window_region_ids,
)
from .._core import (
    cached,
    cached_latest,
    token_geometry,
)

ROLLOUT_FLOOR = 1e-12  # rollout weights below this (paths through masked keys) are left clear


def _check_geometry(H: int, W: int, window_size: int, shift_size: int) -> None:
    """Any positive grid (a block pads one that does not split into whole windows) with
    0 <= shift < window; else a ValueError saying so."""
    if H <= 0 or W <= 0:
        raise ValueError(f"the token grid must be positive, got {H}x{W}")
    if window_size <= 0 or not 0 <= shift_size < window_size:
        raise ValueError(f"need 0 <= shift_size < window_size, got window {window_size}, "
                         f"shift {shift_size}")


@lru_cache(maxsize=32)
def visibility_groups(H: int, W: int, window_size: int, shift_size: int) -> np.ndarray:
    """Int (L,), read-only: tokens q and j see each other in one block (same window, attention
    mask 0, i.e. the same region id inside that window) exactly when their group ids are equal.
    Group = window · 9 + region id, scattered from window slots to original positions. Padding
    slots (a grid padded to whole windows) are left out: a zero token carries nothing."""
    _check_geometry(H, W, window_size, shift_size)
    order, _ = token_geometry(H, W, window_size, shift_size)
    Hp, Wp = padded_size(H, W, window_size)
    ids = window_region_ids(Hp, Wp, window_size, shift_size).numpy()  # nW, N
    groups = np.arange(len(order))[:, None] * 9 + ids
    real = order < H * W
    group = np.empty(H * W, dtype=np.int64)
    group[order[real]] = groups[real]
    group.setflags(write=False)
    return group


def reach_matrix(H: int, W: int, window_size: int, shift_size: int) -> np.ndarray:
    """Bool (L, L): R[q, j] = key token j is visible to query token q in one block with this
    window and shift (same window and attention mask 0), flat index r·W + c; padding keys are
    left out. Built from the block's windows and `attention_mask` of the padded grid; O(L²)
    memory, so the figure never builds it."""
    _check_geometry(H, W, window_size, shift_size)
    M = window_size
    order, _ = token_geometry(H, W, M, shift_size)
    visible = attention_mask(*padded_size(H, W, M), M, shift_size).numpy() == 0  # nW, N, N
    L = H * W
    R = np.zeros((L + 1, L + 1), dtype=bool)  # row / column L: every padding slot
    R[order[:, :, None], order[:, None, :]] = visible
    return R[:L, :L].copy()


def _step(v: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The boolean product v @ R without R: R[i, j] = (group[i] == group[j]), so j is reached
    when some token of v shares its group. O(L) instead of O(L²)."""
    hit = np.zeros(int(group.max()) + 1, dtype=bool)
    hit[group[v]] = True
    return hit[group]


def reach_sets(H: int, W: int, window_size: int, shift_size: int, query,
               k_pairs: int) -> list[np.ndarray]:
    """[after block 0, after pair 1, ..., after pair k]: bool (H, W) maps of the input tokens that
    can influence token `query` = (r, c). Block 0 uses (window_size, 0), block 1
    (window_size, shift_size); pairs beyond the first repeat the same two blocks. A grid that
    does not split into whole windows is padded as the block pads it; padding carries nothing."""
    r, c = int(query[0]), int(query[1])
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"query patch ({r}, {c}) is outside the {H}x{W} token grid")
    if k_pairs < 0:
        raise ValueError(f"k_pairs must be >= 0, got {k_pairs}")
    R0 = visibility_groups(H, W, window_size, 0)  # R_0 and R_1 in factored form
    R1 = visibility_groups(H, W, window_size, shift_size)
    v = np.zeros(H * W, dtype=bool)
    v[r * W + c] = True
    out = [_step(v, R0)]
    for _ in range(k_pairs):
        v = _step(_step(v, R1), R0)
        out.append(v)
    return [s.reshape(H, W) for s in out]


def _windowed(exp, block: int):
    """(order (nW, N), window_of_token (H, W, 2), head-mean attention (nW, N, N)) of a block."""
    def make():
        tr = exp.traces[block]
        order, wot = token_geometry(*tr.input_resolution, tr.window_size, tr.shift_size)
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


