"""What plotly puts beside a phone's plots, measured before it draws them: the left margin
its y axes' tick labels and titles take, the right margin its colour bars (or x tick labels)
take, the legend's height under the plots, the size at which a heatmap's cell numbers fit
their cells, the ticks and table columns that fit at the width left.

plotly widens a margin that is too small for what sits in it (automargin), and the plots
shrink to make room, after a kind and `narrow.restack` had sized the panels for the width they
planned: a square panel then came out narrower than planned, with blank under it (a fifth of
the flow figure's column of tiles), and titles wrapped for the planned width ran into the
colour bar. With margins that already hold what sits in them, plotly keeps them, and the
plots are as wide as planned. The estimates follow plotly.js 3 in Chromium with DejaVu Sans
(`tests/test_fig_phone_room.py` draws every kind and compares).
"""

from __future__ import annotations

import math
import re

import numpy as np

from .layout import axis_key
from .template import Template
from .text import rewrap_lines, text_px

BAR_PX = 62  # the least right margin beside a colour bar
MIN_CELL_FONT_PX = 7  # cell numbers that fit only smaller than this are left to the hover


def big(size: float) -> float:
    """plotly's size for axis and colour-bar titles at a font of `size` (its bigFont)."""
    return round(1.2 * size)


def _unwrapped_words(text: str) -> list[str]:
    return [w for w in re.split(r"<br>|\s", re.sub(r"</?(sup|sub|b|i)>", "", text or "")) if w]


def bars(data: list[dict]) -> list[dict]:
    """The colour bars the traces show."""
    out = []
    for tr in data:
        bar = tr.get("colorbar") if "colorbar" in tr else (tr.get("marker") or {}).get("colorbar")
        shown = tr.get("showscale") if "colorbar" in tr else (tr.get("marker") or {}).get(
            "showscale")
        if isinstance(bar, dict) and shown is not False and (shown or tr.get("type") in (
                "heatmap", "contour")):
            out.append(bar)
    return out


def _bar_labels_px(bar: dict, t: Template) -> float:
    ticks = bar.get("ticktext")
    if ticks is not None and len(ticks):
        return max(text_px(str(x), t.font_size) for x in ticks)
    return text_px("0.000", t.font_size)  # plotly's numbers on a bar: up to 4 digits and a point


def bar_px(bar: dict, t: Template) -> float:
    """The right margin a phone's colour bar takes (at least BAR_PX): 12 px of pad either side,
    and the wider of its title's longest word (at plotly's title size) and the bar with its
    tick labels (10 px, 2 px apart, the labels)."""
    title = bar.get("title")
    title = (title.get("text") if isinstance(title, dict) else title) or ""
    longest = max((text_px(w, big(t.font_size)) for w in _unwrapped_words(str(title))),
                  default=0.0)
    return float(math.ceil(max(BAR_PX, 26 + max(longest, 12 + _bar_labels_px(bar, t)))))


def bar_title_px(bar: dict, t: Template) -> float:
    """The width a phone's colour-bar title is wrapped to (set at plotly's title size)."""
    return bar_px(bar, t) - 26


def _numbers(values) -> list[float]:
    try:
        a = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        return []
    return [float(v) for v in a[np.isfinite(a)]]


def _number_label(v: float, step: float) -> str:
    """A tick label about as wide as plotly writes it (its minus sign; k, M, G from 10 000)."""
    a = abs(v)
    big_unit = next(((a / f, u) for f, u in ((1e9, "G"), (1e6, "M"), (1e3, "k"))
                     if a >= max(f, 1e4)), None)
    text = (f"{big_unit[0]:.2g}{big_unit[1]}" if big_unit else f"{a:.0f}"
            if step >= 1 or a >= 100 else f"{a:.2g}")
    return ("\u2212" if v < 0 else "") + text


def _z_rows(tr: dict):
    z = tr.get("z")
    return () if z is None or isinstance(z, dict) else z


def _tick_labels(layout: dict, data: list[dict], key: str) -> list[str]:
    """The tick labels of axis `key` ("yaxis2", "xaxis"), or what the longest of them would
    be."""
    ax = layout.get(key) or {}
    if ax.get("visible") is False or ax.get("showticklabels") is False:
        return []
    if ax.get("ticktext") is not None:
        return [str(x) for x in ax["ticktext"]]
    letter, ref = key[0], key.replace("axis", "")
    mine = [tr for tr in data if (tr.get(f"{letter}axis") or letter) == ref
            and tr.get("type", "scatter") not in ("table", "pie")]
    cats = [str(v) for tr in mine for v in (tr.get(letter) if isinstance(
        tr.get(letter), (list, tuple)) else ()) if isinstance(v, str)]
    if cats:
        return cats
    rng = ax.get("range")
    vals = _numbers(rng) if rng is not None else [
        v for tr in mine for v in _numbers(tr.get(letter) if tr.get("type") != "heatmap"
                                           else [0, len(_z_rows(tr))])]
    if not vals:
        return []
    lo, hi = min(vals), max(vals)
    step = float(ax.get("dtick")) if isinstance(ax.get("dtick"), (int, float)) else (
        (hi - lo) / 5 or 1.0)
    return [_number_label(v, step) for v in (lo, hi, (lo + hi) / 2)]


def left_px(layout: dict, data: list[dict], t: Template,
            heights: dict[str, float] | None = None) -> float:
    """The left margin a phone figure's y axes take: the widest tick labels, 3 px from the
    axis (and the tick marks where drawn outside), the title's lines at plotly's title size
    beyond them, each title wrapped to its panel's height (`heights`: y axis -> px, as
    `narrow` will wrap it); 0 when no y axis shows labels or a title."""
    need = 0.0
    for key, ax in layout.items():
        if not (key.startswith("yaxis") and isinstance(ax, dict)) or ax.get("visible") is False:
            continue
        if ax.get("overlaying") or ax.get("side") == "right":
            continue
        labels = _tick_labels(layout, data, key)
        w = max((text_px(x, t.font_size) for x in labels), default=0.0)
        w += (3 + (ax.get("ticklen") or 5) if ax.get("ticks") == "outside" else 3) if labels \
            else 0
        title = ax.get("title")
        title = (title.get("text") if isinstance(title, dict) else title) or ""
        if title:
            lines = wrapped_y_title(str(title), t, (heights or {}).get(key, 1e9))
            w += 1.3 * big(t.font_size) * (lines.count("<br>") + 1) + 6
        need = max(need, w)
    return float(math.ceil(need + 12)) if need else 0.0


def right_px(layout: dict, data: list[dict], t: Template) -> float:
    """The right margin a phone figure without a colour bar takes: half the widest x tick
    label, which plotly centres on the plot's right edge, and a little more (16 px at least)."""
    widest = max((text_px(x, t.font_size) for key, ax in layout.items()
                  if key.startswith("xaxis") and isinstance(ax, dict)
                  and ax.get("visible") is not False
                  for x in _tick_labels(layout, data, key)[-2:]), default=0.0)
    return float(max(16, math.ceil(widest / 2 + 10)))


def wrapped_y_title(title: str, t: Template, height_px: float) -> str:
    """A y axis's title wrapped to its panel's height, at plotly's title size; to 120 px at
    least (it may reach a little past a short panel: every line of it widens the margin, and
    so narrows every panel)."""
    from .text import rewrap_lines

    return rewrap_lines(re.sub(r"<br>", " ", title), big(t.font_size), max(120.0, height_px))


def _cell_strings(tr: dict) -> list[str] | None:
    """The distinct texts a heatmap writes in its cells (`texttemplate` "%{z}", "%{z:.Nf}" or
    "%{text}"), negative numbers with plotly's minus sign; None for a template not read here."""
    tt = tr.get("texttemplate")
    m = re.fullmatch(r"%\{(z|text)(?::\.(\d+)f)?\}", tt) if isinstance(tt, str) else None
    if m is None or isinstance(tr.get(m.group(1)), dict):
        return None
    out: set[str] = set()
    values = tr.get(m.group(1))
    for v in np.asarray([] if values is None else values, dtype=object).ravel():
        if m.group(1) == "text":
            out.add(str(v))
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            text = (f"{f:.{m.group(2)}f}" if m.group(2) else
                    str(int(f)) if f.is_integer() else f"{f:g}")
            out.add(text.replace("-", "\u2212"))
    return sorted(out)


def _unit_px(layout: dict, p, plot_w: float, total: float) -> tuple[float, float] | None:
    """Pixels per data unit along x and y of a placed panel (`narrow.Panel`), from its axis
    ranges; for a square-celled panel the smaller of the two (plotly keeps the cells square)."""
    spans = []
    for ax in p.axes:
        r = (layout.get(ax) or {}).get("range")
        if r is None or len(r) != 2 or isinstance(r[0], str) or r[0] == r[1]:
            return None
        spans.append(abs(float(r[1]) - float(r[0])))
    w = (p.new_x[1] - p.new_x[0]) * plot_w / spans[0]
    h = (p.new_y[1] - p.new_y[0]) * total / spans[1]
    return (min(w, h), min(w, h)) if p.square else (w, h)


def thin_ticks(layout: dict, panels: list, plot_w: float, total: float, t: Template) -> None:
    """Every other tick label (or every third, ...) of an axis whose labels, one a unit
    (`dtick` 1, or a list of `tickvals`), would touch at the panel's new size: the 6x6
    example's 9 slots ran into each other up the side of its mask on a phone."""
    for p in panels:
        if p.axes is None:
            continue
        unit = _unit_px(layout, p, plot_w, total)
        if unit is None:
            continue
        for ax_key, px in zip(p.axes, unit, strict=True):
            ax = layout.get(ax_key) or {}
            if ax.get("showticklabels") is False or ax.get("visible") is False:
                continue
            vals, text = ax.get("tickvals"), ax.get("ticktext")
            step = (float(ax["dtick"]) if isinstance(ax.get("dtick"), (int, float)) else
                    min((abs(b - a) for a, b in zip(vals, vals[1:], strict=False) if b != a),
                        default=0.0) if isinstance(vals, (list, tuple)) and len(vals) > 2
                    and all(isinstance(v, (int, float)) for v in vals) else 0.0)
            if step <= 0:
                continue
            labels = [str(x) for x in text] if text is not None else [
                _number_label(v, 1.0) for v in (vals or [_numbers(ax.get("range"))[-1]])]
            need = (1.3 * t.font_size if ax_key.startswith("y") else
                    max(text_px(x, t.font_size) for x in labels) + 4)
            every = math.ceil(need / (step * px)) if step * px < need else 1
            if every <= 1:
                continue
            if isinstance(vals, (list, tuple)) and len(vals) > 2:
                ax["tickvals"] = list(vals[::every])
                if text is not None:
                    ax["ticktext"] = list(text[::every])
            else:
                ax["dtick"] = step * every


def fit_cell_text(layout: dict, data: list[dict], panels: list, plot_w: float,
                  total: float) -> None:
    """Each heatmap's cell numbers set at a size that fits its cells (`panels`: the
    `narrow.Panel`s, placed in a plot area plot_w x total px): the widest text at most 88 % of
    a cell, a line at most 80 % of its height; left out where that is under MIN_CELL_FONT_PX.
    At a default figure's size they ran into each other on a phone ("-0.02-0.01" in the
    attention figure's (b))."""
    by_axes = {p.axes: p for p in panels if p.axes is not None}
    for tr in data:
        if tr.get("type") != "heatmap" or not tr.get("texttemplate"):
            continue
        p = by_axes.get((axis_key(tr.get("xaxis") or "x"), axis_key(tr.get("yaxis") or "y")))
        texts = _cell_strings(tr)
        if p is None or p.new_x is None or not texts:
            continue
        spans = []
        for ax in p.axes:
            r = (layout.get(ax) or {}).get("range")
            z = np.asarray(tr.get("z") if isinstance(tr.get("z"), (list, np.ndarray)) else [])
            spans.append(abs(float(r[1]) - float(r[0])) if r is not None and len(r) == 2
                         else (z.shape[-1 if ax.startswith("x") else 0] if z.ndim == 2 else 0))
        if min(spans) <= 0:
            continue
        w_px = (p.new_x[1] - p.new_x[0]) * plot_w / spans[0]
        h_px = (p.new_y[1] - p.new_y[0]) * total / spans[1]
        if p.square:  # plotly keeps the cells square: the smaller side sets both
            w_px = h_px = min(w_px, h_px)
        widest = max(text_px(x, 1.0) for x in texts)
        font = tr.setdefault("textfont", {})
        size = min(float(font.get("size") or 12), 0.88 * w_px / max(widest, 1e-6),
                   0.8 * h_px)
        if size < MIN_CELL_FONT_PX:
            tr.pop("texttemplate", None)
            tr.pop("textfont", None)
        else:
            font["size"] = int(size)


def refit_tables(data: list[dict], plot_w: float) -> None:
    """A table whose columns, at the width the phone's margins leave it, would no longer give
    each column its longest word (plotly cuts what does not fit) gets its columns fitted again
    (`table.fit_columns`), at a smaller size where the words do not fit side by side: a kind
    fits them to the width it expects, and the margins of the panels beside it (`left_px`)
    can leave less (the cost figure's "parameters" was cut)."""
    from .table import _needs, fit_columns

    for tr in data:
        if tr.get("type") != "table" or not tr.get("columnwidth"):
            continue
        head, cells = tr.get("header") or {}, tr.get("cells") or {}
        header = [str(h) for h in head.get("values") or ()]
        cols = [[str(c) for c in col] for col in cells.get("values") or ()]
        if not header or len(header) != len(cols) or len(header) != len(tr["columnwidth"]):
            continue
        sizes = ((head.get("font") or {}).get("size") or 12,
                 (cells.get("font") or {}).get("size") or 12)
        span = (tr.get("domain") or {}).get("x") or [0, 1]
        total = (span[1] - span[0]) * plot_w
        weights = [float(w) for w in tr["columnwidth"]]
        need, _ = _needs(header, cols, *sizes)
        if all(w / sum(weights) * total >= n - 4 for w, n in zip(weights, need, strict=True)):
            continue
        while sum(need) > total and min(sizes) > 8:  # the words do not fit side by side:
            sizes = (sizes[0] - 1, sizes[1] - 1)  # a size smaller, down to 8 px
            need, _ = _needs(header, cols, *sizes)
        head.setdefault("font", {})["size"], cells.setdefault("font", {})["size"] = sizes
        tr["columnwidth"] = [round(w, 1) for w in fit_columns(header, cols, *sizes, total)]


NOT_IN_LEGEND = ("heatmap", "image", "contour", "table", "histogram2d")  # unless asked


def legend(layout: dict, data: list[dict], plot_w: float, t: Template) -> float:
    """The legend under the plots, horizontal, long names wrapped; its height in px (0: none):
    rows of entries, each row as tall as its tallest entry (1.3 em a line and 3.5 px) and 10
    px apart, as plotly.js sets them (a row counted as one line whatever its names' lines,
    and the traces plotly leaves out counted in, the windows figure's legend took 40-100 px
    more than its margin, and plotly took them from the plots)."""
    if layout.get("showlegend") is False:
        return 0.0
    shown = [tr for tr in data if tr.get("name") and (tr.get("showlegend") is True or (
        tr.get("showlegend") is None and tr.get("type", "scatter") not in NOT_IN_LEGEND))]
    if not shown:
        return 0.0
    for tr in shown:  # a long name wrapped, so the legend stays inside the width
        if text_px(str(tr["name"]), t.font_size) > plot_w - 48:
            tr["name"] = rewrap_lines(str(tr["name"]), t.font_size, plot_w - 48)
    total = row_px = row_h = 0.0
    for name in dict.fromkeys(str(tr["name"]) for tr in shown):
        lines = name.split("<br>")
        w = max(text_px(line, t.font_size) for line in lines) + 48
        if row_px and row_px + w > plot_w:
            total, row_px, row_h = total + row_h + 10, 0.0, 0.0
        row_px += w
        row_h = max(row_h, 1.3 * t.font_size * len(lines) + 3.5)
    layout["legend"] = dict(orientation="h", x=0, xanchor="left", yanchor="top",
                            font=dict(size=t.font_size))  # its y: under the notes (`restack`)
    return total + row_h + 10 + 8
