"""A figure laid out for a phone's column: `restack` puts the panels of any kind one above the
other (small panels, such as one a head, two or more a row), full width, in reading order,
and moves everything placed by paper coordinates with its panel: subplot titles, headings,
shapes, images, colour bars. Legends go under the plots, in rows. Works on the dicts a kind
draws (`fast_figure`), so every kind gets it without a narrow layout of its own; the "narrow"
template's width (360 px) is the room: kinds wrap their own texts to it.

A panel is an x axis with its y axis, or a trace placed by `domain` (tables). Panels whose
y ranges overlap form a row; rows keep their order from top to bottom, panels theirs from
left to right.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .layout import axis_key
from .room import (
    bar_px,
    bar_title_px,
    bars,
    big,
    fit_cell_text,
    left_px,
    legend,
    refit_tables,
    right_px,
    thin_ticks,
    wrapped_y_title,
)
from .template import Template
from .text import is_cjk, lines_px, rewrap_lines, text_px

SMALL_PANEL_PX = 120  # narrowest panel: rows of more than 3 panels keep this many a row
GAP_PX = 14  # between stacked panels, above their titles
NARROW_LEFT_PX = 48  # the widest left margin
MIN_BAR_PX = 150  # a colour bar beside a small panel is still this tall
DOMAIN_TRACES = ("table", "pie", "sunburst", "treemap", "sankey", "indicator")  # no axes


@dataclass
class Panel:
    """One panel: its x / y axis names ("xaxis2", "yaxis2"), or the index of the trace
    placed by domain; its old box and (after `restack`) its new one, in paper fractions."""

    x: tuple[float, float]
    y: tuple[float, float]
    axes: tuple[str, str] | None = None
    trace: int | None = None
    square: bool = False
    aspect: float = 1.0  # height / width of its content
    new_x: tuple[float, float] = (0.0, 1.0)
    new_y: tuple[float, float] = (0.0, 1.0)

    def holds(self, x: float, y: float, slack: float = 0.02) -> bool:
        return (self.x[0] - slack <= x <= self.x[1] + slack
                and self.y[0] - slack <= y <= self.y[1] + slack)

    def move(self, x: float, y: float) -> tuple[float, float]:
        """A paper point in the old box -> the same place in the new box."""
        def one(v, old, new):
            span = old[1] - old[0]
            return new[0] + ((v - old[0]) / span if span else 0.5) * (new[1] - new[0])
        return one(x, self.x, self.new_x), one(y, self.y, self.new_y)


def _aspect(layout: dict, data: list[dict], xa: str, ya: str) -> float:
    """Height / width of a square-celled panel's content, from its axis ranges or its
    heatmaps' / images' sizes (1 when nothing tells)."""
    xr = (layout.get(xa) or {}).get("range")
    yr = (layout.get(ya) or {}).get("range")
    if xr and yr and len(xr) == 2 and len(yr) == 2:
        w, h = abs(xr[1] - xr[0]), abs(yr[1] - yr[0])
        if w > 0 and h > 0:
            return h / w
    xs, ys = xa.replace("axis", ""), ya.replace("axis", "")
    for tr in data:
        if (tr.get("xaxis") or "x") != xs or (tr.get("yaxis") or "y") != ys:
            continue
        z = tr.get("z")
        if tr.get("type") == "heatmap" and z is not None and len(z) and len(z[0]):
            return len(z) / len(z[0])
    return 1.0


def panels_of(layout: dict, data: list[dict]) -> list[Panel]:
    """Every panel of a figure: the x axes with a domain and the traces placed by domain."""
    out = []
    for key, ax in layout.items():
        if not (key.startswith("xaxis") and isinstance(ax, dict)):
            continue
        ya = axis_key(ax.get("anchor") or "y")
        yd = (layout.get(ya) or {}).get("domain") or [0, 1]
        xd = ax.get("domain") or [0, 1]
        if (layout.get(ya) or {}).get("visible") is False and ax.get("visible") is False \
                and not any((tr.get("xaxis") or "x") == key.replace("axis", "") for tr in data):
            continue
        square = bool((layout.get(ya) or {}).get("scaleanchor"))
        out.append(Panel(tuple(xd), tuple(yd), axes=(key, ya), square=square,
                         aspect=_aspect(layout, data, key, ya) if square else 1.0))
    if not out and any(tr.get("type", "scatter") not in DOMAIN_TRACES for tr in data):
        out.append(Panel((0.0, 1.0), (0.0, 1.0), axes=("xaxis", "yaxis")))  # plotly's own
    for i, tr in enumerate(data):
        dom = tr.get("domain")
        if tr.get("type") in DOMAIN_TRACES or isinstance(dom, dict):
            dom = dom if isinstance(dom, dict) else {}
            out.append(Panel(tuple(dom.get("x") or (0, 1)), tuple(dom.get("y") or (0, 1)),
                             trace=i))
    return out


def rows_of(panels: list[Panel]) -> list[list[Panel]]:
    """Panels grouped into rows (overlapping y ranges), top row first, each left to right."""
    rows: list[list[Panel]] = []
    for p in sorted(panels, key=lambda p: -p.y[1]):
        for row in rows:
            lo, hi = min(q.y[0] for q in row), max(q.y[1] for q in row)
            if p.y[1] > lo + 1e-3 and p.y[0] < hi - 1e-3:
                row.append(p)
                break
        else:
            rows.append([p])
    return [sorted(r, key=lambda p: p.x[0]) for r in rows]


def _joined(a: str, b: str) -> str:
    """Two pieces of a line broken apart, joined again: Chinese is broken between two of its
    characters (no space was there), anything else at a space."""
    plain = re.compile(r"<[^>]+>")
    end, start = plain.sub("", a)[-1:], plain.sub("", b)[:1]
    return a + b if is_cjk(end or " ") and is_cjk(start or " ") else a + " " + b


def _sup_per_line(text: str) -> str:
    """`text` with a `<sup>` that runs over line breaks closed at the end of each line and opened
    again on the next ("a<br><sup>b<br>c</sup>" -> "a<br><sup>b</sup><br><sup>c</sup>"): the
    same picture, and each line says its own size."""
    out, carried = [], False
    for line in text.split("<br>"):
        if carried:
            line = "<sup>" + line
        carried = line.count("<sup>") > line.count("</sup>")
        out.append(line + "</sup>" if carried else line)
    return "<br>".join(out)


def _ends_sentence(a: str, b: str) -> bool:
    """Whether line `a` ends a sentence and `b` starts the next (a note's paragraphs)."""
    plain = re.compile(r"<[^>]+>")
    end, start = plain.sub("", a).rstrip()[-1:], plain.sub("", b).lstrip()[:1]
    return end in ".!?。！？" and bool(start) and (start.isupper() or is_cjk(start))


def unwrap(text: str, *, sentences: bool = False) -> str:
    """Lines a kind broke for a panel beside others joined again, to be wrapped to the new
    width: plain lines with plain lines, lines set in their own size (`<sup>...</sup>`, a sized
    `<span>`) with the next line in the same tag. (A `<sup>` over several lines was read as
    plain lines and joined to the title above it: the bias figure's subtitle began on its
    title's last line.) `sentences`: a line that ends a sentence keeps its break when the next
    begins one (a note's paragraphs; wrapped line by line, a note's lines broken for the wide
    figure came out ragged on a phone: "masks only" / "(weights ignored)")."""
    out: list[tuple[str, str, str]] = []  # (opening tag or "", body, closing tag)
    for line in _sup_per_line(text or "").split("<br>"):
        m = re.fullmatch(r"(<sup>|<span style='font-size:\d+px'>)(.*)(</sup>|</span>)", line)
        piece = (m.group(1), m.group(2), m.group(3)) if m else ("", line, "")
        if out and out[-1][0] == piece[0] and out[-1][1] and piece[1] and not (
                sentences and _ends_sentence(out[-1][1], piece[1])):
            out[-1] = (piece[0], _joined(out[-1][1], piece[1]), piece[2])
        else:
            out.append(piece)
    return "<br>".join(a + b + c for a, b, c in out)


def _category_labels(data: list[dict], x_axis: str) -> list[str]:
    """The distinct category names along x axis `x_axis` ("xaxis2"), in order."""
    ref = x_axis.replace("axis", "")
    names = [v for tr in data if (tr.get("xaxis") or "x") == ref
             and isinstance(tr.get("x"), (list, tuple)) for v in tr["x"] if isinstance(v, str)]
    return list(dict.fromkeys(names))


def _below_px(layout: dict, panel: Panel, t: Template, data: list[dict] = (),
              width_px: float = 0.0) -> float:
    """Room under a panel for its x axis: tick marks, labels and the title, which plotly sets
    larger than the ticks and a little apart from them (nothing for a table). At 2 em for the
    ticks and 1.3 em a title line, the windows figure's "x (pixels)" touched the next panel's
    title on a phone. Category names wider than their share of the panel's `width_px` are
    turned 30° by plotly: then they hang down half their width (the parts figure's "2 pairs"
    ran into the next title)."""
    if panel.axes is None:
        return t.font_size * 0.8
    ax = layout.get(panel.axes[0]) or {}
    if ax.get("visible") is False or ax.get("showticklabels") is False:
        ticks = 0.8
    else:
        ticks = 2.6
        names = _category_labels(list(data), panel.axes[0])
        widest = max((text_px(n, t.font_size) for n in names), default=0.0)
        if names and width_px and widest + 6 > width_px / len(names):
            ticks += 0.5 * widest / t.font_size + 0.4
    title = ((ax.get("title") or {}).get("text") or "") if isinstance(ax.get("title"), dict) \
        else str(ax.get("title") or "")
    return t.font_size * (ticks + (1.6 * (title.count("<br>") + 1) + 0.4 if title else 0))


def _titles_over(layout: dict, panel: Panel) -> list[dict]:
    """The subplot titles (paper, centred, bottom-anchored), headings (paper, left-anchored,
    bottom-anchored) and titles placed on the panel's own top ("x2 domain", "y2 domain", the
    flow figure's picture: room was not kept for it) that sit on top of `panel`."""
    out = []
    own = (f"{panel.axes[0].replace('axis', '')} domain",
           f"{panel.axes[1].replace('axis', '')} domain") if panel.axes else None
    for ann in layout.get("annotations", ()):
        if ann.get("showarrow") or ann.get("yanchor") != "bottom":
            continue
        if (ann.get("xref"), ann.get("yref")) == own:  # a title on the panel's own top
            if float(ann.get("y", 0)) >= 0.97:
                out.append(ann)
            continue
        if ann.get("xref") != "paper" or ann.get("yref") != "paper":
            continue
        x, y = float(ann.get("x", 0.5)), float(ann.get("y", 0))
        if abs(y - panel.y[1]) < 0.03 and panel.x[0] - 0.02 <= x <= panel.x[1] + 0.02:
            out.append(ann)
    return out


def _size(ann: dict, t: Template) -> float:
    return (ann.get("font") or {}).get("size") or t.font_size


def _titles_px(layout: dict, chunk: list[Panel], plot_w: float, cell_w: float, t: Template,
               on_top: list) -> float:
    """The titles over a row of panels wrapped to their new room, headings (left) lifted above
    the centred titles; their height in px. Each (title, panel) is added to `on_top`."""
    title_px = 0.0
    for p in chunk:
        over = _titles_over(layout, p)
        on_top.extend((a, p) for a in over)
        for a in over:
            a["text"] = rewrap_lines(unwrap(a.get("text") or ""), _size(a, t),
                                     0.92 * plot_w - 16 if a.get("xanchor") == "left"
                                     else 0.9 * cell_w)
        up = max((lines_px(a["text"], _size(a, t)) for a in over
                  if a.get("xanchor") != "left"), default=0.0)
        for a in over:
            if a.get("xanchor") == "left":
                a["yshift"] = int(up + 2)
                up += lines_px(a["text"], _size(a, t)) + 2
        title_px = max(title_px, up)
    return title_px


def _panel_px(p: Panel, cell_w: float, old_plot_h: float, tall: bool = False) -> float:
    """A panel's new height in px at `cell_w` wide; `tall`: a square-celled panel keeps its
    content's shape however tall (a column of tiles drawn for this width), else at most
    1.4 times its width."""
    old_h = (p.y[1] - p.y[0]) * old_plot_h
    if p.square:  # its content's shape at the full width
        return cell_w * max(0.3, p.aspect if tall else min(1.4, p.aspect))
    if p.trace is None:  # a chart: as tall as it was, at least 3/4 of its width (at half,
        # a y title of three words took three lines, and the margin for them every panel's
        # width)
        return max(old_h, 0.75 * cell_w)
    return old_h  # a table: sized for its text at this width already


def _place(layout: dict, rows: list[list[Panel]], plot_w: float, old_plot_h: float,
           t: Template, data: list[dict] = ()) -> tuple[float, list]:
    """Every panel's new box (`Panel.new_x`, `new_y`): rows of up to 4 panels one a row,
    longer rows (one a head) as many a row as SMALL_PANEL_PX allows, and the rows of a figure
    of small multiples (layout.meta["small_multiples"]: a panel a head, drawn for this width)
    as they are; panels named in layout.meta["tall_panels"] (their x axes) as tall as their
    content; each row's titles above it and its x axis below. Returns the plot area's new
    height in px and the (title, panel) pairs placed on top of a panel."""
    keep = bool((layout.get("meta") or {}).get("small_multiples"))
    tall = set((layout.get("meta") or {}).get("tall_panels") or ())  # x axes: see `_panel_px`
    y_px = 0.0
    on_top: list[tuple[dict, Panel]] = []
    boxes: list[tuple[Panel, float, float, float, float]] = []  # panel, x0, x1, top, bottom
    for row in rows:
        per_row = len(row) if keep else 1 if len(row) <= 4 else max(
            1, min(len(row), int(plot_w // SMALL_PANEL_PX)))
        for start in range(0, len(row), per_row):
            chunk = row[start:start + per_row]
            cell_w = plot_w / per_row
            y_px += GAP_PX + _titles_px(layout, chunk, plot_w, cell_w, t, on_top)
            row_h = max(_panel_px(p, cell_w, old_plot_h, p.axes is not None
                                  and p.axes[0] in tall) for p in chunk)
            for i, p in enumerate(chunk):
                title = (layout.get(p.axes[0]) or {}).get("title") if p.axes else None
                if isinstance(title, dict) and title.get("text"):  # x title: the panel's width
                    title["text"] = rewrap_lines(title["text"], t.font_size, 0.95 * cell_w)
                boxes.append((p, i * cell_w, (i + 1) * cell_w - (8 if per_row > 1 else 0),
                              y_px, y_px + row_h))
            y_px += row_h + max(_below_px(layout, p, t, data, cell_w) for p in chunk)
    total = max(1.0, y_px)
    for p, x0, x1, top, bottom in boxes:
        p.new_x = (x0 / plot_w, min(1.0, x1 / plot_w))
        p.new_y = (max(0.0, 1 - bottom / total), 1 - top / total)
    return total, on_top


def _move_paper_things(layout: dict, panels: list[Panel], on_top: list, lowest: float) -> None:
    """Titles onto their panel's new top; other annotations, shapes and images placed on the
    paper moved with the panel they sit on; notes under the plots stay there."""
    moved = [p for p in panels if (p.new_x, p.new_y) != (p.x, p.y)]

    def move_point(x, y):
        for p in moved:
            if p.holds(x, y):
                return p.move(x, y)
        return None

    topped = {id(a) for a, _ in on_top}
    for a, p in on_top:  # on top of the panel's new box: centred on it, or at its left
        if str(a.get("yref", "")).endswith(" domain"):
            continue  # placed on the panel's own top already
        a["y"] = p.new_y[1]
        a["x"] = (p.new_x[0] + p.new_x[1]) / 2 if a.get("xanchor") != "left" else p.new_x[0]
    for ann in layout.get("annotations", ()):
        if id(ann) in topped or ann.get("xref") != "paper" or ann.get("yref") != "paper":
            continue
        x, y = float(ann.get("x", 0.5)), float(ann.get("y", 0.5))
        if ann.get("yanchor") == "top" and y <= lowest + 1e-3:
            continue  # a note under the plots stays under them
        at = move_point(x, y)
        if at is not None:
            ann["x"], ann["y"] = at
    for shape in layout.get("shapes", ()):
        if shape.get("xref") == "paper" and shape.get("yref") == "paper":
            for a, b in (("x0", "y0"), ("x1", "y1")):
                if a in shape and b in shape:
                    at = move_point(float(shape[a]), float(shape[b]))
                    if at is not None:
                        shape[a], shape[b] = at
    for img in layout.get("images", ()):
        if img.get("xref") == "paper" and img.get("yref") == "paper":
            at = move_point(float(img.get("x", 0)), float(img.get("y", 1)))
            if at is not None:
                img["x"], img["y"] = at


def _set_domains(layout: dict, data: list[dict], panels: list[Panel], total: float,
                 t: Template) -> None:
    """The new boxes into the axes' and traces' domains (y titles wrapped to the height)."""
    for p in panels:
        if p.axes is None:
            data[p.trace]["domain"] = {"x": list(p.new_x), "y": list(p.new_y)}
            continue
        title = (layout.get(p.axes[1]) or {}).get("title")
        if isinstance(title, dict) and title.get("text"):
            title["text"] = wrapped_y_title(title["text"], t, (p.new_y[1] - p.new_y[0]) * total)
        layout.setdefault(p.axes[0], {})["domain"] = list(p.new_x)
        layout.setdefault(p.axes[1], {})["domain"] = list(p.new_y)


def _colour_bars(data: list[dict], panels: list[Panel], total: float, t: Template,
                 tall: frozenset = frozenset()) -> None:
    """Each colour bar beside its own panel, as tall as it (at least MIN_BAR_PX), or, beside a
    tall panel (x axis in `tall`), where it was along the panel; its title in the margin's
    room."""
    by_axes = {p.axes: p for p in panels if p.axes is not None}
    for tr in data:
        bar = tr.get("colorbar") if "colorbar" in tr else (tr.get("marker") or {}).get("colorbar")
        if bar is None:
            continue
        p = by_axes.get((axis_key(tr.get("xaxis") or "x"), axis_key(tr.get("yaxis") or "y")))
        if p is None:
            continue
        bar.pop("orientation", None)  # beside its panel it stands upright (one laid under
        # its panel, `lesson.canvas.bar_under`, would lie on its side there)
        title = bar.get("title")
        title_px = 0.0
        if isinstance(title, dict):
            title["side"] = "top"
            if title.get("text"):
                title["text"] = rewrap_lines(unwrap(title["text"]), big(t.font_size),
                                             bar_title_px(bar, t))
                title_px = lines_px(title["text"], big(t.font_size))
        least = MIN_BAR_PX / total
        if p.axes[0] in tall and bar.get("yanchor") == "top" and bar.get("len"):
            # a tall panel's bars keep their places along it (several bars, one panel)
            top, bottom = p.move(0, bar.get("y", 1))[1], p.move(0, bar["y"] - bar["len"])[1]
            bar.update(x=1.0, xanchor="left", xpad=6, y=top, yanchor="top",
                       lenmode="fraction", len=min(max(top - bottom, least),
                                                   top - p.new_y[0]),
                       thickness=10)
        else:
            bar.update(x=1.0, xanchor="left", xpad=6, y=(p.new_y[0] + p.new_y[1]) / 2,
                       yanchor="middle", lenmode="fraction",
                       len=min(1.0, max(0.9 * (p.new_y[1] - p.new_y[0]), least)),
                       thickness=10)
        bar.pop("yref", None)
        # named ticks (the region ids' 0-8) 1.3 lines apart at least under the title (plotly's
        # `len` holds the title too): every other one where they would touch
        vals = bar.get("tickvals")
        room = bar["len"] * total - title_px
        if vals is not None and len(vals) > 2 and room < 1.3 * t.font_size * len(vals):
            every = math.ceil(1.3 * t.font_size * len(vals) / max(room, 1.0))
            bar["tickvals"] = list(vals)[::every]
            if bar.get("ticktext") is not None:
                bar["ticktext"] = list(bar["ticktext"])[::every]


def restack(layout: dict, data: list[dict], t: Template) -> tuple[dict, list[dict]]:
    """(layout, data) with the panels stacked for `t`'s width (the "narrow" template); a
    figure of one panel a row keeps its panels where they are (only its legend and colour
    bars move). Changes and returns the dicts given."""
    panels = panels_of(layout, data)
    margin = layout.setdefault("margin", {})
    shown = bars(data)
    old_plot_h = max(1.0, (layout.get("height") or t.height) - margin.get("t", 90)
                     - margin.get("b", 60))
    # margins that hold what plotly puts in them, so that it keeps them (`room`); the y
    # titles' lines from the panels' heights at a width near the final one
    margin["r"] = (max(bar_px(b, t) for b in shown) if shown
                   else min(margin.get("r", 30), right_px(layout, data, t)))
    near_w = t.width - NARROW_LEFT_PX - 20 - margin["r"]
    tall = set((layout.get("meta") or {}).get("tall_panels") or ())
    heights = {p.axes[1]: _panel_px(p, near_w, old_plot_h, p.axes[0] in tall)
               for p in panels if p.axes is not None}
    margin["l"] = max(min(margin.get("l", 60), NARROW_LEFT_PX),
                      left_px(layout, data, t, heights))
    plot_w = t.width - margin["l"] - margin["r"]
    total, on_top = _place(layout, rows_of(panels), plot_w, old_plot_h, t, data)
    lowest = min((p.y[0] for p in panels), default=0.0)
    _move_paper_things(layout, panels, on_top, lowest)
    _set_domains(layout, data, panels, total, t)
    fit_cell_text(layout, data, panels, plot_w, total)
    refit_tables(data, plot_w)
    thin_ticks(layout, panels, plot_w, total, t)
    _colour_bars(data, panels, total, t,
                 frozenset((layout.get("meta") or {}).get("tall_panels") or ()))
    legend_px = legend(layout, data, plot_w, t)

    # the page shows the figure as wide as its column; the top margin: the figure's title
    # only (the first panels' titles are in the plot area now)
    layout.pop("width", None)
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        title["text"] = rewrap_lines(title["text"], t.title_size, t.width * 0.98 - 24)
        # plotly spaces every line of a title by the title's size
        margin["t"] = int(16 + 1.3 * t.title_size * len(title["text"].split("<br>")))
    # the bottom: the last panel's axis (in `total`), the notes under the plots, the legend
    notes = [a for a in layout.get("annotations", ()) if a.get("yanchor") == "top"
             and a.get("yref") == "paper" and float(a.get("y", 1)) <= lowest + 1e-3]
    for a in notes:  # the last panel's axis is inside the plot area already
        a["y"], a["yshift"] = 0, -4
        boxed = 2 * (a.get("borderpad") or 0) + 2 * (a.get("borderwidth") or 1) + 12 \
            if a.get("bordercolor") else 0  # a note in a box: its padding and border
        a["text"] = rewrap_lines(unwrap(a.get("text") or "", sentences=True), _size(a, t),
                                 plot_w + margin["r"] - 8 - boxed)
    note_px = max((4 + 2 * (a.get("borderpad") or 0) + lines_px(a.get("text") or "", _size(a, t))
                   for a in notes), default=0.0)
    # the notes in the bottom margin, the legend under them (on the paper: placed on the
    # container, plotly adds its height to the margin by a rule of its own, and it covered
    # the parts figure's note)
    notes_b = max(12.0, note_px + 10)
    margin["b"] = int(notes_b + legend_px)
    if legend_px:
        layout["legend"]["y"] = -(notes_b - 6) / total
    layout["height"] = int(margin.setdefault("t", 90) + total + margin["b"])
    if isinstance(title, dict) and title.get("text"):  # plotly places its first line's middle
        title.update(yref="container", yanchor="top",
                     y=1 - (10 + 0.7 * t.title_size) / layout["height"])
    return layout, data


def side_by_side(layout: dict, data: list[dict]) -> bool:
    """Whether any row of the figure holds more than one panel."""
    return any(len(row) > 1 for row in rows_of(panels_of(layout, data)))


def narrow_figure(fig, *, only_side_by_side: bool = False):
    """`restack` on a go.Figure drawn with the "narrow" template; a new Figure.
    only_side_by_side: a figure of one panel a row (a diagram drawn on the paper) is returned
    as it is."""
    from .layout import fast_figure
    from .template import get_template

    layout = fig.layout.to_plotly_json()
    data = [tr.to_plotly_json() for tr in fig.data]
    if only_side_by_side and not side_by_side(layout, data):
        return fig
    layout, data = restack(layout, data, get_template("narrow"))
    return fast_figure(data, layout)
