"""Checks on figure objects shared by the figure tests: does a table cut text, does a legend
list a line that nothing shows."""

import html
import re

import numpy as np


def table_room(fig, table):
    """(column widths in px, domain height in px) of a table trace, from the figure's layout."""
    from swinviz.figures._core import get_template

    lay = fig.layout
    width = lay.width or get_template(lay.meta["template"]).width
    plot_w = width - lay.margin.l - lay.margin.r
    plot_h = lay.height - lay.margin.t - lay.margin.b
    x0, x1 = table.domain.x or (0, 1)
    y0, y1 = table.domain.y or (0, 1)
    cw = list(table.columnwidth)
    return [c / sum(cw) * plot_w * (x1 - x0) for c in cw], plot_h * (y1 - y0)


def plain(text):
    """A cell's text without markup, its <br> as line breaks."""
    return html.unescape(re.sub(r"<[^>]+>", " ", text.replace("<br>", "\n")))


def assert_table_fits(fig, table):
    """Plotly breaks cell text only at spaces (inside 8 px of padding each side) and cuts what
    does not fit; a table taller than its domain hides its last rows. At ~0.6 em a character
    (bold 8 % more), every word must fit its column and every row the domain."""
    cols_px, room_px = table_room(fig, table)
    needed = 0.0
    parts = (([[v] for v in table.header.values], table.header),
             (list(table.cells.values), table.cells))
    for cols, part in parts:
        size = part.font.size
        for i in range(len(cols[0])):
            lines_max = 1
            for j, col in enumerate(cols):
                text = col[i]
                em = 0.6 * size * (1.08 if "<b>" in text else 1.0)
                lines = 0
                for line in plain(text).split("\n"):
                    lines += 1
                    used = 0.0
                    for w in line.split():
                        assert len(w) * em + 16 <= cols_px[j], (
                            f"{w!r} ({len(w)} chars at {size} px) is cut in a column of "
                            f"{cols_px[j]:.0f} px")
                        if used and used + (len(w) + 1) * em > cols_px[j] - 16:
                            lines += 1
                            used = len(w) * em
                        else:
                            used += (len(w) + (1 if used else 0)) * em
                lines_max = max(lines_max, lines)
            needed += max(part.height, lines_max * 1.3 * size + 16)
    assert room_px >= needed, f"the table needs {needed:.0f} px, its domain is {room_px:.0f} px"



def segments(trace):
    """The straight pieces of a lines trace, as a set of sorted rounded endpoint pairs."""
    xs = np.asarray(trace.x, dtype=float)
    ys = np.asarray(trace.y, dtype=float)
    out = set()
    for i in range(len(xs) - 1):
        a, b = (xs[i], ys[i]), (xs[i + 1], ys[i + 1])
        if not np.isnan([*a, *b]).any() and a != b:
            out.add(tuple(sorted((tuple(np.round(a, 3)), tuple(np.round(b, 3))))))
    return out


def legend_names(fig):
    """Names of the scatter traces the legend lists."""
    return [t.name for t in fig.data if t.type == "scatter" and t.showlegend is not False]


def hidden_legend_entries(fig):
    """Names of the legend's line entries (unfilled) whose every segment lies under a later, at
    least as wide line of the same panel: listed in the legend, but not to be seen. An entry
    that draws nothing and stands for another trace of its legend group (a swatch in another
    colour, as the windows figure's patch grid) is not one."""
    data = list(fig.data)
    hidden = []
    for i, t in enumerate(data):
        if (t.type != "scatter" or t.showlegend is False or t.mode != "lines"
                or t.fill not in (None, "none")):
            continue
        if not segments(t) and t.legendgroup and any(
                u is not t and u.type == "scatter" and u.legendgroup == t.legendgroup
                and segments(u) for u in data):
            continue
        over = set()
        for u in data[i + 1:]:
            if (u.type == "scatter" and u.mode == "lines" and (u.xaxis, u.yaxis) ==
                    (t.xaxis, t.yaxis) and (u.line.width or 2) >= (t.line.width or 2)):
                over |= segments(u)
        if segments(t) <= over:
            hidden.append(t.name)
    return hidden


def text_boxes(fig):
    """[(text, (x0, y0, x1, y1))]: the estimated box in px (y down from the top of the canvas)
    of the figure title and of every annotation placed in paper coordinates (subplot titles,
    headings, notes), each line measured by the figures' own estimate
    (`swinviz.figures._core.text_px`, <sup> lines at 70 %)."""
    from swinviz.figures._core import get_template, text_px

    lay = fig.layout
    t = get_template((lay.meta or {}).get("template", "default"))
    W, H = lay.width or t.width, lay.height or t.height
    m = lay.margin
    l_, r_, t_, b_ = (v if v is not None else d for v, d in ((m.l, 80), (m.r, 80), (m.t, 100),
                                                             (m.b, 80)))

    def size_of(text, size):
        lines = text.split("<br>")
        sizes = [0.7 * size if ln.startswith("<sup>") else
                 float(re.search(r"font-size:(\d+)px", ln).group(1))
                 if "font-size:" in ln else size for ln in lines]
        return (max(text_px(ln, s) for ln, s in zip(lines, sizes, strict=True)),
                sum(1.3 * s for s in sizes))

    out = []
    title = lay.title.text if lay.title else None
    if title:
        size = (lay.title.font.size if lay.title.font else None) or t.title_size
        w, h = size_of(title, size)
        x0 = (lay.title.x or 0) * W
        top = (1 - (lay.title.y if lay.title.y is not None else 1)) * H - 0.65 * size
        out.append(("title: " + title[:40], (x0, top, x0 + w, top + h)))
    for ann in lay.annotations:
        if ann.xref != "paper" or ann.yref != "paper" or ann.showarrow or not ann.text:
            continue
        size = (ann.font.size if ann.font else None) or t.font_size
        w, h = size_of(ann.text, size)
        x = l_ + (ann.x if ann.x is not None else 0.5) * (W - l_ - r_) + (ann.xshift or 0)
        y = t_ + (1 - (ann.y if ann.y is not None else 0.5)) * (H - t_ - b_) - (ann.yshift or 0)
        xa = {"left": 0.0, "right": 1.0}.get(ann.xanchor, 0.5)
        ya = {"top": 0.0, "bottom": 1.0}.get(ann.yanchor, 0.5)
        out.append((ann.text[:40], (x - xa * w, y - ya * h, x + (1 - xa) * w,
                                     y + (1 - ya) * h)))
    return out


def overlapping_text(fig, slack: float = 2.0):
    """Pairs of text boxes (`text_boxes`) that overlap by more than `slack` px both ways."""
    boxes = text_boxes(fig)
    clashes = []
    for i, (na, a) in enumerate(boxes):
        for nb, b in boxes[i + 1:]:
            dx = min(a[2], b[2]) - max(a[0], b[0])
            dy = min(a[3], b[3]) - max(a[1], b[1])
            if dx > slack and dy > slack:
                clashes.append((na, nb))
    return clashes
