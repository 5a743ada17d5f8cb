"""The shared parts every figure kind draws with (like plotly.express's `_core`): a kind imports
them from here and never from another kind.

    palette   colours: regions, blocks, the query, sequential / diverging scales, padding greys
    template  the "default" and "lecture" looks and `style_layout`
    layout    subplot placement, axes, titles, footnotes, `fast_figure`
    text      measuring and wrapping text in pixels
    table     column widths and heights of plotly tables
    geometry  tokens, windows and their outlines on the (padded) grid
    images    the image as PNG data URIs, the padded / rolled canvas, the padding veil
    labels    block and stage names, the architecture's short name, shared sentences
    cache     memos on an Exploration (per key, or for the latest query only)
    reach     who may attend to whom across blocks, weights ignored
"""

from __future__ import annotations

from .cache import cached, cached_latest
from .geometry import (
    cells_outline,
    coords,
    flatten_windows,
    grid_lines,
    line_width,
    outline_xy,
    pad_cells,
    padded_windows,
    patch_grid,
    regions_in_place,
    rolled_source,
    token_geometry,
    token_windows,
    window_pieces,
)
from .images import canvas, image_dict, image_source, pad_overlay, png_data_uri
from .labels import (
    arch_label,
    block_name,
    config_label,
    content_term,
    is_v2,
    offset_titles,
    one_window_text,
    padding_text,
    where,
)
from .layout import (
    axis_key,
    fast_figure,
    fit_annotations,
    footnote,
    heads_per_row,
    offset_axes,
    panel_axes,
    set_titles,
    signed,
    subplots_layout,
    title_slots,
    top_title,
)
from .palette import (
    BLOCK_COLORS,
    DIVERGING,
    HALO,
    MASK_SCALE,
    OKABE_ITO,
    OUTSIDE_FILL,
    PAD_FILL,
    PAD_HATCH,
    QUERY_COLOR,
    REGION_COLORS,
    SEQUENTIAL,
    region_colorscale,
    rgba,
)
from .table import break_names, fit_columns, keep_columns, table_px, word_px
from .template import ANNOTATE_MAX, TEMPLATES, Template, get_template, style_layout
from .text import si, sup_lines, text_px, title_height, wrap_px, wrap_text
from .words import recording, tr

__all__ = [
    "ANNOTATE_MAX", "BLOCK_COLORS", "DIVERGING", "HALO", "MASK_SCALE", "OKABE_ITO", "OUTSIDE_FILL",
    "PAD_FILL", "PAD_HATCH", "QUERY_COLOR", "REGION_COLORS", "SEQUENTIAL", "TEMPLATES",
    "arch_label", "axis_key", "block_name", "break_names", "content_term", "is_v2", "cached",
    "cached_latest",
    "canvas", "cells_outline",
    "config_label", "coords", "fast_figure", "fit_annotations", "fit_columns", "flatten_windows",
    "footnote", "get_template", "grid_lines", "heads_per_row", "image_dict", "image_source",
    "keep_columns",
    "line_width", "offset_axes", "offset_titles",
    "one_window_text", "outline_xy", "pad_cells", "pad_overlay", "padded_windows",
    "regions_in_place", "rolled_source",
    "padding_text", "panel_axes", "patch_grid", "png_data_uri", "region_colorscale", "rgba",
    "set_titles", "signed", "style_layout", "subplots_layout", "sup_lines", "table_px", "Template",
    "text_px", "title_height", "title_slots", "token_geometry", "token_windows", "top_title", "tr",
    "recording",
    "si", "where", "window_pieces", "word_px", "wrap_px", "wrap_text"
]
