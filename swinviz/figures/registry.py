"""The one list of figure kinds.

Every kind is registered here once: its module (`swinviz.figures.<module>`, which exposes
`figure(exp, sel) -> go.Figure`), its title, the tab it is shown under (kinds with the same tab
share it, in deck order), whether it depends on the query patch (redrawn on a click without
re-running the model) and its place in the deck (slides, export, tabs). `KINDS`, `QUERY_KINDS`
and `make_figure` read from it; adding a figure is one module and one `register` line.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class FigureKind:
    name: str  # "windows": the key used by make_figure, the app and the CLI
    module: str  # module under swinviz.figures that draws it
    title: str  # what the figure shows, in a few words
    tab: str  # the tab (or slide section) it belongs to
    query: bool  # depends on the query patch
    order: int  # position in the deck

    def draw(self, exp, sel):
        """`figure(exp, sel)` of the kind's module."""
        return importlib.import_module(f"{__package__}.{self.module}").figure(exp, sel)


REGISTRY: dict[str, FigureKind] = {}


def register(name: str, title: str, *, tab: str, order: int, query: bool = False,
             module: str | None = None) -> FigureKind:
    """Add a kind (module defaults to its name). A name or a deck position used twice is a
    ValueError: the list must stay one list."""
    if name in REGISTRY:
        raise ValueError(f"figure kind {name!r} is registered twice")
    if any(k.order == order for k in REGISTRY.values()):
        raise ValueError(f"deck position {order} is taken; give {name!r} another")
    kind = FigureKind(name, module or name, title, tab, query, order)
    REGISTRY[name] = kind
    return kind


register("windows", "Windows on the image", tab="Windows", order=10)
register("shift", "Cyclic shift", tab="Cyclic shift", order=20)
register("regions", "Region ids", tab="Cyclic shift", order=30)
register("masks", "Attention masks", tab="Masks", order=40)
register("relpos", "Relative position index", tab="Relative position", order=50)
register("bias", "Relative position bias", tab="Relative position", order=60)
register("attention", "Attention of the query patch", tab="Attention", order=70, query=True)
register("flow", "Information flow and rollout", tab="Information flow", order=80, query=True)
register("cost", "Parameters and FLOPs", tab="Cost", order=90)
register("shapes", "Tensor shapes", tab="Shapes", order=100)
register("prediction", "Prediction (top-5 classes)", tab="Prediction", order=110)


def kinds() -> tuple[str, ...]:
    """Every kind's name in deck order."""
    return tuple(k.name for k in sorted(REGISTRY.values(), key=lambda k: k.order))


def query_kinds() -> tuple[str, ...]:
    """The kinds that depend on the query patch, in deck order."""
    return tuple(n for n in kinds() if REGISTRY[n].query)


def tabs() -> list[tuple[str, tuple[str, ...]]]:
    """[(tab, its kinds in deck order)] in deck order (a tab sits where its first kind does)."""
    out: dict[str, list[str]] = {}
    for n in kinds():
        out.setdefault(REGISTRY[n].tab, []).append(n)
    return [(tab, tuple(ns)) for tab, ns in out.items()]


def get_kind(name: str) -> FigureKind:
    """The registered kind; a ValueError naming the choices for anything else."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown figure kind {name!r}; choose from {', '.join(kinds())}"
        ) from None
