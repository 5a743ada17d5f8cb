"""Shared styling for every figure: palettes, the two templates, the image background and grid
lines. Figures call these helpers so a change of look happens in one place."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image

# Okabe-Ito: the colour-blind-safe qualitative palette, plus grey for a ninth region.
OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#999999",  # grey
)
REGION_COLORS = OKABE_ITO  # region id k is drawn in REGION_COLORS[k]
BLOCK_COLORS = ("#0072B2", "#D55E00")  # block 0 (W-MSA) blue, block 1 (SW-MSA) vermillion
QUERY_COLOR = "#F0E442"
SEQUENTIAL = "Viridis"  # probabilities, counts
DIVERGING = "RdBu_r"  # bias, scores, logits: always with zmid=0
MASK_SCALE = [[0.0, "#1b1b1b"], [1.0, "#f7f7f7"]]  # -100 dark, 0 light

ANNOTATE_MAX = 12  # grids up to 12x12 get their numbers written in the cells


@dataclass(frozen=True)
class Template:
    name: str
    font_size: int
    title_size: int
    line_width: float  # window / grid outlines
    paper: str
    plot: str
    width: int  # default pixel size on screen
    height: int


TEMPLATES = {
    "default": Template("default", 13, 17, 2.0, "white", "#fafafa", 900, 560),
    "lecture": Template("lecture", 20, 26, 4.0, "white", "white", 1200, 720),
}


def get_template(name: str) -> Template:
    """Look up a template by name; a clear ValueError for anything else."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ValueError(
            f"unknown template {name!r}; choose one of {', '.join(TEMPLATES)}"
        ) from None


def png_data_uri(img: Image.Image | np.ndarray) -> str:
    """A PIL image or (H, W, 3) uint8 array as a compact PNG data URI (for go.Image(source=...))."""
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def grid_lines(H: int, W: int, step: float, *, color: str = "rgba(255,255,255,0.35)",
               width: float = 0.5, offset: float = 0.0) -> go.Scatter:
    """Horizontal and vertical lines every `step` units over an H x W area, as one trace."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for r in np.arange(0, H + 1e-9, step):
        xs += [offset, W + offset, None]
        ys += [r + offset, r + offset, None]
    for c in np.arange(0, W + 1e-9, step):
        xs += [c + offset, c + offset, None]
        ys += [offset, H + offset, None]
    return go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=color, width=width),
                      hoverinfo="skip", showlegend=False)


def block_name(block: int, exp=None) -> str:
    """"block 0 (W-MSA)" / "block 1 (SW-MSA)": the pair's first / second block. With an
    exploration the number is the block's own inside its stage, as timm numbers them
    (2p and 2p + 1 for pair p): "block 5 (SW-MSA)"."""
    n = block if exp is None else 2 * int(getattr(exp, "pair", 0)) + block
    return f"block {n} ({'W-MSA' if block == 0 else 'SW-MSA'})"


def where(exp) -> str:
    """Which part of the model a figure shows: "stage 3, blocks 4 and 5"."""
    p = int(getattr(exp, "pair", 0))
    return f"stage {int(getattr(exp, 'stage', 1))}, blocks {2 * p} and {2 * p + 1}"


def one_window_text(H: int, W: int, M: int) -> str:
    """Why a block has one window and no shift (docs/concepts.md, fact 2), in one sentence."""
    return (f"one {M}×{M} window covers the whole {H}×{W} grid (min(H, W) ≤ M), so every token "
            f"already sees every other: there is nothing to shift and no mask is needed")


def padding_text(H: int, W: int, Hp: int, Wp: int, s: int) -> str:
    """The order the block uses when its grid does not split into whole windows."""
    roll = f", then rolls by ({-s}, {-s})" if s else ""
    return (f"{H}×{W} tokens do not split into whole windows: the block pads them with zeros to "
            f"{Hp}×{Wp} (bottom and right, hatched){roll}, cuts the windows, and crops the "
            f"padding off again")


def cells_outline(inside: np.ndarray, cell: float = 1.0) -> tuple[list, list]:
    """Outline of a set of grid cells (bool (H, W), cell (r, c) covers [c, c+1) x [r, r+1) times
    `cell`) as None-separated scatter coordinates: only the edges between inside and outside."""
    a = np.pad(np.asarray(inside, bool), 1)
    xs: list[float | None] = []
    ys: list[float | None] = []
    rr, cc = np.nonzero(a[1:, 1:-1] != a[:-1, 1:-1])  # horizontal edge at y = rr, x in [cc, cc+1)
    for r, c in zip(rr.tolist(), cc.tolist(), strict=True):
        xs += [c * cell, (c + 1) * cell, None]
        ys += [r * cell, r * cell, None]
    rr, cc = np.nonzero(a[1:-1, 1:] != a[1:-1, :-1])  # vertical edge at x = cc
    for r, c in zip(rr.tolist(), cc.tolist(), strict=True):
        xs += [c * cell, c * cell, None]
        ys += [r * cell, (r + 1) * cell, None]
    return xs, ys


# --- fast multi-panel figures and the region colour scale (appended for the figure modules) ----
# make_subplots plus validated updates cost ~20 ms a figure on a small CPU: its layout is cached
# per arguments and figures are assembled from plain dicts without re-validation.

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


def fast_figure(data: list, layout: dict) -> go.Figure:
    """A Figure from trace dicts and a layout dict, skipping plotly's (slow) validation."""
    return go.Figure(data=data, layout=layout, _validate=False)


def region_colorscale(n: int = 9) -> list:
    """Discrete colour scale: integer id k (0..n-1) in REGION_COLORS[k] (zmin=-0.5,
    zmax=n-0.5)."""
    scale = []
    for k in range(n):
        scale += [[k / n, REGION_COLORS[k]], [(k + 1) / n, REGION_COLORS[k]]]
    return scale


_SOURCE_CACHE: dict[tuple[int, int, int], tuple[object, str]] = {}


def image_source(img: Image.Image, roll: tuple[int, int] = (0, 0)) -> str:
    """`png_data_uri(img)` (optionally np.roll-ed by `roll` pixels over (y, x)), cached per image
    object: encoding a 224 px PNG costs ~15 ms and several figures draw the same image."""
    import weakref

    key = (id(img), int(roll[0]), int(roll[1]))
    hit = _SOURCE_CACHE.get(key)
    if hit is not None and hit[0]() is img:
        return hit[1]
    arr = np.asarray(img.convert("RGB"))
    if roll != (0, 0):
        arr = np.roll(arr, shift=(int(roll[0]), int(roll[1])), axis=(0, 1))
    uri = png_data_uri(arr)
    if len(_SOURCE_CACHE) >= 16:
        _SOURCE_CACHE.clear()
    _SOURCE_CACHE[key] = (weakref.ref(img), uri)
    return uri


_WHITE_TEMPLATE: list[str] = []


def style_layout(layout: dict, template: str = "default", *, title: str | None = None,
                 height: int | None = None) -> dict:
    """The template's look, on a layout dict before `fast_figure` (no plotly validation:
    ~0.2 ms instead of ~20 ms). Updates `layout` in place and returns it."""
    import json

    import plotly.io as pio

    t = get_template(template)
    if not _WHITE_TEMPLATE:
        white = pio.templates["plotly_white"].to_plotly_json()
        # tick labels are never hidden for overflowing the figure (the figures leave room for
        # them; tests/test_export_edges.py): Plotly's default ("hide past div") measures every
        # label of every axis on each redraw, a fifth of a click's redraw in the page
        for axis in ("xaxis", "yaxis"):
            white["layout"].setdefault(axis, {})["ticklabeloverflow"] = "allow"
        for traces in white["data"].values():  # the colour bars' own axes
            for trace in traces:
                if "colorbar" in trace:
                    trace["colorbar"]["ticklabeloverflow"] = "allow"
        _WHITE_TEMPLATE.append(json.dumps(white))
    layout.update(
        template=json.loads(_WHITE_TEMPLATE[0]),
        font=dict(family="DejaVu Sans, Arial, sans-serif", size=t.font_size, color="#222"),
        paper_bgcolor=t.paper,
        plot_bgcolor=t.plot,
        margin=dict(l=60, r=30, t=90 if title else 40, b=60),
        height=height or t.height,
        hoverlabel=dict(font_size=max(12, t.font_size - 2)),
        meta={"template": t.name},
    )
    if title is not None:
        layout["title"] = dict(text=title, font=dict(size=t.title_size), x=0.01, xanchor="left")
    for ann in layout.get("annotations", ()):
        ann.setdefault("font", {})["size"] = t.font_size
    return layout


def image_dict(source: str, xaxis: str = "x", yaxis: str = "y", name: str = "image") -> dict:
    """An image trace dict in pixel coordinates: pixel (y, x) covers [x, x+1) x [y, y+1), so its
    centre (what go.Image's x0 / y0 place) is at (x + 0.5, y + 0.5)."""
    return dict(type="image", source=source, x0=0.5, y0=0.5, dx=1, dy=1, name=name,
                hoverinfo="skip", xaxis=xaxis, yaxis=yaxis)


def rgba(hex_color: str, alpha: float) -> str:
    """"#E69F00", 0.4 -> "rgba(230,159,0,0.4)"."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def footnote(text: str, template: str, *, lines: int = 1, below: float = 4.5) -> tuple[dict, int]:
    """A grey note under the plots, clear of the x-axis titles: (annotation dict, the bottom
    margin in pixels it needs). `below` is the gap under the lowest plot, in font sizes."""
    t = get_template(template)
    shift = int(below * t.font_size)
    note = dict(text=text, xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="top",
                yshift=-shift, showarrow=False, align="left",
                font=dict(size=t.font_size - 1, color="#444"))
    return note, shift + int(lines * 1.5 * t.font_size) + 16


def cached(obj, key, make):
    """`make()` memoised on `obj` (an Exploration) under `key`, so a click that redraws a figure
    does not re-encode the same image or rebuild the same geometry."""
    store = obj.__dict__.setdefault("_figure_cache", {})
    if key not in store:
        store[key] = make()
    return store[key]


def cached_latest(obj, key, arg, make):
    """`make()` memoised on `obj` for the latest `arg` only (say a query token): the figures of
    one click share it, and the store holds one entry per key however many clicks follow."""
    store = obj.__dict__.setdefault("_figure_cache", {})
    hit = store.get(key)
    if hit is None or hit[0] != arg:
        hit = store[key] = (arg, make())
    return hit[1]


_NARROW = frozenset("fijlrt .,:;()[]'\"-/|·ᵀ!")
_WIDE = frozenset("mwMW%×−≤≥→←=+≈")


def text_px(text: str, size: float) -> float:
    """Estimated width in pixels of one line of (HTML-marked) text set in DejaVu Sans at `size`
    px: per character its rough advance (DejaVu's lower case is ~0.6 em, capitals ~0.7, a few
    symbols and m / w ~0.85); bold text counts 8% wider. Tags take no room."""
    import html
    import re

    bold = "<b>" in text
    plain = html.unescape(re.sub(r"<[^>]+>", "", text))
    em = sum(0.36 if ch in _NARROW else 0.86 if ch in _WIDE else 0.72 if ch.isupper()
             else 0.64 if ch.isdigit() else 0.62 for ch in plain)
    return em * size * (1.08 if bold else 1.0)


def wrap_px(text: str, size: float, max_px: float) -> str:
    """`text` (one line, HTML-marked) broken at spaces into lines of at most `max_px` pixels
    (estimated by `text_px`), joined by "<br>"; a single word longer than that stays whole."""
    words = text.split(" ")
    lines: list[str] = []
    cur: list[str] = []
    for w in words:
        if cur and text_px(" ".join([*cur, w]), size) > max_px:
            lines.append(" ".join(cur))
            cur = []
        cur.append(w)
    if cur:
        lines.append(" ".join(cur))
    return "<br>".join(lines)


def _rewrap_lines(text: str, size: float, max_px: float) -> str:
    """Each "<br>"-separated line of `text` wrapped to `max_px`: plain lines at `size`,
    "<sup>...</sup>" lines (plotly sets them at 70 %) and "<span style='font-size:Npx'>...</span>"
    lines at their own size, the pieces wrapped in the same tag again."""
    import re

    out = []
    for line in text.split("<br>"):
        m = re.fullmatch(r"(<sup>|<span style='font-size:(\d+)px'>)(.*)(</sup>|</span>)", line)
        if m:
            s = 0.7 * size if m.group(1) == "<sup>" else float(m.group(2))
            out += [m.group(1) + piece + m.group(4)
                    for piece in wrap_px(m.group(3), s, max_px).split("<br>")]
        else:
            out += wrap_px(line, size, max_px).split("<br>")
    return "<br>".join(out)


def _lines_px(text: str, size: float) -> float:
    """Height in px of a multi-line annotation: 1.3 em a line, <sup> lines at 70 %."""
    return sum(1.3 * size * (0.7 if line.startswith("<sup>") else 1.0)
               for line in text.split("<br>"))


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
            ann["text"] = text = _rewrap_lines(text, size, 0.9 * room)
            if top_y is None or y > top_y + 1e-6:
                top_y, first_row = y, _lines_px(text, size)
            elif abs(y - top_y) <= 1e-6:
                first_row = max(first_row, _lines_px(text, size))
        elif ann.get("xanchor") == "left" and ann.get("yanchor") == "bottom":
            left = margin.get("l", 80) + float(ann.get("x", 0)) * plot_w
            # plotly may widen the left margin for tick labels: keep 8 % and a few px spare
            ann["text"] = _rewrap_lines(text, size, 0.92 * (width - left) - 16)
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
    text = _rewrap_lines(text, t.title_size, width * 0.98 - 24)
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


# --- padding: the zero tokens a block adds to fill its last windows -----------------------------
PAD_FILL = "#e4e4e4"  # the padding cells' ground, drawn hatched
PAD_HATCH = "#8a8a8a"
OUTSIDE_FILL = "#cfcfcf"  # inside the token grid but beyond the image (an odd side's merge)


def pad_cells(H: int, W: int, Hp: int, Wp: int) -> np.ndarray:
    """Bool (Hp, Wp): True on the padding tokens (rows >= H or columns >= W)."""
    rr, cc = np.indices((Hp, Wp))
    return (rr >= H) | (cc >= W)


def canvas(exp, Hp: int, Wp: int, roll: int = 0) -> str:
    """The image on the (Hp, Wp) padded token grid at the stage's patch size, as a PNG data URI,
    np.roll-ed by `roll` tokens up and left (the block's roll of the padded map).

    Padding tokens (beyond the stage's H x W grid) are hatched grey; pixels of real tokens beyond
    the image (a merge that padded an odd side) plain grey. Without either it is the image itself
    (`image_source`, shared cache)."""
    H, W = exp.grid
    p = exp.patch_size
    w_img, h_img = exp.image.size
    if (Hp * p, Wp * p) == (h_img, w_img):
        return image_source(exp.image, roll=(-roll * p, -roll * p))

    def make():
        arr = np.empty((Hp * p, Wp * p, 3), np.uint8)
        arr[:] = np.array([int(OUTSIDE_FILL[i:i + 2], 16) for i in (1, 3, 5)], np.uint8)
        img = np.asarray(exp.image.convert("RGB"))
        hh, ww = min(h_img, Hp * p), min(w_img, Wp * p)
        arr[:hh, :ww] = img[:hh, :ww]
        pad = np.kron(pad_cells(H, W, Hp, Wp), np.ones((p, p), bool))
        yy, xx = np.indices(pad.shape)
        period = max(6, (Hp * p) // 40)
        stripe = ((yy + xx) % period) < max(2, period // 3)
        for color, where_ in ((PAD_FILL, pad & ~stripe), (PAD_HATCH, pad & stripe)):
            arr[where_] = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
        if roll:
            arr = np.roll(arr, (-roll * p, -roll * p), axis=(0, 1))
        return png_data_uri(arr)
    return cached(exp, ("canvas", Hp, Wp, p, roll), make)


def pad_overlay(pad: np.ndarray, *, x0: float, dx: float, xaxis: str, yaxis: str,
                name: str = "zero padding", showlegend: bool = False,
                opacity: float = 0.3, hover: str | None = None) -> dict:
    """A heatmap over the padding cells only (NaN elsewhere): a grey veil with its own hover,
    named "zero padding". `pad` (rows, cols) bool; cell (r, c) centred at (x0 + c·dx,
    x0 + r·dx)."""
    z = np.where(pad, 1.0, np.nan).astype(np.float32)
    rc = np.stack(np.indices(pad.shape), axis=-1).astype(np.int16)
    return dict(type="heatmap", z=z, x0=x0, dx=dx, y0=x0, dy=dx, zmin=0, zmax=1,
                colorscale=[[0, "#555555"], [1, "#555555"]], opacity=opacity, customdata=rc,
                showscale=False, name=name, showlegend=showlegend, xaxis=xaxis, yaxis=yaxis,
                hovertemplate=hover or "zero padding (%{customdata[0]}, %{customdata[1]}): a "
                                       "token of zeros the block adds to fill its last windows"
                                       "<extra></extra>")


def wrap_text(text: str, width: int) -> str:
    """Break a line of (HTML-marked) text into lines of about `width` visible characters, joined
    by "<br>"; tags are kept whole and count as zero width."""
    import re

    words = text.split(" ")
    lines: list[str] = []
    cur: list[str] = []
    n = 0
    for w in words:
        k = len(re.sub(r"<[^>]+>", "", w))
        if cur and n + 1 + k > width:
            lines.append(" ".join(cur))
            cur, n = [], 0
        cur.append(w)
        n += k + (1 if n else 0)
    if cur:
        lines.append(" ".join(cur))
    return "<br>".join(lines)


def sup_lines(text: str, template: str | Template) -> str:
    """A note for a figure title: wrapped to the template's width, each line as
    "<br><sup>...</sup>" (what `top_title` sets in the body font). Wrapped by the same pixel
    measure and room as `top_title`, so that it does not wrap the lines a second time."""
    t = get_template(template) if isinstance(template, str) else template
    lines = wrap_px(text, t.font_size, t.width * 0.98 - 24).split("<br>")
    return "".join(f"<br><sup>{line}</sup>" for line in lines)


def title_height(title: str, template: str | Template) -> int:
    """Pixels the title's lines after the first take (to grow a figure by, so the plots keep
    their size when a note is added to the title)."""
    t = get_template(template) if isinstance(template, str) else template
    return int(title.count("<br>") * t.title_size * 1.3)


_ARCH_LABELS = {"swin_tiny_patch4_window7_224": "Swin-T", "swin_small_patch4_window7_224": "Swin-S",
                "swin_base_patch4_window7_224": "Swin-B",
                "swin_base_patch4_window12_384": "Swin-B 384"}


def arch_label(exp) -> str:
    """"Swin-T", or "Swin-T (img_size=200)" for a named architecture with changed settings;
    the config's own name otherwise."""
    cfg = getattr(exp, "config", None)
    if cfg is None:
        return "Swin"
    base, _, rest = cfg.name.partition("+")
    label = _ARCH_LABELS.get(base, base)
    return f"{label} ({rest.replace('+', ', ')})" if rest else label


def heads_per_row(nH: int) -> int:
    """How many heads' panels share a row: all of them up to 8, else rows of 8 (or of 6 when
    that divides them and 8 does not): 24 heads in 3 rows of 8, 12 in 2 rows of 6."""
    if nH <= 8:
        return nH
    return 6 if nH % 8 and not nH % 6 else 8
