"""The picture of each lesson step, drawn from one exploration's tensors, at slide scale: one or
two panels on axes x / y (and x2 / y2) over the paper's [0, 1] square, every text at least
MIN_PX, no numbers in cells too small to hold them. `swinviz.lesson.slides` places the picture
on a 16:9 slide; the page's tour shows it alone (`visual_figure`).

Token coordinates throughout: cell (r, c) of a stage's grid covers [c, c+1) x [r, r+1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..figures._core import canvas
from ..figures._core.palette import (
    BLOCK_COLORS,
    DIVERGING,
    MASK_SCALE,
    QUERY_COLOR,
    REGION_COLORS,
    SEQUENTIAL,
    region_colorscale,
)
from ..figures._core.text import si
from . import i18n
from .readings import query_weights, reach, region_map
from .text import wrap
from .theme import FONT, MIN_PX, Theme

PANEL_PX = 400  # about how wide one of two side-by-side panels is on a slide
SINGLE_PX = 820


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


def _ax(i: int) -> tuple[str, str]:
    return ("x", "y") if i == 1 else (f"x{i}", f"y{i}")


def _grid_axes(layout: dict, c: Ctx, i: int, dom, rows: tuple[float, float],
               cols: tuple[float, float], title: str | None = None) -> tuple[str, str]:
    """Axes `i` over token rows [r0, r1) and columns [c0, c1) inside the box `dom` (paper
    fractions): square cells, as large as the box allows, centred across and at its top,
    no ticks. The title sits right above the cells."""
    xa, ya = _ax(i)
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
        lines = wrap(title, MIN_PX + 2, max((x1 - x0) * bw, 160) + 40)
        layout.setdefault("annotations", []).append(dict(
            text="<br>".join(lines), xref="paper", yref="paper", x=(x0 + x1) / 2, y=y1 + 0.01,
            xanchor="center", yanchor="bottom", showarrow=False,
            font=dict(size=MIN_PX + 2, color=c.theme.ink)))
    return xa, ya


def _image(exp, Hp: int, Wp: int, axes, roll: int = 0, opacity: float = 1.0) -> dict:
    p = exp.patch_size
    return dict(type="image", source=canvas(exp, Hp, Wp, roll), x0=0.5 / p, y0=0.5 / p,
                dx=1 / p, dy=1 / p, xaxis=axes[0], yaxis=axes[1], hoverinfo="skip",
                opacity=opacity)


def _lines(xs, ys, axes, color: str, width: float, name: str = "") -> dict:
    return dict(type="scatter", x=xs, y=ys, mode="lines", xaxis=axes[0], yaxis=axes[1],
                line=dict(color=color, width=width), hoverinfo="skip", showlegend=False,
                name=name)


def _window_lines(H: int, W: int, M: int, offset: int, axes, color: str,
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
    return _lines(xs, ys, axes, color, width)


def _box(r0: float, c0: float, h: float, w: float, axes, color: str = QUERY_COLOR,
         width: float = 4.0) -> list:
    """A square outline in `color` over a dark rim twice as wide: seen on any ground (the
    query's yellow on a yellow heatmap)."""
    xs, ys = [c0, c0 + w, c0 + w, c0, c0], [r0, r0, r0 + h, r0 + h, r0]
    return [_lines(xs, ys, axes, "#111111", 2 * width), _lines(xs, ys, axes, color, width)]


def _heat(z, axes, *, colorscale, zmin, zmax, r0: int = 0, c0: int = 0, text=None,
          opacity: float = 1.0, colorbar: dict | None = None, name: str = "") -> dict:
    z = np.asarray(z, dtype=float)
    d = dict(type="heatmap", z=z.tolist(), x0=c0 + 0.5, dx=1, y0=r0 + 0.5, dy=1,
             colorscale=colorscale, zmin=zmin, zmax=zmax, xaxis=axes[0], yaxis=axes[1],
             showscale=colorbar is not None, opacity=opacity, name=name, xgap=0, ygap=0,
             hovertemplate="(%{y}, %{x}): %{z}<extra></extra>")
    if colorbar is not None:
        d["colorbar"] = dict(thickness=22, len=0.7, xanchor="left", tickfont=dict(size=MIN_PX),
                             **colorbar)
    if text is not None:
        d["text"] = np.asarray(text).tolist()
        d["texttemplate"] = "%{text}"
        d["textfont"] = dict(size=MIN_PX)
    return d


def _numbers_fit(cells: int, panel_px: float, digits: int = 2) -> bool:
    """A number of `digits` at MIN_PX fits in a cell of a `cells`-wide grid `panel_px` wide."""
    return panel_px / max(cells, 1) >= digits * 0.62 * MIN_PX + 12


def _crop(center: int, size: int, total: int) -> tuple[int, int]:
    """[a, b) of length min(size, total) around `center`, inside [0, total)."""
    size = min(size, total)
    a = min(max(0, center - size // 2), total - size)
    return a, a + size


# ------------------------------------------------------------------------------ the visuals

def title(c: Ctx, layout: dict) -> list:
    n = c.n
    axes = _grid_axes(layout, c, 1, ONE[0], (0, n.H), (0, n.W))
    data = [_image(c.exp, n.H, n.W, axes)]
    if n.H <= 64:
        data.append(_window_lines(n.H, n.W, 1, 0, axes, "rgba(255,255,255,0.45)", 1.0))
    return data


def patches(c: Ctx, layout: dict) -> list:
    data = title(c, layout)
    r, q = c.query
    data += _box(r, q, 1, 1, _ax(1), width=5.0)
    return data


def cost(c: Ctx, layout: dict) -> list:
    """Ω(MSA) against Ω(W-MSA) at this stage, each bar split into 4hwC² and the rest."""
    n = c.n
    proj = 4 * n.hw * n.C * n.C / 1e9
    g = (n.msa / 1e9, n.wmsa / 1e9)
    layout["xaxis"] = dict(domain=[0, 1], range=[0, g[0] * 1.35], showgrid=False,
                           showticklabels=False, zeroline=False)
    layout["yaxis"] = dict(domain=[0.05, 0.8], range=[1.6, -0.9], visible=False)
    layout["barmode"] = "stack"
    layout["showlegend"] = True
    layout["legend"] = dict(orientation="h", x=0, y=0.9, xanchor="left", yanchor="bottom",
                            font=dict(size=MIN_PX))
    notes = layout.setdefault("annotations", [])
    for k, name in enumerate((c.ui("global"), c.ui("windowed"))):
        notes.append(dict(text=f"<b>{name}</b>: {si(g[k] * 1e9)}", x=0, y=k - 0.3, xref="x",
                          yref="y", xanchor="left", yanchor="bottom", showarrow=False,
                          font=dict(size=MIN_PX + 4, color=c.theme.ink)))
    return [dict(type="bar", orientation="h", y=[0, 1], x=[proj, proj], width=0.4,
                 name=c.ui("proj_part"), marker=dict(color=BLOCK_COLORS[0])),
            dict(type="bar", orientation="h", y=[0, 1], x=[g[0] - proj, g[1] - proj],
                 width=0.4, name=c.ui("attn_part"), marker=dict(color=BLOCK_COLORS[1]))]


def windows(c: Ctx, layout: dict) -> list:
    n = c.n
    axes = _grid_axes(layout, c, 1, ONE[0], (0, n.Hp), (0, n.Wp),
                      c.ui("block0", b=n.b0))
    r, q = c.query
    wr, wc = (r // n.M) * n.M, (q // n.M) * n.M
    return [_image(c.exp, n.Hp, n.Wp, axes),
            _window_lines(n.Hp, n.Wp, n.M, 0, axes, BLOCK_COLORS[0], 3.0),
            *_box(wr, wc, n.M, n.M, axes, QUERY_COLOR, 5.0),
            *_box(r, q, 1, 1, axes, QUERY_COLOR, 3.0)]


def block(c: Ctx, layout: dict) -> list:
    """The pair as two rows of boxes: LN -> attention -> + -> LN -> MLP -> +."""
    n, t = c.n, c.theme
    layout["xaxis"] = dict(domain=[0, 1], range=[0, 10.2], visible=False)
    layout["yaxis"] = dict(domain=[0, 0.92], range=[6, 0], visible=False)
    shapes, notes = [], []
    second = (c.ui("block1_shift", b=n.b1, s=n.s) if n.s else c.ui("block1_plain", b=n.b1))
    rows = ((0.6, c.ui("block0", b=n.b0), "W-MSA", BLOCK_COLORS[0]),
            (3.4, second, "SW-MSA" if n.s else "W-MSA", BLOCK_COLORS[1 if n.s else 0]))
    boxes = ((0.2, 1.9, c.ui("ln")), (2.3, 4.2, None), (4.6, 5.3, c.ui("add")),
             (5.7, 7.4, c.ui("ln")), (7.8, 9.2, c.ui("mlp")), (9.5, 10.2, c.ui("add")))
    for y, label, attn, color in rows:
        notes.append(dict(text=f"<b>{label}</b>", x=0.2, y=y, xanchor="left", yanchor="bottom",
                          showarrow=False, font=dict(size=MIN_PX + 2, color=t.ink)))
        for x0, x1, text in boxes:
            fill = color if text is None else t.panel
            shapes.append(dict(type="rect", x0=x0, x1=x1, y0=y + 0.3, y1=y + 1.6,
                               line=dict(color=t.line, width=2), fillcolor=fill))
            notes.append(dict(text=text or attn, x=(x0 + x1) / 2, y=y + 0.95, showarrow=False,
                              font=dict(size=MIN_PX + 2, color="#ffffff" if text is None
                                        else t.ink)))
        for (_, a1, _), (b0, _, _) in zip(boxes, boxes[1:], strict=False):
            notes.append(dict(x=b0, y=y + 0.95, ax=a1, ay=y + 0.95, xref="x", yref="y",
                              axref="x", ayref="y", text="", showarrow=True, arrowhead=2,
                              arrowwidth=2, arrowcolor=t.ink))
    layout["shapes"] = shapes
    layout.setdefault("annotations", []).extend(notes)
    return []


def _region_panel(c: Ctx, layout: dict, i: int, dom, rolled: bool, title: str,
                  query: tuple[int, int] | None = None) -> list:
    n = c.n
    axes = _grid_axes(layout, c, i, dom, (0, n.Hp), (0, n.Wp), title)
    data = [_image(c.exp, n.Hp, n.Wp, axes, roll=n.s if rolled else 0),
            _heat(region_map(c.exp, rolled), axes, colorscale=region_colorscale(),
                  zmin=-0.5, zmax=8.5, opacity=0.45)]
    data.append(_window_lines(n.Hp, n.Wp, n.M, 0 if rolled else n.s, axes, c.theme.line, 2.5))
    if query is not None:
        r, q = query
        if rolled:
            r, q = (r - n.s) % n.Hp, (q - n.s) % n.Wp
        data += _box(r, q, 1, 1, axes, QUERY_COLOR, 5.0)
    return data


def shift(c: Ctx, layout: dict) -> list:
    n = c.n
    if n.s == 0:
        return windows(c, layout)
    return (_region_panel(c, layout, 1, TWO[0], False, c.ui("paper_view", s=n.s))
            + _region_panel(c, layout, 2, TWO[1], True, c.ui("code_view", s=n.s)))


def rollback(c: Ctx, layout: dict) -> list:
    n = c.n
    if n.s == 0:
        return windows(c, layout)
    return (_region_panel(c, layout, 1, TWO[0], True, c.ui("rolled"), c.query)
            + _region_panel(c, layout, 2, TWO[1], False, c.ui("back"), c.query))


def regions(c: Ctx, layout: dict) -> list:
    """The rolled map's region ids, numbered: the whole grid when its cells hold a number,
    else its bottom-right corner (the last two windows a side, where the ids change)."""
    n = c.n
    ids = region_map(c.exp, rolled=True)
    side = n.Hp if _numbers_fit(n.Hp, SINGLE_PX, 1) else min(n.Hp, 2 * n.M)
    r0, c0 = n.Hp - side, n.Wp - min(n.Wp, side)
    sub = ids[r0:, c0:]
    what = c.ui("region") + (f" · rows {r0}–{n.Hp - 1}" if r0 else "")
    axes = _grid_axes(layout, c, 1, ONE[0], (r0, n.Hp), (c0, n.Wp), what)
    text = sub if _numbers_fit(sub.shape[0], SINGLE_PX, 1) else None
    data = [_heat(sub, axes, colorscale=region_colorscale(), zmin=-0.5, zmax=8.5, r0=r0, c0=c0,
                  text=text)]
    lines = _window_lines(n.Hp, n.Wp, n.M, 0, axes, c.theme.line, 4.0)
    return data + [lines]


def mask(c: Ctx, layout: dict) -> list:
    """The bottom-right window of the rolled (padded) map, where the wrapped-around pieces
    meet (on a padded grid: the image's own corner may sit in an interior window): its
    region ids (M x M) and its mask (N x N)."""
    n, exp = c.n, c.exp
    t = exp.traces[1]
    w = (n.Hp // n.M) * (n.Wp // n.M) - 1
    ids = t.region_ids.numpy()
    nWc = n.Wp // n.M
    wr, wc = (w // nWc) * n.M, (w % nWc) * n.M
    sub = ids[wr:wr + n.M, wc:wc + n.M]
    m = (t.mask[w].numpy() if t.mask is not None else np.zeros((n.N, n.N)))
    a1 = _grid_axes(layout, c, 1, ((0.0, 0.4), (0.2, 0.8)), (0, n.M), (0, n.M),
                    c.ui("region"))
    a2 = _grid_axes(layout, c, 2, ((0.48, 1.0), (0.0, 0.9)), (0, n.N), (0, n.N),
                    c.ui("mask_of", w=w))
    return [_heat(sub, a1, colorscale=region_colorscale(), zmin=-0.5, zmax=8.5,
                  text=sub if _numbers_fit(n.M, PANEL_PX * 0.8, 1) else None),
            _heat(m, a2, colorscale=MASK_SCALE, zmin=-100, zmax=0)]


def relpos(c: Ctx, layout: dict) -> list:
    from ..windows import relative_position_index

    n = c.n
    i3 = relative_position_index(3).numpy()
    iM = relative_position_index(n.M).numpy()
    a1 = _grid_axes(layout, c, 1, ((0.0, 0.48), (0.0, 0.9)), (0, 9), (0, 9), c.ui("index_m3"))
    a2 = _grid_axes(layout, c, 2, ((0.54, 1.0), (0.0, 0.9)), (0, n.N), (0, n.N),
                    c.ui("index_m", M=n.M, N=n.N))
    scale = "Cividis"
    return [_heat(i3, a1, colorscale=scale, zmin=0, zmax=24, text=i3),
            _heat(iM, a2, colorscale=scale, zmin=0, zmax=n.table - 1,
                  text=iM if _numbers_fit(n.N, PANEL_PX) else None)]


def bias(c: Ctx, layout: dict) -> list:
    n, t = c.n, c.exp.traces[0]
    k = 2 * n.M - 1
    from ..windows import relative_position_index

    idx = relative_position_index(n.M).numpy()
    h = c.head or 0
    b = t.bias[h].numpy()  # (N, N) the head's bias of a window
    table = np.full(k * k, np.nan)
    table[idx.reshape(-1)] = b.reshape(-1)
    lim = float(np.nanmax(np.abs(b))) or 1.0
    a1 = _grid_axes(layout, c, 1, ((0.0, 0.44), (0.15, 0.75)), (0, k), (0, k),
                    c.ui("bias_of", h=h, k=k))
    a2 = _grid_axes(layout, c, 2, ((0.48, 0.82), (0.0, 0.9)), (0, n.N), (0, n.N), "N × N")
    return [_heat(table.reshape(k, k), a1, colorscale=DIVERGING, zmin=-lim, zmax=lim),
            _heat(b, a2, colorscale=DIVERGING, zmin=-lim, zmax=lim,
                  colorbar=dict(x=0.85, tickformat="+.2f"))]


def attention(c: Ctx, layout: dict) -> list:
    n = c.n
    r, q = c.query
    rows = _crop(r, 3 * n.M, n.H)
    cols = _crop(q, 3 * n.M, n.W)
    w0 = query_weights(c.exp, 0, c.query, c.head)
    w1 = query_weights(c.exp, 1, c.query, c.head)
    hi = float(max(w0.max(), w1.max()))
    data = []
    titles = (c.ui("block0", b=n.b0),
              c.ui("block1_shift", b=n.b1, s=n.s) if n.s else c.ui("block1_plain", b=n.b1))
    doms = (((0.0, 0.4), (0.0, 0.9)), ((0.44, 0.84), (0.0, 0.9)))
    for i, (w, offset, title_) in enumerate(((w0, 0, titles[0]), (w1, n.s, titles[1])), 1):
        axes = _grid_axes(layout, c, i, doms[i - 1], rows, cols, title_)
        sub = np.where(w > 0, w, np.nan)[rows[0]:rows[1], cols[0]:cols[1]]
        data.append(_image(c.exp, n.Hp, n.Wp, axes, opacity=0.35))
        data.append(_heat(sub, axes, colorscale=SEQUENTIAL, zmin=0, zmax=hi, r0=rows[0],
                          c0=cols[0], colorbar=dict(x=0.86, tickformat=".3f") if i == 2 else None))
        data.append(_window_lines(n.H, n.W, n.M, offset, axes, BLOCK_COLORS[i - 1], 3.5))
        data += _box(r, q, 1, 1, axes, QUERY_COLOR, 4.0)
    return data


def flow(c: Ctx, layout: dict) -> list:
    n = c.n
    after0, after1 = reach(c.exp, c.query)
    r, q = c.query
    data = []
    titles = (c.ui("after0", b=n.b0) + f": {int(after0.sum())}",
              c.ui("after1", b=n.b1) + f": {int(after1.sum())}")
    for i, (z, title_) in enumerate(((2.0 * after0, titles[0]),
                                     (after0 + after1.astype(float), titles[1])), 1):
        axes = _grid_axes(layout, c, i, TWO[i - 1], (0, n.H), (0, n.W), title_)
        data.append(_image(c.exp, n.Hp, n.Wp, axes, opacity=0.6))
        data.append(_heat(np.where(z > 0, z, np.nan), axes,
                          colorscale=[[0, BLOCK_COLORS[1]], [1, BLOCK_COLORS[0]]], zmin=1,
                          zmax=2, opacity=0.7))
        data += _box(r, q, 1, 1, axes, QUERY_COLOR, 4.0)
    return data


def _table(c: Ctx, layout: dict, header, rows, highlight: int | None = None) -> list:
    t = c.theme
    fills = [[t.highlight if i == highlight else t.panel for i in range(len(rows))]] * len(header)
    layout["margin"] = dict(l=0, r=0, t=0, b=0)
    return [dict(type="table", domain=dict(x=[0, 1], y=[0.05, 0.9]),
                 header=dict(values=[f"<b>{h}</b>" for h in header], height=56,
                             font=dict(size=MIN_PX + 2, color=t.ink), fill=dict(color=t.bg),
                             line=dict(color=t.line), align="center"),
                 cells=dict(values=[list(col) for col in zip(*rows, strict=True)], height=52,
                            font=dict(size=MIN_PX + 2, color=t.ink), fill=dict(color=fills),
                            line=dict(color=t.line), align="center"))]


def merging(c: Ctx, layout: dict) -> list:
    n = c.n
    rows = [(s.stage, f"{s.H}×{s.W}", s.dim, s.heads, f"{s.M}×{s.M}", s.s) for s in n.stages]
    return _table(c, layout, c.ui("stage_cols"), rows, highlight=n.stage - 1)


def last(c: Ctx, layout: dict) -> list:
    n = c.n
    if not n.stages:
        return windows(c, layout)
    s = n.stages[-1]
    axes = _grid_axes(layout, c, 1, ((0.15, 0.85), (0.0, 0.8)), (0, s.H), (0, s.W),
                      f"{s.H}×{s.W} · M = {s.M} · shift {s.s}")
    z = np.zeros((s.H, s.W))
    return [_heat(z, axes, colorscale=[[0, REGION_COLORS[1]], [1, REGION_COLORS[1]]], zmin=0,
                  zmax=1),
            _window_lines(s.H, s.W, 1, 0, axes, "rgba(255,255,255,0.8)", 1.5),
            _window_lines(s.H, s.W, max(s.M, 1), 0, axes, BLOCK_COLORS[0], 6.0)]


def table(c: Ctx, layout: dict) -> list:
    from ..figures.cost import PAPER

    n = c.n
    rows = []
    if n.params is not None:
        rows.append((c.ui("this_model"), f"{n.params / 1e6:.1f} M",
                     f"{n.flops / 1e9:.2f} G"))
    for name, (p, f) in PAPER.items():
        from ..figures._core.labels import short_arch_name
        rows.append((c.ui("paper_t1") + f": {short_arch_name(name)}", p, f))
    return _table(c, layout, c.ui("table_cols"), rows, highlight=0 if n.params else None)


VISUALS = {f.__name__: f for f in (title, patches, cost, windows, block, shift, regions, mask,
                                     relpos, bias, attention, rollback, flow, merging, last,
                                     table)}


def draw(name: str, c: Ctx) -> tuple[list, dict]:
    """(traces, layout) of visual `name`: panels over the paper's [0, 1] square."""
    layout: dict = {}
    data = VISUALS[name](c, layout)
    return data, layout


PAGE_FONT_SCALE = 0.66  # the page's picture is about 2/3 of the slide's: its text too


def _scale_fonts(d, k: float) -> None:
    """Every font size in a figure dict times k (in place)."""
    if isinstance(d, dict):
        for key, v in d.items():
            if key in ("font", "tickfont", "textfont") and isinstance(v, dict) and v.get("size"):
                v["size"] = round(v["size"] * k, 1)
            _scale_fonts(v, k)
    elif isinstance(d, list):
        for v in d:
            _scale_fonts(v, k)


def visual_figure(name: str, c: Ctx):
    """The visual alone, as a figure of c.box pixels (the page's tour; a PPTX picture)."""
    from ..figures._core import fast_figure

    data, layout = draw(name, c)
    t = c.theme
    width, height = c.box
    layout["margin"] = dict(l=0, r=0, t=0, b=0)
    if not c.page:
        layout["width"] = width
    layout.update(height=height, autosize=c.page, paper_bgcolor=t.bg, plot_bgcolor=t.bg,
                  font=dict(family=FONT, size=MIN_PX, color=t.ink),
                  showlegend=layout.get("showlegend", False))
    if c.page:
        _scale_fonts(data, PAGE_FONT_SCALE)
        _scale_fonts(layout, PAGE_FONT_SCALE)
    return fast_figure(data, layout)
