"""Where does the chosen patch attend, in both blocks, on the image?

(a) Block 0 | block 1: the query's softmax row (its window's N probabilities) placed at every
    key's REAL token position. The shifted block computes in rolled coordinates (window w, slot
    k); slot k of window w holds original token ((wr*M + k//M + s) % H, (wc*M + k%M + s) % W),
    which `window_order` / `window_of_token` give, so the roll is undone exactly and the
    wrapped-around keys sit where they really are (no corner artefacts). Keys masked with -100
    (another region before the roll) are crossed out: their weight is ~0.
(b) Attention taken apart: for the query and one head, the logit in the order the block adds it:
    q·kᵀ·scale (trace.scores), + relative position bias (trace.bias), + mask (trace.mask), then
    the softmax (trace.attn), each as an M x M map over the query's window slots.
    With all heads chosen (head=None), instead every head's attention row of the query, an
    M x M map per head; with more than 8 heads tiled into one heatmap (`tiled_rows`).
(c) All heads of one window: the (N, N) attention matrices on one shared colour scale, a panel
    per head; with more than one row of heads (more than 8) tiled into one heatmap
    (`head_tiles`): a panel per head made every redraw in the page lay out ~50 subplots at
    stage 4 (24 heads), which took a click past 300 ms.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from ..windows import padded_size, window_partition
from .flow import _coords, token_geometry
from .style import (
    BLOCK_COLORS,
    DIVERGING,
    QUERY_COLOR,
    SEQUENTIAL,
    axis_key,
    block_name,
    cached,
    canvas,
    cells_outline,
    fast_figure,
    footnote,
    get_template,
    heads_per_row,
    image_dict,
    image_source,
    png_data_uri,
    style_layout,
    subplots_layout,
    top_title,
    wrap_text,
)
from .style import (
    set_titles as _set_titles,
)
from .style import (
    title_slots as _slots,
)

_OVERLAY_OPACITY = 0.72
BACKGROUND_MAX = 256  # px: larger inputs get a downsampled background (two copies per figure)


def _geometry(trace):
    """(order (nW, N) flat positions r·Wp + c on the padded (Hp, Wp) grid (the grid itself when it
    splits into whole windows), window_of_token (Hp, Wp, 2), region id per slot (nW, N)) of one
    block, all from the library's own functions and the trace's region ids.
    Cached on the trace: a click redraws without rebuilding it."""
    return cached(trace, "attention_geometry", lambda: _build_geometry(trace))


def _build_geometry(trace):
    M, s = trace.window_size, trace.shift_size
    Hp, Wp = padded_size(*trace.input_resolution, M)  # windows are cut from the padded grid
    order, wot = token_geometry(Hp, Wp, M, s)
    regions = window_partition(trace.region_ids.view(1, Hp, Wp, 1), M).reshape(-1, M * M).numpy()
    return order, wot, regions


def _check(exp, block: int, head: int | None, query) -> tuple[int, int]:
    if block not in (0, 1):
        raise ValueError(f"block must be 0 or 1, got {block}")
    if head is not None and not 0 <= head < exp.traces[block].num_heads:
        raise ValueError(f"head must be in 0..{exp.traces[block].num_heads - 1}, got {head}")
    H, W = exp.traces[block].input_resolution
    r, c = int(query[0]), int(query[1])
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"query patch ({r}, {c}) is outside the {H}x{W} token grid")
    return r, c


def attention_on_grid(exp, block: int, head: int | None, query) -> np.ndarray:
    """The query's attention row of `block` on the token grid in ORIGINAL coordinates: entry
    (r, c) is the softmax weight the query gives key token (r, c); NaN outside the query's
    window. `head=None` averages the heads. Shape (Ht, Wt), or the padded (Hp, Wp) when the grid
    does not split into whole windows: rows >= Ht / columns >= Wt are the zero-padding keys the
    block added, which the query attends to as well."""
    r, c = _check(exp, block, head, query)
    trace = exp.traces[block]
    H, W = padded_size(*trace.input_resolution, trace.window_size)
    order, wot, _ = _geometry(trace)
    w, k = wot[r, c]
    attn = trace.attn[w, :, k].numpy()  # nH, N
    row = attn.mean(axis=0) if head is None else attn[head]
    grid = np.full(H * W, np.nan, dtype=np.float32)
    grid[order[w]] = row
    return grid.reshape(H, W)


def decomposition(exp, block: int, head: int, query) -> dict[str, np.ndarray]:
    """The query's logit taken apart, each (M, M) over its window's slots (rolled frame):
    scores (q·kᵀ·scale), bias, mask (zeros without shift) and attn (softmax of their sum)."""
    r, c = _check(exp, block, head, query)
    trace = exp.traces[block]
    M = trace.window_size
    _, wot, _ = _geometry(trace)
    w, k = wot[r, c]
    mask = trace.mask[w, k].numpy() if trace.mask is not None else np.zeros(M * M, np.float32)
    return {
        "scores": trace.scores[w, head, k].numpy().reshape(M, M),
        "bias": trace.bias[head, k].numpy().reshape(M, M),
        "mask": mask.reshape(M, M),
        "attn": trace.attn[w, head, k].numpy().reshape(M, M),
    }


def head_tiles(nH: int, N: int) -> dict:
    """Where each head's (N, N) matrix sits in part (c)'s one heatmap: rows of
    `heads_per_row(nH)` tiles, `gap_x` empty columns between tiles and a band of `gap_y` empty
    rows above each row of tiles for its "head h" labels. Returns {"origin": [(y0, x0)] per
    head (the tile's top-left cell), "shape": (Y, X), "gap_x", "gap_y", "N"}."""
    per_row = heads_per_row(nH)
    rows = -(-nH // per_row)
    gap_x, gap_y = max(1, round(0.1 * N)), max(2, round(0.26 * N))
    origin = [(gap_y + (h // per_row) * (N + gap_y), (h % per_row) * (N + gap_x))
              for h in range(nH)]
    shape = (rows * (N + gap_y), per_row * N + (per_row - 1) * gap_x)
    return {"origin": origin, "shape": shape, "gap_x": gap_x, "gap_y": gap_y, "N": N}


def tiled_heads(attn_w: np.ndarray, tokens: np.ndarray, tiles: dict) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """Part (c)'s heatmap: attn_w (nH, N, N) of one window placed by `tiles`, NaN between
    tiles: (Y, X) float32; and its hover data (Y, X, 7): head, query slot, query token (r, c),
    key slot, key token (r, c), as uint8 (uint16 past 255), zeros between tiles. tokens:
    (N, 2) the original (r, c) of each slot."""
    N = attn_w.shape[1]
    q = np.concatenate([np.arange(N)[:, None], tokens], axis=1)  # N, 3: slot, r, c
    cell = np.concatenate(np.broadcast_arrays(q[:, None, :], q[None, :, :]), axis=-1)  # N,N,6
    return _tiled(attn_w, cell, tiles)


def _tiled(values: np.ndarray, cell_cd: np.ndarray, tiles: dict) -> tuple[np.ndarray,
                                                                         np.ndarray]:
    """values (nH, n, n) placed by `tiles`, NaN between tiles: (Y, X) float32; hover data
    (Y, X, 1 + F): the head, then cell_cd (n, n, F) of each cell, as uint8 (uint16 past 255),
    zeros between tiles."""
    nH, n, _ = values.shape
    Y, X = tiles["shape"]
    z = np.full((Y, X), np.nan, np.float32)
    top = max(nH - 1, int(cell_cd.max(initial=0)))
    cd = np.zeros((Y, X, 1 + cell_cd.shape[-1]), np.uint8 if top < 256 else np.uint16)
    for h, (y0, x0) in enumerate(tiles["origin"]):
        z[y0:y0 + n, x0:x0 + n] = values[h]
        cd[y0:y0 + n, x0:x0 + n, 0] = h
        cd[y0:y0 + n, x0:x0 + n, 1:] = cell_cd
    return z, cd


def tiled_rows(rows: np.ndarray, slot_cd: np.ndarray, tiles: dict) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Part (b)'s heatmap with all heads chosen: rows (nH, M, M), each head's attention row of
    the query over its window's slots, placed by `tiles` (`head_tiles(nH, M)`), NaN between
    tiles: (Y, X) float32; and its hover data (Y, X, 6): head, slot (row, column), token
    (r, c), region id, as uint8 (uint16 past 255), zeros between tiles. slot_cd: (M, M, 5)
    slot (row, column), token (r, c), region id per slot."""
    return _tiled(rows, slot_cd, tiles)


def query_slots(tiles: dict, qy: int, qx: int) -> tuple[list, list]:
    """The query's slot (row qy, column qx) outlined in every tile of part (b): x, y of one
    square per tile, None between them."""
    xs, ys = [], []
    for y0, x0 in tiles["origin"]:
        x, y = x0 + qx, y0 + qy
        xs += [x - 0.5, x + 0.5, x + 0.5, x - 0.5, x - 0.5, None]
        ys += [y - 0.5, y - 0.5, y + 0.5, y + 0.5, y - 0.5, None]
    return xs[:-1], ys[:-1]


def _tile_axes(layout: dict, xr: str, yr: str, tiles: dict, t, titles: tuple[str, str],
               margin: float = 0.0) -> None:
    """The axes of a tiled heatmap (`head_tiles`): the tiles and `margin` columns left and
    right of them, square cells, no tick labels, the tiles at the top of their rows; the
    paper's colour between the tiles; a "head h" label above each tile."""
    Y, X = tiles["shape"]
    n = tiles["N"]
    tile_x = sorted({x0 for _, x0 in tiles["origin"]})
    tile_y = sorted({y0 for y0, _ in tiles["origin"]})
    step = int(round(math.sqrt(n))) if n > 16 else n  # a tick per window row of a tile
    for ref, starts, title, rng in ((xr, tile_x, titles[0], [-0.5 - margin, X - 0.5 + margin]),
                                    (yr, tile_y, titles[1], [Y - 0.5, -0.5])):
        layout[axis_key(ref)].update(
            title=dict(text=title), range=rng, showgrid=False, zeroline=False,
            constrain="domain", tickmode="array",
            tickvals=[o + k for o in starts for k in range(0, n, step)],
            showticklabels=False)  # many small tiles: no tick labels
    layout[axis_key(yr)].update(scaleanchor=xr, constraintoward="top")
    layout.setdefault("shapes", []).append(dict(
        type="rect", xref=xr, yref=yr, x0=-0.5 - margin, x1=X - 0.5 + margin, y0=-0.5,
        y1=Y - 0.5, fillcolor=t.paper, line=dict(width=0), layer="below"))
    for h, (y0, x0) in enumerate(tiles["origin"]):
        layout["annotations"].append(dict(
            text=f"head {h}", xref=xr, yref=yr, x=x0 + (n - 1) / 2, y=y0 - 0.5,
            xanchor="center", yanchor="bottom", showarrow=False,
            font=dict(size=t.font_size - 1)))


def query_rows(tiles: dict, kq: int) -> tuple[list, list]:
    """Query slot kq's row in every tile of part (c), marked beside the tile (an outline over
    rows 1-3 px tall would hide them): a short line in the gap left and right of each tile, at
    the row's height. Returns x, y with None between the lines."""
    N, g, xs, ys = tiles["N"], 0.8 * tiles["gap_x"], [], []
    for y0, x0 in tiles["origin"]:
        xs += [x0 - 0.5 - g, x0 - 0.5, None, x0 + N - 0.5, x0 + N - 0.5 + g, None]
        ys += [y0 + kq, y0 + kq, None] * 2
    return xs[:-1], ys[:-1]


def _background(exp) -> dict:
    """The image the model saw, as an image trace dict in pixel coordinates. Up to
    BACKGROUND_MAX px it is the exact pixels (shared PNG cache); a larger input is shown
    downsampled by a whole factor (the attention overlay is per token, so nothing drawn moves)."""
    w, h = exp.image.size
    f = -(-max(w, h) // BACKGROUND_MAX)  # ceil
    if f == 1:
        return image_dict(image_source(exp.image))
    src = cached(exp, ("attention_background", f), lambda: png_data_uri(
        exp.image.resize((w // f, h // f), Image.Resampling.BOX)))
    return dict(type="image", source=src, x0=f / 2, y0=f / 2, dx=f, dy=f, name="image",
                hoverinfo="skip")


def _attention_bar(y: float, length: float) -> dict:
    """A colour bar of attention probabilities. Its tick labels all have three decimals, so the
    bar is as wide for every query: a click that changed the top of the scale would otherwise
    move the right margin and, with it, every panel (a full relayout in the page)."""
    return dict(title=dict(text="attention", side="right"), y=y, len=length, thickness=14,
                tickformat=".3f")


def _span(layout: dict, yref: str) -> tuple[float, float]:
    lo, hi = layout[axis_key(yref)]["domain"]
    return (lo + hi) / 2, hi - lo


def figure(exp, sel) -> go.Figure:
    t = get_template(sel.template)
    r, c = _check(exp, sel.block, sel.head, sel.query)
    Hr, Wr = exp.grid
    p = exp.patch_size
    nH = exp.num_heads
    head_txt = "mean over heads" if sel.head is None else f"head {sel.head}"
    tr = exp.traces[sel.block]
    M = tr.window_size
    N = M * M
    H, W = padded_size(Hr, Wr, M)  # the grid the windows are cut from (padding included)
    padded = (H, W) != (Hr, Wr)
    geo = [_geometry(t_) for t_ in exp.traces]
    wq, kq = (int(v) for v in geo[sel.block][1][r, c])
    win = wq if sel.window is None else int(sel.window)

    per_row = heads_per_row(nH)
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
    # (c) with more than one row of heads (12, 24) is one tiled heatmap: a panel per head made
    # each redraw in the page lay out ~50 subplots at stage 4, and a click took over 300 ms;
    # so is (b) with all heads chosen
    tiled = head_rows > 1
    tiled_b = all_b and tiled
    tiles = head_tiles(nH, N) if tiled else None
    tiles_b = head_tiles(nH, M) if tiled_b else None

    def spanning(rows):  # one subplot over `rows` whole rows
        return [[{"colspan": cols, "rowspan": rows}] + [None] * (cols - 1),
                *([[None] * cols] * (rows - 1))]

    specs = [
        [{"colspan": cols // 2}] + [None] * (cols // 2 - 1)
        + [{"colspan": cols // 2}] + [None] * (cols // 2 - 1),
        *(spanning(b_rows) if tiled_b else head_specs() if all_b else
          [([{"colspan": cols // 4}] + [None] * (cols // 4 - 1)) * 4]),
        # (c): a panel per head, or (more than one row of them) one heatmap of every head's
        # matrix over the rows their panels would take
        *(spanning(head_rows) if tiled else head_specs()),
    ]
    head_b = 0 if sel.head is None else sel.head
    titles = [f"B{block_name(b, exp)[1:]}, {head_txt}:<br>where token ({r}, {c}) attends, on "
              f"the image" for b in (0, 1)]
    parts = decomposition(exp, sel.block, head_b, (r, c))
    sc, bi = parts["scores"], parts["bias"]
    titles += [""] if tiled_b else [f"head {h}" for h in range(nH)] \
        if all_b else [
        f"q·kᵀ·scale (content)<br><sup>mean |·| = {np.abs(sc).mean():.3f}</sup>",
        f"+ relative position bias<br><sup>mean |·| = {np.abs(bi).mean():.3f}</sup>",
        "+ mask (0 / −100)" if tr.mask is not None
        else ("+ mask<br><sup>none in W-MSA: adds 0</sup>" if sel.block == 0
              else "+ mask<br><sup>none without a shift: adds 0</sup>"),
        "= softmax → attention",
    ]
    titles += [""] if tiled else [f"head {h}" for h in range(nH)]  # tiled: labels on it
    masked_note = ("White × = key masked with −100 (another region before the roll): weight "
                   "~0. " if exp.traces[1].mask is not None else "")
    pad_note = (f"<br>Hatched: zero padding ({H}×{W} for {Hr}×{Wr} tokens): the block pads "
                f"before it rolls, and queries attend to the padding keys too."
                if padded else "")
    width = int((t.width - 100) / (0.56 * (t.font_size - 1)))
    if sel.template == "lecture":  # on paper: state what hovering would tell
        facts = []
        for b in (0, 1):
            g = attention_on_grid(exp, b, sel.head, (r, c))
            kr_, kc_ = np.unravel_index(int(np.nanargmax(g)), g.shape)
            facts.append(f"in {block_name(b, exp)} token ({kr_}, {kc_}), p = "
                         f"{float(g[kr_, kc_]):.3f}")
        M1, s1 = tr.window_size, tr.shift_size
        said = (f"Strongest key ({head_txt}): {'; '.join(facts)}. In (b) and (c) slots are "
                f"numbered in the block's own (rolled) window frame: slot k of window w = "
                f"(wr, wc) is token ((wr·{M1} + k // {M1} + {s1}) mod {H}, (wc·{M1} + k mod "
                f"{M1} + {s1}) mod {W}); the query, token ({r}, {c}), is slot {kq} of window "
                f"{wq}.")
    else:
        said = ("Hover a key for its token (r, c), window, region id and probability. In (b) "
                "and (c) slots are numbered in the block's own (rolled) window frame; hover "
                "shows the real token.")
    text = wrap_text(
        "Star: the query. Outline: its window in each block (the shifted block's may wrap "
        f"around the edges of the image). {masked_note}{said}", width)
    if padded:
        text += "<br>" + wrap_text(pad_note.removeprefix("<br>"), width)
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
    data: list[dict] = []

    # ---- (a) both blocks on the image, shift undone ----------------------------------------
    grids = [attention_on_grid(exp, b, sel.head, (r, c)) for b in (0, 1)]
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
        data.append(dict(background, xaxis=xr, yaxis=yr))
        cy, ly = _span(layout, yr)
        data.append(dict(
            type="heatmap", z=grid, x0=p / 2, dx=p, y0=p / 2, dy=p, colorscale=SEQUENTIAL,
            zmin=0, zmax=pmax, opacity=_OVERLAY_OPACITY, hoverinfo="skip", showscale=b == 1,
            colorbar=_attention_bar(cy, ly), name=f"attention block {b}", **ax))
        xs, ys = cells_outline(~np.isnan(grid), cell=p)
        data.append(dict(type="scatter", x=_coords(xs), y=_coords(ys), mode="lines",
                         hoverinfo="skip",
                         line=dict(color=BLOCK_COLORS[b], width=t.line_width),
                         name=f"window {w} of block {b}", showlegend=False, **ax))
        keys = order[w]  # flat original positions of the window's N keys, slot order
        kr, kc = np.divmod(keys, W)
        probs = grid.ravel()[keys]
        masked = (trace_b.mask[w, k].numpy() < 0) if trace_b.mask is not None else \
            np.zeros(N, bool)
        if masked.any():
            data.append(dict(
                type="scatter", x=(kc[masked] + 0.5) * p, y=(kr[masked] + 0.5) * p,
                mode="markers", hoverinfo="skip", showlegend=False, name="masked keys",
                marker=dict(symbol="x-thin", size=max(5, int(360 / max(H, W))),
                            line=dict(color="white", width=1.5)), **ax))
        cd = np.stack([kr, kc, np.full(N, w), np.arange(N), regions[w], probs,
                       masked.astype(float) * -100], axis=-1).astype(np.float32)
        data.append(dict(
            type="scatter", x=(kc + 0.5) * p, y=(kr + 0.5) * p, mode="markers",
            marker=dict(size=max(6, int(400 / max(H, W))), color="rgba(0,0,0,0)"),
            customdata=cd, showlegend=False, name=f"keys block {b}",
            hovertemplate=f"{block_name(b, exp)}<br>key token (%{{customdata[0]}}, "
                          "%{customdata[1]})<br>window %{customdata[2]}, slot %{customdata[3]}"
                          "<br>region id %{customdata[4]}<br>mask %{customdata[6]}<br>"
                          "p = %{customdata[5]:.3g}<extra></extra>", **ax))
        data.append(dict(type="scatter", x=[(c + 0.5) * p], y=[(r + 0.5) * p], mode="markers",
                         marker=dict(symbol="star", size=t.font_size + 3, color=QUERY_COLOR,
                                     line=dict(color="black", width=1.5)),
                         hovertext=[f"query token ({r}, {c}), window {w}, slot {k}"],
                         hoverinfo="text", showlegend=False, name="query", **ax))
        layout[axis_key(xr)].update(title=dict(text="x (pixels)"), range=[0, W * p],
                                    showgrid=False, zeroline=False, constrain="domain")
        layout[axis_key(yr)].update(title=dict(text="y (pixels)" if b == 0 else ""),
                                    range=[H * p, 0], showgrid=False, zeroline=False,
                                    constrain="domain", scaleanchor=xr)

    # ---- (b) the logit taken apart -----------------------------------------------------------
    order, wot, regions = geo[sel.block]
    kr, kc = np.divmod(order[wq], W)
    slot_cd = np.stack([np.arange(N) // M, np.arange(N) % M, kr, kc, regions[wq]],
                       axis=-1).reshape(M, M, 5).astype(np.int16)
    amax = float(max(np.abs(sc).max(), np.abs(bi).max())) or 1.0
    panels = [
        ("scores", dict(colorscale=DIVERGING, zmid=0, zmin=-amax, zmax=amax), "%{z:.2f}",
         "q·kᵀ·scale"),
        ("bias", dict(colorscale=DIVERGING, zmid=0, zmin=-amax, zmax=amax), "%{z:.2f}",
         "bias"),
        ("mask", dict(colorscale=DIVERGING, zmid=0, zmin=-100, zmax=100), "%{z:.0f}", "mask"),
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
            hovertemplate="head %{customdata[0]}<br>slot (%{customdata[1]}, %{customdata[2]}) "
                          "= token (%{customdata[3]}, %{customdata[4]})<br>region id "
                          "%{customdata[5]}<br>p = %{z:.4g}<extra></extra>",
            xaxis=xr, yaxis=yr))
        xs, ys = query_slots(tiles_b, qy, qx)
        data.append(dict(type="scatter", x=xs, y=ys, mode="lines",
                         line=dict(color=QUERY_COLOR, width=2.5), hoverinfo="skip",
                         showlegend=False, name="query slots", xaxis=xr, yaxis=yr))
        _tile_axes(layout, xr, yr, tiles_b, t, ("window column", "window row"))
        panels = []
    elif all_b:
        pmax_b = float(tr.attn[wq, :, kq].max()) or 1.0
        panels = [(f"attn head {h}", dict(colorscale=SEQUENTIAL, zmin=0, zmax=pmax_b),
                   "%{z:.2f}", f"head {h}: p") for h in range(nH)]
        parts = {f"attn head {h}": tr.attn[wq, h, kq].numpy().reshape(M, M)
                 for h in range(nH)}
    for i, (name, scale, fmt, label) in enumerate(panels):
        xr, yr = (refs[(2 + i // per_row, 1 + (i % per_row) * (cols // per_row))] if all_b
                  else refs[(2, 1 + i * (cols // 4))])
        ax = dict(xaxis=xr, yaxis=yr)
        data.append(dict(
            type="heatmap", z=parts[name], customdata=slot_cd, showscale=False, name=name,
            hovertemplate=f"slot (%{{customdata[0]}}, %{{customdata[1]}}) = token "
                          f"(%{{customdata[2]}}, %{{customdata[3]}})<br>region id "
                          f"%{{customdata[4]}}<br>{label} = %{{z:.4g}}<extra></extra>",
            **scale, **ax,
            **({"texttemplate": fmt, "textfont": dict(size=9 if M > 5 else 12)}
               if M <= (5 if all_b and nH > 4 else 8) else {})))  # 12x12: unreadable
        data.append(dict(type="scatter", x=[qx - 0.5, qx + 0.5, qx + 0.5, qx - 0.5, qx - 0.5],
                         y=[qy - 0.5, qy - 0.5, qy + 0.5, qy + 0.5, qy - 0.5], mode="lines",
                         line=dict(color=QUERY_COLOR, width=2.5), hoverinfo="skip",
                         showlegend=False, name="query slot", **ax))
        layout[axis_key(xr)].update(title=dict(text="window column"),
                                    range=[-0.5, M - 0.5],
                                    showgrid=False, zeroline=False, constrain="domain",
                                    dtick=1 if M <= 7 else 2)
        first = i % per_row == 0 if all_b else i == 0  # of its row of panels
        layout[axis_key(yr)].update(title=dict(text="window row" if first else ""),
                                    range=[M - 0.5, -0.5], showgrid=False, zeroline=False,
                                    constrain="domain", scaleanchor=xr, dtick=1 if M <= 7 else 2)
        if all_b and per_row > 4:  # many small panels: no ticks, axis titles on the first only
            layout[axis_key(xr)].update(showticklabels=False)
            layout[axis_key(yr)].update(showticklabels=False)
            if i:
                layout[axis_key(xr)]["title"] = dict(text="")
                layout[axis_key(yr)]["title"] = dict(text="")

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
            colorbar=_attention_bar(cy, ly),
            hovertemplate="head %{customdata[0]}<br>query slot %{customdata[1]} = token "
                          "(%{customdata[2]}, %{customdata[3]})<br>key slot %{customdata[4]} "
                          "= token (%{customdata[5]}, %{customdata[6]})<br>p = %{z:.3g}"
                          "<extra></extra>", **ax))
        if win == wq:
            xs, ys = query_rows(tiles, kq)
            data.append(dict(type="scatter", x=xs, y=ys, mode="lines",
                             line=dict(color=QUERY_COLOR, width=4), hoverinfo="skip",
                             showlegend=False, name="query row", **ax))
        # room beside the outer tiles for the query row's marks
        _tile_axes(layout, xr, yr, tiles, t, ("key slot", "query slot"), tiles["gap_x"])
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
                colorbar=_attention_bar(cy, ly),
                hovertemplate=f"head {h}<br>query slot %{{y}} = token (%{{customdata[0]}}, "
                              "%{customdata[1]})<br>key slot %{x} = token (%{customdata[2]}, "
                              "%{customdata[3]})<br>p = %{z:.3g}<extra></extra>", **ax,
                **({"texttemplate": "%{z:.2f}", "textfont": dict(size=10)} if N <= 12 else {})))
            if win == wq:
                data.append(dict(type="scatter", x=[-0.5, N - 0.5, N - 0.5, -0.5, -0.5],
                                 y=[kq - 0.5] * 2 + [kq + 0.5] * 2 + [kq - 0.5], mode="lines",
                                 line=dict(color=QUERY_COLOR, width=2), hoverinfo="skip",
                                 showlegend=False, name="query row", **ax))
            ticks = dict(tickmode="array", tickvals=list(range(0, N, M)))
            layout[axis_key(xr)].update(title=dict(text="key slot"), range=[-0.5, N - 0.5],
                                        showgrid=False, zeroline=False, constrain="domain",
                                        **ticks)
            layout[axis_key(yr)].update(title=dict(text="query slot" if h == 0 else ""),
                                        range=[N - 0.5, -0.5], showgrid=False, zeroline=False,
                                        constrain="domain", scaleanchor=xr, **ticks)
            if h % per_row:
                layout[axis_key(yr)]["title"] = dict(text="")

    # row headings, placed above each row's subplot titles (lift: font sizes above the row's
    # top; tiled (c) has its labels inside its plot, so its heading sits just above it)
    hb = "head 0" if sel.head is None else f"head {sel.head}"
    where = f"window {wq}, slot {kq}"
    headings = [
        (refs[(1, 1)][1], 4.2, "(a) One patch's attention in both blocks, on the image (the "
                               "shift undone)"),
        (refs[(2, 1)][1], 0.6 if tiled_b else 2.9,
         f"(b) Every head's attention row (softmax of q·kᵀ·scale + bias + mask), "
         f"{block_name(sel.block, exp)}, token ({r}, {c}) = {where}" if all_b else
         f"(b) Taken apart: {block_name(sel.block, exp)}, {hb}, token ({r}, {c}) = {where}"),
        (refs[(2 + b_rows, 1)][1], 0.6 if tiled else 2.9,
         f"(c) Every head, window {win} of {block_name(sel.block, exp)}: {N}×{N} attention "
         f"(rows: queries), one colour scale"),
    ]
    for yref, lift, text in headings:
        row_top = layout[axis_key(yref)]["domain"][1]
        layout["annotations"].append(dict(
            text=f"<b>{text}</b>", xref="paper", yref="paper", x=0, y=row_top, xanchor="left",
            align="left", yanchor="bottom", yshift=int(lift * t.font_size), showarrow=False,
            font=dict(size=t.font_size)))
    layout["annotations"].append(note)
    style_layout(layout, sel.template, height=height,
                 title=f"Where token ({r}, {c}) attends, {head_txt}<br><sup>stage "
                       f"{exp.stage}: {block_name(0, exp)} and {block_name(1, exp)}</sup>")
    top_title(layout, t, below=0)
    layout["margin"].update(b=bottom, t=top + int(1.3 * t.font_size))
    layout["showlegend"] = False
    return fast_figure(data, layout)
