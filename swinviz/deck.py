"""A lecture deck from one exploration: numbered slides in the order a lecture goes, the same as
one PDF, and the cyclic shift as an animated GIF.

    paths = write_deck(exp, "deck", block=1, head=0, query=None, template="lecture")
    # deck/01-image.png, 02-windows.png, ..., deck/lecture.pdf, deck/cyclic-shift.gif

The slides are the image and its patches (drawn here), then the figures of
`swinviz.figures.KINDS` in LECTURE_ORDER (a kind the figures do not have is left out; a kind not
in LECTURE_ORDER comes last), all exported as PNG in one browser session. The PDF is the PNGs,
one page each (Pillow); the GIF is `swinviz.animation.shift_animation`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import plotly.graph_objects as go
from PIL import Image

# What a lecture shows, in its order: the image and its patches, the windows, the cyclic shift,
# the region ids, the masks, the relative position index, the bias, the attention, the flow,
# the cost, the shapes, and (when the figures have it) the prediction.
LECTURE_ORDER = ("image", "windows", "shift", "regions", "masks", "relpos", "bias", "attention",
                 "flow", "cost", "shapes", "prediction")
PDF_NAME, GIF_NAME = "lecture.pdf", "cyclic-shift.gif"
SLIDE_INCHES = 13.333  # PDF page width: a 16:9 slide


def slide_kinds(kinds: tuple[str, ...] | None = None) -> list[str]:
    """The slides' kinds in lecture order: "image", then the figure kinds (default
    swinviz.figures.KINDS) in LECTURE_ORDER, then any kind LECTURE_ORDER does not know."""
    if kinds is None:
        from .figures import KINDS as kinds
    known = [k for k in LECTURE_ORDER if k == "image" or k in kinds]
    return known + [k for k in kinds if k not in LECTURE_ORDER]


def slide_names(kinds: list[str]) -> list[str]:
    """["image", "windows"] -> ["01-image", "02-windows"]."""
    return [f"{i:02d}-{kind}" for i, kind in enumerate(kinds, start=1)]


def image_figure(exp, template: str = "lecture",
                 query: tuple[int, int] | None = None) -> go.Figure:
    """The first slide: the image the model saw with the stage's patch grid, the query patch
    (the figures' default when None) marked, the same token the later slides follow.

    One token of stage s is a patch_size x patch_size block of pixels (4 at stage 1; a merge
    doubles it), so the grid drawn is the token grid of the explored stage."""
    from .figures import default_query
    from .figures._core import (
        QUERY_COLOR,
        fast_figure,
        get_template,
        grid_lines,
        image_dict,
        image_source,
        panel_axes,
        style_layout,
        top_title,
    )

    tpl = get_template(template)
    H, W = exp.grid
    p = exp.patch_size
    h_px, w_px = exp.image.height, exp.image.width
    stage = getattr(exp, "stage", 1)
    dim = getattr(exp, "embed_dim", None)
    lw = 0.5 if max(H, W) > 32 else 1.0
    grid = grid_lines(H * p, W * p, p, color="rgba(255,255,255,0.55)", width=lw).to_plotly_json()
    r, c = query if query is not None else default_query(H, W, exp.window_size, exp.shift_size)
    mark = dict(type="scatter", x=[c * p, (c + 1) * p, (c + 1) * p, c * p, c * p],
                y=[r * p, r * p, (r + 1) * p, (r + 1) * p, r * p], mode="lines",
                line=dict(color=QUERY_COLOR, width=tpl.line_width), hoverinfo="skip",
                showlegend=False, name="one token")
    data = [image_dict(image_source(exp.image)), grid, mark]
    layout = dict(showlegend=False)
    panel_axes(layout, ("x", "y"), title_x="x (pixels)", title_y="y (pixels)")
    layout["xaxis"].update(range=[0, W * p], autorange=False, domain=[0.0, 0.62])
    layout["yaxis"].update(range=[H * p, 0], autorange=False)
    if stage == 1:
        made = ("Each 4×4×3 patch is flattened<br>and projected to "
                + (f"{dim} numbers:<br>one token." if dim else "a vector:<br>one token."))
    else:
        made = (f"Stage {stage} comes after {stage - 1} patch<br>merge{'s' if stage > 2 else ''}: "
                f"each token stands<br>for a {p}×{p}-pixel patch"
                + (f"<br>and holds {dim} numbers." if dim else "."))
    note = (f"{h_px}×{w_px} pixels, cut into<br>{p}×{p}-pixel patches:<br>"
            f"a {H}×{W} grid of tokens.<br><br>{made}<br><br>"
            f"Yellow square: token ({r}, {c}),<br>the query the next slides follow.")
    layout["annotations"] = [dict(text=note, xref="paper", yref="paper", x=0.67, y=0.95,
                                  xanchor="left", yanchor="top", align="left", showarrow=False,
                                  font=dict(size=tpl.font_size))]
    style_layout(layout, template, title="The image and its patches"
                 f"<br><sup>stage {stage}: the token grid the explored blocks work on</sup>")
    top_title(layout, tpl, below=0)
    return fast_figure(data, layout)


def slide_figures(exp, *, block: int = 1, head: int | None = 0,
                  query: tuple[int, int] | None = None, template: str = "lecture",
                  progress: Callable[[str], None] | None = None) -> dict[str, go.Figure]:
    """{"01-image": figure, "02-windows": figure, ...}: every slide's figure, in order."""
    from .figures import make_figure

    kinds = slide_kinds()
    figs = {}
    for name, kind in zip(slide_names(kinds), kinds, strict=True):
        figs[name] = (image_figure(exp, template, query) if kind == "image" else
                      make_figure(kind, exp, block=block, head=head, query=query,
                                  template=template))
        if progress:
            progress(f"{kind} built")
    return figs


def write_pdf(pngs: list[Path], path: str | Path, width: int | None = None) -> Path:
    """The PNGs as one PDF, one page each, in order (Pillow; pages SLIDE_INCHES wide)."""
    path = Path(path)
    pages = []
    for p in pngs:
        with Image.open(p) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "P"):
                rgba = im.convert("RGBA")
                flat = Image.new("RGB", rgba.size, "white")
                flat.paste(rgba, mask=rgba.getchannel("A"))
                pages.append(flat)
            else:
                pages.append(im.convert("RGB"))
    if not pages:
        raise ValueError("no slides to put in the PDF")
    dpi = (width or pages[0].width) / SLIDE_INCHES
    pages[0].save(path, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi,
                  quality=92, subsampling=0, title="Swin: shifted-window attention",
                  producer="swinviz")
    return path


def pdf_page_count(path: str | Path) -> int:
    """Pages of a PDF, read back with Pillow's PDF parser."""
    from PIL.PdfParser import PdfParser

    with open(path, "rb") as f:
        parser = PdfParser(f=f)
        try:
            return len(parser.pages)
        finally:
            parser.close()


def write_deck(exp, out_dir: str | Path, *, block: int = 1, head: int | None = 0,
               query: tuple[int, int] | None = None, template: str = "lecture",
               width: int = 1600, exporter=None,
               progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write the lecture deck of `exp` into out_dir; returns the paths: the numbered PNG
    slides in order, then the PDF, then the GIF.

    exporter: a `swinviz.export.Exporter` to reuse (its browser may already be running);
    None: one is started for this deck. progress(label) is called after each step.
    Raises swinviz.export.ExportError when the slides cannot be exported."""
    from . import export
    from .animation import save_gif, shift_animation

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figs = slide_figures(exp, block=block, head=head, query=query, template=template,
                         progress=progress)
    if exporter is None:
        pngs = export.export_figures(figs, out, ("png",), width=width, progress=progress)
    else:
        pngs = exporter.export(figs, out, ("png",), width=width, progress=progress)
    pdf = write_pdf(pngs, out / PDF_NAME, width)
    if progress:
        progress(PDF_NAME)
    gif = save_gif(shift_animation(exp), out / GIF_NAME)
    if progress:
        progress(GIF_NAME)
    return [*pngs, pdf, gif]


def deck_steps(kinds: tuple[str, ...] | None = None) -> int:
    """How many progress steps `write_deck` reports: each slide built and written, PDF, GIF."""
    return 2 * len(slide_kinds(kinds)) + 2


__all__ = ["LECTURE_ORDER", "deck_steps", "image_figure", "pdf_page_count", "slide_figures",
           "slide_kinds", "slide_names", "write_deck", "write_pdf"]

