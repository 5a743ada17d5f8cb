"""Reach: who may attend to whom in a block, and across block pairs, weights ignored
(the flow figure's first answer, and the "why the shift" panel's). In one block query q sees key
j when j is in q's window and the mask is 0 (same region id; always in W-MSA); as flat (L, L)
booleans R_b the inputs that reach q's output after pair k are e_q (R_1 R_0)^k, computed
group-wise in O(L) (`reach_sets`); `reach_matrix` builds the dense R for checks.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ...windows import attention_mask, padded_size, window_region_ids
from .geometry import token_geometry


def _check_geometry(H: int, W: int, window_size: int, shift_size: int) -> None:
    """Any positive grid (a block pads one that does not split into whole windows) with
    0 <= shift < window; else a ValueError saying so."""
    if H <= 0 or W <= 0:
        raise ValueError(f"the token grid must be positive, got {H}x{W}")
    if window_size <= 0 or not 0 <= shift_size < window_size:
        raise ValueError(f"need 0 <= shift_size < window_size, got window {window_size}, "
                         f"shift {shift_size}")


@lru_cache(maxsize=32)
def visibility_groups(H: int, W: int, window_size: int, shift_size: int,
                      roll_first: bool = False) -> np.ndarray:
    """Int (L,), read-only: tokens q and j see each other in one block (same window, attention
    mask 0, i.e. the same region id inside that window) exactly when their group ids are equal.
    Group = window · 9 + region id, scattered from window slots to original positions. Padding
    slots (a grid padded to whole windows) are left out: a zero token carries nothing."""
    _check_geometry(H, W, window_size, shift_size)
    order, _ = token_geometry(H, W, window_size, shift_size, roll_first)  # timm's V2: roll, pad
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
               k_pairs: int, roll_first: bool = False) -> list[np.ndarray]:
    """[after block 0, after pair 1, ..., after pair k]: bool (H, W) maps of the input tokens that
    can influence token `query` = (r, c). Block 0 uses (window_size, 0), block 1
    (window_size, shift_size); pairs beyond the first repeat the same two blocks. A grid that
    does not split into whole windows is padded as the block pads it (`roll_first`: after its
    roll, as timm's Swin V2 does); padding carries nothing."""
    r, c = int(query[0]), int(query[1])
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"query patch ({r}, {c}) is outside the {H}x{W} token grid")
    if k_pairs < 0:
        raise ValueError(f"k_pairs must be >= 0, got {k_pairs}")
    R0 = visibility_groups(H, W, window_size, 0)  # R_0 and R_1 in factored form
    R1 = visibility_groups(H, W, window_size, shift_size, roll_first)
    v = np.zeros(H * W, dtype=bool)
    v[r * W + c] = True
    out = [_step(v, R0)]
    for _ in range(k_pairs):
        v = _step(_step(v, R1), R0)
        out.append(v)
    return [s.reshape(H, W) for s in out]
