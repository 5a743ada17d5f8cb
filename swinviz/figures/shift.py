"""Cyclic shift: which way does it move?

The paper draws the window grid moved right and down by s; the code keeps the grid and rolls the
patches up and left by s (`torch.roll(x, (-s, -s))`). Both give the same groups of patches:

(a) the image in its original position with the 9 regions of concepts fact 4 carried back to where
    their patches really are, and the paper's window grid (moved right and down by s);
(b) the image after the roll (pixels rolled by s*p), the same region colours moved along, and the
    regular window grid the code partitions: a window at the right / bottom edge now holds
    patches of 2 or 4 regions, which the mask keeps apart.

The query's window of block 1 is outlined in both: one square in (b), up to four pieces in (a).
Region ids come from the trace (`traces[1].region_ids`, which live in the rolled frame), s and M
too.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..windows import padded_size
from ._core import (
    BLOCK_COLORS,
    HALO,
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
    region_colorscale,
    regions_in_place,
    rolled_source,
    style_layout,
    subplots_layout,
    sup_lines,
    title_height,
    top_title,
    window_pieces,
)
from ._core.words import tr


def grid_xy(H: int, W: int, M: int, offset: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Window grid lines every M tokens starting at `offset` (plus the border), in pixels,
    NaN-separated: the code's grid (offset 0) or the paper's grid moved by s (offset s)."""
    return _lines(H, W, {0, H, *range(offset % M, H, M)}, {0, W, *range(offset % M, W, M)}, p)


def cut_xy(win: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Window borders of a window map (Hp, Wp), as line coordinates in pixels: the rows and
    columns where the window changes, and the grid's edges (a window that wraps around the real
    grid of a block that rolls and then pads, `rolled_source`)."""
    Hp, Wp = win.shape
    rows = np.nonzero((win[1:] != win[:-1]).any(axis=1))[0] + 1
    cols = np.nonzero((win[:, 1:] != win[:, :-1]).any(axis=0))[0] + 1
    return _lines(Hp, Wp, {0, Hp, *rows.tolist()}, {0, Wp, *cols.tolist()}, p)


def _lines(H: int, W: int, rows: set, cols: set, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Full-width lines at `rows` and full-height lines at `cols` (token units) over an H x W
    grid, in pixels, NaN-separated, rows first, each in ascending order."""
    xs: list[float] = []
    ys: list[float] = []
    for r in sorted(rows):
        xs += [0, W * p, np.nan]
        ys += [r * p, r * p, np.nan]
    for c in sorted(cols):
        xs += [c * p, c * p, np.nan]
        ys += [0, H * p, np.nan]
    return np.array(xs, dtype=np.float32), np.array(ys, dtype=np.float32)


def region_boxes(ids: np.ndarray) -> dict[int, tuple[int, int, int, int]]:
    """{id: (r0, r1, c0, c1)} bounding box of every region present (each is a rectangle)."""
    boxes = {}
    for k in np.unique(ids):
        rr, cc = np.nonzero(ids == k)
        boxes[int(k)] = (int(rr.min()), int(rr.max()) + 1, int(cc.min()), int(cc.max()) + 1)
    return boxes


def _title(exp, H: int, W: int, M: int, s: int, Hp: int, Wp: int, tpl, lang: str = "en",
           rf: bool = False) -> str:
    """The figure title: the roll's direction and size, with the notes on one window and
    padding when they apply."""
    L = lang
    b0, b1 = block_name(0, exp, L), block_name(1, exp, L)
    head = (tr(L, "Cyclic shift of {b1} (stage {stage}): the 9 regions before and after the "
               "roll", b1=b1, stage=exp.stage) if s else
            tr(L, "Cyclic shift of {b1} (stage {stage}): none in this block", b1=b1,
               stage=exp.stage))
    pad = sup_lines(tr(L, "<b>Roll first</b> (timm's Swin V2): {what}; the padding stays at "
                       "the bottom and right, and windows wrap around the real grid.",
                       what=padding_text(H, W, Hp, Wp, s, L, roll_first=True)) if rf else
                    tr(L, "<b>Padding first:</b> {what}; the roll moves the padding along.",
                       what=padding_text(H, W, Hp, Wp, s, L)) if s else
                    tr(L, "<b>Padding first:</b> {what}.", what=padding_text(H, W, Hp, Wp, s, L)),
                    tpl) if (Hp, Wp) != (H, W) else ""
    if s == 0:
        if M >= min(H, W):
            return (head + tr(L, "<br><sup>{H}×{W} tokens, M = {M}, s = 0 — no shift: one window "
                              "covers the whole grid.</sup>", H=H, W=W, M=M)
                    + sup_lines(tr(L, "<b>Why?</b> {why}.", why=one_window_text(H, W, M, L)), tpl)
                    + pad)
        return (head + tr(L, "<br><sup>{H}×{W} tokens, M = {M}, s = 0: no shift (s = 0): {b1} "
                          "uses the same windows as {b0}</sup>", H=H, W=W, M=M, b0=b0, b1=b1)
                + pad)
    return (head + sup_lines(tr(
        L, "The paper moves the window grid right and down by s = {s}; the code rolls the patches "
        "up and left by {s} and keeps the grid. Same colour = same region id. Inside a window "
        "only patches of one region attend to each other: both pictures make the same groups.",
        s=s), tpl) + pad)


def _panel(panel: tuple, ax: dict, *, exp, tpl, lw: float, M: int, Hp: int, Wp: int,
           one: bool, padded: bool, query: tuple[int, int], wq: int, grid: dict,
           first: bool, lang: str = "en", cuts: tuple | None = None) -> list[dict]:
    """One panel's traces: the image, its region colours (hover: token, region, window), the
    padding veil, the patch grid, block 1's window grid (white halo under it), the region
    numbers, the query's window and the query patch. `panel` is (tag, image source, region ids,
    hover data, hover text, padding cells, grid offset, query position, query window outline,
    hover template) of the original (a) or the rolled (b) picture."""
    tag, source, ids, custom, text, pad_at, offset, (pr, pc), (qx, qy), hover = panel
    L = lang
    p = exp.patch_size
    qr, qc = query
    xr, yr = ax["xaxis"], ax["yaxis"]
    out = [image_dict(source, xr, yr, name=f"image ({tag})"),
           dict(type="heatmap", z=ids.astype(np.uint8), x0=p / 2, dx=p, y0=p / 2, dy=p,
                customdata=custom, text=text, colorscale=region_colorscale(), zmin=-0.5,
                zmax=8.5, opacity=0.42, showscale=False, hovertemplate=hover,
                name=f"regions ({tag})", **ax)]
    if padded:
        out.append(pad_overlay(pad_at, x0=p / 2, dx=p, xaxis=xr, yaxis=yr, opacity=0.25,
                               name=tr(L, "zero padding ({tag})", tag=tag)))
    out.append(dict(grid, name=tr(L, "patch grid ({p}×{p} px)", p=p), showlegend=False, **ax))
    # the window grid; in (a) of a block that rolls and then pads, its own borders (`cuts`)
    gx, gy = cuts if cuts is not None and tag == "a" else grid_xy(Hp, Wp, M, offset, p)
    s = exp.traces[1].shift_size
    out.append(dict(type="scatter", x=gx, y=gy, mode="lines", hoverinfo="skip",
                    line=dict(color="white", width=lw * 1.8), showlegend=False,
                    name="window grid halo", **ax))
    out.append(dict(type="scatter", x=gx, y=gy, mode="lines", hoverinfo="skip",
                    line=dict(color=BLOCK_COLORS[1], width=lw),
                    name=tr(L, "{b1} window grid (paper: moved by s; code: regular)",
                            b1=block_name(1, exp, L)) if s else
                    tr(L, "{b1} window grid (no shift)", b1=block_name(1, exp, L)),
                    legendgroup="grid", showlegend=first and not one, **ax))
    boxes = region_boxes(ids)
    size: float | list = tpl.font_size + 4
    if tpl.name == "narrow":  # a region's number no bigger than its strip: on a phone a
        # strip s tokens thin is about 12 px, and the numbers of two strips ran together
        cell = (tpl.width - 90) / Wp  # px a token, the panel as wide as a phone's column
        size = [int(min(tpl.font_size + 4, max(8, 0.7 * cell * min(b[1] - b[0], b[3] - b[2]))))
                for b in boxes.values()]
    out.append(dict(
        type="scatter", mode="text", hoverinfo="skip", showlegend=False,
        x=[(b[2] + b[3]) * p / 2 for b in boxes.values()],
        y=[(b[0] + b[1]) * p / 2 for b in boxes.values()],
        text=[str(k) for k in boxes],
        textfont=dict(color="white", size=size, shadow=HALO),
        name=f"region ids ({tag})", **ax))
    out.append(dict(type="scatter", x=qx, y=qy, mode="lines", hoverinfo="skip",
                    line=dict(color=QUERY_COLOR, width=lw * 1.5), legendgroup="qwin",
                    showlegend=first,
                    name=tr(L, "the one window of {b1} (the whole grid)",
                            b1=block_name(1, exp, L)) if one
                    else tr(L, "the query's window in {b1} (window {w})",
                            b1=block_name(1, exp, L), w=wq), **ax))
    out.append(dict(type="scatter", x=[(pc + 0.5) * p], y=[(pr + 0.5) * p], mode="markers",
                    marker=dict(symbol="square", size=max(8, tpl.font_size - 2),
                                color=QUERY_COLOR, line=dict(color="black", width=1.5)),
                    hoverinfo="skip", legendgroup="query", showlegend=first,
                    name=tr(L, "query patch ({r}, {c})", r=qr, c=qc), **ax))
    return out


def figure(exp, sel) -> go.Figure:
    """Two panels: the image in place with the 9 regions and the paper's window grid moved
    right and down by s, and the image rolled up and left by s with the regular grid the code
    cuts; the query's block-1 window outlined in both."""
    sel = sel.resolved(exp)
    H, W = exp.grid
    p = exp.patch_size
    t1 = exp.traces[1]
    M, s = t1.window_size, t1.shift_size
    Hp, Wp = padded_size(H, W, M)  # V1 pads, then rolls the padded map; timm's V2 the reverse
    padded = (Hp, Wp) != (H, W)
    rf = padded and bool(s) and getattr(t1, "roll_first", False)
    tpl = get_template(sel.template)
    lw = line_width(tpl, max(Hp // M, Wp // M))
    qr, qc = sel.query
    one = Hp == M and Wp == M  # one window: the grid is its outline, the query's window below

    ids_rolled = t1.region_ids.numpy()  # the trace's ids: position (i, j) of the ROLLED map
    ids_orig = regions_in_place(ids_rolled, H, W, s, rf)  # carried back to each patch
    w1 = padded_windows(H, W, M, s, rf)  # block-1 window of every token of the padded grid
    nWc = Wp // M
    rr, cc = np.indices((Hp, Wp))
    # rolled position (i, j) holds token ((i + s) % Hp, (j + s) % Wp) of the padded grid (roll
    # first: ((i + s) % H, (j + s) % W) of the real grid, the padding staying in place)
    orr, occ = rolled_source(H, W, Hp, Wp, s, rf)
    win_rolled = (rr // M) * nWc + cc // M
    pad = pad_cells(H, W, Hp, Wp)
    pad_rolled = pad[orr, occ]
    dt = np.uint8 if max(Hp, Wp, w1.max() + 1) <= 256 else np.int32
    custom_a = np.stack([rr, cc, ids_orig, w1], axis=-1).astype(dt)
    custom_b = np.stack([rr, cc, orr, occ, ids_rolled, win_rolled], axis=-1).astype(dt)
    L = sel.lang
    zp = tr(L, "zero padding")
    text_a = np.where(pad, zp, "token").astype(object)
    text_b = np.where(pad_rolled, zp, "token").astype(object)

    if rf:
        code_b = tr(L, "(b) the code (timm's Swin V2): torch.roll(x, ({ms}, {ms})), then pad "
                    "to {Hp}×{Wp}:<br>patches moved up and left by {s}, regular windows",
                    Hp=Hp, Wp=Wp, ms=-s, s=s)
    elif padded:
        code_b = tr(L, "(b) the code: pad to {Hp}×{Wp}, then torch.roll(x, ({ms}, {ms})):<br>"
                    "patches moved up and left by {s}, regular windows", Hp=Hp, Wp=Wp, ms=-s, s=s)
    else:
        code_b = tr(L, "(b) the code: torch.roll(x, ({ms}, {ms})):<br>patches moved up and left "
                    "by {s}, regular windows", ms=-s, s=s)
    layout, refs = subplots_layout(
        rows=1, cols=2, horizontal_spacing=0.07,
        subplot_titles=[
            tr(L, "(a) original position, the paper's view:<br>window grid moved right and down "
               "by {s}", s=s),
            code_b,
        ] if s else [tr(L, "(a) original position"),
                     tr(L, "(b) no roll (s = 0): the same picture")
                     + (tr(L, "<br>(padded to {Hp}×{Wp})", Hp=Hp, Wp=Wp) if padded else "")],
    )
    grid = patch_grid(Hp * p, Wp * p, p, 0.5 if Hp <= 64 else 0.3)
    wq = int(w1[qr, qc])
    wr, wc = divmod(wq, nWc)
    data: list[dict] = []
    panels = (
        ("a", canvas(exp, Hp, Wp), ids_orig, custom_a, text_a, pad, s, (qr, qc),
         outline_xy(window_pieces(H, W, M, s, rf), p, [wq])[:2],
         tr(L, "%{{text}} (%{{customdata[0]}}, %{{customdata[1]}})<br>region id "
            "%{{customdata[2]}}<br>window %{{customdata[3]}} of {b1}<extra>original "
            "position</extra>", b1=block_name(1, exp, L))),
        ("b", canvas(exp, Hp, Wp, roll=s, roll_first=rf), ids_rolled, custom_b, text_b,
         pad_rolled, 0, ((qr - s) % (H if rf else Hp), (qc - s) % (W if rf else Wp)),
         (np.array([wc * M, (wc + 1) * M, (wc + 1) * M, wc * M, wc * M], dtype=np.float32) * p,
          np.array([wr * M, wr * M, (wr + 1) * M, (wr + 1) * M, wr * M], dtype=np.float32) * p),
         tr(L, "rolled position (%{{customdata[0]}}, %{{customdata[1]}})<br>holds %{{text}} "
            "(%{{customdata[2]}}, %{{customdata[3]}})<br>region id %{{customdata[4]}}<br>"
            "window %{{customdata[5]}} of {b1}<extra>after the roll</extra>",
            b1=block_name(1, exp, L))),
    )
    ctx = dict(exp=exp, tpl=tpl, lw=lw, M=M, Hp=Hp, Wp=Wp, one=one, padded=padded,
               query=(qr, qc), wq=wq, grid=grid, lang=L, cuts=cut_xy(w1, p) if rf else None)
    for col, panel in enumerate(panels, start=1):
        xr, yr = refs[(1, col)]
        first = col == 1
        data += _panel(panel, dict(xaxis=xr, yaxis=yr), first=first, **ctx)
        panel_axes(layout, (xr, yr), title_x=tr(L, "x (pixels)"),
                   title_y=tr(L, "y (pixels)") if first else "")
        layout[axis_key(xr)].update(range=[0, Wp * p], autorange=False)
        layout[axis_key(yr)].update(range=[Hp * p, 0], autorange=False)
    if padded:
        data.append(dict(type="scatter", x=[None], y=[None], mode="markers",
                         marker=dict(symbol="square", size=12, color=PAD_HATCH),
                         name=tr(L, "zero padding ({n} tokens), added after the roll"
                                 if rf else "zero padding ({n} tokens), rolled with the rest",
                                 n=Hp * Wp - H * W),
                         xaxis=refs[(1, 1)][0], yaxis=refs[(1, 1)][1]))

    title = _title(exp, H, W, M, s, Hp, Wp, tpl, L, rf)
    style_layout(layout, sel.template, title=title,
                 height=tpl.height + 80 + title_height(title, tpl))
    top_title(layout, tpl, below=2)
    layout["legend"] = dict(orientation="h", yanchor="top", y=-0.15, x=0.0, xanchor="left")
    layout["margin"].update(b=int(tpl.font_size * 9))
    return fast_figure(data, layout)
