"""A session's view of its model run (`View`, kept in gr.State) and the view controls' values:
the block, head and template as the page or the API sends them, checked once, and the choices
the pickers offer. Every expected failure becomes `user_error`: a gr.Error whose sentence a
person understands (and that Gradio does not log as a traceback)."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import gradio as gr

from swinviz import SettingsError
from swinviz.image import ImageError
from swinviz.lesson.i18n import check_lang
from swinviz.settings import (  # the one validation of a view (re-exported for the app)
    ALL_HEADS,
    parse_block,
    parse_head,
    parse_stage_pair,
    parse_template,
    whole,
)
from swinviz.weights import CheckpointError

from .settings import ModelSettings
from .state import EXPLORATIONS, Held
from .words import say

# Errors that mean "bad input or settings": their message is for the user.
EXPECTED = (CheckpointError, ImageError, SettingsError, ValueError)


def user_error(message: str) -> gr.Error:
    """A gr.Error shown in the page (and raised as AppError by gradio_client); no traceback."""
    return gr.Error(message, duration=None, print_exception=False)


def message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[0].upper() + text[1:]


def sentence(text: str) -> str:
    """`text` ending in exactly one full stop (or its own "?" / "!"): a message that already
    ends a sentence gets no second one."""
    text = text.strip().rstrip(".").rstrip()
    return text if text.endswith(("?", "!")) else text + "."


@dataclass
class View:
    """A session's exploration (kept in gr.State) and what is picked on it.

    The exploration sits in a `Held` registered with the byte-bounded store, which may drop it
    when the server needs the memory; `exp` then raises a gr.Error asking for a new run.
    """

    held: Held
    settings: ModelSettings
    query: tuple[int, int] | None = None  # None: the figures' default patch
    # patches added to the query by shift-click (a query set, summed in the attention figure)
    added: tuple[tuple[int, int], ...] = ()
    run_ms: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    run_id: str = ""  # names this model run in the page's click packs (app.instant)
    spot: tuple[float, float] | None = None  # the image spot a carried query stands for
    example: str | None = None  # the shipped example it shows, by name (for the address)
    # the class evidence left for after the first figure (`app.evidence.complete`): (the class
    # it explains,), None for the top class; None when nothing is left to do
    evidence_due: tuple[int | str | None] | None = None
    # the kinds a page run drew with it (`runs.run_settings(first=...)`), which `rest` leaves
    # out; None: every kind (a run without `first`)
    drawn: tuple[str, ...] | None = None

    @property
    def exp(self):  # swinviz.Exploration
        exp = self.held.exp
        if exp is None:
            raise user_error("This page's model run was dropped to free memory for other "
                             "visitors; press \"Run the model\" to run it again.")
        EXPLORATIONS.touch(self.held)
        return exp

    @property
    def grid(self) -> tuple[int, int]:
        return self.exp.grid


@dataclass(frozen=True)
class Shown:
    """What the figures show of a session's run, checked once (`Shown.parse`): the pair's
    block (0 / 1), the head (None: every head of the stage side by side), the template and the
    language. Every figure-only event (a redraw, the figures after a run, a click, a download)
    gets one."""

    block: int = 1
    head: int | None = 0
    template: str = "default"
    lang: str = "en"

    @classmethod
    def parse(cls, view: View | None, block=1, head="0", template="default",
              lang="en") -> Shown:
        """The view controls' values as the page or the API sends them ("1", "all", ...); the
        head is checked against the explored stage's heads when there is a run. A bad value is
        a `user_error` with the settings' own sentence."""
        try:
            b = parse_block(block)
            h = (parse_head(head, view.exp.num_heads, view.exp.stage) if view is not None
                 else head)
            t = parse_template(template)
            lang = check_lang(str(lang or "en"))
        except (SettingsError, ValueError) as exc:
            raise user_error(message(exc)) from None
        return cls(b, h, t, lang)

    @classmethod
    def of(cls, named: Mapping[str, object]) -> tuple[View | None, Shown]:
        """An event's values by name (`by_name`): its "view" and, parsed, its "block", "head",
        "template" and "lang"."""
        view = named.get("view")
        return view, cls.parse(view, named.get("block", 1), named.get("head", "0"),
                               named.get("template", "default"), named.get("lang") or "en")

    def options(self) -> dict:
        """What `app.plotting.build_plots` and `swinviz.figures.make_figure` take."""
        return dict(block=self.block, head=self.head, template=self.template, lang=self.lang)


# ------------------------------------------------------------- the page's inputs, by name

# The page's components by name: the settings (app.settings.DEFAULTS' names) and "image",
# "open_tab" (the open tab's first kind), "view" (the session's run), "message" (a click's
# message from the page), registered once when the page is built (`name_components`). An event
# whose inputs are a set of components gets {component: value}; `by_name` turns it into
# {name: value}.
NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def name_components(components: Mapping[str, object]) -> None:
    """Register the page's components by name (name -> component), for `by_name`."""
    for name, component in components.items():
        NAMES[component] = name


def by_name(values: Mapping) -> dict[str, object]:
    """An event's {component: value} -> {name: value}; a key that is a name stays as it is
    (callers in this process, the tests)."""
    return {key if isinstance(key, str) else NAMES[key]: value for key, value in values.items()}


def head_choices(num_heads: int, lang: str = "en") -> list[tuple[str, str]]:
    return [(say(lang, "all heads"), ALL_HEADS)] + [
        (say(lang, "head {h}", h=h), str(h)) for h in range(num_heads)]


def pair_choices(stage, lang: str = "en") -> list[tuple[str, str]]:
    """The pairs of a Swin-T stage: ("pair p: blocks 2p, 2p+1", "p"); stage 1's for a stage
    that is not 1-4. In the page's language (app.words)."""
    from swinviz.config import get_config

    from .state import ARCH

    cfg = get_config(ARCH)
    try:
        s, _ = parse_stage_pair(cfg, stage, 0)
    except SettingsError:
        s = 1
    return [(say(lang, "pair {p}: blocks {a}, {b}", p=p, a=2 * p, b=2 * p + 1), str(p))
            for p in range(cfg.depths[s - 1] // 2)]


def block_choices(pair=0, shifted: bool = True, lang: str = "en") -> list[tuple[str, str]]:
    """The block radio's labels for pair p: the pair's first (2p, W-MSA) and second (2p+1,
    SW-MSA) block; shifted=False says the second block does not shift (one window covers the
    stage's grid)."""
    try:
        p = whole("pair", pair, lo=0)
    except SettingsError:
        p = 0
    second = (say(lang, "second block: block {n} (SW-MSA)", n=2 * p + 1) if shifted else
              say(lang, "second block: block {n} (SW-MSA, no shift here: one window)",
                  n=2 * p + 1))
    return [(say(lang, "first block of the pair: block {n} (W-MSA)", n=2 * p), "0"),
            (second, "1")]


def sync_blocks(view: View | None, lang: str = "en"):
    """After a run: the block labels name the explored pair's blocks (and a missing shift)."""
    if view is None:
        return gr.update()
    exp = view.exp
    return gr.update(choices=block_choices(exp.pair, shifted=exp.shift_size > 0, lang=lang))


def sync_heads(view: View | None, head, lang: str = "en"):
    """After a run: the head picker offers exactly the explored stage's heads."""
    if view is None:
        return gr.update()
    n = view.exp.num_heads
    value = head if str(head) in {v for _, v in head_choices(n)} else "0"
    return gr.update(choices=head_choices(n, lang), value=value)
