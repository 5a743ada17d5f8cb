"""Information flow. Which input patches can influence the chosen patch after the pair's first
block, after the pair and after k pairs, and where attention rollout puts the model's attention
weight, back through every block and patch merge to the image.

The reach sets and the rollout are computed in `flow.reach`; this module draws them:
a grid of reach panels, the stage's own rollout map and the rollout on the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from ...windows import (
    padded_size,
    window_region_ids,
)
from .._core import (
    QUERY_COLOR,
    SEQUENTIAL,
    Template,
    axis_key,
    block_name,
    cached,
    cells_outline,
    coords,
    fast_figure,
    footnote,
    get_template,
    image_dict,
    image_source,
    png_data_uri,
    style_layout,
    subplots_layout,
    token_geometry,
    top_title,
    where,
    wrap_text,
)
from .._core import (
    set_titles as _set_titles,
)
from .._core import (
    title_slots as _slots,
)
from .._core.words import tr
from .reach import (
    ROLLOUT_FLOOR,
    reach_matrix,
    reach_sets,
    rollout,
    rollout_row,
    stage_maps,
    visibility_groups,
)

__all__ = ["MAX_PAIRS", "ROLLOUT_FLOOR", "figure", "reach_matrix", "reach_sets", "rollout",
           "rollout_row", "stage_maps", "visibility_groups"]

MAX_PAIRS = 4  # the figure's small multiples; the pure functions take any k >= 0
_STEP_COLORS = ("#0072B2", "#009E73", "#E69F00", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")


def _background(exp) -> str:
    """The image in grey at 2 pixels per token: context for six small panels, a few KB each."""
    H, W = exp.grid

    def make():
        img = exp.image.convert("L").resize((2 * W, 2 * H))
        return png_data_uri((np.asarray(img) // 2 + 96).astype(np.uint8))  # faded grey
    return cached(exp, "flow_background", make)


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


def _weights(exp, lang: str = "en") -> str:
    """What the rollout's weights are: 'random weights' for an untrained model (`exp.pretrained`
    False), else 'pretrained weights' (a checkpoint from the Hub or a file)."""
    return tr(lang, "pretrained weights" if exp.pretrained else "random weights")


def _masked_window(exp, query) -> bool:
    """True when the query's window in the pair's second block mixes region ids, i.e. the
    attention mask hides some of its keys (keys that wrapped around the edge); False without a
    shift."""
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    if s == 0:
        return False
    _, wot = token_geometry(H, W, M, s, bool(getattr(exp.traces[1], "roll_first", False)))
    ids = window_region_ids(*padded_size(H, W, M), M, s).numpy()[wot[query][0]]
    return bool((ids != ids[0]).any())


def _later_pairs_text(exp, k: int, lang: str = "en") -> str:
    """The footnote's sentence on pairs 2..k: what the panels show, and what really follows the
    pair in the model (more pairs of this stage, patch merging into the next stage, or nothing
    at the last pair of the last stage)."""
    L = lang
    text = (tr(L, "Pair 2 shows what repeating this same pair at this resolution would do "
                  "(reach depends on windows and masks only).") if k == 2 else
            tr(L, "Pairs 2–{k} show what repeating this same pair at this resolution would do "
                  "(reach depends on windows and masks only).", k=k))
    geo = exp.geometry
    if geo is None:
        return text
    more = geo.pairs - exp.pair - 1
    last = exp.stage == exp.config.num_stages
    if more > 0:
        if L == "en":
            text += (f" In Swin, stage {exp.stage} has {more} more pair{'s' if more > 1 else ''} "
                     f"after this one at this resolution (same windows, their own weights)")
        else:
            text += tr(L, " In Swin, stage {stage} has {more} more pairs after this one at this "
                          "resolution (same windows, their own weights)", stage=exp.stage,
                       more=more)
        text += (tr(L, "; it is the last stage.") if last else
                 tr(L, "; after them patch merging leads to stage {next}.", next=exp.stage + 1))
    elif last:
        text += tr(L, " In Swin this is the last pair of the last stage (stage {stage}): no "
                      "block follows it.", stage=exp.stage)
    else:
        text += tr(L, " In Swin the later pairs run after patch merging, in stage {next}.",
                   next=exp.stage + 1)
    return text


@dataclass(frozen=True)
class _Flow:
    """What every panel of one flow figure shares: the query, the reach sets, the rollout maps
    and how the panels are laid out (a grid of reach panels, one wide rollout row below)."""

    exp: object
    t: Template
    k: int
    r: int
    c: int
    sets: list  # k + 1 bool (H, W) maps: after block 0, after pair 1, ..., after pair k
    maps: list  # rollout maps, last stage first (`stage_maps`)
    map_stages: list
    L: str = "en"  # the language of its words

    @property
    def H(self) -> int:
        return self.exp.grid[0]

    @property
    def W(self) -> int:
        return self.exp.grid[1]

    @property
    def counts(self) -> list[int]:
        return [int(st.sum()) for st in self.sets]

    @property
    def to_image(self) -> bool:
        """The rollout reaches the image (stage 1, block 0): drawn on it at stage 1's patches."""
        return self.map_stages[-1] == 1 and self.exp.chain[0].block == 0

    @property
    def show_stage(self) -> bool:
        """The explored stage's own rollout map gets a panel besides the image's."""
        return len(self.maps) > 1

    @property
    def n_grid(self) -> int:
        return self.k + 1 + self.show_stage

    @property
    def cols(self) -> int:
        return min(3, self.n_grid)

    @property
    def grid_rows(self) -> int:
        return math.ceil(self.n_grid / self.cols)

    @property
    def names(self) -> tuple[str, str]:
        return tuple(block_name(b, self.exp, self.L) for b in (0, 1))

    @property
    def p1(self) -> int:
        """Stage 1's patch size in pixels."""
        return self.exp.config.patch_size if self.exp.config is not None else 4


def _titles(f: _Flow) -> list[str]:
    """Subplot titles: each reach step with its count of patches (and how many it adds), the
    stage's own rollout, and the rollout on the image (or on the first traced stage)."""
    exp, H, W = f.exp, f.H, f.W
    b0, b1 = f.names
    L = f.L
    names = [tr(L, "after {b}", b=b0)]
    names += [tr(L, "after {b} (1 pair)", b=b1)]
    names += [tr(L, "{i} pairs, same pair repeated", i=i) for i in range(2, f.k + 1)]
    counts = f.counts
    titles = [tr(L, "{name}<br>{n} of {total} patches", name=nm, n=n_, total=H * W)
              + (f" (+{n_ - counts[i - 1]})" if i else "")
              for i, (nm, n_) in enumerate(zip(names, counts, strict=True))]
    n_blocks = len(exp.chain)
    if f.show_stage:
        titles.append(tr(L, "rollout back to the start of stage {stage}<br>(its {H}×{W} tokens)",
                         stage=exp.stage, H=H, W=W))
    p1 = f.p1
    titles.append(tr(L, "rollout to the image: stage 1's {p}×{p}-px patches<br>({n} blocks, "
                        "{weights}, mean over heads)", p=p1, n=n_blocks,
                     weights=_weights(exp, L)) if f.to_image else
                  tr(L, "rollout through the {n} traced blocks<br>(stage {stage} tokens)",
                     n=n_blocks, stage=f.map_stages[-1]))
    return titles


def _overlays(f: _Flow) -> tuple[dict, dict, dict]:
    """Traces every token panel repeats: the grey image behind, block 0's window grid and the
    query's star."""
    H, W, M = f.H, f.W, f.exp.window_size
    bg = dict(type="image", source=_background(f.exp), x0=-0.25, y0=-0.25, dx=0.5, dy=0.5,
              hoverinfo="skip", name="image (grey)")
    gx: list = []
    gy: list = []
    for b in sorted({*range(0, H, M), H}):
        gx += [-0.5, W - 0.5, None]
        gy += [b - 0.5, b - 0.5, None]
    for b in sorted({*range(0, W, M), W}):
        gx += [b - 0.5, b - 0.5, None]
        gy += [-0.5, H - 0.5, None]
    grid = dict(type="scatter", x=coords(gx), y=coords(gy), mode="lines", hoverinfo="skip",
                showlegend=False,
                line=dict(color="rgba(255,255,255,0.6)", width=0.6),
                name=f"{f.names[0]} windows")
    star = dict(type="scatter", x=[f.c], y=[f.r], mode="markers", showlegend=False,
                marker=dict(symbol="star", size=f.t.font_size + 3, color=QUERY_COLOR,
                            line=dict(color="black", width=1.5)),
                hovertext=[tr(f.L, "query token ({r}, {c})", r=f.r, c=f.c)], hoverinfo="text",
                name="query")
    return bg, grid, star


def _reach_panels(f: _Flow, data: list, panels: list, overlays: tuple) -> None:
    """One panel per reach step, coloured by the step at which a token joins, its outline in
    black; the colour bar ("reachable since") at the right of the grid rows."""
    bg, grid, star = overlays
    k, sets = f.k, f.sets
    first = np.full((f.H, f.W), np.nan, dtype=np.float32)  # the step at which a token joins
    for i in range(len(sets) - 1, -1, -1):
        first[sets[i]] = i
    colors = [_STEP_COLORS[i % len(_STEP_COLORS)] for i in range(k + 1)]
    dscale = []
    for i, col in enumerate(colors):
        dscale += [[i / (k + 1), col], [(i + 1) / (k + 1), col]]
    L = f.L
    step_names = ([f"block {f.exp.blocks[0]}"]
                  + [tr(L, "pair {i}", i=i) for i in range(1, k + 1)])
    for i, (xr, yr) in enumerate(panels[:k + 1]):
        ax = dict(xaxis=xr, yaxis=yr)
        z, r0, c0 = _crop(np.where(sets[i], first, np.nan))
        data.append(dict(bg, **ax))
        data.append(dict(
            type="heatmap", z=z, x0=c0, dx=1, y0=r0, dy=1, zmin=-0.5, zmax=k + 0.5,
            colorscale=dscale, opacity=0.7,
            showscale=i == 0, name=f"reach {['block 0', *step_names[1:]][i]}",
            colorbar=dict(title=dict(text=tr(L, "reach panels:<br>reachable<br>since")
                                     if f.show_stage else tr(L, "reachable<br>since"),
                                     side="top"),
                          tickmode="array", tickvals=list(range(k + 1)), ticktext=step_names,
                          thickness=14, len=_reach_len(f), y=1, yanchor="top", x=1.01),
            hovertemplate=tr(L, "token (%{{y}}, %{{x}})<br>reachable since %{{z}}<extra>0 = the "
                                "pair's first block, i = pair i</extra>"), **ax))
        xs, ys = cells_outline(sets[i])
        data.append(dict(type="scatter", x=coords(xs) - 0.5, y=coords(ys) - 0.5, mode="lines",
                         hoverinfo="skip", showlegend=False, name="reach outline",
                         line=dict(color="black", width=1.2), **ax))
        data.append(dict(grid, **ax))
        data.append(dict(star, **ax))


def _reach_len(f: _Flow) -> float:
    """Length of the reach colour bar (paper fraction): the grid rows' height, shared with the
    stage map's bar when there is one."""
    return (0.42 if f.show_stage else 0.8) * _grid_frac(f)


def _grid_frac(f: _Flow) -> float:
    return f.grid_rows / (f.grid_rows + 1.7)


def _token_axes(f: _Flow, layout: dict, panels: list) -> None:
    """Token axes (column across, row down, square cells) of the grid's panels."""
    for i, (xr, yr) in enumerate(panels[:f.n_grid]):
        layout[axis_key(xr)].update(title=dict(text=tr(f.L, "column (token)")),
                                    range=[-0.5, f.W - 0.5],
                                    showgrid=False, zeroline=False, constrain="domain")
        layout[axis_key(yr)].update(title=dict(text=tr(f.L, "row (token)")
                                               if i % f.cols == 0 else ""),
                                    range=[f.H - 0.5, -0.5], showgrid=False, zeroline=False,
                                    constrain="domain", scaleanchor=xr)


def _stage_panel(f: _Flow, data: list, refs: tuple[str, str], overlays: tuple) -> None:
    """The explored stage's own rollout map, in its token grid, with its own colour bar."""
    bg, grid, star = overlays
    exp, r, c = f.exp, f.r, f.c
    xr, yr = refs
    ax = dict(xaxis=xr, yaxis=yr)
    zs = f.maps[0]
    own = np.zeros_like(zs, dtype=bool)
    own[r, c] = True
    z, r0, c0 = _crop(np.where(zs > ROLLOUT_FLOOR, zs, np.nan).astype(np.float32))
    data.append(dict(bg, **ax))
    data.append(dict(
        type="heatmap", z=z, x0=c0, dx=1, y0=r0, dy=1, zmin=0, zmax=_cap(zs, own),
        colorscale=SEQUENTIAL, opacity=0.85, name=f"rollout stage {exp.stage}",
        showscale=True, colorbar=dict(
            title=dict(text=tr(f.L, "stage-{stage}<br>rollout<br>weight", stage=exp.stage),
                       side="top"),
            thickness=14, len=0.8 * _grid_frac(f) - _reach_len(f), y=1 - _reach_len(f) - 0.04,
            yanchor="top", x=1.01),
        hovertemplate=tr(f.L, "token (%{{y}}, %{{x}})<br>rollout weight %{{z:.3g}}"
                              "<extra></extra>"), **ax))
    data.append(dict(grid, **ax))
    data.append(dict(star, **ax))


def _image_panel(f: _Flow, data: list, layout: dict, refs: tuple[str, str],
                 bar: dict) -> None:
    """The last rollout map, wide: on the image at stage 1's patch size (or on the first traced
    stage's grid), the query token outlined, pixel axes."""
    exp, r, c, t = f.exp, f.r, f.c, f.t
    xr, yr = refs
    ax = dict(xaxis=xr, yaxis=yr)
    z1 = f.maps[-1]
    H1, W1 = z1.shape
    f_ = 2 ** (exp.stage - f.map_stages[-1])  # tokens of the last map per explored token, a side
    own = np.zeros_like(z1, dtype=bool)
    own[r * f_:(r + 1) * f_, c * f_:(c + 1) * f_] = True
    z, r0, c0 = _crop(np.where(z1 > ROLLOUT_FLOOR, z1, np.nan).astype(np.float32))
    px = f.p1 * 2 ** (f.map_stages[-1] - 1)  # pixels per cell of the last map
    if f.to_image:
        data.append(dict(image_dict(image_source(exp.image), xr, yr), opacity=0.9))
    data.append(dict(
        type="heatmap", z=z, x0=(c0 + 0.5) * px, dx=px, y0=(r0 + 0.5) * px, dy=px, zmin=0,
        zmax=_cap(z1, own), colorscale=SEQUENTIAL, opacity=0.7, name="rollout",
        showscale=True, colorbar=bar, customdata=np.stack(np.indices(z.shape), -1) + [r0, c0],
        hovertemplate=tr(f.L, "stage-{stage} patch (%{{customdata[0]}}, %{{customdata[1]}})<br>"
                              "rollout weight %{{z:.3g}}<extra></extra>", stage=f.map_stages[-1]),
        **ax))
    ps = exp.patch_size
    for color, width in (("black", t.line_width + 3), (QUERY_COLOR, t.line_width)):
        data.append(dict(type="scatter", mode="lines", hoverinfo="skip", showlegend=False,
                         x=[c * ps, (c + 1) * ps, (c + 1) * ps, c * ps, c * ps],
                         y=[r * ps, r * ps, (r + 1) * ps, (r + 1) * ps, r * ps],
                         line=dict(color=color, width=width),
                         name=f"the query token ({ps}×{ps} px)", **ax))
    layout[axis_key(xr)].update(title=dict(text=tr(f.L, "x (pixels)")), range=[0, W1 * px],
                                showgrid=False, zeroline=False, constrain="domain")
    layout[axis_key(yr)].update(title=dict(text=tr(f.L, "y (pixels)")),
                                range=[H1 * px, 0], showgrid=False, zeroline=False,
                                constrain="domain", scaleanchor=xr)


def _notes(f: _Flow, template: str) -> tuple[dict, int]:
    """The footnote under the plots (what reach and rollout are, padding, the quiet second
    block, later pairs) and the bottom margin it needs, the same from patch to patch."""
    exp, r, c, t, k = f.exp, f.r, f.c, f.t, f.k
    H, W, M, s = f.H, f.W, exp.window_size, exp.shift_size
    b0, b1 = f.names
    L = f.L
    counts = f.counts
    lines = [tr(
        L, "Reach: the input patches that can influence token ({r}, {c}) of stage {stage}, from "
        "window membership and masks only (weights ignored); colour = the step at which a patch "
        "joins; grid: the {M}×{M} windows of {b0}.", r=r, c=c, stage=exp.stage, M=M, b0=b0),
    ]
    if (H, W) != padded_size(H, W, M):
        Hp, Wp = padded_size(H, W, M)
        lines.append(tr(L, "The {H}×{W} grid is padded to {Hp}×{Wp} inside each block: the zero "
                           "tokens carry nothing, so reach and rollout leave them out (weight a "
                           "query gives them leaves the picture).", H=H, W=W, Hp=Hp, Wp=Wp))
    # the sentence some patches get: the pair's second block adds nothing for them (always
    # with s = 0); its longest form, for the room under the plots
    if s == 0:
        quiet = longest = (
            tr(L, "The pair's second block adds nothing for this patch: with no shift (s = 0) "
                  "{b1} uses the same windows as {b0} (one window covers the whole grid, so no "
                  "mask).", b0=b0, b1=b1) if M >= min(H, W) else
            tr(L, "The pair's second block adds nothing for this patch: with no shift (s = 0) "
                  "{b1} uses the same windows as {b0}.", b0=b0, b1=b1))
    else:
        quiet = tr(L, "The pair's second block adds nothing for this patch: every key {b1} lets "
                      "it see (same region id) was already in its first window.", b1=b1)
        longest = tr(L, "The pair's second block adds nothing for this patch: every key {b1} "
                        "lets it see (same region id) was already in its first window; the keys "
                        "that wrapped around the edge are masked.", b1=b1)
        if counts[1] == counts[0] and _masked_window(exp, (r, c)):
            quiet = longest
    if counts[1] == counts[0]:
        lines.append(quiet)
    if k > 1:
        lines.append(_later_pairs_text(exp, k, L))
    lines.append(
        tr(L, "Rollout (Abnar & Zuidema): a row vector v starts at the query and goes back "
              "through every block from {b1} of stage {stage} to stage 1, block 0: v ← 0.5·vA + "
              "0.5·v (A = the block's head-mean attention in original positions, the shift "
              "undone; the residual as 0.5·I); across a patch merge a merged token's weight is "
              "spread equally over its 2×2 children.", b1=b1, stage=exp.stage)
        if f.to_image else
        tr(L, "Rollout (Abnar & Zuidema): a row vector v starts at the query and goes back "
              "through every block from {b1} of stage {stage} to block {b} of stage {first}: v "
              "← 0.5·vA + 0.5·v (A = the block's head-mean attention in original positions, the "
              "shift undone; the residual as 0.5·I); across a patch merge a merged token's "
              "weight is spread equally over its 2×2 children.", b1=b1, stage=exp.stage,
              b=exp.chain[0].block, first=exp.chain[0].stage))
    lines.append(tr(L, "The query's own cells (its residual weight) are off the colour scale; "
                       "weights below 1e-12 (only via masked keys) are left clear."))
    width = int((t.width - 80) / (0.56 * (t.font_size - 1)))
    text = "<br>".join(wrap_text(line, width) for line in lines)
    rows = text.count("<br>") + 1
    if counts[1] != counts[0]:  # room for the sentence above all the same: the panels stay put
        rows += wrap_text(longest, width).count("<br>") + 1  # from patch to patch (a click)
    elif quiet != longest:
        rows += wrap_text(longest, width).count("<br>") - wrap_text(quiet, width).count("<br>")
    return footnote(text, template, lines=rows)


def figure(exp, sel) -> go.Figure:
    """Reach after block 0, after the pair and after k pairs (a grid of token panels), the
    stage's own rollout map, and the rollout back to the image (one wide panel below)."""
    t = get_template(sel.template)
    k = int(sel.k_pairs)
    if not 1 <= k <= MAX_PAIRS:
        raise ValueError(f"k_pairs must be in 1..{MAX_PAIRS}, got {sel.k_pairs}")
    H, W = exp.grid
    r, c = sel.query
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"query patch ({r}, {c}) is outside the {H}x{W} token grid")
    sets = reach_sets(H, W, exp.window_size, exp.shift_size, (r, c), k,
                      bool(getattr(exp.traces[1], "roll_first", False)))
    maps, map_stages = stage_maps(exp, (r, c))
    f = _Flow(exp, t, k, r, c, sets, maps, map_stages, sel.lang)
    cols, grid_rows, n_grid = f.cols, f.grid_rows, f.n_grid
    rows = grid_rows + 1  # the last row: the rollout on the image, wide
    titles = _titles(f)
    specs = [[{} if i * cols + j < n_grid else None for j in range(cols)]
             for i in range(grid_rows)] + [[{"colspan": cols}] + [None] * (cols - 1)]
    heights = [1.0] * grid_rows + [1.7]
    layout, refs = subplots_layout(rows=rows, cols=cols, subplot_titles=_slots(titles),
                                   specs=specs, row_heights=[h / sum(heights) for h in heights],
                                   horizontal_spacing=0.05, vertical_spacing=round(
                                       0.3 / (rows + 1), 3))
    _set_titles(layout, titles)
    overlays = _overlays(f)
    data: list[dict] = []
    panels = [refs[(1 + i // cols, 1 + i % cols)] for i in range(n_grid)] + [refs[(rows, 1)]]
    _reach_panels(f, data, panels, overlays)
    _token_axes(f, layout, panels)
    bar = dict(title=dict(text=tr(f.L, "rollout<br>weight"), side="top"), thickness=14,
               len=0.9 * heights[-1] / sum(heights), y=0, yanchor="bottom", x=1.01)
    if f.show_stage:
        _stage_panel(f, data, panels[k + 1], overlays)
    _image_panel(f, data, layout, panels[-1], bar)
    note, bottom = _notes(f, sel.template)
    layout["annotations"].append(note)
    style_layout(layout, sel.template, height=int(t.height * (0.95 * grid_rows + 1.6 + 0.45)),
                 title=tr(f.L, "Information flow into token ({r}, {c}), {where}: reach and "
                                  "attention rollout", r=r, c=c, where=where(exp, f.L)))
    layout["margin"].update(b=bottom, r=110)
    top_title(layout, sel.template, below=2, gap=12)
    layout["showlegend"] = False
    return fast_figure(data, layout)
