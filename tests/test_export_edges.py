"""Slide-ready exports: every figure kind, in both templates, over a spread of settings, fits its
canvas. Nothing (title, legend, table, note, colour bar, marker) reaches the PNG's edge, and the
texts and colour bars plotly lays out do not run into each other.

One browser session (one `Exporter`) writes every file of the module: PNG and SVG of the same
layout. The PNG is checked for ink in a thin border strip; the SVG gives the boxes plotly.js
measured for every annotation (subplot titles, headings, notes), colour bar and legend, which
must not overlap each other or the figure title, nor leave the canvas.
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFont

from swinviz import export
from swinviz.figures import KINDS, make_figures
from swinviz.figures._core import get_template

needs_browser = pytest.mark.requires_browser(  # skips, or fails under CI=true (conftest.py)
    export.find_browser(), what="Chrome/Chromium for static export (kaleido)"
)

WIDTH = 1600  # slide resolution, as the CLI exports
BORDER = 4  # px of the PNG's border that must stay the paper colour
IMAGE = "assets/cat.jpg"

# (name, model settings, stage, selection, templates): every setting the app offers is covered
# at least once (input 224 / 200 padded / 384 with window 12 / the seed preset, shift M//2 and 0,
# blocks 0 and 1, head 0 and all heads (None), queries at (0, 0), the far corner and the centre,
# stages 1 to 4), not the whole product.
CASES = [
    ("t224-s1-corner", dict(img_size=224), 1,
     dict(block=1, head=0, query=(0, 0)), ("default", "lecture")),
    ("t200-s1-far", dict(img_size=200), 1,  # 50x50 tokens, padded to 56x56 for M = 7
     dict(block=1, head=None, query=(49, 49)), ("default", "lecture")),
    ("seed", dict(img_size=24, window_size=3, shift_size=1), 1,  # cli.py --preset 6x6
     dict(block=1, head=0, query=(5, 5)), ("default", "lecture")),
    ("t224-s2-centre", dict(img_size=224), 2,
     dict(block=1, head=None, query=(14, 14)), ("default",)),
    ("t224-s3-centre", dict(img_size=224), 3,
     dict(block=1, head=0, query=(7, 7)), ("lecture",)),
    ("t224-s4", dict(img_size=224), 4,  # one 7x7 window, no shift
     dict(block=0, head=None, query=(3, 3)), ("default", "lecture")),
    ("w12-384-noshift", dict(img_size=384, window_size=12, shift_size=0), 1,
     dict(block=0, head=0, query=(95, 95)), ("default", "lecture")),
]
NAMES = [f"{case}-{tpl}-{kind}" for case, _, _, _, tpls in CASES for tpl in tpls
         for kind in KINDS]


@pytest.fixture(scope="module")
def figures(swin):
    """{name: figure} for every case, template and kind (random weights, no network)."""
    out = {}
    for case, settings, stage, sel, tpls in CASES:
        exp = swin(weights="random", device="cpu", **settings).explore(IMAGE, stage=stage)
        for tpl in tpls:
            for kind, fig in make_figures(exp, template=tpl, **sel).items():
                out[f"{case}-{tpl}-{kind}"] = fig
    assert sorted(out) == sorted(NAMES)
    return out


@pytest.fixture(scope="module")
def exported(figures, tmp_path_factory) -> Path:
    """Every figure as PNG and SVG, written by one browser session."""
    out = tmp_path_factory.mktemp("edges")
    with export.Exporter() as ex:
        ex.export(figures, out, ("png", "svg"), width=WIDTH)
    return out


def paper_rgb(fig) -> np.ndarray:
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    colour = get_template(meta.get("template", "default")).paper
    from PIL import ImageColor

    return np.array(ImageColor.getrgb(colour)[:3])


@needs_browser
@pytest.mark.parametrize("name", NAMES)
def test_no_ink_touches_the_edge(name, figures, exported):
    with Image.open(exported / f"{name}.png") as im:
        a = np.asarray(im.convert("RGB"), dtype=np.int16)
    bg = paper_rgb(figures[name])
    np.testing.assert_array_equal(a[0, 0], bg, err_msg=f"{name}: the corner is not the paper")
    ink = np.abs(a - bg).max(-1) > 2
    h, w = ink.shape
    sides = {"top": ink[:BORDER], "bottom": ink[h - BORDER:], "left": ink[:, :BORDER],
             "right": ink[:, w - BORDER:]}
    touched = {side: int(strip.sum()) for side, strip in sides.items() if strip.any()}
    assert not touched, f"{name}: ink within {BORDER} px of the {touched} edge(s) (pixels)"


# ----------------------------------------------------------------- boxes from the SVG layout

_TRANSLATE = re.compile(r"translate\(\s*([-\d.e]+)[ ,]+([-\d.e]+)\s*\)")
_FONT = re.compile(r"font-size:\s*([\d.]+)px")
_DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
_DEJAVU_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _offset(el) -> tuple[float, float]:
    m = _TRANSLATE.search(el.get("transform", ""))
    return (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)


def _cls(el) -> list[str]:
    return el.get("class", "").split()


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in px of `text` set in DejaVu Sans at `size` px (what the figures ask for); 0.62 em
    a character (wider than DejaVu's average) where the font file is not installed."""
    path = _DEJAVU_BOLD if bold else _DEJAVU
    if Path(path).exists():
        return ImageFont.truetype(path, max(1, round(size))).getlength(text)
    return (0.68 if bold else 0.62) * size * len(text)


def _line_extent(el, size: float, bold: bool = False) -> tuple[float, float]:
    """(width, largest font size) of an SVG text line: nested tspans inherit size and weight."""
    style = el.get("style", "") or ""
    m = _FONT.search(style)
    size = float(m.group(1)) if m else size
    bold = bold or "bold" in style
    width, big = (_text_width(el.text, size, bold), size) if el.text else (0.0, 0.0)
    for child in el:
        w, b = _line_extent(child, size, bold)
        width, big = width + w, max(big, b)
        if child.tail:
            width, big = width + _text_width(child.tail, size, bold), max(big, size)
    return width, big


def _title_box(svg_root) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) of the figure title: its lines measured with the font."""
    for el in svg_root.iter():
        if "gtitle" in _cls(el) and el.tag.endswith("text"):
            size = float(_FONT.search(el.get("style", "")).group(1))
            x, y = float(el.get("x")), float(el.get("y"))
            lines = [t for t in el if t.tag.endswith("tspan") and "line" in _cls(t)] or [el]
            extents = [_line_extent(line, size) for line in lines]
            width = max(w for w, _ in extents)
            sizes = [b or size for _, b in extents]
            # first baseline 0.7 em below y (dy="0.7em"), then 1.3 em of the title's size a
            # line; glyphs reach 0.8 em above a baseline and 0.25 em below it
            base = y + 0.7 * size
            return (x, base - 0.8 * sizes[0], x + width,
                    base + 1.3 * size * (len(sizes) - 1) + 0.25 * sizes[-1])
    return None


def layout_boxes(svg_path: Path, fig) -> list[tuple[str, tuple[float, float, float, float]]]:
    """[(what, (x0, y0, x1, y1))] in CSS px: the title, every annotation placed on the paper
    (subplot titles, headings, notes), every colour bar and the legend, as plotly.js laid
    them out (annotation and colour bar boxes are its own measured backgrounds)."""
    root = ET.parse(svg_path).getroot()
    parent = {c: p for p in root.iter() for c in p}

    def origin(el):
        x, y = 0.0, 0.0
        while el is not None:
            dx, dy = _offset(el)
            x, y, el = x + dx, y + dy, parent.get(el)
        return x, y

    def bg_box(group, rect_cls):
        rect = next(r for r in group.iter() if rect_cls in _cls(r) and r.tag.endswith("rect"))
        ox, oy = origin(rect)
        x, y = ox + float(rect.get("x", 0)), oy + float(rect.get("y", 0))
        return x, y, x + float(rect.get("width")), y + float(rect.get("height"))

    anns = fig.layout.annotations
    boxes = []
    title = _title_box(root)
    if title:
        boxes.append(("title", title))
    for el in root.iter():
        cls = _cls(el)
        if "annotation" in cls and el.get("data-index") is not None:
            a = anns[int(el.get("data-index"))]
            if a.xref == "paper" and a.yref == "paper":
                text = re.sub(r"<[^>]+>", " ", a.text or "").split()
                boxes.append((f"annotation {' '.join(text)[:50]!r}", bg_box(el, "bg")))
        elif "colorbar" in cls:
            boxes.append(("colour bar", bg_box(el, "cbbg")))
        elif "legend" in cls and el.tag.endswith("g"):
            boxes.append(("legend", bg_box(el, "bg")))
    return boxes


def _overlap(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0.5 and h > 0.5 else 0.0


@needs_browser
@pytest.mark.parametrize("name", NAMES)
def test_titles_notes_and_colour_bars_keep_apart(name, figures, exported):
    fig = figures[name]
    w, h = export.figure_size(fig)
    boxes = layout_boxes(exported / f"{name}.svg", fig)
    outside = [(what, tuple(round(v) for v in box)) for what, box in boxes
               if box[0] < 0 or box[1] < 0 or box[2] > w or box[3] > h]
    assert not outside, f"{name}: beyond the {w}x{h} canvas: {outside}"
    clashes = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
               if _overlap(a[1], b[1])]
    assert not clashes, f"{name}: these overlap: {clashes}"
