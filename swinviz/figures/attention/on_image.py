"""Panel (a) of the attention figure: where the query (or a query set, summed) attends in
both blocks of the pair, on the image, the shift undone (see the package's docstring)."""

from __future__ import annotations

import numpy as np

from .._core import (
    BLOCK_COLORS,
    QUERY_COLOR,
    SEQUENTIAL,
    axis_key,
    block_name,
    canvas,
    cells_outline,
    image_dict,
)
from .._core import coords as _coords
from .._core.words import tr as say
from . import click
from .maths import _attention_bar, _background, _span, set_on_grid

_OVERLAY_OPACITY = 0.72


def panel_a(exp, sel, g, layout, refs, data) -> None:
    """(a) Both blocks on the image, the shift undone: the query's attention at every key's
    real token, its window outlined, masked keys crossed out."""
    t, r, c, p, N, L = g.t, g.r, g.c, g.p, g.N, g.L
    H, W, padded, geo, cols = g.H, g.W, g.padded, g.geo, g.cols
    # ---- (a) both blocks on the image, shift undone ----------------------------------------
    grids = [set_on_grid(exp, b, sel.head, g.queries) for b in (0, 1)]
    pmax = float(max(np.nanmax(g) for g in grids)) or 1.0
    background = (_background(exp) if not padded else
                  image_dict(canvas(exp, H, W)))
    for b in (0, 1):
        xr, yr = refs[(1, 1 + b * (cols // 2))]
        ax = dict(xaxis=xr, yaxis=yr)
        trace_b = exp.traces[b]
        order, wot, regions = geo[b]
        w, k = (int(v) for v in wot[r, c])
        grid = grids[b]
        # the windows of the set's queries, each with its queries' slots (one: the query's)
        slots_of: dict[int, list[int]] = {}
        for q in g.queries:
            wq_, kq_ = (int(v) for v in wot[q])
            slots_of.setdefault(wq_, []).append(kq_)
        data.append(dict(background, xaxis=xr, yaxis=yr))
        cy, ly = _span(layout, yr)
        data.append(dict(
            type="heatmap", z=grid, x0=p / 2, dx=p, y0=p / 2, dy=p, colorscale=SEQUENTIAL,
            zmin=0, zmax=pmax, opacity=_OVERLAY_OPACITY, hoverinfo="skip", showscale=b == 1,
            colorbar=_attention_bar(cy, ly, L), name=f"attention block {b}", **ax))
        xs, ys = cells_outline(~np.isnan(grid), cell=p)
        data.append(dict(type="scatter", x=_coords(xs), y=_coords(ys), mode="lines",
                         hoverinfo="skip",
                         line=dict(color=BLOCK_COLORS[b], width=t.line_width),
                         name=f"window {w} of block {b}" if not sel.added else
                         f"windows of block {b}", showlegend=False, **ax))
        wins = list(slots_of)
        keys = order[wins].ravel()  # flat original positions of their keys, slot order
        kr, kc = np.divmod(keys, W)
        probs = grid.ravel()[keys]
        # a key is crossed out when every query of the set in its window has it masked
        masked = np.concatenate([
            (trace_b.mask[w_, ks].numpy() < 0).all(axis=0) if trace_b.mask is not None
            else np.zeros(N, bool) for w_, ks in slots_of.items()])
        if masked.any():
            data.append(dict(
                type="scatter", x=(kc[masked] + 0.5) * p, y=(kr[masked] + 0.5) * p,
                mode="markers", hoverinfo="skip", showlegend=False, name="masked keys",
                marker=dict(symbol="x-thin", size=max(5, int(360 / max(H, W))),
                            line=dict(color="white", width=1.5)), **ax))
        cd = np.stack([kr, kc, np.repeat(wins, N), np.tile(np.arange(N), len(wins)),
                       regions[wins].ravel(), probs, masked.astype(float) * -100],
                      axis=-1).astype(np.float32)
        data.append(dict(
            type="scatter", x=(kc + 0.5) * p, y=(kr + 0.5) * p, mode="markers",
            marker=dict(size=max(6, int(400 / max(H, W))), color="rgba(0,0,0,0)"),
            customdata=cd, showlegend=False, name=f"keys block {b}",
            hovertemplate=say(L, "{b}<br>key token (%{{customdata[0]}}, %{{customdata[1]}})<br>"
                              "window %{{customdata[2]}}, slot %{{customdata[3]}}<br>region id "
                              "%{{customdata[4]}}<br>mask %{{customdata[6]}}<br>p = "
                              "%{{customdata[5]:.3g}}<extra></extra>",
                              b=block_name(b, exp, L)), **ax))
        data.append(dict(type="scatter", x=[(c + 0.5) * p], y=[(r + 0.5) * p], mode="markers",
                         marker=dict(symbol="star", size=t.font_size + 3, color=QUERY_COLOR,
                                     line=dict(color="black", width=1.5)),
                         hovertext=[click.query_text(L, b).format(row=r, col=c, **{
                             f"window{b}": w, f"slot{b}": k})],
                         hoverinfo="text", showlegend=False, name="query", **ax))
        if sel.added:  # the patches added to the query: smaller stars
            ar, ac = np.array(sel.added).T
            data.append(dict(
                type="scatter", x=(ac + 0.5) * p, y=(ar + 0.5) * p, mode="markers",
                marker=dict(symbol="star", size=t.font_size - 1, color=QUERY_COLOR,
                            line=dict(color="black", width=1)),
                hovertext=[say(L, "added to the query: token ({r}, {c})", r=int(r_), c=int(c_))
                           for r_, c_ in sel.added],
                hoverinfo="text", showlegend=False, name="added queries", **ax))
        layout[axis_key(xr)].update(title=dict(text=say(L, "x (pixels)")), range=[0, W * p],
                                    showgrid=False, zeroline=False, constrain="domain")
        layout[axis_key(yr)].update(title=dict(text=say(L, "y (pixels)") if b == 0 else ""),
                                    range=[H * p, 0], showgrid=False, zeroline=False,
                                    constrain="domain", scaleanchor=xr)
