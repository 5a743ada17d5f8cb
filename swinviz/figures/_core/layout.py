"""Multi-panel layouts as plain dicts: subplot placement (make_subplots' layout, cached per
arguments), image / matrix / offset axes, titles pinned to the top and wrapped to their room,
footnotes under the plots, and `fast_figure`, which assembles a Figure without re-validating it."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .template import Template, get_template
from .text import lines_px, rewrap_lines

_SUBPLOTS_CACHE: dict[str, tuple[str, dict]] = {}


def subplots_layout(**make_subplots_kwargs) -> tuple[dict, dict[tuple[int, int], tuple[str, str]]]:
    """make_subplots' layout as a fresh dict and {(row, col): ("x2", "y2")} to place traces.

    Arguments are make_subplots' own (JSON-able values only); cached. Use with `fast_figure`."""
    import json

    key = json.dumps(make_subplots_kwargs, sort_keys=True)
    if key not in _SUBPLOTS_CACHE:
        from plotly.subplots import make_subplots

        fig = make_subplots(**make_subplots_kwargs)
        refs = {}
        for r in range(1, make_subplots_kwargs.get("rows", 1) + 1):
            for c in range(1, make_subplots_kwargs.get("cols", 1) + 1):
                try:
                    sp = fig.get_subplot(r, c)
                except Exception:  # an empty cell of `specs`
                    sp = None
                if sp is not None and hasattr(sp, "xaxis"):
                    refs[(r, c)] = ("x" + sp.xaxis.plotly_name.removeprefix("xaxis"),
                                    "y" + sp.yaxis.plotly_name.removeprefix("yaxis"))
        if len(_SUBPLOTS_CACHE) > 64:
            _SUBPLOTS_CACHE.clear()
        _SUBPLOTS_CACHE[key] = (json.dumps(fig.layout.to_plotly_json()), refs)
    lay, refs = _SUBPLOTS_CACHE[key]
    return json.loads(lay), dict(refs)


def axis_key(ref: str) -> str:
    """Trace axis reference -> layout key: "x2" -> "xaxis2", "y" -> "yaxis"."""
    return ref[0] + "axis" + ref[1:]


def panel_axes(layout: dict, refs: tuple[str, str], *, title_x: str = "", title_y: str = "",
               square: bool = True) -> None:
    """Image / matrix axes of one panel in a dict layout: y downwards, no grid, equal aspect."""
    xk, yk = axis_key(refs[0]), axis_key(refs[1])
    layout.setdefault(xk, {}).update(title=dict(text=title_x), showgrid=False, zeroline=False,
                                     constrain="domain", ticks="outside")
    layout.setdefault(yk, {}).update(title=dict(text=title_y), showgrid=False, zeroline=False,
                                     autorange="reversed", constrain="domain", ticks="outside")
    if square:
        layout[yk]["scaleanchor"] = refs[0]


def signed(v: int) -> str:
    """+2, −1, 0 (typographic minus) for offset tick labels."""
    return f"{v:+d}".replace("-", "−") if v else "0"


def offset_axes(layout: dict, refs: tuple[str, str], M: int, *, explain: bool = True) -> None:
    """Axes of a (2M-1) x (2M-1) offset image: Δw across, Δh down, Δ = query − key (`explain`:
    say in the axis titles which side a key is on)."""
    d = np.arange(-(M - 1), M)
    lo, hi = -(M - 1) - 0.5, (M - 1) + 0.5
    ticks = dict(tickmode="array", tickvals=d.tolist(), ticktext=[signed(v) for v in d])
    if M > 5:  # every other tick, so the labels stay apart
        ticks = dict(tickmode="array", tickvals=d[::2].tolist(),
                     ticktext=[signed(v) for v in d[::2]])
    layout.setdefault(axis_key(refs[0]), {}).update(
        title=dict(text="Δw = wi − wj" + ("<br>(key to the left → Δw > 0)" if explain else "")),
        range=[lo, hi],
        showgrid=False, zeroline=False, constrain="domain", **ticks)
    layout.setdefault(axis_key(refs[1]), {}).update(
        title=dict(text="Δh = hi − hj" + ("<br>(key above → Δh > 0)" if explain else "")),
        range=[hi, lo], showgrid=False,
        zeroline=False, constrain="domain", scaleanchor=refs[0], **ticks)


def fast_figure(data: list, layout: dict) -> go.Figure:
    """A Figure from trace dicts and a layout dict, skipping plotly's (slow) validation."""
    return go.Figure(data=data, layout=layout, _validate=False)


def footnote(text: str, template: str, *, lines: int = 1, below: float = 4.5) -> tuple[dict, int]:
    """A grey note under the plots, clear of the x-axis titles: (annotation dict, the bottom
    margin in pixels it needs). `below` is the gap under the lowest plot, in font sizes."""
    t = get_template(template)
    shift = int(below * t.font_size)
    note = dict(text=text, xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="top",
                yshift=-shift, showarrow=False, align="left",
                font=dict(size=t.font_size - 1, color="#444"))
    return note, shift + int(lines * 1.5 * t.font_size) + 16


def fit_annotations(layout: dict, t: Template) -> float:
    """Keep paper annotations inside their room; returns the height in px of the first row of
    subplot titles (0 without any).

    Subplot titles (centred above a panel) are wrapped to their panel's domain width, so that
    neighbours and a colour bar beside the last panel stay clear of them; headings (left-aligned,
    above a row) are wrapped to the canvas width. Notes under the plots are left alone: their
    figures size the bottom margin for their lines."""
    width = layout.get("width") or t.width
    margin = layout.get("margin", {})
    plot_w = width - margin.get("l", 80) - margin.get("r", 80)
    panels = []  # (x0, x1, top of the y domain) of every subplot, in paper fractions
    for k, v in layout.items():
        if k.startswith("xaxis") and isinstance(v, dict) and "domain" in v:
            y = layout.get(axis_key(v.get("anchor") or "y"), {})
            panels.append((*v["domain"], (y.get("domain") or (0, 1))[1]))
    first_row, top_y = 0.0, None
    for ann in layout.get("annotations", ()):
        if ann.get("xref") != "paper" or ann.get("yref") != "paper" or ann.get("showarrow"):
            continue
        text = ann.get("text") or ""
        size = (ann.get("font") or {}).get("size") or t.font_size
        if ann.get("xanchor") == "center" and ann.get("yanchor") == "bottom":
            x, y = float(ann.get("x", 0.5)), float(ann.get("y", 0))
            row = [(lo, hi) for lo, hi, top in panels if abs(top - y) < 2e-3]
            if not any(abs((lo + hi) / 2 - x) < 1e-3 for lo, hi in row):
                continue
            # room: half the way to each neighbour's centre in the row (its title takes the
            # other half), up to the paper's right edge (a colour bar may follow) and into the
            # left margin (minus a few pixels)
            centres = [(lo + hi) / 2 for lo, hi in row]
            half = min([(x - c) / 2 for c in centres if c < x - 1e-3]
                       + [(c - x) / 2 for c in centres if c > x + 1e-3]
                       + [x + (margin.get("l", 80) - 12) / plot_w, 1.0 - x])
            room = 2 * half * plot_w
            ann["text"] = text = rewrap_lines(text, size, 0.9 * room)
            if top_y is None or y > top_y + 1e-6:
                top_y, first_row = y, lines_px(text, size)
            elif abs(y - top_y) <= 1e-6:
                first_row = max(first_row, lines_px(text, size))
        elif ann.get("xanchor") == "left" and ann.get("yanchor") == "bottom":
            left = margin.get("l", 80) + float(ann.get("x", 0)) * plot_w
            # plotly may widen the left margin for tick labels: keep 8 % and a few px spare
            ann["text"] = rewrap_lines(text, size, 0.92 * (width - left) - 16)
    return first_row


def top_title(layout: dict, template: str | Template, *, below: int = 1, gap: int = 10) -> None:
    """Pin a (multi-line) title to the top of the figure and size the top margin for it plus
    `below` lines of subplot titles (more when the first row's titles take more), so titles
    never run into each other. Subtitle lines written as "<br><sup>...</sup>" are set in the
    template's body font size. Lines too wide for the canvas are wrapped, the figure growing by
    the lines added (the plots keep their size), and subplot titles and headings are wrapped to
    their room (`fit_annotations`)."""
    import re

    t = get_template(template) if isinstance(template, str) else template
    first_row = fit_annotations(layout, t)
    if "title" not in layout:
        return
    span = f"<br><span style='font-size:{t.font_size}px'>"
    text = re.sub(r"<br><sup>(.*?)</sup>", lambda m: span + m.group(1) + "</span>",
                  layout["title"].get("text") or "")
    width = layout.get("width") or t.width
    before = text.count("<br>")
    text = rewrap_lines(text, t.title_size, width * 0.98 - 24)
    layout["title"]["text"] = text
    sub_lines = text.count("<br>")
    height = (layout.get("height") or t.height) + int((sub_lines - before) * t.title_size * 1.3)
    layout["height"] = height
    # plotly places the middle of a multi-line title's FIRST line at y, whatever yanchor says
    layout["title"].update(yref="container", y=1 - (gap + 0.7 * t.title_size) / height,
                           yanchor="top")
    rows = max(below * t.font_size * 1.4, first_row + 0.4 * t.font_size if first_row else 0)
    top = gap + (1 + sub_lines) * t.title_size * 1.3 + rows
    layout.setdefault("margin", {})["t"] = int(top + 14)


def title_slots(titles: list[str]) -> list[str]:
    """Placeholder subplot titles ("#0", "#1", ...) for `subplots_layout`, so its cache is hit
    when only the texts change (a new query); put the texts in with `set_titles`."""
    return [f"#{i}" for i in range(len(titles))]


def set_titles(layout: dict, titles: list[str]) -> None:
    """Replace the placeholders of `title_slots` by the real subplot titles."""
    for ann in layout.get("annotations", ()):
        text = ann.get("text", "")
        if text.startswith("#") and text[1:].isdigit() and int(text[1:]) < len(titles):
            ann["text"] = titles[int(text[1:])]


def heads_per_row(nH: int, template: str = "default") -> int:
    """How many heads' panels share a row: all of them up to 8, else rows of 8 (or of 6 when
    that divides them and 8 does not): 24 heads in 3 rows of 8, 12 in 2 rows of 6. In a
    phone's column ("narrow") at most 4, so that a head's panel stays readable."""
    if template == "narrow":
        return min(nH, 4)
    if nH <= 8:
        return nH
    return 6 if nH % 8 and not nH % 6 else 8
