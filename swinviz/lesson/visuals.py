"""The picture of each lesson step, drawn from one exploration's tensors, at slide scale: one or
two panels on axes x / y (and x2 / y2) over the paper's [0, 1] square, every text at least
MIN_PX, no numbers in cells too small to hold them. `swinviz.lesson.slides` places the picture
on a 16:9 slide; the page's tour shows it alone (`visual_figure`).

Token coordinates throughout: cell (r, c) of a stage's grid covers [c, c+1) x [r, r+1).
"""

from __future__ import annotations

import numpy as np

from ..figures._core.geometry import pad_cells
from ..figures._core.images import pad_overlay
from ..figures._core.palette import (
    BLOCK_COLORS,
    DIVERGING,
    MASK_SCALE,
    QUERY_COLOR,
    REGION_COLORS,
    SEQUENTIAL,
    region_colorscale,
)
from ..figures._core.text import si
from .canvas import (
    ONE,
    TWO,
    Ctx,
    axes_names,
    bar_beside,
    bar_under,
    crop,
    frame,
    grid_axes,
    heat,
    image_trace,
    numbers_fit,
    query_box,
    window_lines,
)
from .reading import query_weights, reach, region_map, window_ids
from .table import table as _table
from .theme import FONT, LINE_HEIGHT, MIN_PX, PAGE_FONT_SCALE

PANEL_PX = 400  # about how wide one of two side-by-side panels is on a slide
SINGLE_PX = 820


# ------------------------------------------------------------------------------ the visuals

def title(c: Ctx, layout: dict) -> list:
    n = c.n
    axes = grid_axes(layout, c, 1, ONE[0], (0, n.H), (0, n.W))
    data = [image_trace(c.exp, n.H, n.W, axes)]
    if n.H <= 64:
        data.append(window_lines(n.H, n.W, 1, 0, axes, "rgba(255,255,255,0.45)", 1.0))
    return data


def patches(c: Ctx, layout: dict) -> list:
    data = title(c, layout)
    r, q = c.query
    data += query_box(r, q, 1, 1, axes_names(1), width=5.0)
    return data


def cost(c: Ctx, layout: dict) -> list:
    """Ω(MSA) against Ω(W-MSA) at this stage, each bar split into 4hwC² and the rest."""
    n = c.n
    proj = 4 * n.hw * n.C * n.C / 1e9
    g = (n.msa / 1e9, n.wmsa / 1e9)
    layout["xaxis"] = dict(domain=[0, 1], range=[0, g[0] * 1.35], showgrid=False,
                           showticklabels=False, zeroline=False)
    layout["yaxis"] = dict(domain=[0.05, 0.8], range=[1.6, -0.9], visible=False)
    layout["barmode"] = "stack"
    layout["showlegend"] = True
    layout["legend"] = dict(orientation="h", x=0, y=0.9, xanchor="left", yanchor="bottom",
                            font=dict(size=MIN_PX), traceorder="normal")  # as the bars read
    notes = layout.setdefault("annotations", [])
    for k, name in enumerate((c.ui("global"), c.ui("windowed"))):
        notes.append(dict(text=c.ui("labelled", what=f"<b>{name}</b>", value=si(g[k] * 1e9)),
                          x=0, y=k - 0.3, xref="x",
                          yref="y", xanchor="left", yanchor="bottom", showarrow=False,
                          font=dict(size=MIN_PX + 4, color=c.theme.ink)))
    return [dict(type="bar", orientation="h", y=[0, 1], x=[proj, proj], width=0.4,
                 name=c.ui("proj_part"), marker=dict(color=BLOCK_COLORS[0])),
            dict(type="bar", orientation="h", y=[0, 1], x=[g[0] - proj, g[1] - proj],
                 width=0.4, name=c.ui("attn_part"), marker=dict(color=BLOCK_COLORS[1]))]


def windows(c: Ctx, layout: dict) -> list:
    n = c.n
    axes = grid_axes(layout, c, 1, ONE[0], (0, n.Hp), (0, n.Wp),
                      c.ui("block0", b=n.b0))
    r, q = c.query
    wr, wc = (r // n.M) * n.M, (q // n.M) * n.M
    return [image_trace(c.exp, n.Hp, n.Wp, axes),
            window_lines(n.Hp, n.Wp, n.M, 0, axes, BLOCK_COLORS[0], 3.0),
            *query_box(wr, wc, n.M, n.M, axes, QUERY_COLOR, 5.0),
            *query_box(r, q, 1, 1, axes, QUERY_COLOR, 3.0)]


def block(c: Ctx, layout: dict) -> list:
    """The pair as two rows of boxes: LN -> attention -> + -> LN -> MLP -> +."""
    n, t = c.n, c.theme
    layout["xaxis"] = dict(domain=[0, 1], range=[0, 10.5], visible=False)
    layout["yaxis"] = dict(domain=[0, 0.92], range=[6, 0], visible=False)
    shapes, notes = [], []
    second = (c.ui("block1_shift", b=n.b1, s=n.s) if n.s else c.ui("block1_plain", b=n.b1))
    rows = ((0.6, c.ui("block0", b=n.b0), "W-MSA", BLOCK_COLORS[0]),
            (3.4, second, "SW-MSA" if n.s else "W-MSA", BLOCK_COLORS[1 if n.s else 0]))
    # "LayerNorm" with room either side of it (in 1.7 it touched its box's sides)
    boxes = ((0.1, 2.2, c.ui("ln")), (2.6, 4.5, None), (4.9, 5.5, c.ui("add")),
             (5.9, 8.0, c.ui("ln")), (8.4, 9.6, c.ui("mlp")), (9.9, 10.5, c.ui("add")))
    for y, label, attn, color in rows:
        notes.append(dict(text=f"<b>{label}</b>", x=0.1, y=y, xanchor="left", yanchor="bottom",
                          showarrow=False, font=dict(size=MIN_PX + 2, color=t.ink)))
        for x0, x1, text in boxes:
            fill = color if text is None else t.panel
            shapes.append(dict(type="rect", x0=x0, x1=x1, y0=y + 0.3, y1=y + 1.6,
                               line=dict(color=t.line, width=2), fillcolor=fill))
            notes.append(dict(text=text or attn, x=(x0 + x1) / 2, y=y + 0.95, showarrow=False,
                              font=dict(size=MIN_PX + 2, color="#ffffff" if text is None
                                        else t.ink)))
        for (_, a1, _), (b0, _, _) in zip(boxes, boxes[1:], strict=False):
            notes.append(dict(x=b0, y=y + 0.95, ax=a1, ay=y + 0.95, xref="x", yref="y",
                              axref="x", ayref="y", text="", showarrow=True, arrowhead=2,
                              arrowwidth=2, arrowcolor=t.ink))
    layout["shapes"] = shapes
    layout.setdefault("annotations", []).extend(notes)
    return []


def _region_panel(c: Ctx, layout: dict, i: int, dom, rolled: bool, title: str,
                  query: tuple[int, int] | None = None) -> list:
    n = c.n
    axes = grid_axes(layout, c, i, dom, (0, n.Hp), (0, n.Wp), title)
    data = [image_trace(c.exp, n.Hp, n.Wp, axes, roll=n.s if rolled else 0),
            heat(region_map(c.exp, rolled), axes, colorscale=region_colorscale(),
                  zmin=-0.5, zmax=8.5, opacity=0.45)]
    data.append(window_lines(n.Hp, n.Wp, n.M, 0 if rolled else n.s, axes, c.theme.line, 2.5))
    if query is not None:
        r, q = query
        if rolled:
            r, q = (r - n.s) % n.Hp, (q - n.s) % n.Wp
        data += query_box(r, q, 1, 1, axes, QUERY_COLOR, 5.0)
    return data


def shift(c: Ctx, layout: dict) -> list:
    n = c.n
    if n.s == 0:
        return windows(c, layout)
    return (_region_panel(c, layout, 1, TWO[0], False, c.ui("paper_view", s=n.s))
            + _region_panel(c, layout, 2, TWO[1], True, c.ui("code_view", s=n.s)))


def rollback(c: Ctx, layout: dict) -> list:
    n = c.n
    if n.s == 0:
        return windows(c, layout)
    return (_region_panel(c, layout, 1, TWO[0], True, c.ui("rolled"), c.query)
            + _region_panel(c, layout, 2, TWO[1], False, c.ui("back"), c.query))


def regions(c: Ctx, layout: dict) -> list:
    """The rolled map's region ids, numbered: the whole grid when its cells hold a number,
    else its bottom-right corner (the last two windows a side, where the ids change)."""
    n = c.n
    ids = region_map(c.exp, rolled=True)
    side = n.Hp if numbers_fit(n.Hp, SINGLE_PX, 1) else min(n.Hp, 2 * n.M)
    r0, c0 = n.Hp - side, n.Wp - min(n.Wp, side)
    sub = ids[r0:, c0:]
    what = (c.ui("region_corner", r0=r0, r1=n.Hp - 1, c0=c0, c1=n.Wp - 1) if r0 or c0
            else c.ui("region"))
    axes = grid_axes(layout, c, 1, ONE[0], (r0, n.Hp), (c0, n.Wp), what)
    text = sub if numbers_fit(sub.shape[0], SINGLE_PX, 1) else None
    data = [heat(sub, axes, colorscale=region_colorscale(), zmin=-0.5, zmax=8.5, r0=r0, c0=c0,
                  text=text)]
    if n.padded:  # the padding's zero tokens get region ids too: veiled where the roll took them
        pad = pad_cells(n.H, n.W, n.Hp, n.Wp)
        if not getattr(c.exp.traces[1], "roll_first", False):  # padded, then rolled (V1)
            pad = np.roll(pad, (-n.s, -n.s), axis=(0, 1))
        data.append(pad_overlay(pad[r0:, c0:], x0=c0 + 0.5, dx=1, xaxis=axes[0],
                                yaxis=axes[1], opacity=0.6,  # (a square corner: r0 = c0)
                                hover="zero padding<extra></extra>"))
    lines = window_lines(n.Hp, n.Wp, n.M, 0, axes, c.theme.line, 4.0)
    return data + [lines]


def mask(c: Ctx, layout: dict) -> list:
    """The bottom-right window of the rolled (padded) map, where the wrapped-around pieces
    meet (on a padded grid: the image's own corner may sit in an interior window): its
    region ids (M x M) and its mask (N x N)."""
    n, exp = c.n, c.exp
    t = exp.traces[1]
    w = (n.Hp // n.M) * (n.Wp // n.M) - 1
    ids = t.region_ids.numpy()
    nWc = n.Wp // n.M
    wr, wc = (w // nWc) * n.M, (w % nWc) * n.M
    sub = ids[wr:wr + n.M, wc:wc + n.M]
    m = (t.mask[w].numpy() if t.mask is not None else np.zeros((n.N, n.N)))
    a1 = grid_axes(layout, c, 1, ((0.0, 0.4), (0.2, 0.8)), (0, n.M), (0, n.M),
                    c.ui("region"))
    a2 = grid_axes(layout, c, 2, ((0.48, 1.0), (0.0, 0.9)), (0, n.N), (0, n.N),
                    c.ui("mask_of", w=w))
    return [heat(sub, a1, colorscale=region_colorscale(), zmin=-0.5, zmax=8.5,
                  text=sub if numbers_fit(n.M, PANEL_PX * 0.8, 1) else None),
            frame((0, n.M), (0, n.M), a1, c.theme.muted),
            heat(m, a2, colorscale=MASK_SCALE, zmin=-100, zmax=0),
            frame((0, n.N), (0, n.N), a2, c.theme.muted)]


def relpos(c: Ctx, layout: dict) -> list:
    from ..windows import relative_position_index

    n = c.n
    i3 = relative_position_index(3).numpy()
    iM = relative_position_index(n.M).numpy()
    scale = "Cividis"
    if n.M == 3:  # this model's index is the small example: one panel
        a1 = grid_axes(layout, c, 1, ((0.2, 0.8), (0.0, 0.9)), (0, 9), (0, 9),
                       c.ui("index_m", M=3, N=9))
        return [heat(i3, a1, colorscale=scale, zmin=0, zmax=24, text=i3)]
    a1 = grid_axes(layout, c, 1, ((0.0, 0.48), (0.0, 0.9)), (0, 9), (0, 9), c.ui("index_m3"))
    a2 = grid_axes(layout, c, 2, ((0.54, 1.0), (0.0, 0.9)), (0, n.N), (0, n.N),
                    c.ui("index_m", M=n.M, N=n.N))
    return [heat(i3, a1, colorscale=scale, zmin=0, zmax=24, text=i3),
            heat(iM, a2, colorscale=scale, zmin=0, zmax=n.table - 1,
                  text=iM if numbers_fit(n.N, PANEL_PX) else None)]


def bias(c: Ctx, layout: dict) -> list:
    n, t = c.n, c.exp.traces[0]
    k = 2 * n.M - 1
    from ..windows import relative_position_index

    idx = relative_position_index(n.M).numpy()
    h = c.head or 0
    b = t.bias[h].numpy()  # (N, N) the head's bias of a window
    table = np.full(k * k, np.nan)
    table[idx.reshape(-1)] = b.reshape(-1)
    lim = float(np.nanmax(np.abs(b))) or 1.0
    a1 = grid_axes(layout, c, 1, ((0.0, 0.44), (0.15, 0.75)), (0, k), (0, k),
                    c.ui("bias_of", h=h, k=k))
    a2 = grid_axes(layout, c, 2, ((0.48, 0.82), (0.0, 0.9)), (0, n.N), (0, n.N), "N × N")
    return [heat(table.reshape(k, k), a1, colorscale=DIVERGING, zmin=-lim, zmax=lim),
            heat(b, a2, colorscale=DIVERGING, zmin=-lim, zmax=lim,
                  colorbar=bar_beside(layout, a2, tickformat="+.2f"))]


def attention(c: Ctx, layout: dict) -> list:
    n = c.n
    r, q = c.query
    rows = crop(r, 3 * n.M, n.H)
    cols = crop(q, 3 * n.M, n.W)
    w0 = query_weights(c.exp, 0, c.query, c.head)
    w1 = query_weights(c.exp, 1, c.query, c.head)
    hi = float(max(w0.max(), w1.max()))
    data = []
    titles = (c.ui("block0", b=n.b0),
              c.ui("block1_shift", b=n.b1, s=n.s) if n.s else c.ui("block1_plain", b=n.b1))
    doms = (((0.0, 0.4), (0.0, 0.9)), ((0.44, 0.84), (0.0, 0.9)))
    for i, (w, offset, title_) in enumerate(((w0, 0, titles[0]), (w1, n.s, titles[1])), 1):
        axes = grid_axes(layout, c, i, doms[i - 1], rows, cols, title_)
        sub = np.where(w > 0, w, np.nan)[rows[0]:rows[1], cols[0]:cols[1]]
        data.append(image_trace(c.exp, n.Hp, n.Wp, axes, opacity=0.35))
        data.append(heat(sub, axes, colorscale=SEQUENTIAL, zmin=0, zmax=hi, r0=rows[0],
                          c0=cols[0], colorbar=bar_beside(layout, axes, tickformat=".3f")
                          if i == 2 else None))
        data.append(window_lines(n.H, n.W, n.M, offset, axes, BLOCK_COLORS[i - 1], 3.5))
        data += query_box(r, q, 1, 1, axes, QUERY_COLOR, 4.0)
    return data


def flow(c: Ctx, layout: dict) -> list:
    n = c.n
    after0, after1 = reach(c.exp, c.query)
    r, q = c.query
    data = []
    titles = (c.ui("labelled", what=c.ui("after0", b=n.b0), value=int(after0.sum())),
              c.ui("labelled", what=c.ui("after1", b=n.b1), value=int(after1.sum())))
    for i, (z, title_) in enumerate(((2.0 * after0, titles[0]),
                                     (after0 + after1.astype(float), titles[1])), 1):
        axes = grid_axes(layout, c, i, TWO[i - 1], (0, n.H), (0, n.W), title_)
        data.append(image_trace(c.exp, n.Hp, n.Wp, axes, opacity=0.6))
        data.append(heat(np.where(z > 0, z, np.nan), axes,
                          colorscale=[[0, BLOCK_COLORS[1]], [1, BLOCK_COLORS[0]]], zmin=1,
                          zmax=2, opacity=0.7))
        data += query_box(r, q, 1, 1, axes, QUERY_COLOR, 4.0)
    return data


def whatif(c: Ctx, layout: dict) -> list:
    """Left: the weight each window of block 1 would put on other regions without the mask;
    right: the tokens that reach the query after PAIRS pairs with the shift and without it."""
    from ..figures._core.reach import reach_sets
    from ..figures.parts import PAIRS, mask_leak, stage_shift

    n, exp = c.n, c.exp
    r, q = c.query
    leak = mask_leak(exp)
    data = []
    axes = grid_axes(layout, c, 1, TWO[0], (0, n.H), (0, n.W),
                     c.ui("leak_map") if leak is not None else c.ui("no_mask_map"))
    data.append(image_trace(exp, n.Hp, n.Wp, axes, opacity=0.35))
    if leak is not None:
        data.append(heat(leak.per_window[window_ids(exp, 1)], axes, colorscale=SEQUENTIAL, zmin=0,
                         zmax=max(1e-6, float(leak.per_window.max())), opacity=0.85,
                         colorbar=bar_under(layout, axes, tickformat=".0%")))
    data += query_box(r, q, 1, 1, axes)
    s = stage_shift(exp)
    flat = reach_sets(n.H, n.W, n.M, 0, c.query, PAIRS)[-1]
    shifted = reach_sets(n.H, n.W, n.M, s, c.query, PAIRS,
                         bool(getattr(exp.traces[1], "roll_first", False)))[-1] if s else flat
    words = "reach_map" if s and shifted.sum() > flat.sum() else "reach_same"
    axes = grid_axes(layout, c, 2, TWO[1], (0, n.H), (0, n.W),
                     c.ui(words, k=PAIRS, a=int(shifted.sum()), b=int(flat.sum())))
    data.append(image_trace(exp, n.Hp, n.Wp, axes, opacity=0.6))
    z = shifted.astype(float) + flat
    data.append(heat(np.where(z > 0, z, np.nan), axes,
                     colorscale=[[0, BLOCK_COLORS[1]], [1, BLOCK_COLORS[0]]], zmin=1, zmax=2,
                     opacity=0.7))
    data += query_box(r, q, 1, 1, axes)
    return data


def evidence(c: Ctx, layout: dict) -> list:
    """Left: Grad-CAM of the top class at the pair's second block (norm1); right: the query's
    weights in that block. Both on the stage's grid, over the image."""
    n, exp = c.n, c.exp
    r, q = c.query
    ev = getattr(exp, "evidence", None)
    b = 2 * exp.pair + 1
    data = []
    if ev is None:
        axes = grid_axes(layout, c, 1, TWO[0], (0, n.H), (0, n.W), c.ui("no_evidence"))
        data.append(image_trace(exp, n.Hp, n.Wp, axes, opacity=0.6))
    else:
        axes = grid_axes(layout, c, 1, TWO[0], (0, n.H), (0, n.W),
                         c.ui("cam_map", cls=ev.target_name or ev.target, b=b))
        data.append(image_trace(exp, n.Hp, n.Wp, axes, opacity=0.6))
        cam = np.maximum(ev.by_layer["norm1"].double().numpy(), 0)
        data.append(heat(cam / cam.max() if cam.max() > 0 else cam, axes,
                         colorscale=SEQUENTIAL, zmin=0, zmax=1, opacity=0.75))
    data += query_box(r, q, 1, 1, axes)
    w1 = query_weights(exp, 1, c.query)
    axes = grid_axes(layout, c, 2, TWO[1], (0, n.H), (0, n.W),
                     c.ui("reads_map", r=r, c=q, b=b))
    data.append(image_trace(exp, n.Hp, n.Wp, axes, opacity=0.6))
    data.append(heat(np.where(w1 > 0, w1 / w1.max(), np.nan), axes, colorscale=SEQUENTIAL,
                     zmin=0, zmax=1, opacity=0.8))
    data += query_box(r, q, 1, 1, axes)
    return data


def merging(c: Ctx, layout: dict) -> list:
    n = c.n
    rows = [(s.stage, f"{s.H}×{s.W}", s.dim, s.heads, f"{s.M}×{s.M}", s.s) for s in n.stages]
    return _table(c, layout, c.ui("stage_cols"), rows, highlight=n.stage - 1)


def last(c: Ctx, layout: dict) -> list:
    n = c.n
    if not n.stages:
        return windows(c, layout)
    s = n.stages[-1]
    axes = grid_axes(layout, c, 1, ((0.15, 0.85), (0.0, 0.8)), (0, s.H), (0, s.W),
                      c.ui("last_grid", H=s.H, W=s.W, M=s.M, s=s.s))
    z = np.zeros((s.H, s.W))
    return [heat(z, axes, colorscale=[[0, REGION_COLORS[1]], [1, REGION_COLORS[1]]], zmin=0,
                  zmax=1),
            window_lines(s.H, s.W, 1, 0, axes, "rgba(255,255,255,0.8)", 1.5),
            window_lines(s.H, s.W, max(s.M, 1), 0, axes, BLOCK_COLORS[0], 6.0)]


def v2(c: Ctx, layout: dict) -> list:
    """Swin V1 against V2 in one block of the explored stage (`numbers.v2_change`)."""
    from .numbers import grouped, v2_change

    n = c.n
    d = v2_change(n.C, n.heads, n.M)
    rows = [
        (c.ui("v2_logit"), "q·kᵀ/√d + B", "cos(q, k)·τ + 16·σ(MLP)"),
        (c.ui("v2_bias", M=n.M), f"{n.heads}·{2 * n.M - 1}² = {grouped(d.table)}",
         grouped(d.mlp)),
        (c.ui("v2_bigger", M=2 * n.M), grouped(d.table_2m), c.ui("v2_same")),
        (c.ui("v2_norms"), c.ui("v2_before"), c.ui("v2_after")),
        (c.ui("v2_block"), grouped(d.block_v1), grouped(d.block_v2)),
    ]
    return _table(c, layout, c.ui("v2_cols"), rows)


def table(c: Ctx, layout: dict) -> list:
    from ..figures.cost import PAPER

    n = c.n
    rows = []
    if n.params is not None:
        rows.append((c.ui("this_model"), f"{n.params / 1e6:.1f} M",
                     f"{n.flops / 1e9:.2f} G"))
    for name, (p, f) in PAPER.items():
        from ..figures._core.labels import short_arch_name
        rows.append((c.ui("labelled", what=c.ui("paper_t1"), value=short_arch_name(name)), p,
                     f))
    return _table(c, layout, c.ui("table_cols"), rows, highlight=0 if n.params else None)


VISUALS = {f.__name__: f for f in (title, patches, cost, windows, block, shift, regions, mask,
                                     relpos, bias, attention, rollback, flow, whatif, merging,
                                     last, table, evidence, v2)}


def draw(name: str, c: Ctx) -> tuple[list, dict]:
    """(traces, layout) of visual `name`: panels over the paper's [0, 1] square."""
    layout: dict = {}
    data = VISUALS[name](c, layout)
    return data, layout




def _scale_fonts(d, k: float) -> None:
    """Every font size in a figure dict times k (in place)."""
    if isinstance(d, dict):
        for key, v in d.items():
            if key in ("font", "tickfont", "textfont") and isinstance(v, dict) and v.get("size"):
                v["size"] = round(v["size"] * k, 1)
            _scale_fonts(v, k)
    elif isinstance(d, list):
        for v in d:
            _scale_fonts(v, k)


def _titles_over(layout: dict, height: float) -> int:
    """Px the panel titles (annotations anchored at their bottom above the cells) need above
    the figure's top: a title of three lines over a panel at the top ran out of the page's
    picture, whose top margin is 0."""
    over = 0.0
    for a in layout.get("annotations", []):
        if a.get("yref") == "paper" and a.get("yanchor") == "bottom" and a.get("text"):
            size = (a.get("font") or {}).get("size") or MIN_PX
            need = (str(a["text"]).count("<br>") + 1) * size * LINE_HEIGHT
            over = max(over, need - (1 - float(a.get("y", 1))) * height)
    return int(-(-over // 1))


def visual_figure(name: str, c: Ctx):
    """The visual alone, as a figure of c.box pixels (the page's tour; a PPTX picture)."""
    from ..figures._core import fast_figure

    data, layout = draw(name, c)
    t = c.theme
    width, height = c.box
    height = max(height, round(layout.pop("height", 0) or 0))  # a table's own (`_table`)
    layout["margin"] = dict(l=0, r=0, t=0, b=0)
    if not c.page:
        layout["width"] = width
    layout.update(height=height, autosize=c.page, paper_bgcolor=t.bg, plot_bgcolor=t.bg,
                  font=dict(family=FONT, size=MIN_PX, color=t.ink),
                  showlegend=layout.get("showlegend", False))
    if c.page:
        _scale_fonts(data, PAGE_FONT_SCALE)
        _scale_fonts(layout, PAGE_FONT_SCALE)
        top = _titles_over(layout, height)
        if top:  # room above the picture for its tallest panel title, the panels kept
            layout["margin"]["t"] = top
            layout["height"] = height + top
    return fast_figure(data, layout)
