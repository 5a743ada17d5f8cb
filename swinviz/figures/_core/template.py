"""The looks of a figure ("default" on screen, "lecture" for slides: larger fonts, thicker
lines; "narrow" for a phone: one column of panels) and `style_layout`, which puts a
template's look on a layout dict."""

from __future__ import annotations

from dataclasses import dataclass

FONT_FAMILY = "DejaVu Sans, Arial, sans-serif"
# a figure in Chinese: its characters from Noto Sans CJK (fonts-noto-cjk), the rest unchanged
CJK_FONT_FAMILY = "DejaVu Sans, Noto Sans CJK SC, Arial, sans-serif"
ANNOTATE_MAX = 12  # grids up to 12x12 get their numbers written in the cells


@dataclass(frozen=True)
class Template:
    """A figure's look: fonts (px), outline width, background colours, default size (px)."""

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
    # a phone's column (320 px of a 360 to 430 px wide screen): the panels are stacked one
    # above the other by `make_figure` (`_core.narrow.restack`), texts wrapped to this width
    "narrow": Template("narrow", 12, 15, 1.5, "white", "#fafafa", 320, 480),
}


def get_template(name: str) -> Template:
    """Look up a template by name; a clear ValueError for anything else."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ValueError(
            f"unknown template {name!r}; choose one of {', '.join(TEMPLATES)}"
        ) from None


_WHITE_TEMPLATE: list[str] = []


def style_layout(layout: dict, template: str = "default", *, title: str | None = None,
                 height: int | None = None) -> dict:
    """The template's look (fonts, background, margins, Plotly's white theme) on a layout dict
    before `fast_figure`, which skips plotly's validation. Updates `layout` in place and returns
    it; `layout["meta"]["template"]` names the template (other meta a kind set is kept)."""
    import json

    import plotly.io as pio

    t = get_template(template)
    if not _WHITE_TEMPLATE:
        white = pio.templates["plotly_white"].to_plotly_json()
        # tick labels are never hidden for overflowing the figure (the figures leave room for
        # them; tests/test_export_edges.py)
        for axis in ("xaxis", "yaxis"):
            white["layout"].setdefault(axis, {})["ticklabeloverflow"] = "allow"
        for traces in white["data"].values():  # the colour bars' own axes
            for trace in traces:
                if "colorbar" in trace:
                    trace["colorbar"]["ticklabeloverflow"] = "allow"
        _WHITE_TEMPLATE.append(json.dumps(white))
    layout.update(
        template=json.loads(_WHITE_TEMPLATE[0]),
        font=dict(family=FONT_FAMILY, size=t.font_size, color="#222"),
        paper_bgcolor=t.paper,
        plot_bgcolor=t.plot,
        margin=dict(l=60, r=30, t=90 if title else 40, b=60),
        height=height or t.height,
        hoverlabel=dict(font_size=max(12, t.font_size - 2)),
        meta={**(layout.get("meta") or {}), "template": t.name},  # keeps what a kind set
    )
    if title is not None:
        layout["title"] = dict(text=title, font=dict(size=t.title_size), x=0.01, xanchor="left")
    for ann in layout.get("annotations", ()):
        ann.setdefault("font", {})["size"] = t.font_size
    return layout
