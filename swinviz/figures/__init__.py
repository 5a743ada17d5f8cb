"""The figures, one module per kind, each drawn from an Exploration of any stage and block pair.

    figs = make_figures(exp, block=1, head=0, query=(50, 52), template="lecture")
    figs["attention"].show()

The kinds, their order, tabs and which depend on the query patch are listed once, in
`swinviz.figures.registry`; every kind's module `swinviz/figures/<kind>.py` (or package, like
`flow/`) exposes `figure(exp, sel) -> go.Figure`, built from named panel builders. What the kinds
share (palette, templates, layout, text measuring, geometry, images, labels, caches) lives in
`swinviz.figures._core`; a kind imports from there and never from another kind.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import plotly.graph_objects as go

from ..settings import MAX_QUERY_SET
from ._core import TEMPLATES, get_template
from ._core.narrow import narrow_figure
from ._core.template import CJK_FONT_FAMILY
from .registry import REGISTRY, FigureKind, get_kind, kinds, query_kinds, register, tabs

KINDS = kinds()
# Kinds that depend on the query patch (redrawn on a click without re-running the model).
QUERY_KINDS = query_kinds()


def default_query(H: int, W: int, window_size: int, shift_size: int) -> tuple[int, int]:
    """A token on a window border near the middle of an (H, W) grid: the last row and column of
    a window, so that with a shift the second block's window joins four of the first block's
    (none wrapped around the image) and the figures show SW-MSA crossing borders. Without a
    shift, or when the grid holds fewer than two windows a side, its middle token. (The corner,
    where the mask matters, is one click away.)"""
    M = window_size

    def one(n: int) -> int:
        k = n // (2 * M)
        return M * k - 1 if k >= 1 and shift_size > 0 else n // 2
    return one(H), one(W)


@dataclass(frozen=True)
class Selection:
    """What the viewer picked. `block` is the first (0, W-MSA) or second (1, SW-MSA) block of
    the explored pair; `head=None` means all heads side by side; `window=None` means the window
    that holds the query in the chosen block; `query` is (row, col) in the explored stage's token
    grid (None: `default_query`, a token on a window border near the middle); `added`: patches
    added to the query, a query set (the page's shift-click): the attention figure sums the
    set's attention on the image (the other panels and kinds stay the query's); `lang` the
    language the figure's words are in (one of the lesson's, `swinviz.lesson.i18n.languages`)."""

    block: int = 1
    head: int | None = 0
    window: int | None = None
    query: tuple[int, int] | None = None
    template: str = "default"
    k_pairs: int = 4
    lang: str = "en"
    added: tuple[tuple[int, int], ...] = ()

    def resolved(self, exp) -> Selection:
        """Fill in defaults and check ranges against the exploration (any stage's grid);
        ValueError when invalid."""
        H, W = exp.grid
        if self.block not in (0, 1):
            raise ValueError(f"block must be 0 (the pair's first block) or 1 (its second), "
                             f"got {self.block}")
        if self.head is not None and not 0 <= self.head < exp.num_heads:
            raise ValueError(f"head must be in 0..{exp.num_heads - 1}, got {self.head}")
        get_template(self.template)
        if self.lang != "en":
            from ..lesson.i18n import check_lang  # here: swinviz.lesson imports the figures

            check_lang(self.lang)
        query = self.query
        if query is None:
            query = default_query(H, W, exp.window_size, exp.shift_size)
        r, c = _patch("query", query, H, W)
        if len(self.added) >= MAX_QUERY_SET:
            raise ValueError(f"a query set holds at most {MAX_QUERY_SET} patches (the query and "
                             f"{MAX_QUERY_SET - 1} added), got {len(self.added) + 1}")
        added = tuple(q for q in dict.fromkeys(_patch("added", q, H, W)
                                               for q in self.added) if q != (r, c))
        M = exp.traces[self.block].window_size
        nW = -(-H // M) * -(-W // M)  # windows of the padded grid
        if self.window is not None and not 0 <= self.window < nW:
            raise ValueError(f"window must be in 0..{nW - 1}, got {self.window}")
        return replace(self, query=(r, c), added=added)


def _patch(what: str, query, H: int, W: int) -> tuple[int, int]:
    """A (row, col) of whole numbers on the H x W grid; ValueError with its sentence (`what`:
    "query", or "added" for a patch added to it)."""
    try:
        r, c = int(query[0]), int(query[1])
        if len(query) != 2:
            raise ValueError
    except (TypeError, ValueError, IndexError):
        name = "query" if what == "query" else f"each {what} patch"
        raise ValueError(f"{name} must be a (row, col) pair of whole numbers, "
                         f"got {query!r}") from None
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"{what} patch ({r}, {c}) is outside the {H}x{W} token grid")
    return r, c


def make_figure(kind: str, exp, **selection) -> go.Figure:
    """One figure of `kind` (see KINDS) for an Exploration and a selection (Selection's fields)."""
    k = get_kind(kind)
    sel = Selection(**selection).resolved(exp)
    fig = k.draw(exp, sel)
    if sel.template == "narrow":  # a phone's column: the panels stacked (`_core.narrow`)
        fig = narrow_figure(fig)
    if sel.lang != "en":  # the page and kaleido set its characters in a CJK font
        fig.layout.font.family = CJK_FONT_FAMILY
    if getattr(exp, "without", ()):  # a counterfactual model's figure says so to a reader
        fig.layout.meta = {**(fig.layout.meta or {}), "without": list(exp.without)}
    return fig


def make_figures(exp, kinds: tuple[str, ...] = KINDS, **selection) -> dict[str, go.Figure]:
    """All (or some) figures for one exploration, in the order asked (KINDS: deck order)."""
    return {kind: make_figure(kind, exp, **selection) for kind in kinds}


__all__ = ["KINDS", "QUERY_KINDS", "REGISTRY", "TEMPLATES", "FigureKind", "Selection",
           "default_query", "make_figure", "make_figures", "register", "tabs"]
