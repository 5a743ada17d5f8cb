"""The attention figure's numbers and tiles: the query's row on the token grid, the logit taken
apart, and the tiling of many heads into one heatmap (used by the figure and by the page's
in-place redraw, app/instant.py)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from ...windows import padded_order, padded_size, window_partition
from .._core import (
    axis_key,
    cached,
    heads_per_row,
    image_dict,
    image_source,
    png_data_uri,
)
from .._core.words import tr

BACKGROUND_MAX = 256  # px: larger inputs get a downsampled background (two copies per figure)


def _geometry(trace):
    """(order (nW, N) flat positions r·Wp + c on the padded (Hp, Wp) grid (the grid itself when it
    splits into whole windows), window_of_token (Hp, Wp, 2), region id per slot (nW, N)) of one
    block, all from the library's own functions and the trace's region ids.
    Cached on the trace: a click redraws without rebuilding it."""
    return cached(trace, "attention_geometry", lambda: _build_geometry(trace))


def _build_geometry(trace):
    M, s = trace.window_size, trace.shift_size
    H, W = trace.input_resolution
    Hp, Wp = padded_size(H, W, M)  # windows are cut from the padded grid
    # every slot, padding included, at its place on the padded grid (the padding where the
    # block added it: before the roll, or after it for timm's Swin V2, `BlockTrace.roll_first`)
    N = M * M
    order = padded_order(H, W, M, s, getattr(trace, "roll_first", False)).numpy()
    slot_of = np.empty(Hp * Wp, dtype=np.int64)
    slot_of[order] = np.arange(order.size)
    order = order.reshape(-1, N)
    wot = np.stack([slot_of // N, slot_of % N], axis=-1).reshape(Hp, Wp, 2)
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


def set_on_grid(exp, block: int, head: int | None, queries) -> np.ndarray:
    """The summed attention of a query set on the token grid (ORIGINAL coordinates, padded like
    `attention_on_grid`): entry (r, c) is the sum over the set's queries of the weight each gives
    key token (r, c); a key two queries both attend to counts twice, so the sum is up to the
    set's size. NaN where no query of the set has the key in its window."""
    grids = np.stack([attention_on_grid(exp, block, head, q) for q in queries])
    out = np.nansum(grids, axis=0)
    out[np.isnan(grids).all(axis=0)] = np.nan
    return out


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


def head_tiles(nH: int, N: int, template: str = "default") -> dict:
    """Where each head's (N, N) matrix sits in part (c)'s one heatmap: rows of
    `heads_per_row(nH)` tiles, `gap_x` empty columns between tiles and a band of `gap_y` empty
    rows above each row of tiles for its "head h" labels. Returns {"origin": [(y0, x0)] per
    head (the tile's top-left cell), "shape": (Y, X), "gap_x", "gap_y", "N"}."""
    per_row = heads_per_row(nH, template)
    rows = -(-nH // per_row)
    gap_x, gap_y = max(1, round(0.1 * N)), max(2, round(0.26 * N))
    if template == "narrow":  # a phone's tiles are a few px a slot: the band holds a label
        from .._core.template import get_template

        t = get_template(template)
        px = (t.width - 150) / (per_row * N + (per_row - 1) * gap_x)  # the column's width
        gap_y = max(gap_y, math.ceil(1.5 * t.font_size / px))
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
               margin: float = 0.0, lang: str = "en") -> None:
    """The axes of a tiled heatmap (`head_tiles`): the tiles and `margin` columns left and
    right of them, square cells, the tiles at the top of their rows; the paper's colour
    between the tiles; a "head h" label above each tile. One row of tiles (up to 8 heads)
    labels its slots under each tile and left of the row (each slot up to 16 slots a tile,
    else each window row's first, or every other's under more than 4 tiles); more rows of
    small tiles have tick marks only."""
    Y, X = tiles["shape"]
    n = tiles["N"]
    tile_x = sorted({x0 for _, x0 in tiles["origin"]})
    tile_y = sorted({y0 for y0, _ in tiles["origin"]})
    labels = len(tile_y) == 1
    # a tick per window row of a tile (per slot for a small window with labels; every other
    # row with labels under more than 4 tiles, which are narrow)
    step = int(round(math.sqrt(n))) if n > 16 else 1 if labels else n
    if labels and n > 16 and len(tile_x) > 4:
        step *= 2
    for ref, starts, title, rng in ((xr, tile_x, titles[0], [-0.5 - margin, X - 0.5 + margin]),
                                    (yr, tile_y, titles[1], [Y - 0.5, -0.5])):
        layout[axis_key(ref)].update(
            title=dict(text=title), range=rng, showgrid=False, zeroline=False,
            constrain="domain", tickmode="array",
            tickvals=[o + k for o in starts for k in range(0, n, step)],
            showticklabels=labels)
        if labels:
            layout[axis_key(ref)].update(
                ticktext=[str(k) for _ in starts for k in range(0, n, step)], tickangle=0)
    layout[axis_key(yr)].update(scaleanchor=xr, constraintoward="top")
    if t.name == "narrow":  # as wide as the phone's column, however tall (`narrow.restack`)
        meta = layout.setdefault("meta", {})
        meta["tall_panels"] = [*meta.get("tall_panels", ()), axis_key(xr)]
    layout.setdefault("shapes", []).append(dict(
        type="rect", xref=xr, yref=yr, x0=-0.5 - margin, x1=X - 0.5 + margin, y0=-0.5,
        y1=Y - 0.5, fillcolor=t.paper, line=dict(width=0), layer="below"))
    for h, (y0, x0) in enumerate(tiles["origin"]):
        layout["annotations"].append(dict(  # a phone's tiles are narrow: "h3"
            text=f"h{h}" if t.name == "narrow" else tr(lang, "head {h}", h=h), xref=xr,
            yref=yr, x=x0 + (n - 1) / 2, y=y0 - 0.5,
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


def _attention_bar(y: float, length: float, lang: str = "en") -> dict:
    """A colour bar of attention probabilities. Its tick labels all have three decimals, so the
    bar is as wide for every query: a click that changed the top of the scale would otherwise
    move the right margin and, with it, every panel (a full relayout in the page)."""
    return dict(title=dict(text=tr(lang, "attention"), side="right"), y=y, len=length, thickness=14,
                tickformat=".3f")


def _span(layout: dict, yref: str) -> tuple[float, float]:
    lo, hi = layout[axis_key(yref)]["domain"]
    return (lo + hi) / 2, hi - lo


