"""Region ids: the `img_mask` of concepts fact 4 for the current H, W, M, s, and the same ids
partitioned into windows and flattened (nW rows of N ids), the rows the attention mask is built
from.

The id map lives in the ROLLED frame, like the reference's `img_mask`: position (i, j) holds the
patch that came from original token ((i + s) % H, (j + s) % W). `figure(exp, sel)` draws the
trace's `region_ids`; `toy_figure(H, W, M, s)` draws `swinviz.windows.region_ids` for plain
settings (the design note's 6x6, M = 3, s = 1 example, concepts fact 4).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from ..windows import effective_window, padded_size, region_ids
from ._core import (
    ANNOTATE_MAX,
    axis_key,
    block_name,
    fast_figure,
    flatten_windows,
    get_template,
    one_window_text,
    pad_cells,
    pad_overlay,
    padding_text,
    panel_axes,
    region_colorscale,
    style_layout,
    subplots_layout,
    sup_lines,
    title_height,
    top_title,
)
from ._core.words import tr


def boundary_xy(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell edges between different ids, as NaN-separated segments in cell coordinates (cell
    (i, j) covers [j - 0.5, j + 0.5] x [i - 0.5, i + 0.5])."""
    segs = []
    ii, jj = np.nonzero(ids[:, 1:] != ids[:, :-1])  # vertical edge left of (i, j + 1)
    for i, j in zip(ii, jj, strict=True):
        segs.append((j + 0.5, i - 0.5, j + 0.5, i + 0.5))
    ii, jj = np.nonzero(ids[1:, :] != ids[:-1, :])  # horizontal edge above (i + 1, j)
    for i, j in zip(ii, jj, strict=True):
        segs.append((j - 0.5, i + 0.5, j + 0.5, i + 0.5))
    if not segs:
        return np.empty(0, np.float32), np.empty(0, np.float32)
    a = np.array(segs, dtype=np.float32)
    nan = np.full(len(a), np.nan, np.float32)
    return (np.stack([a[:, 0], a[:, 2], nan], 1).ravel(),
            np.stack([a[:, 1], a[:, 3], nan], 1).ravel())


def _annotate(shape: tuple[int, int], size: int) -> dict:
    h, w = shape
    if max(h, w) <= ANNOTATE_MAX:
        return dict(texttemplate="%{z}", textfont=dict(size=size))
    return {}


def _window_grid(H: int, W: int, M: int, tpl, xa: str, ya: str, lang: str = "en") -> dict:
    """The window grid of the rolled map (grey, dashed), between the M x M windows."""
    gx: list[float] = []
    gy: list[float] = []
    for r in range(M, H, M):
        gx += [-0.5, W - 0.5, np.nan]
        gy += [r - 0.5, r - 0.5, np.nan]
    for c in range(M, W, M):
        gx += [c - 0.5, c - 0.5, np.nan]
        gy += [-0.5, H - 0.5, np.nan]
    return dict(type="scatter", x=np.array(gx, np.float32), y=np.array(gy, np.float32),
                mode="lines", hoverinfo="skip", xaxis=xa, yaxis=ya,
                line=dict(color="#777", width=max(1.0, tpl.line_width / 2), dash="dash"),
                name=tr(lang, "window grid ({M}×{M}, rolled map)", M=M))


def _padding(real: tuple[int, int], shape: tuple[int, int], M: int, s: int, tpl,
             a: tuple[str, str], b: tuple[str, str], lang: str = "en") -> list[dict]:
    """The padding tokens (where the roll has moved them) veiled in both panels, with a legend
    swatch, and labelled "pad" in small grids."""
    H, W = shape
    ii, jj = np.indices((H, W))
    (xa, ya), (xb, yb) = a, b
    data: list[dict] = []
    pad = pad_cells(real[0], real[1], H, W)[(ii + s) % H, (jj + s) % W]  # rolled frame
    pad_flat = flatten_windows(torch.from_numpy(pad), M).numpy()
    n = int(pad.sum())
    data.append(dict(type="scatter", x=[None], y=[None], mode="markers", xaxis=xa,
                     yaxis=ya, marker=dict(symbol="square", size=12, color="#777777"),
                     name=tr(lang, "darker: zero padding ({n} tokens)", n=n)))
    for m, (xr, yr), tag in ((pad, (xa, ya), tr(lang, "zero padding")),
                             (pad_flat, (xb, yb), tr(lang, "zero padding (flattened)"))):
        data.append(pad_overlay(m, x0=0, dx=1, xaxis=xr, yaxis=yr, name=tag, opacity=0.45,
                                hover=tr(lang, "{tag}: one of the {n} zero tokens the block "
                                         "adds<extra></extra>", tag=tag, n=n)))
        if max(m.shape) <= ANNOTATE_MAX:
            rr, cc = np.nonzero(m)
            data.append(dict(type="scatter", x=cc, y=rr + 0.3, mode="text",
                             text=[tr(lang, "pad")] * len(rr), name=f"{tag} labels",
                             hoverinfo="skip",
                             xaxis=xr, yaxis=yr, showlegend=False,
                             textfont=dict(size=max(8, tpl.font_size - 4), color="black")))
    return data


def _window_labels(H: int, W: int, M: int, nW: int, tpl, a: tuple[str, str],
                   b: tuple[str, str]) -> list[dict]:
    """The window numbers on the id map and lines between the window rows of the flat table
    (small grids only)."""
    (xa, ya), (xb, yb) = a, b
    N, nWc = M * M, W // M
    data: list[dict] = []
    # window numbers, where there are several (one window's "w0" sat on its first cell's id)
    if max(H // M, W // M) <= ANNOTATE_MAX and (H // M) * nWc > 1:
        data.append(dict(type="scatter", mode="text", hoverinfo="skip", showlegend=False,
                         xaxis=xa, yaxis=ya, name="window numbers",
                         x=[(c * M) - 0.45 for r in range(H // M) for c in range(nWc)],
                         y=[(r * M) - 0.45 for r in range(H // M) for c in range(nWc)],
                         text=[f"w{r * nWc + c}" for r in range(H // M) for c in range(nWc)],
                         textposition="bottom right",
                         textfont=dict(size=max(9, tpl.font_size - 4), color="#333")))
    if nW > 1:  # lines between the window rows of the flat table (small tables only)
        if nW <= 4 * ANNOTATE_MAX:
            fx: list[float] = []
            fy: list[float] = []
            for r in range(1, nW):
                fx += [-0.5, N - 0.5, np.nan]
                fy += [r - 0.5, r - 0.5, np.nan]
            data.append(dict(type="scatter", x=np.array(fx, np.float32),
                             y=np.array(fy, np.float32), mode="lines", hoverinfo="skip",
                             xaxis=xb, yaxis=yb, showlegend=False, name="window rows",
                             line=dict(color="white", width=1)))
    return data


def build(ids: torch.Tensor, window_size: int, shift_size: int, template: str, title: str,
          *, block_label: str = "", real: tuple[int, int] | None = None,
          lang: str = "en") -> go.Figure:
    """The two-panel figure for an (H, W) id map in the rolled frame. `real` = the (H, W) grid
    of real tokens when `ids` is that of the padded grid: the padding cells (where the roll has
    moved them) are veiled and named "zero padding" in both panels."""
    tpl = get_template(template)
    H, W = ids.shape
    M, s = window_size, shift_size
    N, nWc = M * M, W // M
    flat = flatten_windows(ids, M)  # nW, N
    nW = flat.shape[0]
    z = ids.numpy().astype(np.uint8)
    zf = flat.numpy().astype(np.uint8)
    ii, jj = np.indices((H, W))
    win = (ii // M) * nWc + jj // M
    slot = (ii % M) * M + jj % M
    dt = np.uint8 if max(H, W, nW) <= 256 else np.int32
    custom = np.stack([(ii + s) % H, (jj + s) % W, win, slot], -1).astype(dt)
    ww, kk = np.indices((nW, N))
    wr, wc = ww // nWc, ww % nWc
    custom_f = np.stack([(wr * M + kk // M + s) % H, (wc * M + kk % M + s) % W], -1).astype(dt)

    layout, refs = subplots_layout(
        rows=1, cols=2, horizontal_spacing=0.1,
        column_widths=[max(0.35, min(0.65, W / (W + N))), 1 - max(0.35, min(0.65, W / (W + N)))],
        subplot_titles=[tr(lang, "region ids of the rolled map ({H}×{W})", H=H, W=W),
                        f"flattened per window: {nW} window{'s' if nW > 1 else ''} × {N} slots"
                        if lang == "en" else
                        tr(lang, "flattened per window: {nW} windows × {N} slots", nW=nW, N=N)],
    )
    font_cell = max(10, tpl.font_size - 2)
    common = dict(colorscale=region_colorscale(), zmin=-0.5, zmax=8.5, xgap=0, ygap=0)
    (xa, ya), (xb, yb) = refs[(1, 1)], refs[(1, 2)]
    data: list[dict] = [
        dict(type="heatmap", z=z, customdata=custom, name="region ids", xaxis=xa, yaxis=ya,
             hovertemplate=tr(lang, "rolled position (%{{y}}, %{{x}}) holds token "
                              "(%{{customdata[0]}}, %{{customdata[1]}})<br>window "
                              "%{{customdata[2]}}, slot %{{customdata[3]}}<br>region id "
                              "%{{z}}<extra></extra>"),
             colorbar=dict(title=dict(text=tr(lang, "region id")), tickvals=list(range(9)), len=0.8,
                           thickness=14),
             **common, **_annotate((H, W), font_cell)),
        dict(type="heatmap", z=zf, customdata=custom_f, name="flattened ids", xaxis=xb,
             yaxis=yb, showscale=False,
             hovertemplate=tr(lang, "window %{{y}}, slot %{{x}}<br>= token (%{{customdata[0]}}, "
                              "%{{customdata[1]}})<br>region id %{{z}}<extra></extra>"),
             **common, **_annotate((nW, N), font_cell)),
    ]
    # region boundaries (black) and the window grid (white, dashed) on the id map
    bx, by = boundary_xy(z)
    data.append(dict(type="scatter", x=bx, y=by, mode="lines", hoverinfo="skip",
                     line=dict(color="black", width=tpl.line_width), xaxis=xa, yaxis=ya,
                     name=tr(lang, "region boundary")))
    data.append(_window_grid(H, W, M, tpl, xa, ya, lang))
    if real is not None and tuple(real) != (H, W):
        data += _padding(real, (H, W), M, s, tpl, (xa, ya), (xb, yb), lang)
    data += _window_labels(H, W, M, nW, tpl, (xa, ya), (xb, yb))
    panel_axes(layout, (xa, ya), title_x=tr(lang, "column j of the rolled map"),
               title_y=tr(lang, "row i of the rolled map"))
    panel_axes(layout, (xb, yb),
               title_x=tr(lang, "slot k in the window (row-major: k = M·row + col)"),
               title_y=tr(lang, "window w"))
    for ref, n in ((xa, W), (ya, H), (xb, N), (yb, nW)):
        layout[axis_key(ref)].update(
            range=[-0.5, n - 0.5] if ref[0] == "x" else [n - 0.5, -0.5], autorange=False,
            dtick=1 if n <= ANNOTATE_MAX else (M if ref in (xa, ya) else None),
            tick0=0)
    style_layout(layout, template, title=title, height=tpl.height + title_height(title, tpl))
    top_title(layout, tpl, below=1)
    layout["legend"] = dict(orientation="h", yanchor="top", y=-0.14, x=0.0, xanchor="left")
    layout["meta"]["block"] = block_label
    return fast_figure(data, layout)


def _subtitle(H: int, W: int, M: int, s: int, template, real=None, lang: str = "en",
              roll_first: bool = False) -> str:
    """Notes under the title: the bands (or why there is no shift) and the padding."""
    L = lang
    if s == 0:
        if real is not None and M >= min(real):
            why = sup_lines(tr(L, "<b>no shift:</b> {why}. Every id is 0 and the mask is all "
                               "zeros.", why=one_window_text(real[0], real[1], M, L)), template)
        elif M >= min(H, W):
            why = sup_lines(tr(L, "no shift (one window covers the whole grid): every id is 0 "
                               "and the mask is all zeros"), template)
        else:
            why = sup_lines(tr(L, "no shift (shift_size = 0, regular windows): every id is 0 "
                               "and the mask is all zeros"), template)
    else:
        why = sup_lines(tr(L, "each axis is cut into [0, {a}), [{a}, {b}), [{b}, {H}) (i.e. "
                           "[0, H−M), [H−M, H−s), [H−s, H)); ids 0..8 row by row. Inside a "
                           "window, a query and a key with different ids get −100 in the mask.",
                           a=H - M, b=H - s, H=H), template)
    if real is not None and tuple(real) != (H, W) and roll_first and s:
        why += sup_lines(tr(L, "<b>Roll first</b> (timm's Swin V2): {what}. The ids are those "
                            "of the padded {H}×{W} map; veiled cells are zero padding ({n} "
                            "tokens).", what=padding_text(real[0], real[1], H, W, s, L, True),
                            H=H, W=W, n=H * W - real[0] * real[1]), template)
    elif real is not None and tuple(real) != (H, W):
        why += sup_lines(tr(L, "<b>Padding first:</b> {what}. The ids are those of the padded "
                            "{H}×{W} map; veiled cells are zero padding ({n} tokens).",
                            what=padding_text(real[0], real[1], H, W, s, L), H=H, W=W,
                            n=H * W - real[0] * real[1]), template)
    return why


def figure(exp, sel) -> go.Figure:
    """The traced block's (H, W) region ids (concepts fact 4, in the rolled frame) and the
    same ids cut into windows, nW rows of N."""
    sel = sel.resolved(exp)
    t1 = exp.traces[1]
    H, W = t1.input_resolution
    Hp, Wp = t1.region_ids.shape
    M, s = t1.window_size, t1.shift_size
    L = sel.lang
    title = (tr(L, "Region ids (img_mask) of {b1}, stage {stage}<br><sup>{H}×{W} tokens, window "
                "M = {M}, shift s = {s}</sup>", b1=block_name(1, exp, L), stage=exp.stage, H=H,
                W=W, M=M, s=s)
             + _subtitle(Hp, Wp, M, s, sel.template, (H, W), L,
                         bool(getattr(t1, "roll_first", False))))
    return build(t1.region_ids, M, s, sel.template, title, block_label=block_name(1, exp),
                 real=(H, W), lang=L)


def toy_figure(H: int, W: int, window_size: int, shift_size: int,
               template: str = "default", lang: str = "en") -> go.Figure:
    """The same figure from `swinviz.windows.region_ids` for plain settings (no model): e.g.
    `toy_figure(6, 6, 3, 1)` is docs/concepts.md fact 4's 6×6 grid and its 4×9 flattened table.

    When H or W is not a multiple of the window, the map is that of the padded grid the block
    really uses (`padded_size`): zero tokens fill the bottom rows and right columns before the
    roll, and they are marked "pad" where the roll has moved them."""
    get_template(template)
    M, s = effective_window((H, W), window_size, shift_size)
    Hp, Wp = padded_size(H, W, M)
    title = (tr(lang, "Region ids for a {H}×{W} token grid, window M = {M}, shift s = {s} "
                "(swinviz.windows.region_ids)", H=H, W=W, M=M, s=s)
             + _subtitle(Hp, Wp, M, s, template, (H, W), lang))
    return build(region_ids(Hp, Wp, M, s), M, s, template, title, block_label="toy",
                 real=(H, W), lang=lang)
