"""SPEC 3.2 Cyclic shift: which way does it move?

The paper draws the window grid moved right and down by s; the code keeps the grid and rolls the
patches up and left by s (`torch.roll(x, (-s, -s))`). Both give the same groups of patches:

(a) the image in its original position with the 9 regions of SPEC fact 4 carried back to where
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

from .style import (
    BLOCK_COLORS,
    QUERY_COLOR,
    axis_key,
    block_name,
    fast_figure,
    get_template,
    image_dict,
    image_source,
    panel_axes,
    region_colorscale,
    style_layout,
    subplots_layout,
    top_title,
)
from .windows import line_width, outline_xy, patch_grid, token_windows, window_pieces


def grid_xy(H: int, W: int, M: int, offset: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Window grid lines every M tokens starting at `offset` (plus the border), in pixels,
    NaN-separated: the code's grid (offset 0) or the paper's grid moved by s (offset s)."""
    rows = sorted({0, H, *range(offset % M, H, M)})
    cols = sorted({0, W, *range(offset % M, W, M)})
    xs: list[float] = []
    ys: list[float] = []
    for r in rows:
        xs += [0, W * p, np.nan]
        ys += [r * p, r * p, np.nan]
    for c in cols:
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


def _title(H: int, W: int, M: int, s: int) -> str:
    head = f"Cyclic shift of {block_name(1)}: the 9 regions before and after the roll"
    if s == 0:
        why = ("no shift: one window covers the whole grid" if M >= min(H, W)
               else "no shift (s = 0): block 1 uses the same windows as block 0")
        return f"{head}<br><sup>{H}×{W} tokens, M = {M}, s = 0: {why}</sup>"
    return (f"{head}<br><sup>The paper moves the window grid right and down by s = {s}; the code "
            f"rolls the patches up and left by {s} and keeps the grid.</sup><br><sup>Same colour "
            "= same region id. Inside a window only patches of one region attend to each "
            "other:</sup><br><sup>both pictures make the same groups.</sup>")


def figure(exp, sel) -> go.Figure:
    sel = sel.resolved(exp)
    H, W = exp.grid
    p = exp.patch_size
    t1 = exp.traces[1]
    M, s = t1.window_size, t1.shift_size
    tpl = get_template(sel.template)
    lw = line_width(tpl, max(H // M, W // M))
    qr, qc = sel.query

    ids_rolled = t1.region_ids.numpy()  # the trace's ids: position (i, j) of the ROLLED map
    ids_orig = np.roll(ids_rolled, shift=(s, s), axis=(0, 1))  # carried back to each patch
    w1 = token_windows(H, W, M, s)  # block-1 window of every original token
    nWc = W // M
    rr, cc = np.indices((H, W))
    # rolled position (i, j) holds original token ((i + s) % H, (j + s) % W)
    orr, occ = (rr + s) % H, (cc + s) % W
    win_rolled = (rr // M) * nWc + cc // M
    dt = np.uint8 if max(H, W, w1.max() + 1) <= 256 else np.int32
    custom_a = np.stack([rr, cc, ids_orig, w1], axis=-1).astype(dt)
    custom_b = np.stack([rr, cc, orr, occ, ids_rolled, win_rolled], axis=-1).astype(dt)

    layout, refs = subplots_layout(
        rows=1, cols=2, horizontal_spacing=0.07,
        subplot_titles=[
            f"(a) original position, the paper's view:<br>window grid moved right and down by {s}",
            f"(b) after torch.roll(x, ({-s}, {-s})), the code:<br>patches moved up and left by "
            f"{s}, regular windows",
        ] if s else ["(a) original position", "(b) no roll (s = 0): the same picture"],
    )
    grid = patch_grid(H * p, W * p, p, 0.5 if H <= 64 else 0.3)
    wq = int(w1[qr, qc])
    wr, wc = divmod(wq, nWc)
    data: list[dict] = []
    panels = (
        ("a", image_source(exp.image), ids_orig, custom_a, s, (qr, qc),
         outline_xy(window_pieces(H, W, M, s), p, [wq])[:2],
         "token (%{customdata[0]}, %{customdata[1]})<br>region id %{customdata[2]}<br>"
         "window %{customdata[3]} of block 1<extra>original position</extra>"),
        ("b", image_source(exp.image, roll=(-s * p, -s * p)), ids_rolled, custom_b, 0,
         ((qr - s) % H, (qc - s) % W),
         (np.array([wc * M, (wc + 1) * M, (wc + 1) * M, wc * M, wc * M], dtype=np.float32) * p,
          np.array([wr * M, wr * M, (wr + 1) * M, (wr + 1) * M, wr * M], dtype=np.float32) * p),
         "rolled position (%{customdata[0]}, %{customdata[1]})<br>holds token "
         "(%{customdata[2]}, %{customdata[3]})<br>region id %{customdata[4]}<br>"
         "window %{customdata[5]} of block 1<extra>after the roll</extra>"),
    )
    for col, (tag, source, ids, custom, offset, (pr, pc), (qx, qy), hover) in enumerate(
        panels, start=1
    ):
        xr, yr = refs[(1, col)]
        ax = dict(xaxis=xr, yaxis=yr)
        first = col == 1
        data.append(image_dict(source, xr, yr, name=f"image ({tag})"))
        data.append(dict(
            type="heatmap", z=ids.astype(np.uint8), x0=p / 2, dx=p, y0=p / 2, dy=p,
            customdata=custom, colorscale=region_colorscale(), zmin=-0.5, zmax=8.5,
            opacity=0.42, showscale=False, hovertemplate=hover, name=f"regions ({tag})", **ax))
        data.append(dict(grid, name=f"patch grid ({p}×{p} px)", showlegend=False, **ax))
        gx, gy = grid_xy(H, W, M, offset, p)
        data.append(dict(type="scatter", x=gx, y=gy, mode="lines", hoverinfo="skip",
                         line=dict(color="white", width=lw * 1.8), showlegend=False,
                         name="window grid halo", **ax))
        data.append(dict(type="scatter", x=gx, y=gy, mode="lines", hoverinfo="skip",
                         line=dict(color=BLOCK_COLORS[1], width=lw),
                         name="block 1 window grid (paper: moved by s; code: regular)",
                         legendgroup="grid", showlegend=first, **ax))
        boxes = region_boxes(ids)
        data.append(dict(
            type="scatter", mode="text", hoverinfo="skip", showlegend=False,
            x=[(b[2] + b[3]) * p / 2 for b in boxes.values()],
            y=[(b[0] + b[1]) * p / 2 for b in boxes.values()],
            text=[str(k) for k in boxes],
            textfont=dict(color="white", size=tpl.font_size + 4, shadow="0px 0px 4px black"),
            name=f"region ids ({tag})", **ax))
        data.append(dict(type="scatter", x=qx, y=qy, mode="lines", hoverinfo="skip",
                         line=dict(color=QUERY_COLOR, width=lw * 1.5), legendgroup="qwin",
                         showlegend=first, name=f"the query's window in block 1 (window {wq})",
                         **ax))
        data.append(dict(type="scatter", x=[(pc + 0.5) * p], y=[(pr + 0.5) * p], mode="markers",
                         marker=dict(symbol="square", size=max(8, tpl.font_size - 2),
                                     color=QUERY_COLOR, line=dict(color="black", width=1.5)),
                         hoverinfo="skip", legendgroup="query", showlegend=first,
                         name=f"query patch ({qr}, {qc})", **ax))
        panel_axes(layout, (xr, yr), title_x="x (pixels)", title_y="y (pixels)" if first else "")
        layout[axis_key(xr)].update(range=[0, W * p], autorange=False)
        layout[axis_key(yr)].update(range=[H * p, 0], autorange=False)

    style_layout(layout, sel.template, title=_title(H, W, M, s), height=tpl.height + 140)
    top_title(layout, tpl, below=2)
    layout["legend"] = dict(orientation="h", yanchor="top", y=-0.15, x=0.0, xanchor="left")
    layout["margin"].update(b=int(tpl.font_size * 9))
    return fast_figure(data, layout)
