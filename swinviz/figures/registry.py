"""The one list of figure kinds.

Every kind is registered here once: its module (`swinviz.figures.<module>`, which exposes
`figure(exp, sel) -> go.Figure`), its title, the tab it is shown under (kinds with the same tab
share it, in deck order), whether it depends on the query patch (redrawn on a click without
re-running the model) and its place in the deck (slides, export, tabs). `KINDS`, `QUERY_KINDS`
and `make_figure` read from it; adding a figure is one module and one `register` line.
What each tab explains (the app shows it above the tab's figures) is said once per tab, with
`describe_tab`.
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
TAB_TEXT: dict[str, str] = {}  # tab -> what it explains (markdown)
MORE_TEXT = "**More figures** drawn from the same model run."


def describe_tab(tab: str, text: str) -> None:
    """Say what a tab explains (shown above its figures); a tab described twice is a
    ValueError. A tab without a description gets MORE_TEXT."""
    if tab in TAB_TEXT:
        raise ValueError(f"tab {tab!r} is described twice")
    TAB_TEXT[tab] = text


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


# What each tab (and its part of the deck) explains: markdown, shown above its figures.
describe_tab("Windows", """\
**What you see:** your image with its patch grid, the regular windows of block 0 and the
shifted windows of block 1, both drawn on the image itself. Attention only ever happens between
patches of the same window. **Look for:** the shifted windows straddle the borders of the regular
ones, so patches that were separated in block 0 share a window in block 1; along the bottom and
right edges a shifted window is made of pieces from opposite sides of the image.""")
describe_tab("Cyclic shift", """\
**What you see:** how block 1 builds its shifted windows. The code *rolls* the token map up and
left by the shift s (the strips at the top and left wrap around to the bottom and right) and then
cuts the regular windows again. The 9 colours mark where each piece came from; the second picture
numbers these regions 0 to 8 (the reference code's `img_mask`). **Look for:** the paper draws
the windows moved right and down, the code moves the patches up and left: both give the same
groups. Windows at the bottom and right mix regions that are not neighbours in the image. The
animation plays both views one token of shift at a time, the region ids appearing as the pieces
wrap.""")
describe_tab("Masks", """\
**What you see:** the mask block 1 adds to the attention scores of a window: 0 (light) where the
query patch and the key patch come from the same region, -100 (dark) where they do not; -100
makes their softmax weight practically 0. **Look for:** interior windows need no mask; a window
on the right edge splits into 2 groups, on the bottom edge into 2, in the corner into 4, so
wrapped-around pieces never attend to each other.""")
describe_tab("Relative position", """\
**What you see:** the first table says, for every (query, key) pair of a window, which entry of
the learned bias table it uses: pairs with the same offset (rows apart, columns apart) share one
entry. The second picture shows each head's learned bias over all offsets and the bias it adds
to the scores of one window. **Look for:** the diagonal (offset 0, 0) always uses the centre
entry; with random weights the bias is noise, pretrained heads prefer near or directional
offsets.""")
describe_tab("Attention", """\
**What you see:** where the query patch (yellow; click the image above to move it) looks. Top:
its softmax weights over the patches of its window, in block 0 and in block 1, drawn on the image
at their real positions (the shift undone). Middle: how its scores are built for the chosen
block and head: content (q·k) + relative position bias + mask, then softmax. Bottom: the whole
attention matrix of its window for every head (one row per query patch; each row sums to 1).
**Look for:** in block 1 near the bottom or right edge, the patches that wrapped around from the
other side of the image are masked and get ~0 weight.""")
describe_tab("Information flow", """\
**What you see:** which patches can influence the query patch: after block 0 only its own
window; after block 1 usually parts of the neighbouring windows too (the shift bridges the
borders); after more block pairs a growing area. The last panel is attention rollout: the
attention of both blocks chained together, with the real weights. **Look for:** without the shift
the reach would never leave the first window. A patch in a corner gains nothing in block 1 (its
shifted window only wraps around the image, and the mask blocks that): click a patch in the
middle of the image to see the reach grow.""")
describe_tab("Cost", """\
**What you see:** the learned parameters and the multiply-adds of this block pair (counted like
the reference code), windowed attention against global attention as the image grows, and the
time the model took on this device. **Look for:** global attention grows with the square of the
number of patches, windowed attention only in proportion to it.""")
describe_tab("Shapes", """\
**What you see:** every tensor shape on the way through one block for the current settings:
tokens (B, L, C), the windows (nW·B, N, C), the heads (nW·B, nH, N, d), the attention
(nW·B, nH, N, N) and back. **Look for:** where the window size (N = M·M) and the number of heads
enter; only the window's tokens ever meet in one attention matrix.""")
describe_tab("Prediction", """\
**What you see:** the five classes the whole model gives the highest probability, from its
classifier head after the last stage. **Look for:** with random weights the prediction means
nothing (the badge says which weights are in use); with the pretrained Swin-T it names what the
photo shows.""")

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


def tab_text(tab: str) -> str:
    """What the tab explains (markdown)."""
    return TAB_TEXT.get(tab, MORE_TEXT)


def get_kind(name: str) -> FigureKind:
    """The registered kind; a ValueError naming the choices for anything else."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown figure kind {name!r}; choose from {', '.join(kinds())}"
        ) from None
