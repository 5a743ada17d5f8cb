"""Why this relative position index?

Left: the (N, N) index table `relative_position_index(M)` (the buffer every WindowAttention
registers and gathers its bias through), rows = query slot i = (hi, wi), columns = key slot
j = (hj, wj), numbered row-major inside the window.
Right: the (2M-1) x (2M-1) grid of offsets (Δh, Δw) = (hi - hj, wi - wj) that the index simply
numbers row by row; the N cells the chosen query's keys read are lit, the rest dimmed. The same
colour means the same index in both panels.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..windows import relative_position_index
from ._core import (
    ANNOTATE_MAX,
    QUERY_COLOR,
    axis_key,
    block_name,
    fast_figure,
    footnote,
    get_template,
    offset_axes,
    style_layout,
    subplots_layout,
    token_geometry,
    top_title,
)
from ._core.labels import offset_titles
from ._core.words import tr

INDEX_SCALE = "Cividis"  # sequential and colour-blind safe; the same colours in both panels
_DIM = "rgba(255,255,255,0.8)"


def _text_colors(values: np.ndarray, vmax: float) -> list[str]:
    """White on the dark (low) end of Cividis, black on the light end."""
    return np.where(values < 0.55 * vmax, "white", "black").tolist()


def _index_table(M: int, slot: int, t, layout: dict, a1: dict, lang: str = "en") -> list[dict]:
    """Left: the (N, N) table `relative_position_index(M)`, numbers written for M <= 3, the
    window rows separated, the query's row outlined; key / query axes."""
    N, G = M * M, 2 * M - 1
    index = relative_position_index(M).numpy()  # N, N
    hi, wi = divmod(np.arange(N), M)
    data: list[dict] = []
    cd = np.stack(np.broadcast_arrays(hi[:, None], wi[:, None], hi[None, :], wi[None, :],
                                      hi[:, None] - hi[None, :], wi[:, None] - wi[None, :]),
                  axis=-1).astype(np.int8)  # N, N, 6
    data.append(dict(
        type="heatmap", z=index.astype(np.int16), colorscale=INDEX_SCALE, zmin=0,
        zmax=G * G - 1, customdata=cd, showscale=False, name="relative_position_index",
        hovertemplate=tr(lang, "query i = %{{y}} = (%{{customdata[0]}},%{{customdata[1]}})<br>"
                         "key j = %{{x}} = (%{{customdata[2]}},%{{customdata[3]}})<br>"
                         "Δ = (%{{customdata[4]}}, %{{customdata[5]}})<br>"
                         "index = %{{z}}<extra></extra>"), **a1))
    if M <= 3:  # the spec's 9x9 table: every number written
        rr, cc = np.divmod(np.arange(N * N), N)
        data.append(dict(type="scatter", x=cc, y=rr, mode="text", text=index.ravel().astype(str),
                         textfont=dict(size=t.font_size - 1,
                                       color=_text_colors(index.ravel(), G * G - 1)),
                         hoverinfo="skip", showlegend=False, name="index numbers", **a1))
    xs: list = []
    ys: list = []
    for b in range(M, N, M):  # separators between window rows: the table's M x M block pattern
        xs += [-0.5, N - 0.5, None, b - 0.5, b - 0.5, None]
        ys += [b - 0.5, b - 0.5, None, -0.5, N - 0.5, None]
    data.append(dict(type="scatter", x=xs, y=ys, mode="lines", hoverinfo="skip",
                     showlegend=False, line=dict(color="white", width=1), name="window rows",
                     **a1))
    data.append(dict(type="scatter", x=[-0.5, N - 0.5, N - 0.5, -0.5, -0.5],
                     y=[slot - 0.5] * 2 + [slot + 0.5] * 2 + [slot - 0.5], mode="lines",
                     line=dict(color=QUERY_COLOR, width=t.line_width + 1), hoverinfo="skip",
                     showlegend=False, name="query row", **a1))
    labels = [f"({h},{w})" for h, w in zip(hi, wi, strict=True)]
    step = 1 if N <= 16 else M if M <= 7 else 2 * M  # labels of ~6 characters stay apart
    ticks = dict(tickmode="array", tickvals=list(range(0, N, step)), ticktext=labels[::step])
    layout[axis_key(a1["xaxis"])].update(
        title=dict(text=tr(lang, "key j = (hj, wj)")), tickangle=-90 if step == 1 else 0,
        range=[-0.5, N - 0.5], showgrid=False, zeroline=False, constrain="domain", **ticks)
    layout[axis_key(a1["yaxis"])].update(
        title=dict(text=tr(lang, "query i = (hi, wi)")), range=[N - 0.5, -0.5], showgrid=False,
        zeroline=False, constrain="domain", scaleanchor=a1["xaxis"], **ticks)
    return data


def _offset_grid(M: int, slot: int, t, a2: dict, lang: str = "en") -> list[dict]:
    """Right: the (2M-1) x (2M-1) grid of offsets the index numbers row by row, the cells the
    query slot's N keys read lit (the rest dimmed), Δ = (0, 0) outlined."""
    N, G = M * M, 2 * M - 1
    index = relative_position_index(M).numpy()  # N, N
    hi, wi = divmod(np.arange(N), M)
    qh, qw = divmod(slot, M)
    data: list[dict] = []
    d = np.arange(-(M - 1), M)
    grid = np.arange(G * G).reshape(G, G)  # row = Δh + M - 1, column = Δw + M - 1
    used = index[slot]  # table entries read by the query's keys j = 0..N-1
    lit = np.zeros((G, G), bool)
    lit.flat[used] = True
    key_of = np.full((G, G, 2), -1, np.int8)  # which key (hj, wj) reads each cell
    key_of.reshape(-1, 2)[used] = np.stack([hi, wi], axis=-1)
    dd = np.stack(np.broadcast_arrays(d[:, None], d[None, :]), axis=-1).astype(np.int8)
    data.append(dict(
        type="heatmap", z=grid.astype(np.int16), x=d, y=d, colorscale=INDEX_SCALE, zmin=0,
        zmax=G * G - 1, showscale=False, customdata=np.concatenate([dd, key_of], axis=-1),
        name="offset grid",
        hovertemplate=tr(lang, "Δ = (Δh, Δw) = (%{{customdata[0]}}, %{{customdata[1]}})<br>"
                         "table row %{{z}}<br>read by key (%{{customdata[2]}},"
                         "%{{customdata[3]}})<extra>key (−1,−1): not read by this "
                         "query</extra>"), **a2))
    data.append(dict(type="heatmap", z=np.where(lit, np.nan, 1.0), x=d, y=d,
                     colorscale=[[0, _DIM], [1, _DIM]], showscale=False, hoverinfo="skip",
                     name="not read by this query", **a2))
    show = np.ones_like(lit) if G <= ANNOTATE_MAX else lit
    cell_px = (t.width - 90) * 0.45 * 0.87 / G  # the right panel's cells, roughly
    size = min(t.font_size - (1 if G <= ANNOTATE_MAX else 4),
               int(cell_px / (0.64 * len(str(G * G - 1)) + 0.4)))
    rr, cc = np.nonzero(show if size >= 8 else np.zeros_like(show))  # too small: hover only
    colors = np.where(lit[rr, cc], np.array(_text_colors(grid[rr, cc], G * G - 1)), "#777")
    data.append(dict(type="scatter", x=d[cc], y=d[rr], mode="text",
                     text=grid[rr, cc].astype(str),
                     textfont=dict(size=size, color=colors.tolist()),
                     hoverinfo="skip", showlegend=False, name="table rows", **a2))
    r0, c0 = qh - (M - 1) - 0.5, qw - (M - 1) - 0.5  # top-left lit cell
    data.append(dict(type="scatter", x=[c0, c0 + M, c0 + M, c0, c0],
                     y=[r0, r0, r0 + M, r0 + M, r0], mode="lines", hoverinfo="skip",
                     line=dict(color=QUERY_COLOR, width=t.line_width + 1), showlegend=False,
                     name="read by this query", **a2))
    data.append(dict(type="scatter", x=[-0.5, 0.5, 0.5, -0.5, -0.5],
                     y=[-0.5, -0.5, 0.5, 0.5, -0.5], mode="lines", hoverinfo="skip",
                     line=dict(color="#D55E00", width=2), showlegend=False,
                     name="Δ = (0, 0): the query itself", **a2))
    return data


def _panels(M: int, slot: int, template: str, *, title: str, query_text: str,
            lang: str = "en") -> go.Figure:
    """The (N, N) index table beside the (2M-1) x (2M-1) grid of offsets it numbers, the
    query slot `slot`'s row and offsets lit (shared by `figure` and `toy_figure`)."""
    t = get_template(template)
    N, G = M * M, 2 * M - 1
    qh, qw = divmod(slot, M)

    layout, refs = subplots_layout(
        rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.13,
        subplot_titles=["left", "right"],
    )
    layout["annotations"][0]["text"] = (
        f"index[i, j] = (hi − hj + {M - 1})·{G} + (wi − wj + {M - 1}),  {N}×{N}")
    layout["annotations"][1]["text"] = tr(
        lang, "query slot i = ({qh},{qw}){query_text}:<br>its {N} keys read the lit {M}×{M} "
        "square", qh=qh, qw=qw, query_text=query_text, N=N, M=M)
    a1 = dict(xaxis=refs[(1, 1)][0], yaxis=refs[(1, 1)][1])
    a2 = dict(xaxis=refs[(1, 2)][0], yaxis=refs[(1, 2)][1])
    data: list[dict] = []

    data += _index_table(M, slot, t, layout, a1, lang)
    data += _offset_grid(M, slot, t, a2, lang)
    offset_axes(layout, refs[(1, 2)], M)
    offset_titles(layout, refs[(1, 2)], lang)

    note, bottom = footnote(tr(
        lang, "Pairs with the same offset (Δh, Δw) read the same row of the {GG}-row bias table "
        "(one bias per head).<br>The index numbers the {G}×{G} offsets row by row; the red "
        "cell is Δ = (0, 0), the query itself.", GG=G * G, G=G), template, lines=2,
        below=7.8 if N <= 16 else 5.8)  # under the 2-line axis title
    layout["annotations"].append(note)
    style_layout(layout, template, title=title, height=int(t.height * 1.2))
    layout["margin"].update(b=bottom)
    top_title(layout, template, below=2, gap=12)
    layout["showlegend"] = False
    return fast_figure(data, layout)


def figure(exp, sel) -> go.Figure:
    """The index table of the chosen block's windows and the offsets the query's keys read."""
    trace = exp.traces[sel.block]
    M, s = trace.window_size, trace.shift_size
    H, W = trace.input_resolution
    r, c = sel.query
    w, slot = (int(v) for v in token_geometry(H, W, M, s,
                                              getattr(trace, "roll_first", False))[1][r, c])
    L = sel.lang
    return _panels(
        M, slot, sel.template,
        title=tr(L, "Relative position index, {b}, stage {stage}, M = {M}<br><sup>which "
                 "bias-table row each (query, key) pair reads</sup>",
                 b=block_name(sel.block, exp, L), stage=exp.stage, M=M),
        query_text=tr(L, " = token ({r}, {c}) in window {w}", r=r, c=c, w=w), lang=L,
    )


def toy_figure(window_size: int = 3, template: str = "default",
               query_slot: int | None = None, lang: str = "en") -> go.Figure:
    """The same two panels for a plain window size, without an image (default: the centre slot)."""
    M = int(window_size)
    if M < 1:
        raise ValueError(f"window_size must be >= 1, got {window_size}")
    N = M * M
    slot = N // 2 if query_slot is None else int(query_slot)
    if not 0 <= slot < N:
        raise ValueError(f"query_slot must be in 0..{N - 1}, got {query_slot}")
    return _panels(M, slot, template,
                   title=tr(lang, "Relative position index for a {M}×{M} window (N = {N})",
                            M=M, N=N),
                   query_text="", lang=lang)
