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


def apply_template(fig: go.Figure, template: str = "default", *, title: str | None = None,
                   height: int | None = None) -> go.Figure:
    """Fonts, background, margins and title in the chosen template (in place; returns fig)."""
    t = get_template(template)
    fig.update_layout(
        template="plotly_white",
        font=dict(family="DejaVu Sans, Arial, sans-serif", size=t.font_size, color="#222"),
        title=dict(text=title, font=dict(size=t.title_size), x=0.01, xanchor="left")
        if title is not None else fig.layout.title,
        paper_bgcolor=t.paper,
        plot_bgcolor=t.plot,
        margin=dict(l=60, r=30, t=90 if title else 40, b=60),
        height=height or t.height,
        hoverlabel=dict(font_size=max(12, t.font_size - 2)),
        meta={"template": t.name},
    )
    fig.update_annotations(font_size=t.font_size)
    return fig


def png_data_uri(img: Image.Image | np.ndarray) -> str:
    """A PIL image or (H, W, 3) uint8 array as a compact PNG data URI (for go.Image(source=...))."""
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def image_trace(img: Image.Image | np.ndarray, *, name: str = "image",
                hover: bool = False) -> go.Image:
    """The image in pixel coordinates: pixel (y, x) covers [x, x+1) x [y, y+1), y downwards."""
    return go.Image(source=png_data_uri(img), x0=0, y0=0, dx=1, dy=1, name=name,
                    hoverinfo="skip" if not hover else None)


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


def rect_path(x0: float, y0: float, x1: float, y1: float) -> tuple[list, list]:
    """Closed rectangle outline as scatter coordinates (ends with None to chain several)."""
    return [x0, x1, x1, x0, x0, None], [y0, y0, y1, y1, y0, None]


def image_axes(fig: go.Figure, row: int | None = None, col: int | None = None, *,
               title_x: str = "x (pixels)", title_y: str = "y (pixels)") -> None:
    """Axes for an image panel: y grows downwards, equal aspect, no zero lines."""
    kw = {} if row is None else dict(row=row, col=col)
    fig.update_xaxes(title_text=title_x, showgrid=False, zeroline=False, constrain="domain", **kw)
    fig.update_yaxes(title_text=title_y, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x" if row is None else None, constrain="domain", **kw)


def heatmap_axes(fig: go.Figure, row: int | None = None, col: int | None = None, *,
                 title_x: str = "", title_y: str = "", square: bool = True) -> None:
    """Axes for a matrix: row 0 at the top, integer ticks, equal aspect when square."""
    kw = {} if row is None else dict(row=row, col=col)
    fig.update_xaxes(title_text=title_x, showgrid=False, zeroline=False, side="bottom", **kw)
    fig.update_yaxes(title_text=title_y, showgrid=False, zeroline=False, autorange="reversed",
                     **kw)
    if square and row is None:
        fig.update_yaxes(scaleanchor="x")


def annotate_kwargs(z: np.ndarray, fmt: str = "%{z}") -> dict:
    """texttemplate for heatmaps small enough to read their numbers (<= 12 x 12, or 9 x 9 index)."""
    h, w = np.asarray(z).shape[-2:]
    if max(h, w) <= ANNOTATE_MAX or (h, w) == (9, 9):
        return dict(texttemplate=fmt, textfont=dict(size=11))
    return {}


def block_name(block: int) -> str:
    """"block 0 (W-MSA)" / "block 1 (SW-MSA)"."""
    return f"block {block} ({'W-MSA' if block == 0 else 'SW-MSA'})"
