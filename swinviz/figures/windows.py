"""Windows on the image: the patch grid, the regular windows of block 0 (W-MSA) and the
shifted windows of block 1 (SW-MSA), both drawn in ORIGINAL image coordinates.

Block 1 partitions the map rolled by (-s, -s). Seen on the unrolled image its window w covers
original rows (wr*M + s + k) mod H and columns (wc*M + s + k) mod W, k = 0..M-1: the window grid
moved right and down by s (the paper's picture), with the windows at the right / bottom edge
wrapping around to the left / top. Such a window is drawn as up to four rectangles ("pieces")
that share one number and one tint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from ..windows import padded_size
from ._core import (
    BLOCK_COLORS,
    HALO,
    OKABE_ITO,
    OUTSIDE_FILL,
    PAD_HATCH,
    QUERY_COLOR,
    axis_key,
    block_name,
    canvas,
    fast_figure,
    get_template,
    image_dict,
    line_width,
    one_window_text,
    outline_xy,
    pad_cells,
    pad_overlay,
    padded_windows,
    padding_text,
    panel_axes,
    patch_grid,
    regions_in_place,
    rgba,
    style_layout,
    subplots_layout,
    sup_lines,
    title_height,
    token_windows,
    top_title,
    window_pieces,
)
from ._core.words import tr

LABEL_MAX = 12  # label windows with their index when at most this many windows per side
# tints for the wrapped-around windows (no black / grey: they must read as colours)
_WRAP_TINTS = tuple(c for c in OKABE_ITO if c not in ("#000000", "#999999"))


def _keep(text: str) -> str:
    """`text` kept on one line when a title wraps (non-breaking spaces): "s = 3" never ends up
    alone on a line."""
    return text.replace(" ", "\u00a0")


def _n(k: int, noun: str) -> str:
    return f"{k} {noun}{'' if k == 1 else 's'}"


def _title(exp, s: int, M: int, lang: str = "en") -> str:
    """The figure title: stage, blocks, grid, window and shift, and which way the grid moves."""
    H, W = exp.grid
    p = exp.patch_size
    b0, b1 = block_name(0, exp, lang), block_name(1, exp, lang)
    head = tr(lang, "Windows on the image: stage {stage}, {b0} and {b1}<br><sup>{H}×{W} patches "
              "of {p}×{p} px, window M = {M}, shift s = {s}", stage=exp.stage, b0=b0, b1=b1,
              H=H, W=W, p=p, M=M, s=s)
    if s == 0:
        if M >= min(H, W):
            return head + tr(lang, " — no shift: one window covers the whole grid</sup>")
        return head + tr(lang, " — no shift (s = 0): block 1 uses the same windows as block "
                         "0</sup>")
    if lang == "en":
        moved = _keep(f'by {s} patch' + ('es' if s > 1 else '') + '.')
        tint = _keep('and a tint.')
    else:
        moved, tint = tr(lang, "by {s} patches.", s=s), tr(lang, "and a tint.")
    return head + tr(lang, ": the second block's grid is the first's moved right and down "
                     "{moved}</sup><br><sup>A window that runs over the right or bottom edge "
                     "wraps around to the left or top: its pieces share a number {tint}</sup>",
                     moved=moved, tint=tint)


@dataclass(frozen=True)
class _Panels:
    """What both panels share: the grid (padded to whole windows), the windows of both blocks,
    the query, the hover data, the image and the outline width."""

    exp: object
    tpl: object
    s: int
    Hp: int
    Wp: int
    lw: float
    query: tuple[int, int]
    pieces: tuple  # (block 0's window pieces, block 1's)
    w_of: tuple  # (block 0's window of every token, block 1's), (Hp, Wp) each
    custom: np.ndarray  # hover data per token: row, column, window in block 0 / 1, region id
    what: np.ndarray  # "token" or "zero padding" per token
    pad: np.ndarray
    source: str  # the image on the padded grid, a data URI
    grid: dict  # the patch grid trace
    lang: str = "en"

    @property
    def padded(self) -> bool:
        return (self.Hp, self.Wp) != tuple(self.exp.grid)


def _panels(exp, sel) -> _Panels:
    """Everything both panels draw from, read from the traces and `swinviz.windows`."""
    H, W = exp.grid
    p = exp.patch_size
    t0, t1 = exp.traces
    M0, M1, s = t0.window_size, t1.window_size, t1.shift_size
    Hp, Wp = padded_size(H, W, M1)
    tpl = get_template(sel.template)
    lw = line_width(tpl, max(Hp // M1, Wp // M1))
    rf = getattr(t1, "roll_first", False)  # timm's Swin V2 rolls, then pads
    pieces = (window_pieces(H, W, M0, 0), window_pieces(H, W, M1, s, rf))
    w_of = (token_windows(Hp, Wp, M0, 0), padded_windows(H, W, M1, s, rf))
    # region id of every token of the padded grid: region_ids live in the rolled frame (fact 4)
    region_orig = regions_in_place(t1.region_ids.numpy(), H, W, s, rf)
    pad = pad_cells(H, W, Hp, Wp)
    rr, cc = np.indices((Hp, Wp))
    custom = np.stack([rr, cc, w_of[0], w_of[1], region_orig], axis=-1)
    custom = custom.astype(np.uint8 if custom.max() < 256 else np.int32)
    L = sel.lang
    what = np.where(pad, tr(L, "zero padding"), "token").astype(object)
    grid = patch_grid(Hp * p, Wp * p, p, 0.5 if Hp <= 64 else 0.3)
    return _Panels(exp, tpl, s, Hp, Wp, lw, tuple(sel.query), pieces, w_of, custom, what, pad,
                   canvas(exp, Hp, Wp), grid, L)


def _subplot_titles(exp, P: _Panels) -> list[str]:
    """One title per block: how many windows, of what size, shifted by how much."""
    H, W = exp.grid
    M0, M1, s = exp.traces[0].window_size, exp.traces[1].window_size, P.s
    pieces0, pieces1 = P.pieces
    L = P.lang
    b0, b1 = block_name(0, exp, L), block_name(1, exp, L)
    if M1 >= min(H, W):
        return [tr(L, "{b0}: one window of {M}×{M} = the whole grid", b0=b0, M=M0),
                tr(L, "{b1}: the same one window, no shift", b1=b1)]
    if L == "en":
        return [f"{b0}: {_n(len(pieces0), 'regular window')} of {M0}×{M0}",
                f"{b1}: {_n(len(pieces1), 'window')}, "
                f"{_keep(f'grid shifted by s = {s}')}" if s else
                f"{b1}: {_n(len(pieces1), 'window')}, no shift"]
    return [tr(L, "{b0}: {n} regular windows of {M}×{M}", b0=b0, n=len(pieces0), M=M0),
            tr(L, "{b1}: {n} windows, grid shifted by s = {s}", b1=b1, n=len(pieces1), s=s)
            if s else tr(L, "{b1}: {n} windows, no shift", b1=b1, n=len(pieces1))]


GRID_SWATCH = "#9a9a9a"  # the patch grid's colour in the legend


def _backdrop(P: _Panels, ax: dict, first: bool) -> list[dict]:
    """The image, the patch grid, the padding veil and (once) the legend's swatches for padding
    and for pixels beyond the image."""
    exp, Hp, Wp, L = P.exp, P.Hp, P.Wp, P.lang
    H, W = exp.grid
    p = exp.patch_size
    name = tr(L, "patch grid ({p}×{p} px)", p=p)
    out = [image_dict(P.source, ax["xaxis"], ax["yaxis"]),
           dict(P.grid, name=name, showlegend=False, legendgroup="grid", **ax)]
    if first:  # the grid's white lines would be a white swatch on the legend's white: grey
        out.append(dict(type="scatter", x=[None], y=[None], mode="lines", name=name,
                        line=dict(color=GRID_SWATCH, width=2), legendgroup="grid", **ax))
    if P.padded:
        out.append(pad_overlay(P.pad, x0=p / 2, dx=p, xaxis=ax["xaxis"], yaxis=ax["yaxis"],
                               opacity=0.15))
        if first:
            out.append(dict(type="scatter", x=[None], y=[None], mode="markers",
                            marker=dict(symbol="square", size=12, color=PAD_HATCH),
                            name=tr(L, "zero padding ({n} tokens: {H}×{W} → {Hp}×{Wp})",
                                    n=Hp * Wp - H * W, H=H, W=W, Hp=Hp, Wp=Wp),
                            legendgroup="pad", **ax))
    w_img, h_img = exp.image.size
    if first and (H * p > h_img or W * p > w_img):
        out.append(dict(type="scatter", x=[None], y=[None], mode="markers",
                        marker=dict(symbol="square", size=12, color=OUTSIDE_FILL),
                        name=tr(L, "beyond the image (a patch merge padded an odd side)"),
                        legendgroup="outside", **ax))
    return out


def _shift_guides(P: _Panels, ax: dict) -> list[dict]:
    """On the shifted block's panel: block 0's grid dotted for comparison, and one tint per
    window that wraps around the edge, on all its pieces."""
    p = P.exp.patch_size
    pieces0, pieces = P.pieces
    xs, ys, _ = outline_xy(pieces0, p)
    out = [dict(type="scatter", x=xs, y=ys, mode="lines", hoverinfo="skip",
                line=dict(color=BLOCK_COLORS[0], width=max(1.0, P.lw / 2), dash="dot"),
                name=tr(P.lang, "{b0} windows (for comparison)",
                        b0=block_name(0, P.exp, P.lang)), legendgroup="b0cmp",
                **ax)]
    # one tint per wrapped window (cycling through the palette), on all its pieces
    wrapped = [w for w, pcs in enumerate(pieces) if len(pcs) > 1]
    by_tint: dict[int, list[int]] = {}
    for k, w in enumerate(wrapped):
        by_tint.setdefault(k % len(_WRAP_TINTS), []).append(w)
    for k, ws in by_tint.items():
        xs, ys, _ = outline_xy(pieces, p, ws)
        out.append(dict(type="scatter", x=xs, y=ys, mode="lines", fill="toself",
                        fillcolor=rgba(_WRAP_TINTS[k], 0.35), line=dict(width=0),
                        hoverinfo="skip", showlegend=k == 0, legendgroup="wrap",
                        name=tr(P.lang, "wrapped-around window: same tint + number = one "
                                "window"), **ax))
    return out


def _window_outlines(P: _Panels, block: int, ax: dict, first: bool) -> list[dict]:
    """A block's window outlines (numbered when few), the query's window thick, the query
    patch, and an invisible heatmap over the patches that carries the hover."""
    exp, tpl, lw = P.exp, P.tpl, P.lw
    p = exp.patch_size
    qr, qc = P.query
    pieces = P.pieces[block]
    color = BLOCK_COLORS[block]
    single = len(P.pieces[0]) == len(P.pieces[1]) == 1  # the query's window is the only outline
    xs, ys, ws = outline_xy(pieces, p)
    # one window: its outline is the query's window, drawn over it below; no legend entry
    # for a line nobody can see
    out = [dict(type="scatter", x=xs, y=ys, customdata=ws, mode="lines",
                hoverinfo="skip", line=dict(color=color, width=lw),
                showlegend=len(pieces) > 1,
                name=tr(P.lang, "{b} windows", b=block_name(block, exp, P.lang)),
                meta=f"windows block {block}", **ax)]
    if max(P.Hp // exp.traces[0].window_size, P.Wp // exp.traces[0].window_size) <= LABEL_MAX:
        cen = np.array([(w, (r0 + r1) * p / 2, (c0 + c1) * p / 2)
                        for w, pcs in enumerate(pieces) for r0, r1, c0, c1 in pcs])
        out.append(dict(type="scatter", x=cen[:, 2], y=cen[:, 1],
                        text=[str(int(w)) for w in cen[:, 0]], mode="text",
                        hoverinfo="skip",
                        textfont=dict(color="white", size=max(10, tpl.font_size - 2),
                                      shadow=HALO),
                        showlegend=False, name=f"window numbers block {block}", **ax))
    # the query's window, thick, then the query patch
    wq = int(P.w_of[block][qr, qc])
    xs, ys, _ = outline_xy(pieces, p, [wq])
    out.append(dict(type="scatter", x=xs, y=ys, mode="lines", hoverinfo="skip",
                    line=dict(color=QUERY_COLOR, width=lw * 1.5), legendgroup="qwin",
                    showlegend=first,
                    name=tr(P.lang, "the one window (the whole grid), in both blocks")
                    if single else tr(P.lang, "the query's window in each block"), **ax))
    out.append(dict(type="scatter", x=[(qc + 0.5) * p], y=[(qr + 0.5) * p], mode="markers",
                    marker=dict(symbol="square", size=max(8, tpl.font_size - 2),
                                color=QUERY_COLOR, line=dict(color="black", width=1.5)),
                    hoverinfo="skip", legendgroup="query", showlegend=first,
                    name=tr(P.lang, "query patch ({r}, {c})", r=qr, c=qc), **ax))
    out.append(dict(
        type="heatmap", z=P.w_of[block].astype(P.custom.dtype), x0=p / 2, dx=p, y0=p / 2, dy=p,
        customdata=P.custom, text=P.what, opacity=0, showscale=False,
        hovertemplate=tr(P.lang, "%{{text}} (%{{customdata[0]}}, %{{customdata[1]}})<br>window "
                         "%{{customdata[2]}} in {b0}<br>window %{{customdata[3]}} in {b1}<br>"
                         "region id %{{customdata[4]}}<extra></extra>",
                         b0=block_name(0, exp, P.lang), b1=block_name(1, exp, P.lang)),
        name=f"patches block {block}", **ax))
    return out


def figure(exp, sel) -> go.Figure:
    """Two panels, block 2p | block 2p+1, each window outlined (and numbered when the grid is
    small) on the image at the stage's patch size; padding tokens hatched; hover on any patch:
    token (r, c), its window in both blocks, its region id."""
    sel = sel.resolved(exp)
    H, W = exp.grid
    P = _panels(exp, sel)
    tpl, s, Hp, Wp = P.tpl, P.s, P.Hp, P.Wp
    M1 = exp.traces[1].window_size
    p = exp.patch_size
    L = sel.lang
    layout, refs = subplots_layout(rows=1, cols=2, horizontal_spacing=0.06,
                                   subplot_titles=_subplot_titles(exp, P))
    data: list[dict] = []
    for block in (0, 1):
        xr, yr = refs[(1, block + 1)]
        ax = dict(xaxis=xr, yaxis=yr)
        first = block == 0
        data += _backdrop(P, ax, first)
        if block == 1 and s:
            data += _shift_guides(P, ax)
        data += _window_outlines(P, block, ax, first)
        panel_axes(layout, (xr, yr), title_x=tr(L, "x (pixels)"),
                   title_y=tr(L, "y (pixels)") if first else "")
        layout[axis_key(xr)].update(range=[0, Wp * p], autorange=False)
        layout[axis_key(yr)].update(range=[Hp * p, 0], autorange=False)

    notes = []
    if M1 >= min(H, W):
        notes.append(tr(L, "<b>Why one window?</b> {why}.", why=one_window_text(H, W, M1, L)))
    if P.padded:
        notes.append(tr(L, "<b>Padding:</b> {what}.", what=padding_text(
            H, W, Hp, Wp, s, L, getattr(exp.traces[1], "roll_first", False))))
    title = _title(exp, s, M1, L) + "".join(sup_lines(n, tpl) for n in notes)
    style_layout(layout, sel.template, title=title,
                 height=tpl.height + 80 + title_height(title, tpl))
    top_title(layout, tpl, below=1)
    layout["legend"] = dict(orientation="h", yanchor="top", y=-0.15, x=0.0, xanchor="left")
    layout["margin"].update(b=int(tpl.font_size * 10))
    return fast_figure(data, layout)
