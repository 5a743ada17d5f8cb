"""Windows on the image: the patch grid, the regular windows of block 0 (W-MSA) and the
shifted windows of block 1 (SW-MSA), both drawn in ORIGINAL image coordinates.

Block 1 partitions the map rolled by (-s, -s). Seen on the unrolled image its window w covers
original rows (wr*M + s + k) mod H and columns (wc*M + s + k) mod W, k = 0..M-1: the window grid
moved right and down by s (the paper's picture), with the windows at the right / bottom edge
wrapping around to the left / top. Such a window is drawn as up to four rectangles ("pieces")
that share one number and one tint.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from ..windows import padded_size, window_of_token
from .style import (
    BLOCK_COLORS,
    OKABE_ITO,
    OUTSIDE_FILL,
    PAD_HATCH,
    QUERY_COLOR,
    axis_key,
    block_name,
    canvas,
    fast_figure,
    get_template,
    grid_lines,
    image_dict,
    one_window_text,
    pad_cells,
    pad_overlay,
    padding_text,
    panel_axes,
    rgba,
    style_layout,
    subplots_layout,
    sup_lines,
    title_height,
    top_title,
)

LABEL_MAX = 12  # label windows with their index when at most this many windows per side
# tints for the wrapped-around windows (no black / grey: they must read as colours)
_WRAP_TINTS = tuple(c for c in OKABE_ITO if c not in ("#000000", "#999999"))


def line_width(tpl, per_side: int) -> float:
    """The template's outline width, thinner when many windows share the panel."""
    return max(1.0, tpl.line_width * min(1.0, 8 / max(per_side, 1)))


@lru_cache(maxsize=32)
def token_windows(H: int, W: int, window_size: int, shift_size: int) -> np.ndarray:
    """`window_of_token(...)[..., 0]` as a read-only int64 numpy array (H, W), cached."""
    w = window_of_token(H, W, window_size, shift_size)[..., 0].numpy().copy()
    w.flags.writeable = False
    return w


@lru_cache(maxsize=32)
def window_pieces(H: int, W: int, window_size: int, shift_size: int) -> tuple:
    """Every window of a block, in partition order (the order of `trace.attn`), as its pieces in
    token coordinates of the padded (Hp, Wp) grid (`padded_size`; the grid itself when it splits
    into whole windows): ((r0, r1, c0, c1), ...) half-open; 1 piece for a window that does not
    wrap, 2 at the right or bottom edge, 4 in the corner. Pieces may cover padding tokens
    (rows >= H or columns >= W). Cached.

    Derived from `window_of_token` on the padded grid: a window's slot 0 sits at its top-left
    token and the window runs M rows and M columns from there, modulo the padded grid.
    """
    M = window_size
    Hp, Wp = padded_size(H, W, M)
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
    """`style.grid_lines` as a trace dict with NaN-separated float32 arrays (cached)."""
    g = grid_lines(H, W, step, width=width).to_plotly_json()
    g["x"] = np.array([np.nan if v is None else v for v in g["x"]], dtype=np.float32)
    g["y"] = np.array([np.nan if v is None else v for v in g["y"]], dtype=np.float32)
    return g


def _keep(text: str) -> str:
    """`text` kept on one line when a title wraps (non-breaking spaces): "s = 3" never ends up
    alone on a line."""
    return text.replace(" ", "\u00a0")


def _n(k: int, noun: str) -> str:
    return f"{k} {noun}{'' if k == 1 else 's'}"


def _title(exp, s: int, M: int) -> str:
    H, W = exp.grid
    p = exp.patch_size
    head = (f"Windows on the image: stage {exp.stage}, {block_name(0, exp)} and "
            f"{block_name(1, exp)}<br><sup>{H}×{W} patches of {p}×{p} px, window M = {M}, "
            f"shift s = {s}")
    if s == 0:
        if M >= min(H, W):
            return head + " — no shift: one window covers the whole grid</sup>"
        return head + " — no shift (s = 0): block 1 uses the same windows as block 0</sup>"
    return (head + f": the second block's grid is the first's moved right and down "
            f"{_keep(f'by {s} patch' + ('es' if s > 1 else '') + '.')}</sup><br><sup>A window "
            f"that runs over the right or bottom edge wraps around to the left or top: its "
            f"pieces share a number {_keep('and a tint.')}</sup>")


def figure(exp, sel) -> go.Figure:
    """Two panels, block 2p | block 2p+1, each window outlined (and numbered when the grid is
    small) on the image at the stage's patch size; padding tokens hatched; hover on any patch:
    token (r, c), its window in both blocks, its region id."""
    sel = sel.resolved(exp)
    H, W = exp.grid
    p = exp.patch_size
    t0, t1 = exp.traces
    M0, M1, s = t0.window_size, t1.window_size, t1.shift_size
    Hp, Wp = padded_size(H, W, M1)
    padded = (Hp, Wp) != (H, W)
    one = M1 >= min(H, W)
    tpl = get_template(sel.template)
    lw = line_width(tpl, max(Hp // M1, Wp // M1))
    qr, qc = sel.query

    pieces0 = window_pieces(H, W, M0, 0)
    pieces1 = window_pieces(H, W, M1, s)
    single = len(pieces0) == len(pieces1) == 1  # the query's window is the only outline
    w_of = (token_windows(Hp, Wp, M0, 0), token_windows(Hp, Wp, M1, s))
    # region id of every token of the padded grid: region_ids live in the rolled frame (fact 4)
    region_orig = np.roll(t1.region_ids.numpy(), shift=(s, s), axis=(0, 1))
    pad = pad_cells(H, W, Hp, Wp)
    rr, cc = np.indices((Hp, Wp))
    custom = np.stack([rr, cc, w_of[0], w_of[1], region_orig], axis=-1)
    custom = custom.astype(np.uint8 if custom.max() < 256 else np.int32)
    what = np.where(pad, "zero padding", "token").astype(object)

    def _n_windows(pieces, noun):
        return _n(len(pieces), noun)

    if one:
        titles = [f"{block_name(0, exp)}: one window of {M0}×{M0} = the whole grid",
                  f"{block_name(1, exp)}: the same one window, no shift"]
    else:
        titles = [f"{block_name(0, exp)}: {_n_windows(pieces0, 'regular window')} of {M0}×{M0}",
                  f"{block_name(1, exp)}: {_n_windows(pieces1, 'window')}, "
                  f"{_keep(f'grid shifted by s = {s}')}" if s else
                  f"{block_name(1, exp)}: {_n_windows(pieces1, 'window')}, no shift"]
    layout, refs = subplots_layout(rows=1, cols=2, horizontal_spacing=0.06,
                                   subplot_titles=titles)
    source = canvas(exp, Hp, Wp)
    grid = patch_grid(Hp * p, Wp * p, p, 0.5 if Hp <= 64 else 0.3)
    label = max(Hp // M0, Wp // M0) <= LABEL_MAX
    data: list[dict] = []

    for col, (pieces, color, block) in enumerate(
        ((pieces0, BLOCK_COLORS[0], 0), (pieces1, BLOCK_COLORS[1], 1)), start=1
    ):
        xr, yr = refs[(1, col)]
        ax = dict(xaxis=xr, yaxis=yr)
        first = col == 1
        data.append(image_dict(source, xr, yr))
        data.append(dict(grid, name=f"patch grid ({p}×{p} px)", showlegend=first,
                         legendgroup="grid", **ax))
        if padded:
            data.append(pad_overlay(pad, x0=p / 2, dx=p, xaxis=xr, yaxis=yr, opacity=0.15))
            if first:
                data.append(dict(type="scatter", x=[None], y=[None], mode="markers",
                                 marker=dict(symbol="square", size=12, color=PAD_HATCH),
                                 name=f"zero padding ({Hp * Wp - H * W} tokens: "
                                      f"{H}×{W} → {Hp}×{Wp})", legendgroup="pad", **ax))
        w_img, h_img = exp.image.size
        if first and (H * p > h_img or W * p > w_img):
            data.append(dict(type="scatter", x=[None], y=[None], mode="markers",
                             marker=dict(symbol="square", size=12, color=OUTSIDE_FILL),
                             name="beyond the image (a patch merge padded an odd side)",
                             legendgroup="outside", **ax))
        if block == 1 and s:
            # block 0's grid for comparison: block 1's grid is this one moved right/down by s
            xs, ys, _ = outline_xy(pieces0, p)
            data.append(dict(type="scatter", x=xs, y=ys, mode="lines", hoverinfo="skip",
                             line=dict(color=BLOCK_COLORS[0], width=max(1.0, lw / 2),
                                       dash="dot"),
                             name=f"{block_name(0, exp)} windows (for comparison)",
                             legendgroup="b0cmp", **ax))
            # one tint per wrapped window (cycling through the palette), on all its pieces
            wrapped = [w for w, pcs in enumerate(pieces) if len(pcs) > 1]
            by_tint: dict[int, list[int]] = {}
            for k, w in enumerate(wrapped):
                by_tint.setdefault(k % len(_WRAP_TINTS), []).append(w)
            for k, ws in by_tint.items():
                xs, ys, _ = outline_xy(pieces, p, ws)
                data.append(dict(type="scatter", x=xs, y=ys, mode="lines", fill="toself",
                                 fillcolor=rgba(_WRAP_TINTS[k], 0.35), line=dict(width=0),
                                 hoverinfo="skip", showlegend=k == 0, legendgroup="wrap",
                                 name="wrapped-around window: same tint + number = one window",
                                 **ax))
        xs, ys, ws = outline_xy(pieces, p)
        # one window: its outline is the query's window, drawn over it below; no legend entry
        # for a line nobody can see
        data.append(dict(type="scatter", x=xs, y=ys, customdata=ws, mode="lines",
                         hoverinfo="skip", line=dict(color=color, width=lw),
                         showlegend=len(pieces) > 1,
                         name=f"{block_name(block, exp)} windows", meta=f"windows block {block}",
                         **ax))
        if label:
            cen = np.array([(w, (r0 + r1) * p / 2, (c0 + c1) * p / 2)
                            for w, pcs in enumerate(pieces) for r0, r1, c0, c1 in pcs])
            data.append(dict(type="scatter", x=cen[:, 2], y=cen[:, 1],
                             text=[str(int(w)) for w in cen[:, 0]], mode="text",
                             hoverinfo="skip",
                             textfont=dict(color="white", size=max(10, tpl.font_size - 2),
                                           shadow=f"0px 0px 3px {color}"),
                             showlegend=False, name=f"window numbers block {block}", **ax))
        # the query's window, thick, then the query patch
        wq = int(w_of[block][qr, qc])
        xs, ys, _ = outline_xy(pieces, p, [wq])
        data.append(dict(type="scatter", x=xs, y=ys, mode="lines", hoverinfo="skip",
                         line=dict(color=QUERY_COLOR, width=lw * 1.5), legendgroup="qwin",
                         showlegend=first, name="the one window (the whole grid), in both blocks"
                         if single else "the query's window in each block", **ax))
        data.append(dict(type="scatter", x=[(qc + 0.5) * p], y=[(qr + 0.5) * p], mode="markers",
                         marker=dict(symbol="square", size=max(8, tpl.font_size - 2),
                                     color=QUERY_COLOR, line=dict(color="black", width=1.5)),
                         hoverinfo="skip", legendgroup="query", showlegend=first,
                         name=f"query patch ({qr}, {qc})", **ax))
        # an invisible heatmap over the patches carries the hover
        data.append(dict(
            type="heatmap", z=w_of[block].astype(custom.dtype), x0=p / 2, dx=p, y0=p / 2, dy=p,
            customdata=custom, text=what, opacity=0, showscale=False,
            hovertemplate="%{text} (%{customdata[0]}, %{customdata[1]})<br>"
                          f"window %{{customdata[2]}} in {block_name(0, exp)}<br>"
                          f"window %{{customdata[3]}} in {block_name(1, exp)}<br>"
                          "region id %{customdata[4]}<extra></extra>",
            name=f"patches block {block}", **ax))
        panel_axes(layout, (xr, yr), title_x="x (pixels)", title_y="y (pixels)" if first else "")
        layout[axis_key(xr)].update(range=[0, Wp * p], autorange=False)
        layout[axis_key(yr)].update(range=[Hp * p, 0], autorange=False)

    notes = []
    if one:
        notes.append(f"<b>Why one window?</b> {one_window_text(H, W, M1)} (docs/concepts.md, "
                     f"fact 2).")
    if padded:
        notes.append(f"<b>Padding:</b> {padding_text(H, W, Hp, Wp, s)}.")
    title = _title(exp, s, M1) + "".join(sup_lines(n, tpl) for n in notes)
    style_layout(layout, sel.template, title=title,
                 height=tpl.height + 80 + title_height(title, tpl))
    top_title(layout, tpl, below=1)
    layout["legend"] = dict(orientation="h", yanchor="top", y=-0.15, x=0.0, xanchor="left")
    layout["margin"].update(b=int(tpl.font_size * 10))
    return fast_figure(data, layout)
