"""Attention masks of the shifted block, and why adding -100 is as good as leaving keys out.

(a) the (N, N) mask of one window of block 1 (sel.window, or the window holding sel.query), from
    `traces[1].mask`, with the flattened region-id row it came from drawn along both axes;
(b) small multiples of the four kinds of window: interior (window 0), right edge, bottom edge,
    corner (the last window);
(c) the check: block 1's probabilities (scores + bias + mask, softmax) against a direct softmax
    over only the keys in the same irregular window of the UNROLLED map (the paper's windows,
    found from original coordinates alone, no region ids, no mask): `mask_check(exp)`.

`toy_figure(H, W, M, s)` draws (a) and (b) from `swinviz.windows.attention_mask` for plain
settings (the design note's 6x6, M = 3, s = 1 example, concepts fact 4).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from ...windows import (
    MASK_VALUE,
    attention_mask,
    check_divisible,
    effective_window,
    padded_size,
    window_order,
    window_region_ids,
)
from .._core import (
    ANNOTATE_MAX,
    BLOCK_COLORS,
    MASK_SCALE,
    QUERY_COLOR,
    axis_key,
    block_name,
    cells_outline,
    fast_figure,
    flatten_windows,
    get_template,
    one_window_text,
    pad_cells,
    pad_overlay,
    padding_text,
    region_colorscale,
    style_layout,
    subplots_layout,
    sup_lines,
    title_height,
    token_geometry,
    token_windows,
    top_title,
    wrap_text,
)
from .._core.words import tr
from .check import mask_check, paper_groups

__all__ = ["figure", "kind_windows", "mask_check", "no_mask_figure", "paper_groups", "toy_figure",
           "window_kind"]

KINDS = ("interior", "right edge", "bottom edge", "corner")


def window_kind(w: int, n_rows: int, n_cols: int) -> str:
    """Where window w sits in the partition of the rolled map: interior, right edge, bottom edge
    or corner (last row and last column)."""
    r, c = divmod(w, n_cols)
    last_r, last_c = r == n_rows - 1, c == n_cols - 1
    if last_r and last_c and (n_rows > 1 or n_cols > 1):
        return "corner"
    if last_c and n_cols > 1:
        return "right edge"
    if last_r and n_rows > 1:
        return "bottom edge"
    return "interior"


def kind_windows(n_rows: int, n_cols: int) -> list[tuple[str, int]]:
    """[(label, window)] for interior, right edge, bottom edge, corner; windows that coincide
    (a grid of one window row or column) are shown once with their labels joined."""
    cand = [("interior", 0), ("right edge", n_cols - 1), ("bottom edge", (n_rows - 1) * n_cols),
            ("corner", n_rows * n_cols - 1)]
    out: dict[int, list[str]] = {}
    for label, w in cand:
        out.setdefault(w, []).append(label)
    return [(" = ".join(labels), w) for w, labels in out.items()]


def kind_label(label: str, lang: str = "en") -> str:
    """A `window_kind` / `kind_windows` label ("right edge", "interior = corner") said in
    `lang`."""
    return " = ".join(tr(lang, part) for part in label.split(" = "))


def compact(mask: torch.Tensor) -> np.ndarray:
    """A mask as int8 when that is exact (0 / -100 always are), else float32: 4x less JSON."""
    m = mask.numpy()
    small = m.astype(np.int8)
    return small if np.array_equal(small, m) else m.astype(np.float32)


def _strips(ids: np.ndarray, refs: tuple[str, str], name: str, annotate: bool,
            size: int, lang: str = "en") -> list[dict]:
    """The flattened id row along the top (keys) and the left (queries) of an (N, N) matrix."""
    xr, yr = refs
    common = dict(type="heatmap", colorscale=region_colorscale(), zmin=-0.5, zmax=8.5,
                  showscale=False, xaxis=xr, yaxis=yr, xgap=0, ygap=0)
    text = dict(texttemplate="%{z}", textfont=dict(size=size)) if annotate else {}
    z = ids.astype(np.uint8)
    return [
        dict(common, z=z[None, :], x0=0, dx=1, y0=-1.6, dy=1, name=f"key ids ({name})",
             hovertemplate=tr(lang, "key slot %{{x}}: region id %{{z}}<extra></extra>"), **text),
        dict(common, z=z[:, None], x0=-1.6, dx=1, y0=0, dy=1, name=f"query ids ({name})",
             hovertemplate=tr(lang, "query slot %{{y}}: region id %{{z}}<extra></extra>"),
             **text),
    ]


def _matrix_axes(layout: dict, refs: tuple[str, str], N: int, *, title_x: str = "",
                 title_y: str = "", ticks: bool = True) -> None:
    xk, yk = axis_key(refs[0]), axis_key(refs[1])
    tick = dict(tickmode="array", tickvals=list(range(N)) if N <= ANNOTATE_MAX else
                list(range(0, N, max(1, round(N ** 0.5)))))
    layout.setdefault(xk, {}).update(title=dict(text=title_x), showgrid=False, zeroline=False,
                                     range=[-2.2, N - 0.5], constrain="domain",
                                     showticklabels=ticks, side="bottom", **tick)
    layout.setdefault(yk, {}).update(title=dict(text=title_y), showgrid=False, zeroline=False,
                                     range=[N - 0.5, -2.2], constrain="domain",
                                     scaleanchor=refs[0], showticklabels=ticks, **tick)


def _chosen_window(mask_w: torch.Tensor, ids_w: np.ndarray, order_w: np.ndarray, w: int,
                   grid: tuple[int, int], real: tuple[int, int] | None,
                   query_slot: int | None, ra: tuple[str, str], look: dict,
                   lang: str = "en") -> list[dict]:
    """(a) window w's (N, N) mask (hover: query and key token, their regions), its id strips,
    the padding slots marked × (`real`: the grid of real tokens), the query's row outlined.
    `order_w` (N,): the flat original position of each slot; `look`: z_scale, annotate,
    small (font px) and tpl."""
    H, W = grid
    N = len(ids_w)
    z_scale, annotate, small, tpl = look["z_scale"], look["annotate"], look["small"], look["tpl"]
    rc = np.stack([order_w // W, order_w % W], -1)  # N, 2 original token of each slot
    qi, kj = np.indices((N, N))
    dt = np.uint8 if max(H, W) <= 256 else np.int32
    custom = np.stack([rc[qi, 0], rc[qi, 1], ids_w[qi], rc[kj, 0], rc[kj, 1], ids_w[kj]],
                      -1).astype(dt)
    data: list[dict] = [dict(
        type="heatmap", z=compact(mask_w), customdata=custom, name=f"mask of window {w}",
        xaxis=ra[0], yaxis=ra[1],
        hovertemplate=tr(lang, "query slot %{{y}} = token (%{{customdata[0]}}, "
                         "%{{customdata[1]}}), region %{{customdata[2]}}<br>key slot %{{x}} = "
                         "token (%{{customdata[3]}}, %{{customdata[4]}}), region "
                         "%{{customdata[5]}}<br>mask %{{z}}<extra></extra>"),
        **z_scale, **({"texttemplate": "%{z}", "textfont": dict(size=small)} if annotate else {}),
    )]
    data += _strips(ids_w, ra, f"window {w}", annotate, small, lang)
    data += _pad_marks(order_w, (H, W), real, ra, 300, lang)
    if query_slot is not None:  # the query's row, yellow on a black edge
        for color, width in (("black", tpl.line_width + 2), (QUERY_COLOR, tpl.line_width)):
            data.append(dict(
                type="scatter", mode="lines", hoverinfo="skip", xaxis=ra[0], yaxis=ra[1],
                name=tr(lang, "the query's row (slot {k})", k=query_slot),
                line=dict(color=color, width=width),
                x=[-2.1, N - 0.5, N - 0.5, -2.1, -2.1],
                y=[query_slot - 0.5] * 2 + [query_slot + 0.5] * 2 + [query_slot - 0.5]))
    return data


def _pad_marks(order_w: np.ndarray, grid: tuple[int, int], real: tuple[int, int] | None,
               ra: tuple[str, str], room: int, lang: str = "en") -> list[dict]:
    """A black × on both id strips at each of a window's padding slots (`order_w` (N,): the
    flat position of each slot on the padded `grid`; `real`: the grid of real tokens, None when
    nothing is padded); `room`: the panel's size in px, which sizes the marks."""
    if real is None:
        return []
    W, N = grid[1], len(order_w)
    pad = (order_w // W >= real[0]) | (order_w % W >= real[1])  # (N,): padding slots
    if not pad.any():
        return []
    k = np.nonzero(pad)[0].astype(float)
    return [dict(type="scatter", mode="markers", xaxis=ra[0], yaxis=ra[1], hoverinfo="skip",
                 x=np.concatenate([k, np.full(len(k), -1.1)]),
                 y=np.concatenate([np.full(len(k), -1.1), k]),
                 marker=dict(symbol="x-thin", size=max(4, int(room / N)),
                             line=dict(color="black", width=1.5 if room >= 300 else 1)),
                 name=tr(lang, "zero padding slots ({n})", n=len(k)))]


def build(mask: torch.Tensor, flat_ids: torch.Tensor, H: int, W: int, M: int, s: int, w: int,
          template: str, title: str, *, check: dict | None = None,
          query_slot: int | None = None, real: tuple[int, int] | None = None,
          block_label: str = "block 1", removed: bool = False, lang: str = "en") -> go.Figure:
    """(a) window w's mask with its id strips, (b) the four kinds, (c) the check text if given.

    (H, W) is the grid the block attends on (whole windows); `real` the grid of real tokens when
    that is padded: padding slots are marked with a black × on the id strips."""
    tpl = get_template(template)
    N = M * M
    nWr, nWc = H // M, W // M
    order = window_order(H, W, M, s).numpy().reshape(-1, N)
    layout, refs = subplots_layout(
        rows=2, cols=3, column_widths=[0.5, 0.25, 0.25], horizontal_spacing=0.07,
        vertical_spacing=0.14, specs=[[{"rowspan": 2}, {}, {}], [None, {}, {}]],
        subplot_titles=["a", "b1", "b2", "b3", "b4"],
    )
    kinds = kind_windows(nWr, nWc)
    cells = [(1, 2), (1, 3), (2, 2), (2, 3)]
    small = max(9, tpl.font_size - 3)
    annotate = N <= ANNOTATE_MAX
    z_scale = dict(colorscale=MASK_SCALE, zmin=MASK_VALUE, zmax=0.0, showscale=False,
                   xgap=0, ygap=0)

    # (a) the chosen window, with hover naming tokens and regions
    ra = refs[(1, 1)]
    data = _chosen_window(mask[w], flat_ids[w].numpy(), order[w], w, (H, W), real,
                          query_slot, ra, dict(z_scale=z_scale, annotate=annotate,
                                               small=small, tpl=tpl), lang)
    _matrix_axes(layout, ra, N, title_x=tr(lang, "key slot j"), title_y=tr(lang, "query slot i"))

    # (b) the four kinds
    for (label, wk), cell in zip(kinds, cells, strict=False):
        rk = refs[cell]
        data.append(dict(type="heatmap", z=compact(mask[wk]), xaxis=rk[0], yaxis=rk[1],
                         name=f"mask of window {wk} ({label})",
                         hovertemplate=tr(lang, "window {w} ({kind})<br>query slot %{{y}}, key "
                                          "slot %{{x}}<br>mask %{{z}}<extra></extra>", w=wk,
                                          kind=kind_label(label, lang)), **z_scale))
        data += _strips(flat_ids[wk].numpy(), rk, f"window {wk}", False, small, lang)
        data += _pad_marks(order[wk], (H, W), real, rk, 150, lang)
        _matrix_axes(layout, rk, N, ticks=N <= ANNOTATE_MAX)
    kind_w = kind_label(window_kind(w, nWr, nWc), lang)
    titles = [tr(lang, "(a) window {w} ({kind}): dark = −100; yellow: the query's row", w=w,
                 kind=kind_w) if query_slot is not None else
              tr(lang, "(a) window {w} ({kind}): dark = −100", w=w, kind=kind_w)]
    titles += [tr(lang, "(b) {kind}: window {w}", kind=kind_label(label, lang), w=wk)
               for label, wk in kinds]
    anns = layout.get("annotations", [])
    for ann, text in zip(anns, titles + [""] * len(anns), strict=False):
        ann["text"] = text
    for ann in anns[len(titles):]:
        ann["text"] = ""
    for cell in cells[len(kinds):]:  # unused small panels
        rk = refs[cell]
        layout[axis_key(rk[0])].update(visible=False)
        layout[axis_key(rk[1])].update(visible=False)

    style_layout(layout, template, title=title,
                 height=tpl.height + 100 + title_height(title, tpl)
                 + (tpl.font_size * 6 if check is not None else 0))
    for ann in anns[1:]:
        ann["font"]["size"] = max(10, tpl.font_size - 1)
    bottom = int(tpl.font_size * 4)
    if check is not None:
        text = _check_text(check, H, W, M, s, template, block_label, removed, lang)
        bottom = int(tpl.font_size * (5 + 1.4 * (text.count("<br>") + 1)))
        layout["annotations"].append(dict(
            xref="paper", yref="paper", x=0, y=-0.09, xanchor="left", yanchor="top",
            align="left", showarrow=False, bgcolor="#f3f3f3", bordercolor="#999",
            borderwidth=1, borderpad=6, font=dict(size=max(11, tpl.font_size - 1)),
            text=text))
    layout["margin"]["b"] = bottom
    top_title(layout, tpl, below=1)
    layout["showlegend"] = False
    return fast_figure(data, layout)


def _check_text(check: dict, H: int, W: int, M: int, s: int, template: str = "default",
                block: str = "block 1", removed: bool = False, lang: str = "en") -> str:
    """(c): the check's numbers in a sentence, wrapped to the template's width. removed: the
    model left the mask out (`SwinTransformer.without("mask")`): what leaks without it."""
    t = get_template(template)
    width = int((t.width - 140) / (0.56 * max(11, t.font_size - 1)))
    nW, N = (H // M) * (W // M), M * M
    L = lang
    if removed:
        return wrap_text(tr(
            L, "(c) <b>Without the mask</b> the roll still brings pieces of the far side of the "
            "image into one window, and nothing keeps them apart: the largest weight a query "
            "of {block} puts on a key from another region (one Swin masks with −100) is "
            "<b>{leak}</b> (with the mask it stays below 1e-40), and its attention differs "
            "from attending inside the paper's {groups} windows by up to <b>{diff}</b>.",
            block=block, leak=f"{check['max_leak']:.2f}", groups=check["groups"],
            diff=f"{check['max_abs_diff']:.2f}"), width)
    if s == 0:
        return wrap_text(tr(L, "(c) no shift: no key is masked; the trace's softmax equals a "
                            "direct softmax inside each window (largest difference {diff})",
                            diff=f"{check['max_abs_diff']:.1e}"), width)
    if L == "en":
        agree = ("matches that grouping on all" if check["mask_mismatch"] == 0 else
                 f"DISAGREES with that grouping on {check['mask_mismatch']} of the")
        lead = block[:1].upper() + block[1:]
    else:
        agree = (tr(L, "matches that grouping on all") if check["mask_mismatch"] == 0 else
                 tr(L, "DISAGREES with that grouping on {n} of the", n=check["mask_mismatch"]))
        lead = block
    return wrap_text(tr(
        L, "(c) <b>−100 leaves weights below anything float32 can add</b> (they approach 0, "
        "they are not 0). {lead}'s probabilities from the trace, softmax(q·kᵀ + bias + mask), "
        "against a direct softmax of (q·kᵀ + bias) over ONLY the keys in the same irregular "
        "window of the unrolled map (the paper's {groups} windows, found from original "
        "positions alone): largest |difference| = <b>{diff}</b>; largest weight leaking "
        "through a −100 entry = <b>{leak}</b> (e<sup>−100</sup> ≈ 3.7e-44); the mask {agree} "
        "{nW}×{N}×{N} entries.", lead=lead, groups=check["groups"],
        diff=f"{check['max_abs_diff']:.1e}", leak=f"{check['max_leak']:.1e}", agree=agree,
        nW=nW, N=N), width)


def figure(exp, sel) -> go.Figure:
    """Block 1's (N, N) mask of the chosen window with its region-id row, the four kinds of
    window, and the check that the mask equals attending within the paper's windows; with no
    mask (s = 0, or one window) a figure that says why."""
    sel = sel.resolved(exp)
    t1 = exp.traces[1]
    Hr, Wr = t1.input_resolution
    M, s = t1.window_size, t1.shift_size
    H, W = padded_size(Hr, Wr, M)  # the block's windows are cut from the padded grid
    nW = (H // M) * (W // M)
    qr, qc = sel.query
    rf = bool(getattr(t1, "roll_first", False))  # timm's Swin V2 rolls, then pads
    w_query = int(token_windows(Hr, Wr, M, s, rf)[qr, qc])
    w = w_query if sel.window is None else int(sel.window)
    if not 0 <= w < nW:
        raise ValueError(f"window must be in 0..{nW - 1}, got {w}")
    tpl = get_template(sel.template)
    L = sel.lang
    pad_note = (sup_lines(tr(L, "<b>Roll first</b> (timm's Swin V2): {what}; padding slots "
                             "are marked × on the strips.",
                             what=padding_text(Hr, Wr, H, W, s, L, roll_first=True)), tpl)
                if (H, W) != (Hr, Wr) and rf and s else
                sup_lines(tr(L, "<b>Padding first:</b> {what}; padding slots are marked × on "
                             "the strips.", what=padding_text(Hr, Wr, H, W, s, L)), tpl)
                if (H, W) != (Hr, Wr) else "")
    removed = t1.mask is None and s > 0 and "mask" in exp.without
    if t1.mask is None and not removed:
        return no_mask_figure(exp, sel, w, pad_note)
    flat = flatten_windows(t1.region_ids, M)
    kind = kind_label(window_kind(w, H // M, W // M), L)
    b1 = block_name(1, exp, L)
    if removed:  # what Swin would add, drawn beside what this model did without it
        what = tr(L, "<b>Removed in this model</b> (what if): {b1} rolls by s = {s} but adds no "
                  "mask. Drawn is the mask Swin adds for these {H}×{W} tokens, M = {M}: every "
                  "−100 entry is a key from another region that the query now reads. The colour "
                  "strips are the region ids of the window's query (left) and key (top) slots.",
                  b1=b1, s=s, H=Hr, W=Wr, M=M)
        title = (tr(L, "Attention mask of window {w} ({kind}) in {b1}, stage {stage}: removed",
                    w=w, kind=kind, b1=b1, stage=exp.stage) + sup_lines(what, tpl) + pad_note)
    else:
        title = (tr(L, "Attention mask of window {w} ({kind}) in {b1}, stage {stage}", w=w,
                    kind=kind, b1=b1, stage=exp.stage) + sup_lines(tr(
                     L, "{H}×{W} tokens, M = {M}, s = {s}: query i may attend to key j only "
                     "when both came from the same region (same id, mask 0), otherwise −100. "
                     "The colour strips along the axes are the region ids of the window's query "
                     "(left) and key (top) slots.", H=Hr, W=Wr, M=M, s=s), tpl) + pad_note)
    slot = None
    if w == w_query:
        slot = int(token_geometry(Hr, Wr, M, s, rf)[1][qr, qc, 1])
    mask = attention_mask(H, W, M, s) if removed else t1.mask
    fig = build(mask, flat, H, W, M, s, w, sel.template, title, check=mask_check(exp),
                query_slot=slot, real=(Hr, Wr), block_label=block_name(1, exp, L),
                removed=removed, lang=L)
    if removed:
        fig.layout.meta["mask"] = "removed"
    return fig


def no_mask_figure(exp, sel, w: int, pad_note: str = "") -> go.Figure:
    """Block 2p+1 adds no mask (shift 0): one panel with the block's windows on the token grid,
    the chosen window outlined, the reason in the title, and the check (c) below. No (N, N)
    mask is drawn: there is none."""
    tpl = get_template(sel.template)
    t1 = exp.traces[1]
    Hr, Wr = t1.input_resolution
    M = t1.window_size
    H, W = padded_size(Hr, Wr, M)
    nW = (H // M) * (W // M)
    qr, qc = sel.query
    L = sel.lang
    b0, b1 = block_name(0, exp, L), block_name(1, exp, L)
    if M >= min(Hr, Wr):
        why = tr(L, "<b>Why no mask?</b> {why}: the block adds nothing to the scores.",
                 why=one_window_text(Hr, Wr, M, L))
        head = tr(L, "Attention mask of {b1}, stage {stage}: none<br><sup>no shift: one window "
                  "covers the whole grid; the mask is all zeros, nothing is masked.</sup>",
                  b1=b1, stage=exp.stage)
    else:
        why = tr(L, "<b>No shift</b> (shift_size = 0): {b1} uses the same {nW} regular windows "
                 "as {b0}, so nothing is rolled round and no key needs masking; every query "
                 "attends to all {N} keys of its window.", b1=b1, nW=nW, b0=b0, N=M * M)
        head = tr(L, "Attention mask of window {w} in {b1}, stage {stage}: none<br><sup>no shift "
                  "(shift_size = 0): the mask is all zeros, nothing is masked.</sup>", w=w,
                  b1=b1, stage=exp.stage)
    title = head + sup_lines(why, tpl) + pad_note
    wins = token_windows(H, W, M, 0)
    palette = ["#dfe9f3", "#c6d8ea"]
    z = ((wins // (W // M) + wins % (W // M)) % 2).astype(np.uint8)  # a checkerboard of windows
    rr, cc = np.indices((H, W))
    layout: dict = {}
    data: list[dict] = [dict(
        type="heatmap", z=z, customdata=np.stack([rr, cc, wins], -1).astype(np.int32),
        colorscale=[[0, palette[0]], [1, palette[1]]], zmin=0, zmax=1, showscale=False,
        xgap=1, ygap=1, name=f"windows of {block_name(1, exp)} (no mask)",
        hovertemplate=tr(L, "token (%{{customdata[0]}}, %{{customdata[1]}}) in window "
                         "%{{customdata[2]}}: attends to every token of its window<extra>no "
                         "mask</extra>"))]
    if (H, W) != (Hr, Wr):
        data.append(pad_overlay(pad_cells(Hr, Wr, H, W), x0=0, dx=1, xaxis="x", yaxis="y",
                                opacity=0.45))
    xs, ys = cells_outline(wins == w)
    data.append(dict(type="scatter", x=np.array(xs, dtype=float) - 0.5,
                     y=np.array(ys, dtype=float) - 0.5, mode="lines", hoverinfo="skip",
                     line=dict(color=BLOCK_COLORS[1], width=tpl.line_width + 1),
                     name=f"window {w}"))
    data.append(dict(type="scatter", x=[qc], y=[qr], mode="markers", hoverinfo="skip",
                     marker=dict(symbol="star", size=tpl.font_size + 4, color=QUERY_COLOR,
                                 line=dict(color="black", width=1.5)),
                     name=f"query ({qr}, {qc})"))
    cx = [(c * M + M / 2) - 0.5 for r in range(H // M) for c in range(W // M)]
    cy = [r * M + (0.6 if nW <= 4 else M / 2 - 0.5) for r in range(H // M)
          for c in range(W // M)]
    if nW <= 64:
        data.append(dict(type="scatter", x=cx, y=cy, mode="text", hoverinfo="skip",
                         text=[tr(L, "window {k}<br>no mask", k=k) if nW <= 4 else str(k)
                               for k in range(nW)],
                         textfont=dict(size=tpl.font_size + (4 if nW == 1 else 0),
                                       color="#333"), name="window numbers"))
    check = mask_check(exp)
    text = _check_text(check, H, W, M, 0, sel.template, b1, lang=L)
    size = max(11, tpl.font_size - 1)
    below = int(4.2 * tpl.font_size)  # under the tick labels and the x-axis title
    layout["annotations"] = [dict(
        xref="paper", yref="paper", x=0, y=0, yshift=-below, xanchor="left", yanchor="top",
        align="left", showarrow=False, bgcolor="#f3f3f3", bordercolor="#999", borderwidth=1,
        borderpad=6, font=dict(size=size), text=text)]
    layout["xaxis"] = dict(title=dict(text=tr(L, "column (token)")), range=[-0.5, W - 0.5],
                           showgrid=False, zeroline=False, constrain="domain")
    layout["yaxis"] = dict(title=dict(text=tr(L, "row (token)")), range=[H - 0.5, -0.5],
                           showgrid=False, zeroline=False, constrain="domain", scaleanchor="x")
    style_layout(layout, sel.template, title=title,
                 height=tpl.height + title_height(title, tpl) + tpl.font_size * 4)
    top_title(layout, tpl, below=0)
    # the boxed note: its lines at 1.3 em, padding and border, and a margin under it
    layout["margin"]["b"] = below + int((text.count("<br>") + 1) * 1.3 * size) + 14 + 24
    layout["height"] += layout["margin"]["b"] - int(tpl.font_size * 7)
    layout["showlegend"] = False
    layout["meta"]["mask"] = "none"
    return fast_figure(data, layout)


def toy_figure(H: int, W: int, window_size: int, shift_size: int, template: str = "default",
               window: int | None = None, lang: str = "en") -> go.Figure:
    """(a) and (b) from `swinviz.windows.attention_mask` for plain settings: e.g.
    `toy_figure(6, 6, 3, 1)` is concepts fact 5 for the 6×6 grid (window 3, the corner, by
    default)."""
    M, s = effective_window((H, W), window_size, shift_size)
    check_divisible(H, W, M)
    nW = (H // M) * (W // M)
    w = nW - 1 if window is None else int(window)
    if not 0 <= w < nW:
        raise ValueError(f"window must be in 0..{nW - 1}, got {w}")
    kind = kind_label(window_kind(w, H // M, W // M), lang)
    title = tr(lang, "Attention mask of window {w} ({kind}) for a {H}×{W} grid, M = {M}, s = {s} "
               "(swinviz.windows.attention_mask)", w=w, kind=kind, H=H, W=W, M=M, s=s)
    if s == 0:
        title += tr(lang, "<br><sup>no shift: the mask is all zeros, nothing is masked</sup>")
    else:
        title += tr(lang, "<br><sup>query i may attend to key j only when both have the same "
                    "region id (mask 0), otherwise −100. The colour strips along the axes are the "
                    "region ids of the query (left) and key (top) slots.</sup>")
    return build(attention_mask(H, W, M, s), window_region_ids(H, W, M, s), H, W, M, s, w,
                 template, title, lang=lang)
