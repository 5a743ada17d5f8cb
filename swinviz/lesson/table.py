"""The lesson's tables (the stages, what V2 changed): a Plotly table in the lesson's look, its
Chinese cells wrapped (Plotly wraps a table's cells at plain spaces only) and, in the page, the
picture as tall as the table needs."""

from __future__ import annotations

import re

from .canvas import Ctx
from .text import CJK, wrap
from .theme import LINE_HEIGHT, MIN_PX, PAGE_FONT_SCALE

TABLE_PAD_PX = 12  # a table cell's room left and right of its text (Plotly's pad, and some)


def _text_room(c: Ctx, columns: int) -> tuple[float, float]:
    """(font size, px a cell's text may take): measured at the picture's width (`c.box`, page
    px on the page, where the fonts are scaled by PAGE_FONT_SCALE)."""
    return ((MIN_PX + 2) * (PAGE_FONT_SCALE if c.page else 1.0),
            c.box[0] / columns - 2 * TABLE_PAD_PX)


def _cells_wrapped(c: Ctx, columns: int):
    """A cell's text with <br> where Chinese must break: Plotly wraps a table's cells at plain
    spaces only, so a Chinese cell wider than its column ran over its neighbours (a phone's
    tour)."""
    size, room = _text_room(c, columns)

    def cell(text):
        if not isinstance(text, str) or not CJK.search(text):
            return text
        return "<br>".join("<br>".join(wrap(part, size, room, phrases=True))
                           for part in text.split("<br>"))
    return cell


TABLE_DOMAIN = 0.85  # the table's share of the picture's height (from the top, 0.05 below)
TABLE_SLACK = 0.8  # Plotly breaks lines sooner than the estimate (bold headers, its own
# measure): heights are estimated at this share of the cell's width, a row too many at worst
TABLE_HEIGHTS = (56, 52)  # the header's and a row's least height (px; Plotly grows them)


def _table_px(c: Ctx, header, rows) -> float:
    """The table's height as Plotly lays it out: each row as tall as its most wrapped cell
    (wrapped at spaces as Plotly does, `text.wrap` measuring), at least TABLE_HEIGHTS."""
    size, room = _text_room(c, len(header))
    room *= TABLE_SLACK

    def lines(text) -> int:
        return sum(max(1, len(wrap(re.sub("<[^>]+>", "", part), size, room, phrases=True)))
                   for part in str(text).split("<br>"))

    def row_px(values, least: int) -> float:
        return max(least, max(lines(v) for v in values) * size * LINE_HEIGHT + 16)
    return row_px(header, TABLE_HEIGHTS[0]) + sum(row_px(row, TABLE_HEIGHTS[1]) for row in rows)


def table(c: Ctx, layout: dict, header, rows, highlight: int | None = None) -> list:
    """A Plotly table of `header` and `rows` in the lesson's look, row `highlight` picked out."""
    t = c.theme
    fills = [[t.highlight if i == highlight else t.panel for i in range(len(rows))]] * len(header)
    layout["margin"] = dict(l=0, r=0, t=0, b=0)
    cell = _cells_wrapped(c, len(header))
    header = [cell(h) for h in header]
    rows = [[cell(v) for v in row] for row in rows]
    if c.page:  # the page's picture grows to hold the table (a phone's column wraps it a lot)
        layout["height"] = _table_px(c, header, rows) / TABLE_DOMAIN
    return [dict(type="table", domain=dict(x=[0, 1], y=[0.9 - TABLE_DOMAIN, 0.9]),
                 header=dict(values=[f"<b>{h}</b>" for h in header], height=TABLE_HEIGHTS[0],
                             font=dict(size=MIN_PX + 2, color=t.ink), fill=dict(color=t.bg),
                             line=dict(color=t.line), align="center"),
                 cells=dict(values=[list(col) for col in zip(*rows, strict=True)],
                            height=TABLE_HEIGHTS[1],
                            font=dict(size=MIN_PX + 2, color=t.ink), fill=dict(color=fills),
                            line=dict(color=t.line), align="center"))]
