"""Figures of SPEC section 3, one module per kind, each drawn from an Exploration's trace.

    figs = make_figures(exp, block=1, head=0, query=(50, 52), template="lecture")
    figs["attention"].show()

Every module `swinviz/figures/<kind>.py` exposes `figure(exp, sel) -> go.Figure`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace

import plotly.graph_objects as go

from .style import TEMPLATES, get_template

KINDS = ("windows", "shift", "regions", "masks", "relpos", "bias", "attention", "flow", "cost",
         "shapes")
# Kinds that depend on the query patch (redrawn on a click without re-running the model).
QUERY_KINDS = ("attention", "flow")


@dataclass(frozen=True)
class Selection:
    """What the viewer picked. `head=None` means all heads side by side; `window=None` means the
    window that holds the query in the chosen block; `query` is (row, col) in original token
    coordinates (None: a default patch near the bottom-right corner, where the shift wraps)."""

    block: int = 1
    head: int | None = 0
    window: int | None = None
    query: tuple[int, int] | None = None
    template: str = "default"
    k_pairs: int = 4

    def resolved(self, exp) -> Selection:
        """Fill in defaults and check ranges against the exploration; ValueError when invalid."""
        H, W = exp.grid
        if self.block not in (0, 1):
            raise ValueError(f"block must be 0 or 1, got {self.block}")
        if self.head is not None and not 0 <= self.head < exp.num_heads:
            raise ValueError(f"head must be in 0..{exp.num_heads - 1}, got {self.head}")
        get_template(self.template)
        query = self.query
        if query is None:
            M, s = exp.window_size, exp.shift_size
            query = (H - 1 - (s // 2 if s else M // 2), W - 1 - (s // 2 if s else M // 2))
        r, c = int(query[0]), int(query[1])
        if not (0 <= r < H and 0 <= c < W):
            raise ValueError(f"query patch ({r}, {c}) is outside the {H}x{W} token grid")
        nW = exp.num_windows if self.block == 1 else (H // exp.traces[0].window_size) * (
            W // exp.traces[0].window_size)
        if self.window is not None and not 0 <= self.window < nW:
            raise ValueError(f"window must be in 0..{nW - 1}, got {self.window}")
        return replace(self, query=(r, c))


def make_figure(kind: str, exp, **selection) -> go.Figure:
    """One figure of `kind` (see KINDS) for an Exploration and a selection (Selection's fields)."""
    if kind not in KINDS:
        raise ValueError(f"unknown figure kind {kind!r}; choose from {', '.join(KINDS)}")
    sel = Selection(**selection).resolved(exp)
    module = importlib.import_module(f"{__name__}.{kind}")
    return module.figure(exp, sel)


def make_figures(exp, kinds: tuple[str, ...] = KINDS, **selection) -> dict[str, go.Figure]:
    """All (or some) figures for one exploration, in KINDS order."""
    return {kind: make_figure(kind, exp, **selection) for kind in kinds}


__all__ = ["KINDS", "QUERY_KINDS", "TEMPLATES", "Selection", "make_figure", "make_figures"]
