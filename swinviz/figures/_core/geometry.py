"""Where tokens and windows are, as arrays and line coordinates: a token's (window, slot), each
window's pieces on the padded grid (a shifted window wraps into up to four), outlines of cell
sets and window rectangles, grid lines, padding cells, and the flattened id rows of fact 4.
Everything is derived from `swinviz.windows`, never recomputed."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from ...grid import padded_size

if TYPE_CHECKING:
    import torch

# the tensor geometry (swinviz.windows, torch) is imported by the functions that use it: the
# figures' kinds and registry are read by the app's page before torch is imported


def grid_lines(H: int, W: int, step: float, *, color: str = "rgba(255,255,255,0.35)",
               width: float = 0.5, offset: float = 0.0) -> go.Scatter:
    """Horizontal and vertical lines every `step` units over an H x W area, as one trace."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for r in np.arange(0, H + 1e-9, step):
        xs += [offset, W + offset, None]
        ys += [r + offset, r + offset, None]
    for c in np.arange(0, W + 1e-9, step):
        xs += [c + offset, c + offset, None]
        ys += [offset, H + offset, None]
    return go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=color, width=width),
                      hoverinfo="skip", showlegend=False)


def cells_outline(inside: np.ndarray, cell: float = 1.0) -> tuple[list, list]:
    """Outline of a set of grid cells (bool (H, W), cell (r, c) covers [c, c+1) x [r, r+1) times
    `cell`) as None-separated scatter coordinates: only the edges between inside and outside."""
    a = np.pad(np.asarray(inside, bool), 1)
    xs: list[float | None] = []
    ys: list[float | None] = []
    rr, cc = np.nonzero(a[1:, 1:-1] != a[:-1, 1:-1])  # horizontal edge at y = rr, x in [cc, cc+1)
    for r, c in zip(rr.tolist(), cc.tolist(), strict=True):
        xs += [c * cell, (c + 1) * cell, None]
        ys += [r * cell, r * cell, None]
    rr, cc = np.nonzero(a[1:-1, 1:] != a[1:-1, :-1])  # vertical edge at x = cc
    for r, c in zip(rr.tolist(), cc.tolist(), strict=True):
        xs += [c * cell, c * cell, None]
        ys += [r * cell, (r + 1) * cell, None]
    return xs, ys


def pad_cells(H: int, W: int, Hp: int, Wp: int) -> np.ndarray:
    """Bool (Hp, Wp): True on the padding tokens (rows >= H or columns >= W)."""
    rr, cc = np.indices((Hp, Wp))
    return (rr >= H) | (cc >= W)


@lru_cache(maxsize=32)
def token_geometry(H: int, W: int, window_size: int, shift_size: int,
                   roll_first: bool = False):
    """(order (nW, N): flat original position r·W + c of window w's slot k, or H·W for a slot of
    zero padding when the grid is padded to whole windows; window_of_token (H, W, 2): (window,
    slot) of original token (r, c)) as read-only numpy arrays, from `swinviz.windows`; cached
    per geometry (shared by every exploration and click). roll_first: the block rolled, then
    padded (`BlockTrace.roll_first`, timm's Swin V2)."""
    from ...windows import window_of_token, window_order

    M = window_size
    order = window_order(H, W, M, shift_size, roll_first=roll_first).numpy()
    order = order.reshape(-1, M * M).copy()
    wot = window_of_token(H, W, M, shift_size, roll_first).numpy().copy()
    order.setflags(write=False)
    wot.setflags(write=False)
    return order, wot


def coords(values: list) -> np.ndarray:
    """None-separated line coordinates (a list) as a float array with NaN gaps, the form the
    figures hand to plotly."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def line_width(tpl, per_side: int) -> float:
    """The template's outline width, thinner when many windows share the panel."""
    return max(1.0, tpl.line_width * min(1.0, 8 / max(per_side, 1)))


@lru_cache(maxsize=32)
def token_windows(H: int, W: int, window_size: int, shift_size: int,
                  roll_first: bool = False) -> np.ndarray:
    """`window_of_token(...)[..., 0]` as a read-only int64 numpy array (H, W), cached."""
    from ...windows import window_of_token

    w = window_of_token(H, W, window_size, shift_size, roll_first)[..., 0].numpy().copy()
    w.flags.writeable = False
    return w


def rolls_first(H: int, W: int, window_size: int, shift_size: int, roll_first: bool) -> bool:
    """True when rolling before padding (`BlockTrace.roll_first`, timm's Swin V2) places the
    windows differently from padding before rolling: a shift, on a grid that is padded."""
    return bool(roll_first and shift_size) and padded_size(H, W, window_size) != (H, W)


@lru_cache(maxsize=32)
def padded_windows(H: int, W: int, window_size: int, shift_size: int,
                   roll_first: bool = False) -> np.ndarray:
    """Int64 (Hp, Wp), read-only: the window (partition order, the order of `trace.attn`) of
    every position of the padded grid in original coordinates, padding included: a real token
    at its own place, a padding token where the block added it (`windows.padded_order`). Pad,
    then roll: `token_windows(Hp, Wp, ...)`."""
    from ...windows import padded_order

    M = window_size
    Hp, Wp = padded_size(H, W, M)
    if not rolls_first(H, W, M, shift_size, roll_first):
        return token_windows(Hp, Wp, M, shift_size)
    order = padded_order(H, W, M, shift_size, True).numpy()
    win = np.empty(Hp * Wp, dtype=np.int64)
    win[order] = np.arange(order.size) // (M * M)
    win = win.reshape(Hp, Wp)
    win.flags.writeable = False
    return win


def rolled_source(H: int, W: int, Hp: int, Wp: int, shift_size: int,
                  roll_first: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols), each int (Hp, Wp): the position of the padded grid, in original
    coordinates, that position (i, j) of the block's rolled, padded map holds. Pad, then roll:
    ((i + s) mod Hp, (j + s) mod Wp); roll, then pad (timm's Swin V2): a real token
    ((i + s) mod H, (j + s) mod W), and the padding, added after the roll, stays at (i, j)."""
    s = shift_size
    rr, cc = np.indices((Hp, Wp))
    if not (roll_first and s) or (Hp, Wp) == (H, W):
        return (rr + s) % Hp, (cc + s) % Wp
    real = (rr < H) & (cc < W)
    return np.where(real, (rr + s) % H, rr), np.where(real, (cc + s) % W, cc)


def regions_in_place(ids_rolled: np.ndarray, H: int, W: int, shift_size: int,
                     roll_first: bool = False) -> np.ndarray:
    """The region ids of fact 4 (the trace's `region_ids`, which live in the rolled, padded
    map) carried back to each token's own position of the padded grid."""
    Hp, Wp = ids_rolled.shape
    orr, occ = rolled_source(H, W, Hp, Wp, shift_size, roll_first)
    out = np.empty_like(ids_rolled)
    out[orr, occ] = ids_rolled
    return out


@lru_cache(maxsize=32)
def window_pieces(H: int, W: int, window_size: int, shift_size: int,
                  roll_first: bool = False) -> tuple:
    """Every window of a block, in partition order (the order of `trace.attn`), as its pieces in
    token coordinates of the padded (Hp, Wp) grid (`padded_size`; the grid itself when it splits
    into whole windows): ((r0, r1, c0, c1), ...) half-open; 1 piece for a window that does not
    wrap, 2 at the right or bottom edge, 4 in the corner. Pieces may cover padding tokens
    (rows >= H or columns >= W). Cached.

    Derived from `window_of_token` on the padded grid: a window's slot 0 sits at its top-left
    token and the window runs M rows and M columns from there, modulo the padded grid. A block
    that rolls and then pads (`roll_first`, timm's Swin V2 on a padded grid) wraps its windows
    around the real grid instead, its padding staying at the bottom and right: each window's
    rows and columns are then read from `padded_windows`, as runs.
    """
    from ...windows import window_of_token

    M = window_size
    Hp, Wp = padded_size(H, W, M)
    if rolls_first(H, W, M, shift_size, roll_first):
        return _pieces_of(padded_windows(H, W, M, shift_size, True))
    wot = window_of_token(Hp, Wp, M, shift_size).numpy()
    win, slot = wot[..., 0], wot[..., 1]
    rr, cc = np.nonzero(slot == 0)
    nW = (Hp // M) * (Wp // M)
    start_r = np.empty(nW, dtype=np.int64)
    start_c = np.empty(nW, dtype=np.int64)
    start_r[win[rr, cc]] = rr
    start_c[win[rr, cc]] = cc

    def runs(a: int, n: int) -> list[tuple[int, int]]:
        return [(a, a + M)] if a + M <= n else [(a, n), (0, a + M - n)]

    return tuple(
        tuple((r0, r1, c0, c1) for r0, r1 in runs(int(start_r[w]), Hp)
              for c0, c1 in runs(int(start_c[w]), Wp))
        for w in range(nW)
    )


def _pieces_of(win: np.ndarray) -> tuple:
    """Each window's pieces from a window id map (Hp, Wp) whose windows are products of a row
    set and a column set: the rows' runs times the columns' runs, half-open."""
    def runs(values: np.ndarray) -> list[tuple[int, int]]:
        cut = np.nonzero(np.diff(values) != 1)[0] + 1
        return [(int(v[0]), int(v[-1]) + 1) for v in np.split(values, cut)]

    out = []
    for w in range(int(win.max()) + 1):
        rows, cols = np.nonzero(win == w)
        out.append(tuple((r0, r1, c0, c1) for r0, r1 in runs(np.unique(rows))
                         for c0, c1 in runs(np.unique(cols))))
    return tuple(out)


def outline_xy(pieces_of, p: float, windows=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rectangle outlines of the given windows' pieces in pixel coordinates, NaN-separated for
    one Scatter trace, and the window index of every vertex (NaN at the separators)."""
    rects = [(w, pc) for w in (range(len(pieces_of)) if windows is None else windows)
             for pc in pieces_of[w]]
    if not rects:
        return np.empty(0), np.empty(0), np.empty(0)
    w = np.array([r[0] for r in rects], dtype=float)
    r0, r1, c0, c1 = (np.array([r[1][i] for r in rects], dtype=float) * p for i in range(4))
    nan = np.full_like(w, np.nan)
    xs = np.stack([c0, c1, c1, c0, c0, nan], axis=1).ravel().astype(np.float32)
    ys = np.stack([r0, r0, r1, r1, r0, nan], axis=1).ravel().astype(np.float32)
    ws = np.stack([w, w, w, w, w, nan], axis=1).ravel().astype(np.float32)
    return xs, ys, ws


@lru_cache(maxsize=16)
def patch_grid(H: int, W: int, step: float, width: float) -> dict:
    """`grid_lines` as a trace dict with NaN-separated float32 arrays (cached)."""
    g = grid_lines(H, W, step, width=width).to_plotly_json()
    g["x"] = np.array([np.nan if v is None else v for v in g["x"]], dtype=np.float32)
    g["y"] = np.array([np.nan if v is None else v for v in g["y"]], dtype=np.float32)
    return g


def flatten_windows(ids: torch.Tensor, window_size: int) -> torch.Tensor:
    """(H, W) ids -> (nW, N): `window_partition`, one row per window (concepts fact 4's table)."""
    from ...windows import window_partition

    H, W = ids.shape
    return window_partition(ids.view(1, H, W, 1), window_size).reshape(-1, window_size**2)
