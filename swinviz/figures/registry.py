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
from collections.abc import Callable
from dataclasses import dataclass

from ._core.words import tr


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
describe_tab("Why each part", """\
**What you see:** the explored pair with one part left out at a time, same input: (a) how much
weight each window of the shifted block would put on keys from another region without the −100
mask, (b) which far-side keys the clicked query would read, (c) how far information reaches
with and without the shift, (d), (e) the query's attention with and without the relative position
bias. **Look for:** a query in the last row or column of windows leaks; one in the middle does
not. To run the whole model without a part, tick it under "What if" and see the prediction
change.""")
describe_tab("Prediction", """\
**What you see:** the five classes the whole model gives the highest probability, from its
classifier head after the last stage. **Look for:** with random weights the prediction means
nothing (the badge says which weights are in use); with the pretrained Swin-T it names what the
photo shows.""")
describe_tab("Class evidence", """\
**What you see:** where the model finds evidence for its top class (Grad-CAM: the block's
activations weighted by the gradient of that class's logit), at the last block of every stage,
then at three places inside the explored pair's second block (norm1, norm2, its output), and the
clicked query's attention beside them. **Look for:** the deeper the stage, the coarser the map
(its tokens cover more pixels); the three places inside one block need not agree; the attention
panel moves with your click and never with the class.""")

# What some tabs explain, said for one exploration (its stage, grid, windows, shift and
# padding): the app shows it above the tab's figures after every run.
LIVE_TEXT: dict[str, Callable] = {}


def describe_live(tab: str, text: Callable) -> Callable:
    """Say what a tab explains for an exploration: `text(exp, lang="en") -> markdown` (the
    tab's own description, `describe_tab`, stays for no exploration). A tab described twice is a
    ValueError."""
    if tab in LIVE_TEXT:
        raise ValueError(f"tab {tab!r} is described twice for an exploration")
    LIVE_TEXT[tab] = text
    return text


@dataclass(frozen=True)
class Facts:
    """The numbers of one exploration that the tabs' texts name."""

    stage: int
    b0: int  # the pair's blocks, as timm numbers them inside the stage
    b1: int
    H: int  # the stage's token grid
    W: int
    p: int  # pixels per token
    M: int  # the window (fact 2 applied)
    s: int  # the shift of the second block (0: none)
    nW: int  # windows of the (padded) grid
    Hp: int  # the grid padded to whole windows
    Wp: int
    roll_first: bool  # the block rolls, then pads (timm's Swin V2, `BlockTrace.roll_first`)

    @property
    def one(self) -> bool:
        """One window covers the whole grid (docs/concepts.md, fact 2): no shift."""
        return self.M >= min(self.H, self.W)

    @property
    def padded(self) -> bool:
        return (self.Hp, self.Wp) != (self.H, self.W)

    def no_shift(self, lang: str = "en") -> str:
        """Why the second block does not shift, in a clause."""
        if self.one:
            return tr(lang, "one {M}×{M} window covers the whole {H}×{W} grid (docs/concepts.md, "
                      "fact 2)", M=self.M, H=self.H, W=self.W)
        return tr(lang, "its shift is set to 0")

    @property
    def tokens_s(self) -> str:
        return f"{self.s} token{'' if self.s == 1 else 's'}"

    def tokens_s_in(self, lang: str) -> str:
        """`tokens_s` said in `lang`."""
        return self.tokens_s if lang == "en" else tr(lang, "{s} tokens", s=self.s)

    def padding(self, lang: str = "en") -> str:
        """The padding sentence, or "" for a grid of whole windows."""
        from ._core.labels import padding_text

        if not self.padded:
            return ""
        return tr(lang, " **Padding:** {what}.",
                  what=padding_text(self.H, self.W, self.Hp, self.Wp, self.s, lang,
                                    self.roll_first))


def facts(exp) -> Facts:
    from swinviz.windows import padded_size

    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    Hp, Wp = padded_size(H, W, M)
    b0, b1 = exp.blocks
    return Facts(stage=exp.stage, b0=b0, b1=b1, H=H, W=W, p=exp.patch_size, M=M, s=s,
                 nW=exp.num_windows, Hp=Hp, Wp=Wp,
                 roll_first=bool(getattr(exp.traces[1], "roll_first", False)))


def _fields(f: Facts, lang: str) -> dict:
    """The facts as a tab text's {fields}, with the clauses said in `lang`."""
    from dataclasses import asdict

    return dict(asdict(f), tokens_s=f.tokens_s_in(lang), no_shift=f.no_shift(lang),
                padding=f.padding(lang))


def _windows_text(exp, lang: str = "en") -> str:
    f = facts(exp)
    F = _fields(f, lang)
    what = tr(lang, "**What you see:** your image cut into stage {stage}'s {H}×{W} tokens ({p}×{p} "
              "px each), with the windows of block {b0} (W-MSA) and of block {b1} (SW-MSA) drawn "
              "on it. Attention only ever happens between tokens of the same window.", **F)
    if f.one:
        look = tr(lang, "**Look for:** {no_shift}, so every token already attends to every "
                  "other: both blocks use that one window and block {b1} does not shift "
                  "(nothing needs shifting), as at stage 4 of Swin-T at 224 px.", **F)
    elif f.s == 0:
        look = tr(lang, "**Look for:** the shift is 0, so block {b1} cuts the same {nW} windows "
                  "of {M}×{M} as block {b0}: no information crosses a window border in this "
                  "pair.", **F)
    else:
        look = tr(lang, "**Look for:** block {b1}'s {nW} windows of {M}×{M} are block {b0}'s "
                  "moved by s = {tokens_s}, so they straddle the borders of the regular ones: "
                  "tokens that were separated in block {b0} share a window in block {b1}; along "
                  "the bottom and right edges a shifted window is made of pieces from opposite "
                  "sides of the image.", **F)
    return tr(lang, "{what} {look}{padding}", what=what, look=look, padding=F["padding"])


def _shift_text(exp, lang: str = "en") -> str:
    f = facts(exp)
    F = _fields(f, lang)
    if f.s == 0:
        return tr(lang, "**What you see:** nothing rolls here: block {b1} does not shift, "
                  "because {no_shift}. Its windows are block {b0}'s, every window keeps its own "
                  "tokens and every token is in region 0. **Look for:** the roll on a stage "
                  "whose grid is larger than one window, with a shift above 0 (stage 1 of "
                  "Swin-T: 56×56 tokens, shift 3).{padding}", **F)
    return tr(lang, "**What you see:** how block {b1} builds its shifted windows. The code "
              "*rolls* the {Hp}×{Wp} token map up and left by s = {tokens_s} (the strips at the "
              "top and left wrap around to the bottom and right) and then cuts the regular "
              "{M}×{M} windows again. The 9 colours mark where each piece came from; the second "
              "picture numbers these regions 0 to 8 (the reference code's `img_mask`). **Look "
              "for:** the paper draws the windows moved right and down, the code moves the "
              "tokens up and left: both give the same groups. Windows at the bottom and right "
              "mix regions that are not neighbours in the image. The animation plays both views "
              "one token of shift at a time, the region ids appearing as the pieces "
              "wrap.{padding}", **F)


def _masks_text(exp, lang: str = "en") -> str:
    f = facts(exp)
    F = _fields(f, lang)
    if f.s == 0:
        return tr(lang, "**What you see:** no mask: block {b1} does not shift, because "
                  "{no_shift}. No window holds pieces from opposite sides of the image, so "
                  "nothing is added to its attention scores.{padding}", **F)
    return tr(lang, "**What you see:** the mask block {b1} adds to the attention scores of a "
              "window: 0 (light) where the query token and the key token come from the same "
              "region, -100 (dark) where they do not; -100 makes their softmax weight "
              "practically 0. **Look for:** interior windows need no mask; a window on the "
              "right edge splits into 2 groups, on the bottom edge into 2, in the corner into "
              "4, so wrapped-around pieces never attend to each other.{padding}", **F)


def _attention_text(exp, lang: str = "en") -> str:
    f = facts(exp)
    F = _fields(f, lang)
    if f.s:
        what = tr(lang, "**What you see:** where the query token (yellow; click the image above "
                  "to move it) looks. Top: its softmax weights over the tokens of its window, in "
                  "block {b0} and in block {b1}, drawn on the image at their real positions (the "
                  "shift undone). Middle: how its scores are built for the chosen block and "
                  "head: content (q·k) + relative position bias + mask, then softmax. Bottom: "
                  "the whole attention matrix of its window for every head (one row per query "
                  "token; each row sums to 1).", **F)
        look = tr(lang, "**Look for:** in block {b1} near the bottom or right edge, the tokens "
                  "that wrapped around from the other side of the image are masked and get ~0 "
                  "weight.", **F)
    else:
        what = tr(lang, "**What you see:** where the query token (yellow; click the image above "
                  "to move it) looks. Top: its softmax weights over the tokens of its window, in "
                  "block {b0} and in block {b1}, drawn on the image at their real positions. "
                  "Middle: how its scores are built for the chosen block and head: content (q·k) "
                  "+ relative position bias, then softmax. Bottom: the whole attention matrix of "
                  "its window for every head (one row per query token; each row sums to 1).",
                  **F)
        look = tr(lang, "**Look for:** block {b1} does not shift ({no_shift}): both blocks see "
                  "the same window and nothing is masked; only their learned weights differ.",
                  **F)
    return tr(lang, "{what} {look}{padding}", what=what, look=look, padding=F["padding"])


def _flow_text(exp, lang: str = "en") -> str:
    f = facts(exp)
    F = _fields(f, lang)
    if f.one:
        return tr(lang, "**What you see:** which tokens can influence the query token. Here one "
                  "{M}×{M} window covers the whole {H}×{W} grid, so after block {b0} every token "
                  "already reaches every other and block {b1} (no shift) adds nothing. The last "
                  "panel is attention rollout: the attention of the blocks chained together, "
                  "with the real weights. **Look for:** the reach the earlier stages built up "
                  "before this one.", **F)
    if f.s == 0:
        return tr(lang, "**What you see:** which tokens can influence the query token: after "
                  "block {b0} only its own window, and block {b1} has the same windows (shift "
                  "0), so it adds nothing; the last panel is attention rollout, the attention of "
                  "the blocks chained together, with the real weights. **Look for:** without "
                  "the shift the reach never leaves the first window.", **F)
    return tr(lang, "**What you see:** which tokens can influence the query token: after block "
              "{b0} only its own window; after block {b1} usually parts of the neighbouring "
              "windows too (the shift by {s} bridges the borders); after more block pairs a "
              "growing area. The last panel is attention rollout: the attention of the blocks "
              "chained together, with the real weights. **Look for:** without the shift the "
              "reach would never leave the first window. A token in a corner gains nothing in "
              "block {b1} (its shifted window only wraps around the image, and the mask blocks "
              "that): click a token in the middle of the image to see the reach grow.", **F)


describe_live("Windows", _windows_text)
describe_live("Cyclic shift", _shift_text)
describe_live("Masks", _masks_text)
describe_live("Attention", _attention_text)
describe_live("Information flow", _flow_text)

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
register("parts", "Why each part: without the mask, the shift, the bias", tab="Why each part",
         order=105, query=True)
register("prediction", "Prediction (top-5 classes)", tab="Prediction", order=110)
register("evidence", "Class evidence: Grad-CAM at every stage", tab="Class evidence", order=120,
         query=True)


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


def tab_text(tab: str, exp=None, lang: str = "en") -> str:
    """What the tab explains (markdown) in language `lang`; with an exploration, said for it
    where the tab's text depends on it (`describe_live`: its stage, grid, windows, shift and
    padding)."""
    if exp is not None and tab in LIVE_TEXT:
        return LIVE_TEXT[tab](exp, lang) if lang != "en" else LIVE_TEXT[tab](exp)
    return tr(lang, TAB_TEXT.get(tab, MORE_TEXT).replace("{", "{{").replace("}", "}}"))


def get_kind(name: str) -> FigureKind:
    """The registered kind; a ValueError naming the choices for anything else."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown figure kind {name!r}; choose from {', '.join(kinds())}"
        ) from None
