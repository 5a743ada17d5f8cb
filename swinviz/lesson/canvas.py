"""The lesson's drawing kit, at slide scale: `Ctx` (what one picture is drawn for), panel
boxes (TWO, ONE), token-grid axes with square cells, and traces: the image, lines, window
borders, the query's outline, heatmaps. Token coordinates: cell (r, c) of a stage's grid covers
[c, c+1) x [r, r+1). Every text at least MIN_PX.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..figures._core import canvas
from ..figures._core.palette import QUERY_COLOR
from . import i18n
from .text import wrap_even
from .theme import MIN_PX, Theme


@dataclass(frozen=True)
class Ctx:
    exp: object
    n: object  # LessonNumbers
    r: object  # Readings at `query`
    lang: str
    theme: Theme
    query: tuple[int, int]
    block: int
    head: int | None = None  # the step's head (None: the mean over heads)
    box: tuple[int, int] = (890, 850)  # the picture's size in px (square cells need it)
    page: bool = False  # drawn in the page: its width is the page's (no fixed size)

    def ui(self, key: str, **kw) -> str:
        return i18n.ui(self.lang, key, **kw)


# --------------------------------------------------------------------------- shared pieces

TWO = (((0.0, 0.47), (0.0, 0.9)), ((0.53, 1.0), (0.0, 0.9)))
ONE = (((0.0, 1.0), (0.0, 0.92)),)


def axes_names(i: int) -> tuple[str, str]:
    return ("x", "y") if i == 1 else (f"x{i}", f"y{i}")


def grid_axes(layout: dict, c: Ctx, i: int, dom, rows: tuple[float, float],
               cols: tuple[float, float], title: str | None = None) -> tuple[str, str]:
    """Axes `i` over token rows [r0, r1) and columns [c0, c1) inside the box `dom` (paper
    fractions): square cells, as large as the box allows, centred across and at its top,
    no ticks. The title sits right above the cells."""
    xa, ya = axes_names(i)
    (x0, x1), (y0, y1) = dom
    bw, bh = c.box
    nr, nc = rows[1] - rows[0], cols[1] - cols[0]
    cell = min((x1 - x0) * bw / nc, (y1 - y0) * bh / nr)
    w, h = cell * nc / bw, cell * nr / bh
    x0 = x0 + ((x1 - x0) - w) / 2
    x1, y0 = x0 + w, y1 - h
    common = dict(showgrid=False, zeroline=False, showticklabels=False, ticks="",
                  showline=False)
    layout["xaxis" + xa[1:]] = dict(common, domain=[x0, x1], range=list(cols), anchor=ya)
    layout["yaxis" + ya[1:]] = dict(common, domain=[y0, y1], range=[rows[1], rows[0]],
                                    anchor=xa)
    if c.page:  # the page decides the width: the axes keep the cells square
        layout["yaxis" + ya[1:]].update(scaleanchor=xa, scaleratio=1, constrain="domain")
        layout["xaxis" + xa[1:]].update(constrain="domain")
    if title:
        lines = wrap_even(title, MIN_PX + 2, max((x1 - x0) * bw, 160) + 40)
        layout.setdefault("annotations", []).append(dict(
            text="<br>".join(lines), xref="paper", yref="paper", x=(x0 + x1) / 2, y=y1 + 0.01,
            xanchor="center", yanchor="bottom", showarrow=False,
            font=dict(size=MIN_PX + 2, color=c.theme.ink)))
    return xa, ya


def image_trace(exp, Hp: int, Wp: int, axes, roll: int = 0, opacity: float = 1.0) -> dict:
    p = exp.patch_size
    return dict(type="image", source=canvas(exp, Hp, Wp, roll), x0=0.5 / p, y0=0.5 / p,
                dx=1 / p, dy=1 / p, xaxis=axes[0], yaxis=axes[1], hoverinfo="skip",
                opacity=opacity)


def line_trace(xs, ys, axes, color: str, width: float, name: str = "") -> dict:
    return dict(type="scatter", x=xs, y=ys, mode="lines", xaxis=axes[0], yaxis=axes[1],
                line=dict(color=color, width=width), hoverinfo="skip", showlegend=False,
                name=name)


def frame(rows: tuple[float, float], cols: tuple[float, float], axes, color: str,
          width: float = 2.0) -> dict:
    """An outline round the cells [r0, r1) x [c0, c1): a panel whose dark cells would
    otherwise melt into a dark slide (the mask's -100) keeps its edge."""
    (r0, r1), (c0, c1) = rows, cols
    return line_trace([c0, c1, c1, c0, c0], [r0, r0, r1, r1, r0], axes, color, width)


def window_lines(H: int, W: int, M: int, offset: int, axes, color: str,
                  width: float = 3.0) -> dict:
    """Window borders every M tokens, moved right and down by `offset`, over an H x W area."""
    xs: list = []
    ys: list = []
    for k in range(0, max(H, W) // M + 2):
        v = k * M + offset
        if 0 <= v <= H:
            xs += [0, W, None]
            ys += [v, v, None]
        if 0 <= v <= W:
            xs += [v, v, None]
            ys += [0, H, None]
    return line_trace(xs, ys, axes, color, width)


def query_box(r0: float, c0: float, h: float, w: float, axes, color: str = QUERY_COLOR,
         width: float = 4.0) -> list:
    """A square outline in `color` over a dark rim twice as wide: seen on any ground (the
    query's yellow on a yellow heatmap)."""
    xs, ys = [c0, c0 + w, c0 + w, c0, c0], [r0, r0, r0 + h, r0 + h, r0]
    return [line_trace(xs, ys, axes, "#111111", 2 * width), line_trace(xs, ys, axes, color, width)]


def heat(z, axes, *, colorscale, zmin, zmax, r0: int = 0, c0: int = 0, text=None,
          opacity: float = 1.0, colorbar: dict | None = None, name: str = "") -> dict:
    z = np.asarray(z, dtype=float)
    d = dict(type="heatmap", z=z.tolist(), x0=c0 + 0.5, dx=1, y0=r0 + 0.5, dy=1,
             colorscale=colorscale, zmin=zmin, zmax=zmax, xaxis=axes[0], yaxis=axes[1],
             showscale=colorbar is not None, opacity=opacity, name=name, xgap=0, ygap=0,
             hovertemplate="(%{y}, %{x}): %{z}<extra></extra>")
    if colorbar is not None:
        d["colorbar"] = {**dict(thickness=22, len=0.7, xanchor="left",
                                tickfont=dict(size=MIN_PX)), **colorbar}
    if text is not None:
        words = np.asarray(text).astype(str)
        if opacity >= 1:  # each number black or white, whichever stands out more from its cell
            inks = contrasting_inks(z, colorscale, zmin, zmax)
            words = np.char.add(np.char.add(np.char.add("<span style='color:", inks), "'>"),
                                np.char.add(words, "</span>"))
        d["text"] = words.tolist()
        d["texttemplate"] = "%{text}"
        d["textfont"] = dict(size=MIN_PX)
    return d


def contrasting_inks(z: np.ndarray, colorscale, zmin: float, zmax: float) -> np.ndarray:
    """For each cell of a heatmap, "#000000" or "#ffffff": the one with the higher WCAG
    contrast against the cell's colour. plotly's own choice (by perceived brightness) wrote
    white on Cividis's middle greys, about 3.3:1; the better of the two is 4.5:1 or more on any
    colour."""
    from plotly.colors import get_colorscale, hex_to_rgb, unlabel_rgb

    stops = get_colorscale(colorscale) if isinstance(colorscale, str) else colorscale
    pos = np.array([float(p) for p, _ in stops])
    cols = np.array([hex_to_rgb(c) if c.startswith("#") else unlabel_rgb(c)
                     for _, c in stops], dtype=float) / 255
    span = (zmax - zmin) or 1.0
    frac = np.clip((np.nan_to_num(np.asarray(z, dtype=float), nan=zmin) - zmin) / span, 0, 1)
    # as plotly colours a heatmap: linearly between the stops
    rgb = np.stack([np.interp(frac.ravel(), pos, cols[:, k]) for k in range(3)], -1)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    lum = lin @ np.array([0.2126, 0.7152, 0.0722])
    black, white = (lum + 0.05) / 0.05, 1.05 / (lum + 0.05)
    return np.where(black >= white, "#000000", "#ffffff").reshape(frac.shape)


def _cells(layout: dict, axes) -> tuple[tuple[float, float], tuple[float, float]]:
    """Panel `axes`' cells as paper fractions ((x0, x1), (y0, y1)) (`grid_axes` set them)."""
    xa, ya = axes
    return (tuple(layout["xaxis" + xa[1:]]["domain"]),
            tuple(layout["yaxis" + ya[1:]]["domain"]))


def bar_beside(layout: dict, axes, **kw) -> dict:
    """`heat`'s colorbar: right of panel `axes`' cells and as tall as them."""
    (_, x1), (y0, y1) = _cells(layout, axes)
    return dict(x=x1 + 0.012, y=y1, yanchor="top", len=y1 - y0, **kw)


def bar_under(layout: dict, axes, **kw) -> dict:
    """`heat`'s colorbar, lying under panel `axes`' cells and about as wide: for a panel with
    another right beside it (a bar between the two would run into the second)."""
    (x0, x1), (y0, _) = _cells(layout, axes)
    # a tenth shorter than the cells: the tick labels at its ends stay inside the picture (the
    # page's, with no margin, hid a "0%" that ran past its left edge)
    return dict(orientation="h", x=(x0 + x1) / 2, xanchor="center", y=y0 - 0.025,
                yanchor="top", len=0.9 * (x1 - x0), thickness=18, **kw)


def numbers_fit(cells: int, panel_px: float, digits: int = 2) -> bool:
    """A number of `digits` at MIN_PX fits in a cell of a `cells`-wide grid `panel_px` wide."""
    return panel_px / max(cells, 1) >= digits * 0.62 * MIN_PX + 12


def crop(center: int, size: int, total: int) -> tuple[int, int]:
    """[a, b) of length min(size, total) around `center`, inside [0, total)."""
    size = min(size, total)
    a = min(max(0, center - size // 2), total - size)
    return a, a + size
