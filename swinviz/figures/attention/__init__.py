"""Where does the chosen patch attend, in both blocks, on the image?

(a) Block 0 | block 1: the query's softmax row (its window's N probabilities) placed at every
    key's REAL token position. The shifted block computes in rolled coordinates (window w, slot
    k); slot k of window w holds original token ((wr*M + k//M + s) % H, (wc*M + k%M + s) % W),
    which `window_order` / `window_of_token` give, so the roll is undone exactly and the
    wrapped-around keys sit where they really are (no corner artefacts). Keys masked with -100
    (another region before the roll) are crossed out: their weight is ~0. With patches added to
    the query (a query set, `Selection.added`: the page's shift-click) the set's rows are summed
    (`set_on_grid`, module `on_image`); (b) and (c) stay the query's own.
(b) Attention taken apart: for the query and one head, the logit in the order the block adds it:
    q·kᵀ·scale (trace.scores), + relative position bias (trace.bias), + mask (trace.mask), then
    the softmax (trace.attn), each as an M x M map over the query's window slots.
    With all heads chosen (head=None), instead every head's attention row of the query, an
    M x M map per head, tiled into one heatmap (`tiled_rows`).
(c) All heads of one window: the (N, N) attention matrices on one shared colour scale, tiled
    into one heatmap (`head_tiles`), so that a redraw in the page lays out a few subplots, not
    one per head (docs/performance.md, "the attention figure's tiles"); one head, or a phone's
    single row of heads: a panel a head.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go

from ...windows import padded_size
from .._core import (
    DIVERGING,
    QUERY_COLOR,
    SEQUENTIAL,
    axis_key,
    block_name,
    content_term,
    fast_figure,
    footnote,
    get_template,
    heads_per_row,
    is_v2,
    style_layout,
    subplots_layout,
    top_title,
    wrap_text,
)
from .._core import (
    set_titles as _set_titles,
)
from .._core import (
    title_slots as _slots,
)
from .._core.words import tr as say
from . import click
from .headings import capital as _capital
from .headings import headings as _headings
from .maths import (
    BACKGROUND_MAX,
    _attention_bar,
    _check,
    _geometry,
    _span,
    _tile_axes,
    attention_on_grid,
    decomposition,
    head_tiles,
    query_rows,
    query_slots,
    set_on_grid,
    tiled_heads,
    tiled_rows,
)
from .on_image import panel_a

__all__ = ["BACKGROUND_MAX", "attention_on_grid", "decomposition", "figure", "head_tiles",
           "query_rows", "query_slots", "set_on_grid", "tiled_heads", "tiled_rows"]

def figure(exp, sel) -> go.Figure:
    """The attention figure: (a) both blocks on the image, (b) the query's logit taken apart
    (or every head's row), (c) every head of one window; each panel drawn by its own builder
    on the plan of the figure (`_plan`: sizes, the query's window and slot, how heads tile)."""
    g = _plan(exp, sel)
    layout, refs, parts, note, height, top, bottom = _layout(exp, sel, g)
    data: list[dict] = []
    panel_a(exp, sel, g, layout, refs, data)
    _panel_b(exp, sel, g, layout, refs, data, parts)
    _panel_c(exp, sel, g, layout, refs, data)
    _headings(exp, sel, g, layout, refs)
    layout["annotations"].append(note)
    L = sel.lang
    names = dict(head=g.head_txt, stage=exp.stage, b0=block_name(0, exp, L),
                 b1=block_name(1, exp, L))
    title = say(L, "Where token ({{row}}, {{col}}) and {n} more attend, summed, {head}<br><sup>"
                "stage {stage}: {b0} and {b1}</sup>", n=len(sel.added), **names) \
        if sel.added else \
        say(L, "Where token ({{row}}, {{col}}) attends, {head}<br><sup>stage {stage}: {b0} and "
            "{b1}</sup>", **names)
    g.texts.append((title, "title"))
    style_layout(layout, sel.template, height=height, title=click.fill(title, g.vals))
    scratch = click.templated(layout, g)  # the page's templates, laid out as the texts are
    top_title(layout, g.t, below=0)
    top_title(scratch, g.t, below=0)
    layout["margin"].update(b=bottom, t=top + int(1.3 * g.t.font_size))
    layout["showlegend"] = False
    # for app/instant.js; none for a query set, whose clicks go to the server
    meta = None if sel.added else click.click_meta(data, layout, scratch, g)
    if meta is not None:
        layout["meta"]["click"] = meta
    return fast_figure(data, layout)


def _plan(exp, sel) -> SimpleNamespace:
    """What every panel needs: the template, the query (r, c), its window wq and slot kq in the
    selected block, the window (c) shows, the grid (padded H x W), and how the heads lay out
    (per_row, head_rows, cols; `tiled`: (c) as one heatmap, `tiled_b`: (b) too)."""
    t = get_template(sel.template)
    r, c = _check(exp, sel.block, sel.head, sel.query)
    Hr, Wr = exp.grid
    p = exp.patch_size
    nH = exp.num_heads
    L = sel.lang
    head_txt = say(L, "mean over heads") if sel.head is None else say(L, "head {h}", h=sel.head)
    tr = exp.traces[sel.block]
    M = tr.window_size
    N = M * M
    H, W = padded_size(Hr, Wr, M)  # the grid the windows are cut from (padding included)
    padded = (H, W) != (Hr, Wr)
    geo = [_geometry(t_) for t_ in exp.traces]
    wq, kq = (int(v) for v in geo[sel.block][1][r, c])
    queries = ((r, c), *sel.added)  # the query set: (a) sums its attention
    win = wq if sel.window is None else int(sel.window)

    per_row = heads_per_row(nH, sel.template)
    head_rows = -(-nH // per_row)
    cols = math.lcm(2, 4, per_row)
    def head_specs():
        out = []
        for hr in range(head_rows):
            n = min(per_row, nH - hr * per_row)
            out.append(([{"colspan": cols // per_row}] + [None] * (cols // per_row - 1)) * n
                       + [None] * (cols - n * (cols // per_row)))
        return out

    # (b): with one head its logit taken apart (4 panels); with all heads (head=None) every
    # head's attention row of the query, one small panel per head (a decomposition of "all
    # heads" would be a mean, which no head computes)
    all_b = sel.head is None
    b_rows = head_rows if all_b else 1
    # (c) with more than one head is one tiled heatmap, and so is (b) with all heads chosen: a
    # redraw in the page lays out a few subplots, not one per head (plotly's time grows with
    # the subplots: docs/performance.md); on a phone, where a row of tiles would be too small
    # to read, only more than one row of heads is tiled (one row: a panel a head, stacked)
    tiled = nH > 1 if sel.template != "narrow" else head_rows > 1
    tiled_b = all_b and tiled
    tiles = head_tiles(nH, N, sel.template) if tiled else None
    tiles_b = head_tiles(nH, M, sel.template) if tiled_b else None

    def spanning(rows):  # one subplot over `rows` whole rows
        return [[{"colspan": cols, "rowspan": rows}] + [None] * (cols - 1),
                *([[None] * cols] * (rows - 1))]

    specs = [
        [{"colspan": cols // 2}] + [None] * (cols // 2 - 1)
        + [{"colspan": cols // 2}] + [None] * (cols // 2 - 1),
        *(spanning(b_rows) if tiled_b else head_specs() if all_b else
          [([{"colspan": cols // 4}] + [None] * (cols // 4 - 1)) * 4]),
        # (c): one heatmap of every head's matrix over the rows their panels would take, or
        # (not tiled) a panel per head
        *(spanning(head_rows) if tiled else head_specs()),
    ]
    return SimpleNamespace(**{k: v for k, v in locals().items() if k in _PLAN})


_PLAN = (    't', 'r', 'c', 'Hr', 'Wr', 'p', 'nH', 'head_txt',
    'tr', 'M', 'N', 'H', 'W', 'padded', 'geo', 'wq',
    'kq', 'win', 'per_row', 'head_rows', 'cols', 'all_b', 'b_rows', 'tiled',
    'tiled_b', 'tiles', 'tiles_b', 'specs', 'L', 'queries',
)


def _strongest(L: str, tr, head_txt: str, facts: list[str], padded: bool, grid, real,
               query, kq: int, wq: int) -> str:
    """The lecture note's sentence: the strongest keys, and which token slot k of window w is
    in the block's own window frame (rolled; for a block that rolls and then pads, timm's
    Swin V2, rolled within the real grid, the rest padding). grid: the padded (H, W), real:
    the stage's grid."""
    (H, W), (Hr, Wr), (r, c) = grid, real, query
    M1, s1 = tr.window_size, tr.shift_size
    if padded and s1 and getattr(tr, "roll_first", False):  # rolled, then padded
        return say(L, "Strongest key ({head}): {facts}. In (b) and (c) slots are numbered in the "
                   "block's own (rolled, then padded) window frame: slot k of window w = (wr, "
                   "wc) sits at (i, j) = (wr·{M} + k // {M}, wc·{M} + k mod {M}), which is token "
                   "((i + {s}) mod {Hr}, (j + {s}) mod {Wr}) where i < {Hr} and j < {Wr}, else "
                   "padding; the query, token ({r}, {c}), is slot {k} of window {w}.",
                   head=head_txt, facts="; ".join(facts), M=M1, s=s1, Hr=Hr, Wr=Wr, r=r, c=c,
                   k=kq, w=wq)
    return say(L, "Strongest key ({head}): {facts}. In (b) and (c) slots are numbered in the "
               "block's own (rolled) window frame: slot k of window w = (wr, wc) is token "
               "((wr·{M} + k // {M} + {s}) mod {H}, (wc·{M} + k mod {M} + {s}) mod {W}); the "
               "query, token ({r}, {c}), is slot {k} of window {w}.", head=head_txt,
               facts="; ".join(facts), M=M1, s=s1, H=H, W=W, r=r, c=c, k=kq, w=wq)


def _layout(exp, sel, g):
    """The subplots (specs, titles, heights, spacing) and the footnote: (layout, refs, the
    (b) panels' parts, the note, height, top and bottom margins)."""
    t, r, c, Hr, Wr = g.t, g.r, g.c, g.Hr, g.Wr
    nH, head_txt, tr, H, W = g.nH, g.head_txt, g.tr, g.H, g.W
    padded, wq, kq, head_rows, cols = g.padded, g.wq, g.kq, g.head_rows, g.cols
    all_b, b_rows, tiled, tiled_b, tiles = g.all_b, g.b_rows, g.tiled, g.tiled_b, g.tiles
    tiles_b, specs = g.tiles_b, g.specs
    head_b = 0 if sel.head is None else sel.head
    parts = decomposition(exp, sel.block, head_b, (r, c))
    g.vals, g.texts = click.values(sel, g, parts), []  # the page's templates (click.py)
    L = g.L
    tpl = [say(L, "{B}, {head}:<br>where {n} tokens attend, summed, on the image",
               B=_capital(block_name(b, exp, L)), head=head_txt, n=len(g.queries))
           if sel.added else
           say(L, "{B}, {head}:<br>where token ({{row}}, {{col}}) attends, on the image",
               B=_capital(block_name(b, exp, L)), head=head_txt) for b in (0, 1)]
    if not (tiled_b or all_b):
        tpl += [say(L, "{content} (content)<br><sup>mean |·| = {{scores_mean}}</sup>",
                    content=content_term(exp)),
                say(L, "+ 16·σ(MLP) bias<br><sup>mean |·| = {{bias_mean}}</sup>")
                if is_v2(exp) else
                say(L, "+ relative position bias<br><sup>mean |·| = {{bias_mean}}</sup>")]
    g.texts += [(x, "annotation") for x in tpl]
    titles = [click.fill(x, g.vals) for x in tpl[:2]]
    titles += [""] if tiled_b else [say(L, "head {h}", h=h) for h in range(nH)] \
        if all_b else [
        *(click.fill(x, g.vals) for x in tpl[2:]),
        say(L, "+ mask (0 / −100)") if tr.mask is not None
        else say(L, "+ mask<br><sup>none in W-MSA: adds 0</sup>") if sel.block == 0
        else say(L, "+ mask<br><sup>none without a shift: adds 0</sup>") if tr.shift_size == 0
        else say(L, "+ mask<br><sup>removed (what if): adds 0</sup>"),
        say(L, "= softmax → attention"),
    ]
    # tiled: labels on it
    titles += [""] if tiled else [say(L, "head {h}", h=h) for h in range(nH)]
    masked_note = ("" if exp.traces[1].mask is None else
                   say(L, "White × = key masked with −100 for every query of the set in its "
                          "window: weight ~0. ") if sel.added else
                   say(L, "White × = key masked with −100 (another region before the roll): "
                          "weight ~0. "))
    pad_note = ("" if not padded else
                say(L, "Hatched: zero padding ({H}×{W} for {Hr}×{Wr} tokens): the block rolls "
                       "before it pads (timm's Swin V2), and queries attend to the padding keys "
                       "too.", H=H, W=W, Hr=Hr, Wr=Wr)
                if getattr(tr, "roll_first", False) and tr.shift_size else
                say(L, "Hatched: zero padding ({H}×{W} for {Hr}×{Wr} tokens): the block pads "
                       "before it rolls, and queries attend to the padding keys too.",
                    H=H, W=W, Hr=Hr, Wr=Wr))
    width = int((t.width - 100) / (0.56 * (t.font_size - 1)))
    if sel.template == "lecture":  # on paper: state what hovering would tell
        facts = []
        for b in (0, 1):
            g_b = set_on_grid(exp, b, sel.head, g.queries)
            kr_, kc_ = np.unravel_index(int(np.nanargmax(g_b)), g_b.shape)
            where = dict(b=block_name(b, exp, L), r=kr_, c=kc_, p=f"{float(g_b[kr_, kc_]):.3f}")
            facts.append(say(L, "in {b} token ({r}, {c}), summed p = {p}", **where)
                         if sel.added else say(L, "in {b} token ({r}, {c}), p = {p}", **where))
        said = _strongest(L, tr, head_txt, facts, padded, (H, W), (Hr, Wr), (r, c), kq, wq)
    else:
        said = say(L, "Hover a key for its token (r, c), window, region id and probability. In "
                   "(b) and (c) slots are numbered in the block's own (rolled) window frame; "
                   "hover shows the real token.")
    if sel.added:
        text = say(L, "Stars: the query ({r}, {c}) and the {n} patches added to it. (a) sums "
                      "their attention rows (a key several of them attend to counts for each); "
                      "outlines: their windows in each block. (b) and (c) are the query's own. "
                      "{masked}{said}", r=r, c=c, n=len(sel.added), masked=masked_note,
                   said=said)
    else:
        text = say(L, "Star: the query. Outline: its window in each block (the shifted block's "
                      "may wrap around the edges of the image). {masked}{said}",
                   masked=masked_note, said=said)
    text = wrap_text(text, width)
    if padded:
        text += "<br>" + wrap_text(pad_note, width)
    note, bottom = footnote(text, sel.template, lines=text.count("<br>") + 1)
    height = int(t.height * (2.6 + 0.45 * (head_rows - 1) + 0.45 * (b_rows - 1)))
    top = int(1.35 * t.title_size + 7 * t.font_size + 30)  # title, row heading, 2-line titles
    gap_px = 9 * t.font_size  # between rows: x-axis title + row heading + titles
    heights = ([0.5] + [0.2 / (1 + 0.5 * (b_rows - 1))] * b_rows
               + [0.3 / (1 + 0.5 * (head_rows - 1))] * head_rows)
    if tiled:  # tiled parts no taller than their tiles are at the template's width
        rows_px = height - top - bottom - gap_px * (b_rows + head_rows)
        heights = [h / sum(heights) * rows_px for h in heights]
        parts_tiled = [(slice(1 + b_rows, None), tiles["shape"][0],
                        tiles["shape"][1] + 2 * tiles["gap_x"])]
        if tiled_b:
            parts_tiled.append((slice(1, 1 + b_rows), *tiles_b["shape"]))
        for rows_of, Yt, Xt in parts_tiled:
            # at the template's width the tiles fill their rows' height ((c)'s colour bar's
            # length) and not quite the width: 260 px for the margins, the colour bar and some
            # to spare
            part = heights[rows_of]
            spare = sum(part) + gap_px * (len(part) - 1) - (t.width - 260) * Yt / Xt
            spare = min(spare, 0.8 * sum(part))
            if spare > 0:
                heights[rows_of] = [h - spare / len(part) for h in part]
                height -= int(spare)
    gap = gap_px / (height - top - bottom)
    layout, refs = subplots_layout(
        rows=1 + b_rows + head_rows, cols=cols, specs=specs, subplot_titles=_slots(titles),
        row_heights=[round(h / sum(heights), 4) for h in heights],
        vertical_spacing=round(gap, 3),
        horizontal_spacing=0.04,
    )
    _set_titles(layout, titles)
    layout["annotations"] = [a for a in layout["annotations"] if a.get("text")]  # (c)'s
    return layout, refs, parts, note, height, top, bottom


def _panel_b(exp, sel, g, layout, refs, data, parts) -> None:
    """(b) The query's logit taken apart (one head) or every head's attention row (all
    heads; tiled, as in (c))."""
    t, nH, tr, M, N, L = g.t, g.nH, g.tr, g.M, g.N, g.L
    W, geo, wq, kq, per_row = g.W, g.geo, g.wq, g.kq, g.per_row
    cols, all_b, tiled_b, tiles_b = g.cols, g.all_b, g.tiled_b, g.tiles_b
    sc, bi = parts["scores"], parts["bias"]
    # ---- (b) the logit taken apart -----------------------------------------------------------
    order, wot, regions = geo[sel.block]
    kr, kc = np.divmod(order[wq], W)
    slot_cd = np.stack([np.arange(N) // M, np.arange(N) % M, kr, kc, regions[wq]],
                       axis=-1).reshape(M, M, 5).astype(np.int16)
    amax = float(max(np.abs(sc).max(), np.abs(bi).max())) or 1.0
    panels = [
        ("scores", dict(colorscale=DIVERGING, zmid=0, zmin=-amax, zmax=amax), "%{z:.2f}",
         content_term(exp)),
        ("bias", dict(colorscale=DIVERGING, zmid=0, zmin=-amax, zmax=amax), "%{z:.2f}",
         say(L, "bias")),
        ("mask", dict(colorscale=DIVERGING, zmid=0, zmin=-100, zmax=100), "%{z:.0f}",
         say(L, "mask")),
        ("attn", dict(colorscale=SEQUENTIAL, zmin=0, zmax=float(parts["attn"].max()) or 1.0),
         "%{z:.2f}", "p"),
    ]
    qy, qx = divmod(kq, M)
    if tiled_b:  # every head's row of the query, one tiled heatmap
        xr, yr = refs[(2, 1)]
        z_b, cd_b = tiled_rows(tr.attn[wq, :, kq].numpy().reshape(nH, M, M), slot_cd, tiles_b)
        data.append(dict(
            type="heatmap", z=z_b, customdata=cd_b, colorscale=SEQUENTIAL, zmin=0,
            zmax=float(tr.attn[wq, :, kq].max()) or 1.0, showscale=False, name="attn heads",
            hoverongaps=False, meta=dict(tiles=[list(o) for o in tiles_b["origin"]], M=M),
            hovertemplate=say(L, "head %{{customdata[0]}}<br>slot (%{{customdata[1]}}, "
                              "%{{customdata[2]}}) = token (%{{customdata[3]}}, "
                              "%{{customdata[4]}})<br>region id %{{customdata[5]}}<br>p = "
                              "%{{z:.4g}}<extra></extra>"),
            xaxis=xr, yaxis=yr))
        xs, ys = query_slots(tiles_b, qy, qx)
        data.append(dict(type="scatter", x=xs, y=ys, mode="lines",
                         line=dict(color=QUERY_COLOR, width=2.5), hoverinfo="skip",
                         showlegend=False, name="query slots", xaxis=xr, yaxis=yr))
        _tile_axes(layout, xr, yr, tiles_b, t, (say(L, "window column"), say(L, "window row")),
                   lang=L)
        panels = []
    elif all_b:
        pmax_b = float(tr.attn[wq, :, kq].max()) or 1.0
        panels = [(f"attn head {h}", dict(colorscale=SEQUENTIAL, zmin=0, zmax=pmax_b),
                   "%{z:.2f}", say(L, "head {h}: p", h=h)) for h in range(nH)]
        parts = {f"attn head {h}": tr.attn[wq, h, kq].numpy().reshape(M, M)
                 for h in range(nH)}
    for i, (name, scale, fmt, label) in enumerate(panels):
        xr, yr = (refs[(2 + i // per_row, 1 + (i % per_row) * (cols // per_row))] if all_b
                  else refs[(2, 1 + i * (cols // 4))])
        ax = dict(xaxis=xr, yaxis=yr)
        data.append(dict(
            type="heatmap", z=parts[name], customdata=slot_cd, showscale=False, name=name,
            hovertemplate=say(L, "slot (%{{customdata[0]}}, %{{customdata[1]}}) = token "
                              "(%{{customdata[2]}}, %{{customdata[3]}})<br>region id "
                              "%{{customdata[4]}}<br>{label} = %{{z:.4g}}<extra></extra>",
                              label=label),
            **scale, **ax,
            **({"texttemplate": fmt, "textfont": dict(size=9 if M > 5 else 12)}
               if M <= (5 if all_b and nH > 4 else 8) else {})))  # 12x12: unreadable
        data.append(dict(type="scatter", x=[qx - 0.5, qx + 0.5, qx + 0.5, qx - 0.5, qx - 0.5],
                         y=[qy - 0.5, qy - 0.5, qy + 0.5, qy + 0.5, qy - 0.5], mode="lines",
                         line=dict(color=QUERY_COLOR, width=2.5), hoverinfo="skip",
                         showlegend=False, name="query slot", **ax))
        layout[axis_key(xr)].update(title=dict(text=say(L, "window column")),
                                    range=[-0.5, M - 0.5],
                                    showgrid=False, zeroline=False, constrain="domain",
                                    dtick=1 if M <= 7 else 2)
        first = i % per_row == 0 if all_b else i == 0  # of its row of panels
        layout[axis_key(yr)].update(title=dict(text=say(L, "window row") if first else ""),
                                    range=[M - 0.5, -0.5], showgrid=False, zeroline=False,
                                    constrain="domain", scaleanchor=xr, dtick=1 if M <= 7 else 2)
        if all_b and per_row > 4:  # many small panels: no ticks, axis titles on the first only
            layout[axis_key(xr)].update(showticklabels=False)
            layout[axis_key(yr)].update(showticklabels=False)
            if i:
                layout[axis_key(xr)]["title"] = dict(text="")
                layout[axis_key(yr)]["title"] = dict(text="")


def _panel_c(exp, sel, g, layout, refs, data) -> None:
    """(c) Every head of one window: its N x N attention matrices on one colour scale (one
    tiled heatmap, but for one head or a phone's single row of heads)."""
    geo, t, nH, tr, M, L = g.geo, g.t, g.nH, g.tr, g.M, g.L
    N, W, wq, kq, win = g.N, g.W, g.wq, g.kq, g.win
    per_row, cols, b_rows, tiled, tiles = g.per_row, g.cols, g.b_rows, g.tiled, g.tiles
    order = geo[sel.block][0]
    # ---- (c) every head of one window ----------------------------------------------------------
    attn_w = tr.attn[win].numpy()  # nH, N, N
    tokens = np.stack(np.divmod(order[win], W), axis=-1)  # N, 2 original (r, c) per slot
    if tiled:
        z_c, cd_c = tiled_heads(attn_w, tokens, tiles)
        xr, yr = refs[(2 + b_rows, 1)]
        ax = dict(xaxis=xr, yaxis=yr)
        cy, ly = _span(layout, yr)
        data.append(dict(
            type="heatmap", z=z_c, customdata=cd_c, colorscale=SEQUENTIAL, zmin=0,
            zmax=float(attn_w.max()) or 1.0, name=f"window {win} heads", hoverongaps=False,
            meta=dict(tiles=[list(o) for o in tiles["origin"]], N=N),
            colorbar=_attention_bar(cy, ly, L),
            hovertemplate=say(L, "head %{{customdata[0]}}<br>query slot %{{customdata[1]}} = "
                              "token (%{{customdata[2]}}, %{{customdata[3]}})<br>key slot "
                              "%{{customdata[4]}} = token (%{{customdata[5]}}, "
                              "%{{customdata[6]}})<br>p = %{{z:.3g}}<extra></extra>"), **ax))
        if win == wq:
            xs, ys = query_rows(tiles, kq)
            data.append(dict(type="scatter", x=xs, y=ys, mode="lines",
                             line=dict(color=QUERY_COLOR, width=4), hoverinfo="skip",
                             showlegend=False, name="query row", **ax))
        # room beside the outer tiles for the query row's marks
        _tile_axes(layout, xr, yr, tiles, t, (say(L, "key slot"), say(L, "query slot")),
                   tiles["gap_x"], lang=L)
    else:  # up to 8 heads: a panel each
        mat_cd = np.concatenate(np.broadcast_arrays(tokens[:, None, :], tokens[None, :, :]),
                                axis=-1).astype(np.int16)  # N, N, 4
        amax_w = float(attn_w.max()) or 1.0
        for h in range(nH):
            xr, yr = refs[(2 + b_rows + h // per_row, 1 + (h % per_row) * (cols // per_row))]
            ax = dict(xaxis=xr, yaxis=yr)
            cy, ly = _span(layout, yr)
            data.append(dict(
                type="heatmap", z=attn_w[h], customdata=mat_cd, colorscale=SEQUENTIAL, zmin=0,
                zmax=amax_w, showscale=h == nH - 1, name=f"window {win} head {h}",
                colorbar=_attention_bar(cy, ly, L),
                hovertemplate=say(L, "head {h}<br>query slot %{{y}} = token (%{{customdata[0]}}, "
                                  "%{{customdata[1]}})<br>key slot %{{x}} = token "
                                  "(%{{customdata[2]}}, %{{customdata[3]}})<br>p = %{{z:.3g}}"
                                  "<extra></extra>", h=h), **ax,
                **({"texttemplate": "%{z:.2f}", "textfont": dict(size=10)} if N <= 12 else {})))
            if win == wq:
                data.append(dict(type="scatter", x=[-0.5, N - 0.5, N - 0.5, -0.5, -0.5],
                                 y=[kq - 0.5] * 2 + [kq + 0.5] * 2 + [kq - 0.5], mode="lines",
                                 line=dict(color=QUERY_COLOR, width=2), hoverinfo="skip",
                                 showlegend=False, name="query row", **ax))
            ticks = dict(tickmode="array", tickvals=list(range(0, N, M)))
            layout[axis_key(xr)].update(title=dict(text=say(L, "key slot")),
                                        range=[-0.5, N - 0.5],
                                        showgrid=False, zeroline=False, constrain="domain",
                                        **ticks)
            layout[axis_key(yr)].update(title=dict(text=say(L, "query slot") if h == 0 else ""),
                                        range=[N - 0.5, -0.5], showgrid=False, zeroline=False,
                                        constrain="domain", scaleanchor=xr, **ticks)
            if h % per_row:
                layout[axis_key(yr)]["title"] = dict(text="")
