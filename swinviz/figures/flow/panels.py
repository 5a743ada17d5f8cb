"""The information-flow figure's panels: the reach steps and the stage's own rollout map as
tiles of one subplot (`tile_grid`), and the rollout on the image (`image_panel`). One subplot for
the tiles, not one a panel: a click redraws the whole figure in the page, and plotly's time
grows with the subplots it lays out (docs/performance.md, "the flow figure's tiles"). The words
(titles, footnote) and the figure's frame are in `flow/__init__.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._core import (
    QUERY_COLOR,
    SEQUENTIAL,
    Template,
    axis_key,
    block_name,
    cached,
    cells_outline,
    coords,
    image_dict,
    image_source,
    png_data_uri,
)
from .._core.words import tr
from .reach import ROLLOUT_FLOOR

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


@dataclass(frozen=True)
class Flow:
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
    grid_frac: float = 0.5  # the tiles' share of the plots' height (set once laid out)

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
        """Tiles a row: up to 3; one in a phone's column."""
        return 1 if self.t.name == "narrow" else min(3, self.n_grid)

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


MARGIN_L, MARGIN_R = 60, 110  # the figure's side margins (px): the template's left, bars right


def plot_width(f: Flow) -> float:
    """The plots' width in px: the template's width less the side margins (a phone's, as
    `_core.narrow.restack` sets them: the left one, the one its colour bars need)."""
    t = f.t
    if t.name == "narrow":  # the margins `room` will give the tiles' axis and the reach bar
        from .._core.narrow import NARROW_LEFT_PX
        from .._core.room import bar_px, left_px

        ticks = [str(v) for v in range(0, max(f.H, f.W), 10)]
        axis = dict(yaxis=dict(ticktext=ticks, title=dict(text=tr(f.L, "row (token)"))))
        return (t.width - max(NARROW_LEFT_PX, left_px(axis, [], t))
                - bar_px(reach_bar(f), t))
    return t.width - MARGIN_L - MARGIN_R


@dataclass(frozen=True)
class Tiles:
    """Where the grid's panels (the reach steps, the stage's own rollout map) sit in its one
    subplot, each a tile of H x W token cells under a band for its title. One subplot, not one
    a panel: a click redraws the whole figure in the page, and plotly's time grows with the
    subplots it lays out (docs/performance.md, "the flow figure's tiles")."""

    origin: list  # (y0, x0) per panel: its top-left token cell
    shape: tuple  # (Y, X) cells, the title bands included
    px: float  # pixels per token cell at the template's width
    titles: list  # each panel's title, wrapped to its tile
    size: int  # the titles' font size


def tile_grid(f: Flow, titles: list[str]) -> Tiles:
    """The tiles of the grid: `cols` a row, gap_x empty columns between them, and above each
    row a band as tall as the longest title could ever be (any counts), so that the panels
    stay put from patch to patch."""
    import re

    from .._core.text import lines_px, rewrap_lines

    t, H, W, cols = f.t, f.H, f.W, f.cols
    gap_x = max(1, round(0.12 * W))
    X = cols * W + (cols - 1) * gap_x
    px = plot_width(f) / X
    # a title may reach into the gaps beside its tile; a single column has none (a phone's:
    # the colour bar is next to it)
    room = 0.95 * (W + (gap_x if cols > 1 else 0)) * px
    size = t.font_size
    digits = "8" * len(str(H * W))  # the widest count
    band = max(lines_px(rewrap_lines(re.sub(r"\d+", digits, s), size, room), size)
               for s in titles)
    gap_y = math.ceil((band + 0.5 * size) / px)
    origin = [(gap_y + (i // cols) * (H + gap_y), (i % cols) * (W + gap_x))
              for i in range(f.n_grid)]
    return Tiles(origin, (f.grid_rows * (H + gap_y), X), px,
                  [rewrap_lines(s, size, room) for s in titles], size)


def _token_cd(z: np.ndarray, r0: int, c0: int) -> np.ndarray:
    """Hover data of a cropped token map: each cell's (row, column) on the token grid (the
    tile's place in the subplot is not the token's)."""
    return (np.stack(np.indices(z.shape), -1) + [r0, c0]).astype(np.uint16)


def overlays(f: Flow, tiles: Tiles) -> list[dict]:
    """What every tile repeats, one trace for all tiles where one can: the grey image behind
    each, block 0's window grid and the query's star."""
    H, W, M = f.H, f.W, f.exp.window_size
    src = _background(f.exp)
    data = [dict(type="image", source=src, x0=x0 - 0.25, y0=y0 - 0.25, dx=0.5, dy=0.5,
                 hoverinfo="skip", name="image (grey)") for y0, x0 in tiles.origin]
    gx: list = []
    gy: list = []
    for y0, x0 in tiles.origin:
        for b in sorted({*range(0, H, M), H}):
            gx += [x0 - 0.5, x0 + W - 0.5, None]
            gy += [y0 + b - 0.5, y0 + b - 0.5, None]
        for b in sorted({*range(0, W, M), W}):
            gx += [x0 + b - 0.5, x0 + b - 0.5, None]
            gy += [y0 - 0.5, y0 + H - 0.5, None]
    data.append(dict(type="scatter", x=coords(gx), y=coords(gy), mode="lines",
                     hoverinfo="skip", showlegend=False,
                     line=dict(color="rgba(255,255,255,0.6)", width=0.6),
                     name=f"{f.names[0]} windows"))
    return data


def star_trace(f: Flow, tiles: Tiles) -> dict:
    """The query token, a star in every tile."""
    n = len(tiles.origin)
    return dict(type="scatter", x=[x0 + f.c for _, x0 in tiles.origin],
                y=[y0 + f.r for y0, _ in tiles.origin], mode="markers", showlegend=False,
                marker=dict(symbol="star", size=f.t.font_size + 3, color=QUERY_COLOR,
                            line=dict(color="black", width=1.5)),
                hovertext=[tr(f.L, "query token ({r}, {c})", r=f.r, c=f.c)] * n,
                hoverinfo="text", name="query")


def reach_panels(f: Flow, data: list, tiles: Tiles) -> None:
    """One tile per reach step, coloured by the step at which a token joins, its outline in
    black (one trace for all tiles); the colour bar ("reachable since") at the right of the
    grid."""
    k, sets = f.k, f.sets
    first = np.full((f.H, f.W), np.nan, dtype=np.float32)  # the step at which a token joins
    for i in range(len(sets) - 1, -1, -1):
        first[sets[i]] = i
    colors = [_STEP_COLORS[i % len(_STEP_COLORS)] for i in range(k + 1)]
    dscale = []
    for i, col in enumerate(colors):
        dscale += [[i / (k + 1), col], [(i + 1) / (k + 1), col]]
    L = f.L
    step_names = _step_names(f)
    ox: list = []
    oy: list = []
    for i, (y0, x0) in enumerate(tiles.origin[:k + 1]):
        z, r0, c0 = _crop(np.where(sets[i], first, np.nan))
        data.append(dict(
            type="heatmap", z=z, x0=x0 + c0, dx=1, y0=y0 + r0, dy=1, zmin=-0.5, zmax=k + 0.5,
            colorscale=dscale, opacity=0.7, customdata=_token_cd(z, r0, c0),
            showscale=i == 0, name=f"reach {['block 0', *step_names[1:]][i]}",
            meta=dict(tile=[y0, x0]),
            colorbar=reach_bar(f),
            hovertemplate=tr(L, "token (%{{customdata[0]}}, %{{customdata[1]}})<br>reachable "
                                "since %{{z}}<extra>0 = the pair's first block, i = pair "
                                "i</extra>")))
        xs, ys = cells_outline(sets[i])
        ox += [*(v if v is None else v + x0 - 0.5 for v in xs), None]
        oy += [*(v if v is None else v + y0 - 0.5 for v in ys), None]
    data.append(dict(type="scatter", x=coords(ox), y=coords(oy), mode="lines",
                     hoverinfo="skip", showlegend=False, name="reach outline",
                     line=dict(color="black", width=1.2)))


def _step_names(f: Flow) -> list[str]:
    """The reach steps' names: the pair's first block, then pair 1..k."""
    return [f"block {f.exp.blocks[0]}"] + [tr(f.L, "pair {i}", i=i) for i in range(1, f.k + 1)]


def reach_bar(f: Flow) -> dict:
    """The reach panels' colour bar: a step a colour, named."""
    return dict(title=dict(text=tr(f.L, "reach panels:<br>reachable<br>since")
                           if f.show_stage else tr(f.L, "reachable<br>since"), side="top"),
                tickmode="array", tickvals=list(range(f.k + 1)), ticktext=_step_names(f),
                thickness=14, len=_reach_len(f), y=1, yanchor="top", x=1.01)


def _reach_len(f: Flow) -> float:
    """Length of the reach colour bar (paper fraction): the grid's height, shared with the
    stage map's bar when there is one; beside a phone's column of tiles, two tiles'."""
    if f.cols == 1:
        return 0.9 * min(2, f.grid_rows) / f.grid_rows * f.grid_frac
    return (0.52 if f.show_stage else 1.0) * f.grid_frac


def tile_axes(f: Flow, layout: dict, tiles: Tiles) -> None:
    """The grid's axes: square cells, token ticks under each tile of the bottom row and left
    of each row of tiles, the paper's colour between the tiles, each tile's title above it."""
    H, W = f.H, f.W
    Y, X = tiles.shape
    step = 10 if W > 20 else 5 if W > 8 else 2
    bottom = {x0 for y0, x0 in tiles.origin if y0 == max(o[0] for o in tiles.origin)}
    lefts = sorted({y0 for y0, _ in tiles.origin})
    xs = [(x0 + v, str(v)) for x0 in sorted(bottom) for v in range(0, W, step)]
    ys = [(y0 + v, str(v)) for y0 in lefts for v in range(0, H, step)]
    for key, ticks, title, rng in (("xaxis", xs, "column (token)", [-0.5, X - 0.5]),
                                   ("yaxis", ys, "row (token)", [Y - 0.5, -0.5])):
        layout[key].update(title=dict(text=tr(f.L, title)), range=rng, showgrid=False,
                           zeroline=False, constrain="domain", tickmode="array",
                           tickvals=[v for v, _ in ticks], ticktext=[s for _, s in ticks])
    layout["yaxis"].update(scaleanchor="x", constraintoward="top")
    layout.setdefault("shapes", []).append(dict(
        type="rect", xref="x", yref="y", x0=-0.5, x1=X - 0.5, y0=-0.5, y1=Y - 0.5,
        fillcolor=f.t.paper, line=dict(width=0), layer="below"))
    for text, (y0, x0) in zip(tiles.titles, tiles.origin, strict=True):
        layout["annotations"].append(dict(
            text=text, xref="x", yref="y", x=x0 + (W - 1) / 2, y=y0 - 0.5, xanchor="center",
            yanchor="bottom", yshift=2, showarrow=False, font=dict(size=tiles.size)))


def stage_panel(f: Flow, data: list, origin: tuple[int, int]) -> None:
    """The explored stage's own rollout map, in its tile, with its own colour bar."""
    exp, r, c = f.exp, f.r, f.c
    y0, x0 = origin
    zs = f.maps[0]
    own = np.zeros_like(zs, dtype=bool)
    own[r, c] = True
    z, r0, c0 = _crop(np.where(zs > ROLLOUT_FLOOR, zs, np.nan).astype(np.float32))
    data.append(dict(
        type="heatmap", z=z, x0=x0 + c0, dx=1, y0=y0 + r0, dy=1, zmin=0, zmax=_cap(zs, own),
        colorscale=SEQUENTIAL, opacity=0.85, name=f"rollout stage {exp.stage}",
        customdata=_token_cd(z, r0, c0), meta=dict(tile=[y0, x0]),
        showscale=True, colorbar=dict(
            title=dict(text=tr(f.L, "stage-{stage}<br>rollout<br>weight", stage=exp.stage),
                       side="top"),
            thickness=14, len=(_reach_len(f) if f.cols == 1
                               else f.grid_frac - _reach_len(f) - 0.04),
            y=1 - _reach_len(f) - 0.04, yanchor="top", x=1.01),
        hovertemplate=tr(f.L, "token (%{{customdata[0]}}, %{{customdata[1]}})<br>rollout "
                              "weight %{{z:.3g}}<extra></extra>")))


def image_panel(f: Flow, data: list, layout: dict, refs: tuple[str, str],
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
