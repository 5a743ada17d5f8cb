"""Information flow. Which input patches can influence the chosen patch after the pair's first
block, after the pair and after k pairs, and where attention rollout puts the model's attention
weight, back through every block and patch merge to the image.

Reach (weights ignored, only who may attend to whom): in one block, query q sees key j when j is
in q's window and the mask is 0 (same region id; always in W-MSA). As an (L, L) boolean matrix
R_b (L = Ht·Wt, flat token index r·Wt + c), the inputs that reach q's output are
  after block 0:        e_q R_0
  after pair 1:         e_q R_1 R_0        (block 1 reads block 0's outputs)
  after pair k:         e_q (R_1 R_0)^k    (if the same pair were repeated at this resolution)
computed as boolean products. R_b[i, j] is true exactly when i and j share a (window, region)
group, so v @ R_b is evaluated group-wise in O(L) (`reach_matrix` builds the dense matrix for
checks; 3136² is fine, a 448 px input's 12544² is not). The residual connection adds nothing new:
q is in its own window. A grid that does not split into whole windows is padded inside the block;
the zero tokens carry nothing and are left out.

Rollout (the model's attention weights, random or pretrained): A_b is block b's head-averaged
attention scattered from window form to original token positions (L, L); with the residual as
0.5·I the pair's rollout is
  (0.5·A_1 + 0.5·I) @ (0.5·A_0 + 0.5·I)          (`rollout`, `rollout_row`: within the pair)
and the figure rolls the query back through every block of `exp.chain` to stage 1 with
`swinviz.rollout.rollout_map` (a merged token's weight spread over its 2x2 children at every
patch merge), drawn on the image at stage 1's patch size. Rows sum to 1, less the weight given to
zero padding.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from ..rollout import rollout_map
from ..windows import (
    attention_mask,
    padded_size,
    window_of_token,
    window_order,
    window_region_ids,
)
from .style import (
    QUERY_COLOR,
    SEQUENTIAL,
    axis_key,
    block_name,
    cached,
    cached_latest,
    cells_outline,
    fast_figure,
    footnote,
    get_template,
    image_dict,
    image_source,
    png_data_uri,
    style_layout,
    subplots_layout,
    top_title,
    where,
    wrap_text,
)
from .style import (
    set_titles as _set_titles,
)
from .style import (
    title_slots as _slots,
)

MAX_PAIRS = 4  # the figure's small multiples; the pure functions take any k >= 0
ROLLOUT_FLOOR = 1e-12  # rollout weights below this (paths through masked keys) are left clear
_STEP_COLORS = ("#0072B2", "#009E73", "#E69F00", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")


def _check_geometry(H: int, W: int, window_size: int, shift_size: int) -> None:
    """Any positive grid (a block pads one that does not split into whole windows) with
    0 <= shift < window; else a ValueError saying so."""
    if H <= 0 or W <= 0:
        raise ValueError(f"the token grid must be positive, got {H}x{W}")
    if window_size <= 0 or not 0 <= shift_size < window_size:
        raise ValueError(f"need 0 <= shift_size < window_size, got window {window_size}, "
                         f"shift {shift_size}")


@lru_cache(maxsize=32)
def token_geometry(H: int, W: int, window_size: int, shift_size: int):
    """(order (nW, N): flat original position r·W + c of window w's slot k, or H·W for a slot of
    zero padding when the grid is padded to whole windows; window_of_token (H, W, 2): (window,
    slot) of original token (r, c)) as read-only numpy arrays, from `swinviz.windows`; cached
    per geometry (shared by every exploration and click)."""
    M = window_size
    order = window_order(H, W, M, shift_size).numpy().reshape(-1, M * M).copy()
    wot = window_of_token(H, W, M, shift_size).numpy().copy()
    order.setflags(write=False)
    wot.setflags(write=False)
    return order, wot


@lru_cache(maxsize=32)
def visibility_groups(H: int, W: int, window_size: int, shift_size: int) -> np.ndarray:
    """Int (L,), read-only: tokens q and j see each other in one block (same window, attention
    mask 0, i.e. the same region id inside that window) exactly when their group ids are equal.
    Group = window · 9 + region id, scattered from window slots to original positions. Padding
    slots (a grid padded to whole windows) are left out: a zero token carries nothing."""
    _check_geometry(H, W, window_size, shift_size)
    order, _ = token_geometry(H, W, window_size, shift_size)
    Hp, Wp = padded_size(H, W, window_size)
    ids = window_region_ids(Hp, Wp, window_size, shift_size).numpy()  # nW, N
    groups = np.arange(len(order))[:, None] * 9 + ids
    real = order < H * W
    group = np.empty(H * W, dtype=np.int64)
    group[order[real]] = groups[real]
    group.setflags(write=False)
    return group


def reach_matrix(H: int, W: int, window_size: int, shift_size: int) -> np.ndarray:
    """Bool (L, L): R[q, j] = key token j is visible to query token q in one block with this
    window and shift (same window and attention mask 0), flat index r·W + c; padding keys are
    left out. Built from the block's windows and `attention_mask` of the padded grid; O(L²)
    memory, so the figure never builds it."""
    _check_geometry(H, W, window_size, shift_size)
    M = window_size
    order, _ = token_geometry(H, W, M, shift_size)
    visible = attention_mask(*padded_size(H, W, M), M, shift_size).numpy() == 0  # nW, N, N
    L = H * W
    R = np.zeros((L + 1, L + 1), dtype=bool)  # row / column L: every padding slot
    R[order[:, :, None], order[:, None, :]] = visible
    return R[:L, :L].copy()


def _step(v: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The boolean product v @ R without R: R[i, j] = (group[i] == group[j]), so j is reached
    when some token of v shares its group. O(L) instead of O(L²)."""
    hit = np.zeros(int(group.max()) + 1, dtype=bool)
    hit[group[v]] = True
    return hit[group]


def reach_sets(H: int, W: int, window_size: int, shift_size: int, query,
               k_pairs: int) -> list[np.ndarray]:
    """[after block 0, after pair 1, ..., after pair k]: bool (H, W) maps of the input tokens that
    can influence token `query` = (r, c). Block 0 uses (window_size, 0), block 1
    (window_size, shift_size); pairs beyond the first repeat the same two blocks. A grid that
    does not split into whole windows is padded as the block pads it; padding carries nothing."""
    r, c = int(query[0]), int(query[1])
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"query patch ({r}, {c}) is outside the {H}x{W} token grid")
    if k_pairs < 0:
        raise ValueError(f"k_pairs must be >= 0, got {k_pairs}")
    R0 = visibility_groups(H, W, window_size, 0)  # R_0 and R_1 in factored form
    R1 = visibility_groups(H, W, window_size, shift_size)
    v = np.zeros(H * W, dtype=bool)
    v[r * W + c] = True
    out = [_step(v, R0)]
    for _ in range(k_pairs):
        v = _step(_step(v, R1), R0)
        out.append(v)
    return [s.reshape(H, W) for s in out]


def _windowed(exp, block: int):
    """(order (nW, N), window_of_token (H, W, 2), head-mean attention (nW, N, N)) of a block."""
    def make():
        tr = exp.traces[block]
        order, wot = token_geometry(*tr.input_resolution, tr.window_size, tr.shift_size)
        return order, wot, tr.attn.numpy().mean(axis=1, dtype=np.float64)
    return cached(exp.traces[block], "flow_windowed", make)


def _a0_rows(exp, tokens: np.ndarray) -> np.ndarray:
    """Dense rows A_0[tokens, :] (len(tokens), L) of block 0's head-mean attention; the row of a
    padding slot (index L) is zero: a zero token brings nothing from the input."""
    order, wot, a = _windowed(exp, 0)
    H, W = exp.grid
    L = H * W
    rows = np.zeros((len(tokens), L + 1))
    real = np.nonzero(tokens < L)[0]
    w, k = wot.reshape(-1, 2)[tokens[real]].T
    rows[real[:, None], order[w]] = a[w, k]
    return rows[:, :L]


def rollout_row(exp, query) -> np.ndarray:
    """Row `query` of `rollout(exp)`, (L,), without building the (L, L) matrix."""
    H, W = exp.grid
    L = H * W
    r, c = int(query[0]), int(query[1])
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"query patch ({r}, {c}) is outside the {H}x{W} token grid")
    q = r * W + c
    order1, wot1, a1 = _windowed(exp, 1)
    w, k = wot1[r, c]
    keys = order1[w]  # the query's block-1 window, slot order (L: a padding slot)
    p1 = a1[w, k]  # (N,) its head-mean attention in block 1
    row = np.zeros(L + 1)
    row[:L] = 0.25 * (p1 @ _a0_rows(exp, keys))  # A1 A0
    np.add.at(row, keys, 0.25 * p1)  # A1 (weight on padding lands in row[L] and leaves)
    row[:L] += 0.25 * _a0_rows(exp, np.array([q]))[0]  # A0
    row[q] += 0.25  # I
    return row[:L]


def rollout(exp) -> np.ndarray:
    """(L, L) float64 attention rollout through the pair, (0.5·A1 + 0.5·I) @ (0.5·A0 + 0.5·I),
    A_b the head-averaged attention of block b in original token positions (flat r·Wt + c).
    Rows sum to 1, less the weight given to zero padding (a grid padded to whole windows)."""
    H, W = exp.grid
    L = H * W
    order1, _, a1 = _windowed(exp, 1)
    order0, _, a0 = _windowed(exp, 0)
    out = np.zeros((L + 1, L + 1))  # row / column L: padding, dropped at the end
    for w in range(order1.shape[0]):  # A1 A0, one block-1 window (N rows) at a time
        keys = order1[w]
        out[keys, :L] += 0.25 * (a1[w] @ _a0_rows(exp, keys))
    np.add.at(out, (order1[:, :, None], order1[:, None, :]), 0.25 * a1)
    np.add.at(out, (order0[:, :, None], order0[:, None, :]), 0.25 * a0)
    out[np.arange(L), np.arange(L)] += 0.25
    return out[:L, :L].copy()


def stage_maps(exp, query) -> tuple[list[np.ndarray], list[int]]:
    """Attention rollout of the query (a token of the explored stage) back through every block of
    `exp.chain` (`swinviz.rollout.rollout_map`): the maps per stage crossed, last stage first,
    as float64 (H_s, W_s) arrays, and the stage of each. Cached on the exploration for the
    latest query only (a session's store does not grow with its clicks)."""
    q = tuple(int(v) for v in query)

    def make():
        maps = rollout_map(exp.chain, q)
        stages = list(range(exp.chain[-1].stage, exp.chain[-1].stage - len(maps), -1))
        return [m.numpy() for m in maps], stages
    return cached_latest(exp, "flow_stage_maps", q, make)


def _background(exp) -> str:
    """The image in grey at 2 pixels per token: context for six small panels, a few KB each."""
    H, W = exp.grid

    def make():
        img = exp.image.convert("L").resize((2 * W, 2 * H))
        return png_data_uri((np.asarray(img) // 2 + 96).astype(np.uint8))  # faded grey
    return cached(exp, "flow_background", make)


def _coords(values: list) -> np.ndarray:
    """None-separated line coordinates as a float array with NaN gaps: plotly copies an array in
    one go, where a long Python list costs it a deepcopy per element."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _crop(z: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The bounding box of the non-NaN cells of z: (z[r0:r1, c0:c1], r0, c0), so a heatmap sends
    only the cells it draws (x0 = c0, y0 = r0 keep token coordinates)."""
    rows = np.nonzero(~np.isnan(z).all(axis=1))[0]
    cols = np.nonzero(~np.isnan(z).all(axis=0))[0]
    if not len(rows):
        return z[:1, :1], 0, 0
    return z[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], int(rows[0]), int(cols[0])


def _cap(z: np.ndarray, skip: np.ndarray) -> float:
    """The colour scale's top: the largest weight outside `skip` (the query's own cells, where
    the residual puts most of the weight), else the largest overall."""
    rest = np.where(skip, 0.0, z)
    return float(rest.max()) or float(z.max()) or 1.0


def _weights(exp) -> str:
    """What the rollout's weights are: 'random weights' for an untrained model (`exp.pretrained`
    False), else 'pretrained weights' (a checkpoint from the Hub or a file)."""
    return "pretrained weights" if exp.pretrained else "random weights"


def _masked_window(exp, query) -> bool:
    """True when the query's window in the pair's second block mixes region ids, i.e. the
    attention mask hides some of its keys (keys that wrapped around the edge); False without a
    shift."""
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    if s == 0:
        return False
    _, wot = token_geometry(H, W, M, s)
    ids = window_region_ids(*padded_size(H, W, M), M, s).numpy()[wot[query][0]]
    return bool((ids != ids[0]).any())


def _later_pairs_text(exp, k: int) -> str:
    """The footnote's sentence on pairs 2..k: what the panels show, and what really follows the
    pair in the model (more pairs of this stage, patch merging into the next stage, or nothing
    at the last pair of the last stage)."""
    later = "pair 2 shows" if k == 2 else f"pairs 2–{k} show"
    text = (f"{later[0].upper()}{later[1:]} what repeating this same pair at this resolution "
            f"would do (reach depends on windows and masks only).")
    geo = exp.geometry
    if geo is None:
        return text
    more = geo.pairs - exp.pair - 1
    last = exp.stage == exp.config.num_stages
    if more > 0:
        text += (f" In Swin, stage {exp.stage} has {more} more pair{'s' if more > 1 else ''} "
                 f"after this one at this resolution (same windows, their own weights)"
                 + ("; it is the last stage." if last else
                    f"; after them patch merging leads to stage {exp.stage + 1}."))
    elif last:
        text += (f" In Swin this is the last pair of the last stage (stage {exp.stage}): no "
                 f"block follows it.")
    else:
        text += f" In Swin the later pairs run after patch merging, in stage {exp.stage + 1}."
    return text


def figure(exp, sel) -> go.Figure:
    t = get_template(sel.template)
    k = int(sel.k_pairs)
    if not 1 <= k <= MAX_PAIRS:
        raise ValueError(f"k_pairs must be in 1..{MAX_PAIRS}, got {sel.k_pairs}")
    H, W = exp.grid
    r, c = sel.query
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"query patch ({r}, {c}) is outside the {H}x{W} token grid")
    M, s = exp.window_size, exp.shift_size
    b0, b1 = (block_name(b, exp) for b in (0, 1))
    sets = reach_sets(H, W, M, s, (r, c), k)
    first = np.full((H, W), np.nan, dtype=np.float32)  # the step at which a token joins
    for i in range(len(sets) - 1, -1, -1):
        first[sets[i]] = i
    colors = [_STEP_COLORS[i % len(_STEP_COLORS)] for i in range(k + 1)]
    dscale = []
    for i, col in enumerate(colors):
        dscale += [[i / (k + 1), col], [(i + 1) / (k + 1), col]]

    maps, map_stages = stage_maps(exp, (r, c))
    to_image = map_stages[-1] == 1 and exp.chain[0].block == 0
    show_stage = len(maps) > 1  # the explored stage's own map, besides the image's
    n_grid = k + 1 + show_stage  # reach panels (+ the explored stage's rollout) in a grid
    cols = min(3, n_grid)
    grid_rows = math.ceil(n_grid / cols)
    rows = grid_rows + 1  # the last row: the rollout on the image, wide
    names = [f"after {b0}"]
    names += [f"after {b1} (1 pair)"]
    names += [f"{i} pairs, same pair repeated" for i in range(2, k + 1)]
    counts = [int(st.sum()) for st in sets]
    titles = [f"{nm}<br>{n_} of {H * W} patches" + (f" (+{n_ - counts[i - 1]})" if i else "")
              for i, (nm, n_) in enumerate(zip(names, counts, strict=True))]
    n_blocks = len(exp.chain)
    if show_stage:
        titles.append(f"rollout back to the start of stage {exp.stage}<br>(its {H}×{W} "
                      f"tokens)")
    p1 = exp.config.patch_size if exp.config is not None else 4
    H1, W1 = maps[-1].shape
    titles.append(f"rollout to the image: stage 1's {p1}×{p1}-px patches<br>"
                  f"({n_blocks} blocks, {_weights(exp)}, mean over heads)" if to_image else
                  f"rollout through the {n_blocks} traced blocks<br>(stage {map_stages[-1]} "
                  f"tokens)")
    specs = [[{} if i * cols + j < n_grid else None for j in range(cols)]
             for i in range(grid_rows)] + [[{"colspan": cols}] + [None] * (cols - 1)]
    heights = [1.0] * grid_rows + [1.7]
    layout, refs = subplots_layout(rows=rows, cols=cols, subplot_titles=_slots(titles),
                                   specs=specs, row_heights=[h / sum(heights) for h in heights],
                                   horizontal_spacing=0.05, vertical_spacing=round(
                                       0.3 / (rows + 1), 3))
    _set_titles(layout, titles)
    bg = dict(type="image", source=_background(exp), x0=-0.25, y0=-0.25, dx=0.5, dy=0.5,
              hoverinfo="skip", name="image (grey)")
    gx: list = []
    gy: list = []
    for b in sorted({*range(0, H, M), H}):
        gx += [-0.5, W - 0.5, None]
        gy += [b - 0.5, b - 0.5, None]
    for b in sorted({*range(0, W, M), W}):
        gx += [b - 0.5, b - 0.5, None]
        gy += [-0.5, H - 0.5, None]
    grid = dict(type="scatter", x=_coords(gx), y=_coords(gy), mode="lines", hoverinfo="skip",
                showlegend=False,
                line=dict(color="rgba(255,255,255,0.6)", width=0.6),
                name=f"{b0} windows")
    star = dict(type="scatter", x=[c], y=[r], mode="markers", showlegend=False,
                marker=dict(symbol="star", size=t.font_size + 3, color=QUERY_COLOR,
                            line=dict(color="black", width=1.5)),
                hovertext=[f"query token ({r}, {c})"], hoverinfo="text", name="query")
    data: list[dict] = []
    panels = [refs[(1 + i // cols, 1 + i % cols)] for i in range(n_grid)] + [refs[(rows, 1)]]

    step_names = [f"block {exp.blocks[0]}"] + [f"pair {i}" for i in range(1, k + 1)]
    # colour bars at the right of the grid rows: "reachable since" for the reach panels, below it
    # (with a stage map) the stage map's own rollout scale, each titled for its panels
    grid_frac = grid_rows / (grid_rows + 1.7)
    reach_len = (0.42 if show_stage else 0.8) * grid_frac
    for i, (xr, yr) in enumerate(panels[:k + 1]):
        ax = dict(xaxis=xr, yaxis=yr)
        z, r0, c0 = _crop(np.where(sets[i], first, np.nan))
        data.append(dict(bg, **ax))
        data.append(dict(
            type="heatmap", z=z, x0=c0, dx=1, y0=r0, dy=1, zmin=-0.5, zmax=k + 0.5,
            colorscale=dscale, opacity=0.7,
            showscale=i == 0, name=f"reach {['block 0', *step_names[1:]][i]}",
            colorbar=dict(title=dict(text="reach panels:<br>reachable<br>since" if show_stage
                                     else "reachable<br>since", side="top"),
                          tickmode="array", tickvals=list(range(k + 1)), ticktext=step_names,
                          thickness=14, len=reach_len, y=1, yanchor="top", x=1.01),
            hovertemplate="token (%{y}, %{x})<br>reachable since %{z}<extra>0 = the pair's "
                          "first block, i = pair i</extra>", **ax))
        xs, ys = cells_outline(sets[i])
        data.append(dict(type="scatter", x=_coords(xs) - 0.5, y=_coords(ys) - 0.5, mode="lines",
                         hoverinfo="skip", showlegend=False, name="reach outline",
                         line=dict(color="black", width=1.2), **ax))
        data.append(dict(grid, **ax))
        data.append(dict(star, **ax))
    for i, (xr, yr) in enumerate(panels[:n_grid]):
        layout[axis_key(xr)].update(title=dict(text="column (token)"), range=[-0.5, W - 0.5],
                                    showgrid=False, zeroline=False, constrain="domain")
        layout[axis_key(yr)].update(title=dict(text="row (token)" if i % cols == 0 else ""),
                                    range=[H - 0.5, -0.5], showgrid=False, zeroline=False,
                                    constrain="domain", scaleanchor=xr)

    bar = dict(title=dict(text="rollout<br>weight", side="top"), thickness=14,
               len=0.9 * heights[-1] / sum(heights), y=0, yanchor="bottom", x=1.01)
    if show_stage:  # the explored stage's own map, in its token grid
        xr, yr = panels[k + 1]
        ax = dict(xaxis=xr, yaxis=yr)
        zs = maps[0]
        own = np.zeros_like(zs, dtype=bool)
        own[r, c] = True
        z, r0, c0 = _crop(np.where(zs > ROLLOUT_FLOOR, zs, np.nan).astype(np.float32))
        data.append(dict(bg, **ax))
        data.append(dict(
            type="heatmap", z=z, x0=c0, dx=1, y0=r0, dy=1, zmin=0, zmax=_cap(zs, own),
            colorscale=SEQUENTIAL, opacity=0.85, name=f"rollout stage {exp.stage}",
            showscale=True, colorbar=dict(
                title=dict(text=f"stage-{exp.stage}<br>rollout<br>weight", side="top"),
                thickness=14, len=0.8 * grid_frac - reach_len, y=1 - reach_len - 0.04,
                yanchor="top", x=1.01),
            hovertemplate="token (%{y}, %{x})<br>rollout weight %{z:.3g}<extra></extra>", **ax))
        data.append(dict(grid, **ax))
        data.append(dict(star, **ax))

    # the last map: on the image at stage 1's patch size (or on the first traced stage's grid)
    xr, yr = panels[-1]
    ax = dict(xaxis=xr, yaxis=yr)
    z1 = maps[-1]
    f = 2 ** (exp.stage - map_stages[-1])  # tokens of the last map per explored token, a side
    own = np.zeros_like(z1, dtype=bool)
    own[r * f:(r + 1) * f, c * f:(c + 1) * f] = True
    z, r0, c0 = _crop(np.where(z1 > ROLLOUT_FLOOR, z1, np.nan).astype(np.float32))
    px = p1 * 2 ** (map_stages[-1] - 1)  # pixels per cell of the last map
    if to_image:
        data.append(dict(image_dict(image_source(exp.image), xr, yr), opacity=0.9))
    data.append(dict(
        type="heatmap", z=z, x0=(c0 + 0.5) * px, dx=px, y0=(r0 + 0.5) * px, dy=px, zmin=0,
        zmax=_cap(z1, own), colorscale=SEQUENTIAL, opacity=0.7, name="rollout",
        showscale=True, colorbar=bar, customdata=np.stack(np.indices(z.shape), -1) + [r0, c0],
        hovertemplate=f"stage-{map_stages[-1]} patch (%{{customdata[0]}}, %{{customdata[1]}})"
                      "<br>rollout weight %{z:.3g}<extra></extra>", **ax))
    ps = exp.patch_size
    for color, width in (("black", t.line_width + 3), (QUERY_COLOR, t.line_width)):
        data.append(dict(type="scatter", mode="lines", hoverinfo="skip", showlegend=False,
                         x=[c * ps, (c + 1) * ps, (c + 1) * ps, c * ps, c * ps],
                         y=[r * ps, r * ps, (r + 1) * ps, (r + 1) * ps, r * ps],
                         line=dict(color=color, width=width),
                         name=f"the query token ({ps}×{ps} px)", **ax))
    layout[axis_key(xr)].update(title=dict(text="x (pixels)"), range=[0, W1 * px],
                                showgrid=False, zeroline=False, constrain="domain")
    layout[axis_key(yr)].update(title=dict(text="y (pixels)"),
                                range=[H1 * px, 0], showgrid=False, zeroline=False,
                                constrain="domain", scaleanchor=xr)

    lines = [
        f"Reach: the input patches that can influence token ({r}, {c}) of stage {exp.stage}, "
        f"from window membership and masks only (weights ignored); colour = the step at which a "
        f"patch joins; grid: the {M}×{M} windows of {b0}.",
    ]
    if (H, W) != padded_size(H, W, M):
        Hp, Wp = padded_size(H, W, M)
        lines.append(f"The {H}×{W} grid is padded to {Hp}×{Wp} inside each block: the zero "
                     f"tokens carry nothing, so reach and rollout leave them out (weight a query "
                     f"gives them leaves the picture).")
    # the sentence some patches get: the pair's second block adds nothing for them (always
    # with s = 0); its longest form, for the room under the plots
    if s == 0:
        quiet = longest = (f"The pair's second block adds nothing for this patch: with no shift "
                           f"(s = 0) {b1} uses the same windows as {b0}"
                           + (" (one window covers the whole grid, so no mask)."
                              if M >= min(H, W) else "."))
    else:
        quiet = (f"The pair's second block adds nothing for this patch: every key {b1} lets it "
                 f"see (same region id) was already in its first window")
        longest = quiet + "; the keys that wrapped around the edge are masked."
        if counts[1] == counts[0]:
            quiet = longest if _masked_window(exp, (r, c)) else quiet + "."
    if counts[1] == counts[0]:
        lines.append(quiet)
    if k > 1:
        lines.append(_later_pairs_text(exp, k))
    lines.append(
        "Rollout (Abnar & Zuidema): a row vector v starts at the query and goes back through "
        f"every block from {b1} of stage {exp.stage} to "
        + ("stage 1, block 0" if to_image else f"block {exp.chain[0].block} of stage "
           f"{exp.chain[0].stage}")
        + ": v ← 0.5·vA + 0.5·v (A = the block's head-mean attention in original positions, "
        "the shift undone; the residual as 0.5·I); across a patch merge a merged token's weight "
        "is spread equally over its 2×2 children.")
    lines.append("The query's own cells (its residual weight) are off the colour scale; weights "
                 "below 1e-12 (only via masked keys) are left clear.")
    width = int((t.width - 80) / (0.56 * (t.font_size - 1)))
    text = "<br>".join(wrap_text(line, width) for line in lines)
    rows = text.count("<br>") + 1
    if counts[1] != counts[0]:  # room for the sentence above all the same: the panels stay put
        rows += wrap_text(longest, width).count("<br>") + 1  # from patch to patch (a click)
    elif quiet != longest:
        rows += wrap_text(longest, width).count("<br>") - wrap_text(quiet, width).count("<br>")
    note, bottom = footnote(text, sel.template, lines=rows)
    layout["annotations"].append(note)
    style_layout(layout, sel.template, height=int(t.height * (0.95 * grid_rows + 1.6 + 0.45)),
                 title=f"Information flow into token ({r}, {c}), {where(exp)}: reach and "
                       f"attention rollout")
    layout["margin"].update(b=bottom, r=110)
    top_title(layout, sel.template, below=2, gap=12)
    layout["showlegend"] = False
    return fast_figure(data, layout)
