"""What does each head's relative position bias prefer?

Top row, per head: the bias table as a (2M-1) x (2M-1) image over the offset (Δh, Δw) =
(query − key), Δ = (0, 0) in the centre. It is recovered FROM the trace: the trace's gathered
(nH, N, N) bias holds every table row at least once (every offset occurs between some query and
key of a window), so its values are scattered back through `relative_position_index` onto the
offset grid and cannot disagree with what the model added to its scores.
Bottom row, per head: the gathered (N, N) bias itself (query slot i down, key slot j across).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..windows import relative_position_index
from ._core import (
    ANNOTATE_MAX,
    DIVERGING,
    SEQUENTIAL,
    axis_key,
    block_name,
    content_term,
    fast_figure,
    footnote,
    get_template,
    heads_per_row,
    is_v2,
    offset_axes,
    signed,
    style_layout,
    subplots_layout,
    top_title,
)
from ._core import (
    set_titles as _set_titles,
)
from ._core import (
    title_slots as _slots,
)
from ._core.labels import offset_titles
from ._core.words import tr


def bias_table_image(trace) -> np.ndarray:
    """(nH, 2M-1, 2M-1) bias over (Δh, Δw) = (hi − hj, wi − wj), scattered from `trace.bias`.

    Cell [h, Δh + M − 1, Δw + M − 1] is table row (Δh + M − 1)·(2M − 1) + (Δw + M − 1) of head h,
    i.e. `relative_position_bias_table[:, h]` reshaped row-major.
    """
    M = trace.window_size
    G = 2 * M - 1
    bias = np.asarray(trace.bias, dtype=np.float32)  # nH, N, N
    nH = bias.shape[0]
    index = relative_position_index(M).numpy().ravel()  # N*N entries in 0..G*G-1
    table = np.full((nH, G * G), np.nan, dtype=np.float32)
    table[:, index] = bias.reshape(nH, -1)  # duplicates of one offset carry one value
    return table.reshape(nH, G, G)


def _preference(img: np.ndarray, M: int, random: bool = False, lang: str = "en") -> str:
    """One line per head: where the bias is highest / lowest, and near versus far (with random
    weights no lean is read from the noise)."""
    d = np.arange(-(M - 1), M)
    dh, dw = np.meshgrid(d, d, indexing="ij")
    hi = np.unravel_index(np.nanargmax(img), img.shape)
    lo = np.unravel_index(np.nanargmin(img), img.shape)
    near = np.maximum(abs(dh), abs(dw)) <= 1
    diff = float(np.nanmean(img[near]) - np.nanmean(img[~near])) if (~near).any() else 0.0

    def at(ix):
        return f"({dh[ix]:+d},{dw[ix]:+d})".replace("+0", "0").replace("-", "−")

    spread = float(np.nanmax(np.abs(img))) or 1.0
    lean = tr(lang, "random weights: no lean to read" if random
              else "no clear near/far lean" if abs(diff) < 0.1 * spread
              else "prefers near keys" if diff > 0 else "prefers far keys")
    return tr(lang, "max at Δ = {hi}, min at {lo};<br>near − far = {diff}: {lean}", hi=at(hi),
              lo=at(lo), diff=f"{diff:+.3f}", lean=lean).replace("-", "−")


def _panel_grid(heads: list[int], tables: list[str], gathered: list[str], *, one: bool,
                compact: bool, template: str = "default",
                wide: list[str] | None = None) -> tuple[dict, dict, int]:
    """(layout, {("table" | "gathered", head) or "coords" / "wide": axis refs}, rows of heads):
    one head's table and gathered bias side by side, or per chunk of heads a row of tables,
    then a row of gathered biases; Swin V2 (`wide`: the two panels' titles) adds a last row:
    the coordinates its MLP reads and its bias for a larger window."""
    extra = wide or []
    if one:
        slots = tables + gathered + extra
        layout, refs = subplots_layout(rows=2 if extra else 1, cols=2,
                                       subplot_titles=_slots(slots), horizontal_spacing=0.16,
                                       **({"vertical_spacing": 0.2} if extra else {}))
        _set_titles(layout, slots)
        cell = {("table", heads[0]): refs[(1, 1)], ("gathered", heads[0]): refs[(1, 2)]}
        if extra:
            cell.update(coords=refs[(2, 1)], wide=refs[(2, 2)])
        return layout, cell, 1
    per_row = heads_per_row(len(heads), template)
    chunks = -(-len(heads) // per_row)
    slots = []
    for i in range(chunks):
        part = list(range(i * per_row, min(len(heads), (i + 1) * per_row)))
        pad = [""] * (per_row - len(part))
        slots += [tables[k] for k in part] + pad + [gathered[k] for k in part] + pad
    specs = [[{} if i * per_row + k < len(heads) else None for k in range(per_row)]
             for i in range(chunks) for _ in (0, 1)]
    rows = 2 * chunks
    half = max(1, per_row // 2)
    if extra and per_row >= 2:  # one more row: the coordinates, then the larger window
        specs.append([{"colspan": half}] + [None] * (half - 1)
                     + [{"colspan": per_row - half}] + [None] * (per_row - half - 1))
        slots += extra
        rows += 1
    elif extra:  # a column of one: a row each
        specs += [[{}], [{}]]
        slots += extra
        rows += 2
    slots = [t_ for t_ in slots if t_]
    heights = [1.0] * (2 * chunks) + [2.5 if compact else 1.0] * (rows - 2 * chunks)
    layout, refs = subplots_layout(
        rows=rows, cols=per_row, subplot_titles=_slots(slots),
        vertical_spacing=round((0.12 if compact else 0.2) / (rows / 2), 3),
        horizontal_spacing=0.09 if per_row <= 4 else 0.04, specs=specs,
        **({"row_heights": heights} if extra else {}))
    cell = {}
    for k, h in enumerate(heads):
        i, j = divmod(k, per_row)
        cell[("table", h)] = refs[(2 * i + 1, j + 1)]
        cell[("gathered", h)] = refs[(2 * i + 2, j + 1)]
    if extra:
        last = 2 * chunks + 1
        cell["coords"] = refs[(last, 1)]
        cell["wide"] = refs[(last, half + 1)] if per_row >= 2 else refs[(last + 1, 1)]
    _set_titles(layout, slots)
    return layout, cell, chunks


def _coords_panel(trace, refs: tuple[str, str], t, layout: dict, lang: str = "en"
                  ) -> list[dict]:
    """The log-spaced coordinate the bias MLP reads for each offset of one axis (Swin V2,
    concepts fact 17), for the larger window; the block's own offsets marked."""
    M, W = trace.window_size, trace.wide_window
    d = np.arange(-(W - 1), W)
    c = np.asarray(trace.coords_wide, dtype=np.float32)
    own = np.abs(d) <= M - 1
    xr, yr = refs
    hover = tr(lang, "Δ = %{{x}}<br>coordinate = %{{y:.3f}}<extra></extra>")
    out = [dict(type="scatter", x=d[own], y=c[own], mode="lines+markers", xaxis=xr, yaxis=yr,
                name=tr(lang, "this window"), line=dict(color="#0072B2", width=2.5),
                marker=dict(size=6), hovertemplate=hover),
           dict(type="scatter", x=d[~own], y=c[~own], mode="markers", xaxis=xr, yaxis=yr,
                name=tr(lang, "a {W}×{W} window", W=W), marker=dict(color="#E69F00", size=5),
                hovertemplate=hover)]
    layout[axis_key(xr)].update(title=dict(text=tr(lang, "offset Δ (one axis)")),
                                zeroline=True, showgrid=True)
    layout[axis_key(yr)].update(title=dict(text=tr(lang, "MLP input")), zeroline=True,
                                showgrid=True)
    return out


def _wide_panel(h: int, trace, refs: tuple[str, str], t, style: dict, layout: dict,
                lang: str = "en") -> list[dict]:
    """Head h's bias from the same MLP for a window of `trace.wide_window` tokens, the block's
    own (2M-1)² offsets outlined (dashed): inside, the values are this block's table."""
    M, W = trace.window_size, trace.wide_window
    d = np.arange(-(W - 1), W)
    z = np.asarray(trace.bias_wide[h], dtype=np.float32)
    xr, yr = refs
    e = M - 0.5
    out = [dict(type="heatmap", z=z, x=d, y=d, name=f"wide head {h}", showscale=False,
                xaxis=xr, yaxis=yr, **style["scale"],
                hovertemplate=tr(lang, "head {h}<br>Δ = (%{{y}}, %{{x}})<br>bias = %{{z:.4f}}"
                                 "<extra></extra>", h=h)),
           dict(type="scatter", x=[-e, e, e, -e, -e], y=[-e, -e, e, e, -e], mode="lines",
                hoverinfo="skip", line=dict(color="black", width=1.5, dash="dash"),
                showlegend=False, name=tr(lang, "this window's offsets"), xaxis=xr, yaxis=yr)]
    offset_axes(layout, (xr, yr), W, explain=False)
    offset_titles(layout, (xr, yr), lang, explain=False)
    ticks = sorted({-(W - 1), -(M - 1), 0, M - 1, W - 1})  # 0, this window's and the edges
    for ref in (xr, yr):
        layout[axis_key(ref)].update(tickvals=ticks, ticktext=[signed(v) for v in ticks],
                                     tickangle=0)
    return out


def _table_panel(h: int, k: int, image: np.ndarray, refs: tuple[str, str], M: int, t,
                 style: dict, layout: dict, *, last: bool, lang: str = "en") -> list[dict]:
    """Head h's (2M-1) x (2M-1) bias table over the offsets (Δh, Δw), Δ = (0, 0) dotted."""
    G = 2 * M - 1
    d = np.arange(-(M - 1), M)
    dd = np.stack(np.broadcast_arrays(d[:, None], d[None, :],
                                      np.arange(G * G).reshape(G, G)), axis=-1).astype(np.int16)
    xr, yr = refs
    out = [dict(
        type="heatmap", z=image, x=d, y=d, customdata=dd, name=f"table head {h}",
        showscale=last, colorbar=style["bar"], xaxis=xr, yaxis=yr,
        hovertemplate=tr(lang, "head {h}<br>Δ = (%{{customdata[0]}}, %{{customdata[1]}})<br>"
                         "table row %{{customdata[2]}}<br>bias = %{{z:.4f}}<extra></extra>", h=h),
        **style["scale"], **({"texttemplate": "%{z:.3f}", "textfont": dict(size=t.font_size - 3)}
                             if G <= 5 else {})),
        dict(type="scatter", x=[-0.5, 0.5, 0.5, -0.5, -0.5],
             y=[-0.5, -0.5, 0.5, 0.5, -0.5], mode="lines", hoverinfo="skip",
             line=dict(color="black", width=1.5, dash="dot"), showlegend=False,
             name="Δ = (0, 0)", xaxis=xr, yaxis=yr)]
    offset_axes(layout, (xr, yr), M, explain=False)
    offset_titles(layout, (xr, yr), lang, explain=False)
    if k:
        layout[axis_key(yr)]["title"] = dict(text="")
    return out


def _gathered_panel(h: int, k: int, bias: np.ndarray, refs: tuple[str, str], M: int, t,
                    style: dict, layout: dict, *, one: bool, lang: str = "en") -> list[dict]:
    """Head h's gathered (N, N) bias, query slots down, key slots across."""
    N = M * M
    hi, wi = divmod(np.arange(N), M)
    pair = np.stack(np.broadcast_arrays(hi[:, None], wi[:, None], hi[None, :], wi[None, :],
                                        hi[:, None] - hi[None, :], wi[:, None] - wi[None, :]),
                    axis=-1).astype(np.int8)
    xr, yr = refs
    out = [dict(
        type="heatmap", z=bias, customdata=pair, name=f"gathered head {h}",
        showscale=False, xaxis=xr, yaxis=yr,
        hovertemplate=tr(lang, "head {h}<br>query i = %{{y}} = (%{{customdata[0]}},"
                         "%{{customdata[1]}})<br>key j = %{{x}} = (%{{customdata[2]}},"
                         "%{{customdata[3]}})<br>Δ = (%{{customdata[4]}}, %{{customdata[5]}})<br>"
                         "bias = %{{z:.4f}}<extra></extra>", h=h),
        **style["scale"], **({"texttemplate": "%{z:.2f}", "textfont": dict(size=t.font_size - 4)}
                             if N <= ANNOTATE_MAX else {}))]
    step = 1 if N <= 16 else M
    ticks = dict(tickmode="array", tickvals=list(range(0, N, step)),
                 ticktext=[f"({hi[j]},{wi[j]})" for j in range(0, N, step)])
    layout[axis_key(xr)].update(title=dict(text=tr(lang, "key j = (hj, wj)")),
                                range=[-0.5, N - 0.5],
                                showgrid=False, zeroline=False, constrain="domain", **ticks)
    layout[axis_key(yr)].update(title=dict(text=tr(lang, "query i = (hi, wi)") if k == 0 or one
                                           else ""),
                                range=[N - 0.5, -0.5], showgrid=False, zeroline=False,
                                constrain="domain", scaleanchor=xr, **ticks)
    return out


def _note(exp, sel, values: np.ndarray, *, compact: bool, one: bool, N: int,
          wide: bool = False) -> tuple[dict, int]:
    """How to read the panels (and, many heads on a slide, the range of the values)."""
    L = sel.lang
    return footnote(
        ((tr(L, "Per head: the table over the offsets (Δh down, Δw across, Δ = (0, 0) in the "
             "centre),<br>and the gathered N×N bias (query rows, key columns); hover for the "
             "values.<br>") if sel.template != "lecture" else
          tr(L, "Per head: the table over the offsets (Δh down, Δw across, Δ = (0, 0) in the "
             "centre),<br>and the gathered N×N bias (query rows, key columns); values from "
             "{lo} (bluest) to {hi} (reddest).<br>", lo=f"{float(values.min()):.3f}",
             hi=f"{float(values.max()):.3f}"))
         if compact else "")
        + (tr(L, "Δ = query − key: a key above / left of the query has Δh / Δw > 0; dotted: Δ "
              "= (0, 0).<br>Swin V2's bias is 16·sigmoid(·), between 0 and 16: it adds to every "
              "key, brighter where it adds more. Near = |Δh|, |Δw| ≤ 1.")
           if is_v2(exp) and "bias" not in exp.without else
           tr(L, "Δ = query − key: a key above / left of the query has Δh / Δw > 0; dotted: Δ = "
              "(0, 0).<br>Red: the head adds to the logit of keys at that offset (prefers them), "
              "blue: it subtracts. Near = |Δh|, |Δw| ≤ 1."))
        + (tr(L, "<br>With random weights the table is noise; load trained weights to see real "
              "preferences.") if exp.weights.startswith("random") else ""),
        sel.template, lines=3 + 2 * compact,
        below=4.5 if wide and compact else 2 if compact else 4.5 if one or N > 16 else 6)


def _capital(name: str) -> str:
    """"block 5 (SW-MSA)" -> "Block 5 (SW-MSA)" (a title's first word)."""
    return name[:1].upper() + name[1:]


def figure(exp, sel) -> go.Figure:
    """Per head: the learned bias table over the (2M-1)² offsets and the (N, N) bias it gathers
    to (what the block adds to q·kᵀ·scale), on one symmetric colour scale."""
    trace = exp.traces[sel.block]
    t = get_template(sel.template)
    M = trace.window_size
    N, G = M * M, 2 * M - 1
    nH = trace.num_heads
    heads = list(range(nH)) if sel.head is None else [sel.head]
    images = bias_table_image(trace)
    bias = np.asarray(trace.bias, dtype=np.float32)
    amax = float(np.abs(bias[heads]).max()) or 1.0  # one symmetric scale for every panel
    # Swin V2: the coordinates its MLP reads and its bias for a larger window (the first head
    # shown), one more row (`_panel_grid`), on the same scale
    wide = trace.bias_wide is not None and is_v2(exp)
    h0 = heads[0]
    if wide:
        amax = max(amax, float(np.abs(np.asarray(trace.bias_wide[h0])).max()))

    one = len(heads) == 1  # one head: table and gathered bias side by side
    compact = len(heads) > 4  # many small panels: short titles, axis labels on the first only
    L = sel.lang
    if compact:
        tables = [tr(L, "head {h}: table", h=h) for h in heads]
        gathered = [tr(L, "head {h}: {N}×{N}", h=h, N=N) for h in heads]
    else:
        random = exp.weights.startswith("random")
        tables = [tr(L, "head {h}: bias table over (Δh, Δw)<br><sup>", h=h)
                  + (tr(L, "removed: zero at every offset") if "bias" in exp.without else
                     _preference(images[h], M, random, L)) + "</sup>" for h in heads]
        gathered = [tr(L, "head {h}: gathered bias, {N}×{N}<br><sup>what the block adds to "
                       "{content}</sup>", h=h, N=N, content=content_term(exp)) for h in heads]
    extra = [tr(L, "the MLP's input: a log-spaced coordinate per offset<br><sup>{M}×{M} "
                "window: offsets up to ±{m}; a {W}×{W} window reads the same curve "
                "further out</sup>", M=M, m=M - 1, W=trace.wide_window),
             tr(L, "head {h}: the same MLP for a {W}×{W} window<br><sup>dashed: this "
                "window's offsets, where it equals the table above</sup>", h=h0,
                W=trace.wide_window)] if wide else None
    layout, cell, chunks = _panel_grid(heads, tables, gathered, one=one, compact=compact,
                                       template=sel.template, wide=extra)
    # the title over the bar: beside it, plotly's export set it on the tick labels
    style = dict(scale=dict(colorscale=DIVERGING, zmid=0, zmin=-amax, zmax=amax),
                 bar=dict(title=dict(text=tr(L, "bias"), side="top"), len=0.8, thickness=14))
    if is_v2(exp) and "bias" not in exp.without:
        # 16·sigmoid(·) lies in (0, 16): a sequential scale over the values shown (a diverging
        # one centred on 0 would draw every offset the same red)
        shown = [bias[heads]] + ([np.asarray(trace.bias_wide[h0])] if wide else [])
        lo = min(float(v.min()) for v in shown)
        hi = max(float(v.max()) for v in shown)
        style["scale"] = dict(colorscale=SEQUENTIAL, zmin=lo, zmax=hi if hi > lo else lo + 1e-6)

    data: list[dict] = []
    for k, h in enumerate(heads):
        data += _table_panel(h, k, images[h], cell[("table", h)], M, t, style, layout,
                             last=k == len(heads) - 1, lang=L)
        data += _gathered_panel(h, k, bias[h], cell[("gathered", h)], M, t, style, layout,
                                one=one, lang=L)
        if compact:  # panels too small for ticks and axis titles: the note explains them
            for ref in (*cell[("table", h)], *cell[("gathered", h)]):
                layout[axis_key(ref)].update(showticklabels=False, title=dict(text=""))

    if wide:
        data += _coords_panel(trace, cell["coords"], t, layout, L)
        data += _wide_panel(h0, trace, cell["wide"], t, style, layout, L)
    which = tr(L, "all heads") if sel.head is None else tr(L, "head {h}", h=sel.head)
    note, bottom = _note(exp, sel, bias[heads], compact=compact, one=one, N=N, wide=wide)
    layout["annotations"].append(note)
    style_layout(
        layout, sel.template,
        height=(int(t.height * (1.2 if one else 1.7) * (1.8 if wide else 1)) if not compact
                else int((2 * chunks + 3 * wide) * (
                    (t.width - 160) / heads_per_row(len(heads), t.name) * 0.85
                    + 2.5 * t.font_size) + 12 * t.font_size)),
        title=(tr(L, "{B}, stage {stage}, {which}: relative position bias: removed<br><sup>what "
                  "if: this model adds no bias, so its {G}×{G} table is zero and attention "
                  "inside a window sees content only</sup>",
                  B=_capital(block_name(sel.block, exp, L)), stage=exp.stage, which=which, G=G)
               if "bias" in exp.without else
               tr(L, "{B}, stage {stage}, {which}: continuous position bias (Swin V2)<br><sup>"
                  "16·sigmoid of the bias MLP over the {G}×{G} log-spaced offsets, gathered to "
                  "{N}×{N} per window</sup>",
                  B=_capital(block_name(sel.block, exp, L)), stage=exp.stage, which=which, G=G,
                  N=N)
               if is_v2(exp) else
               tr(L, "{B}, stage {stage}, {which}: relative position bias<br><sup>the learned "
                  "table of {G}×{G} offsets, gathered to {N}×{N} per window</sup>",
                  B=_capital(block_name(sel.block, exp, L)), stage=exp.stage, which=which, G=G,
                  N=N)))
    if compact:  # the panels' short titles in a smaller font
        short = set(tables + gathered)
        for ann in layout["annotations"]:
            if ann.get("text", "") in short:
                ann["font"]["size"] = max(9, t.font_size - 3)
    layout["margin"].update(b=bottom, l=5 * t.font_size)
    top_title(layout, sel.template, below=2, gap=12)
    layout["showlegend"] = False
    if compact:  # small multiples, a head a panel: a phone keeps their rows (`_core.narrow`)
        layout["meta"] = {**layout.get("meta", {}), "small_multiples": True}
    return fast_figure(data, layout)
