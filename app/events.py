"""What the page's events do, as thin wrappers over the app's plain functions (`app.runs`,
`app.exports`, `app.panel`, `app.session`): a page run's failure becomes a message in the page,
a duplicate run does nothing, the settings panel keeps itself consistent (a window keeps its
shift valid, weights reset what they fix, a preset sets everything) and settles once before
a run.

The page's runs, its settings and its figure events (a redraw, the figures after a run, a
click, a download) take their inputs as a set of components, so each gets one dict
{component: value} (the small helpers of one to three values, such as the caption or the
animation, take theirs in order); `session.by_name` reads it by the names of
`app.settings.DEFAULTS` (the /explore API's parameter names) and the page's own ("image",
"view", "open_tab", ...). A page run's settings are checked once (`app.runs.page_settings`)
into the `PageSettings` that `app.runs.run_settings` runs; a figure-only event's block, head
and template once into a `session.Shown`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import gradio as gr

from swinviz.config import SettingsError, get_config
from swinviz.figures import KINDS
from swinviz.figures.registry import tab_text, tabs
from swinviz.weights import offered_checkpoints

from . import evidence, exports, panel, runs, session
from .instant import DUPLICATE, RAN
from .session import Shown, by_name
from .settings import (
    DEFAULT_MODEL,
    DEFAULTS,
    MODELS,
    SIZES_OF,
    model_defaults,
    parse_model,
)
from .state import ARCH, default_weights_choice, default_weights_source
from .words import say

# The tabs, their figures and what they explain: swinviz.figures.registry, numbered here.
TABS: list[tuple[str, tuple[str, ...], str]] = [
    (f"{i} · {tab}", kinds, tab_text(tab)) for i, (tab, kinds) in enumerate(tabs(), start=1)
]

TAB_KINDS = {kinds[0]: kinds for _, kinds, _ in TABS}  # a tab's id (its first kind) -> kinds
TAB_NAMES = [tab for tab, _ in tabs()]  # the registry's names, in the order of TABS


# the settings whose change runs the model (read once into the settled key, `on_settled`)
SETTLED = ("img_size", "window_size", "shift_size", "weights", "checkpoint", "seed",
           "embed_dim", "num_heads", "stage", "pair", "without", "model")
# a page run's inputs: every setting the page has, the image and the open tab (and "view" where
# the same image runs again)
RUN_NAMES = (*SETTLED, "block", "head", "template", "image", "open_tab", "query", "target",
             "lang")
# a figure-only event's inputs (a redraw, the figures after a run, a click, a download):
# `session.Shown.of` reads them
SHOWN = ("view", "block", "head", "template", "lang")


def settings_of(values: Mapping[str, object]) -> dict[str, object]:
    """The settings among values by name: what `app.settings.from_components` takes."""
    return {name: value for name, value in values.items() if name in DEFAULTS}


# ---------------------------------------------------------------------- event wrappers (thin)


def on_explore(image, img_size, window_size, shift_size, weights, checkpoint, block, head,
               template, seed, embed_dim, num_heads, stage, pair, query, without="", target="",
               model="", progress=gr.Progress()):  # noqa: B008
    """The API endpoint /explore: errors are raised (gradio_client turns them into AppError).
    stage (1-4), pair and query ("row,col" on the stage's token grid, empty: the default
    patch) make the same figures as the page's choices and click; without ("mask,bias", a
    list of parts or empty) runs Swin with those parts left out in every block; target (an
    ImageNet class name or index, empty: the top class) is the class the evidence figure
    explains, as the page's class picker does; model ("swin-t" or "swinv2-t", empty: Swin-T)
    which of the page's models runs (a size, window, shift, width or heads left empty is that
    model's own). Its parameters, by name and in this order, are the API's (gradio_client
    callers name them)."""
    page = runs.page_settings(dict(
        img_size=img_size, window_size=window_size, shift_size=shift_size, weights=weights,
        checkpoint=checkpoint, seed=seed, embed_dim=embed_dim, num_heads=num_heads,
        stage=stage, pair=pair, query=query, block=block, head=head, template=template,
        without=without, model=model))
    return runs.run_settings(image, page, progress=progress,
                             target=evidence.api_target(page.model, target))


def status_text(message: str) -> str:
    return (f"**Could not run the model:** {message}\n\n"
            "*The figures below (if any) still show the previous run.*")


def open_kinds(open_tab) -> tuple[str, ...]:
    """The figure kinds of the open tab (named by its first kind; the first tab otherwise)."""
    return TAB_KINDS.get(open_tab, TABS[0][1]) if isinstance(open_tab, str) else TABS[0][1]


def on_run(values: Mapping, progress=gr.Progress()):  # noqa: B008
    """The page's model runs, given {component: value} (`by_name`: the settings, "image",
    "open_tab" and "view"): the settings are checked once (`runs.page_settings`), then run. A
    failure is a message in the page (status line and a toast); the figures of the previous run
    stay as they were, consistent with the badge. Only the open tab's figures come with the
    run; `on_rest` sends the others right after. "view": the session's previous run (same
    image), whose picked query stays on the same spot of the image (`picture.carry_query`)."""
    named = by_name(values)
    try:
        page = runs.page_settings(settings_of(named), strict_head=False)
        out = runs.run_settings(named.get("image"), page, progress=progress, pack=True,
                                first=open_kinds(named.get("open_tab")),
                                carry=named.get("view"),
                                target=evidence.api_target(page.model, named.get("target")),
                                lang=Shown.parse(None, lang=named.get("lang") or "en").lang)
    except gr.Error as exc:
        gr.Warning(exc.message, duration=8)
        return (*[gr.update()] * (len(KINDS) + 3), gr.update(value=status_text(exc.message),
                                                            visible=True), RAN)
    return (*out, gr.update(value="", visible=False), RAN)


def in_flight_key(request, values: Mapping) -> tuple:
    """A page run's key for `runs.IN_FLIGHT`: its session and its values by name."""
    named = by_name(values)
    return (getattr(request, "session_hash", None) or id(request),
            repr(sorted(named.items(), key=lambda item: item[0])))


def on_image_change(values: Mapping, request: gr.Request = None,
                    progress=gr.Progress()):  # noqa: B008
    """A new image (or none): a page run (`on_run`, given the same {component: value})."""
    if by_name(values).get("image") is None:  # cleared: empty page, ready for the next image
        return (*[None] * len(KINDS), None, panel.badge(None, by_name(values).get("lang") or "en"),
                None,
                gr.update(value="", visible=False), RAN)
    # Gradio 6.31's Image fires `change` twice when a new file replaces the shown one: the same
    # run twice at once, each slowing the other; the second one does nothing.
    key = in_flight_key(request, values)
    if not runs.IN_FLIGHT.claim(key):
        return (*[gr.skip()] * (len(KINDS) + 4), DUPLICATE)
    try:
        return on_run(values, progress=progress)
    finally:
        runs.IN_FLIGHT.release(key)


def on_rest(values: Mapping):
    """After a page run, given {component: value} ("view", "block", "head", "template",
    "open_tab", "status"): the figures of the tabs that are not open (nothing after a failed
    run, which shows its message in `status`; nothing follows a duplicate run at all,
    `instant.AFTER_PAINT_JS`)."""
    named = by_name(values)
    status = named.get("status")
    if named.get("view") is None or (isinstance(status, str) and status.strip()):
        return tuple(gr.skip() for _ in KINDS)
    view, shown = Shown.of(named)
    evidence.complete(view)  # the run's class evidence, left for now (`runs.run_settings`)
    # the kinds the run drew: the tab open now may be another (a link opens its tab while the
    # model runs), and its figures would otherwise never come
    first = view.drawn if view.drawn is not None else open_kinds(named.get("open_tab"))
    return runs.rest(view, shown, first=first)


def on_redraw(values: Mapping):
    """Block / head / template changed, given {component: value} ("view", "block", "head",
    "template"): the figures again, no model run."""
    view, shown = Shown.of(by_name(values))
    if view is None:
        gr.Info("Upload an image first (or click an example); the figures then follow.")
        return (*[gr.update()] * len(KINDS), gr.update())
    return runs.redraw(view, shown)


def on_language(values: Mapping):
    """The page's language changed, given {component: value} (SHOWN, "stage", "pair"): the
    figures, every tab's text, the badge, the query's caption and the pair, block and head
    pickers' names in it, no model run; before a run, the pickers (the badge before a run:
    `panel.pre_run_badge_js`, on the page)."""
    named = by_name(values)
    view, shown = Shown.of(named)
    L = shown.lang
    if view is None:
        stage, pair = named.get("stage") or 1, named.get("pair") or 0
        try:
            n = get_config(ARCH).stage(int(stage)).num_heads
        except (ValueError, TypeError, KeyError, IndexError):
            n = get_config(ARCH).stage(1).num_heads
        return (*(gr.skip() for _ in (*KINDS, *TAB_NAMES)), gr.skip(), gr.skip(),
                gr.update(choices=session.pair_choices(stage, L)),
                gr.update(choices=session.block_choices(pair, lang=L)),
                gr.update(choices=session.head_choices(n, L)))
    exp = view.exp
    return (*runs.redraw(view, shown)[:len(KINDS)], *tab_texts(view, L),
            panel.badge(view, L), panel.query_caption(view, shown.block, L),
            gr.update(choices=session.pair_choices(exp.stage, L)),
            session.sync_blocks(view, L), session.sync_heads(view, named.get("head"), L))


def saved(path: str) -> dict:
    """A finished download: the browser saves the zip at once (SAVE_JS, one click on the page's
    button), and a button naming the whole file saves it again."""
    return gr.update(value=path, label=f"Save again: {Path(path).name}", visible=True)


# After a download's event: the browser saves the file the server made (its whole name), as
# gr.DownloadButton's own click does. (A gr.File showed a chip to click a second time, its
# name cut.)
SAVE_JS = "(file) => { window.swinviz && window.swinviz.save(file); }"


def on_download(values: Mapping, progress=gr.Progress()):  # noqa: B008
    """The download button, given {component: value} ("view", "block", "head", "template")."""
    view, shown = Shown.of(by_name(values))
    return saved(exports.download(view, shown, progress=progress))


def on_deck(view, lang, progress=gr.Progress()):  # noqa: B008
    return saved(exports.lecture_deck(view, lang, progress=progress))


SHIFT_TAB = "shift"  # the tab (by its first kind) that shows the shift animation


def on_tab(evt: gr.SelectData):
    """A tab was opened: remember which (its first kind), for what follows a run."""
    for title, kinds, _ in TABS:
        if evt.value == title:
            return kinds[0]
    return gr.update()


def shift_animation_for(view, open_tab):
    """After a run: the new animation when its tab is open, else none (made when it opens)."""
    return exports.shift_gif(view) if open_tab == SHIFT_TAB else None


WINDOW_RANGE = (2, 14)  # the sliders' ranges
SHIFT_RANGE = (0, 13)


def in_slider(value, lo: int, hi: int) -> bool:
    try:
        return lo <= float(value) <= hi
    except (TypeError, ValueError, OverflowError):
        return False


def on_window(window_size, shift_size):
    """Keep the shift valid when the window changes (0 <= shift < window); a window typed
    half-way into the slider's box (12: first 1, below the slider) changes nothing."""
    try:
        M, s = int(window_size), int(shift_size)
    except (TypeError, ValueError, OverflowError):
        return gr.update()
    if not in_slider(M, *WINDOW_RANGE):
        return gr.update()
    return gr.update(value=s if s < M else M // 2)


def random_only(weights) -> dict:
    """Window, shift, width and heads can change only with random weights: pretrained ones fix
    them (their relative position tables and layer shapes)."""
    return dict(interactive=weights == "random")


def on_weights(weights, model=None):
    """Weights changed: the checkpoint list, and the settings only random weights may change
    (reset to the model's own for pretrained weights or a checkpoint)."""
    names = offered_checkpoints()
    ckpt = gr.update(visible=weights == "checkpoint",
                     choices=[("(choose a file)", "")] + [(n, n) for n in names])
    if weights == "random":
        fixed = [gr.update(interactive=True)] * 4
    else:
        own = model_defaults(_model_or_default(model))
        fixed = [gr.update(value=own[k], interactive=False) for k in
                 ("window_size", "shift_size", "embed_dim", "num_heads")]
    return (ckpt, *fixed)


def _model_or_default(model) -> str:
    try:
        return parse_model(model)
    except SettingsError:
        return DEFAULT_MODEL


def on_model(model, weights, lang="en"):
    """The model changed (Swin-T, Swin V2-T): its own input size (and the sizes offered),
    window, shift, width and heads, its default weights when the weights chosen were
    pretrained, and the weights notice for it (then the settings settle and the model runs)."""
    name = _model_or_default(model)
    arch = MODELS[name]
    own = model_defaults(name)
    choice = default_weights_choice(arch)
    if weights not in ("random", "checkpoint"):
        weights = "pretrained" if choice.pretrained else "random"
    interactive = weights == "random"
    return (gr.update(choices=[str(s) for s in SIZES_OF[name]], value=str(own["img_size"])),
            gr.update(value=own["window_size"], interactive=interactive),
            gr.update(value=own["shift_size"], interactive=interactive),
            gr.update(value=weights),
            gr.update(value=own["embed_dim"], interactive=interactive),
            gr.update(value=own["num_heads"], interactive=interactive),
            model_notice(name, lang))


def model_notice(model, lang="en"):
    """The weights notice (#weights-notice) for the model chosen, in the page's language: why
    its weights are random and how to get real ones, hidden when they are pretrained."""
    notice = default_weights_choice(MODELS[_model_or_default(model)]).notice_in(
        lambda text, **fields: say(lang, text, **fields))
    return gr.update(value=f"**{notice}**" if notice else "", visible=bool(notice))


def on_stage(stage, lang="en"):
    """Stage changed: its pairs (pair 0 chosen) and the block labels of pair 0."""
    return (gr.update(choices=session.pair_choices(stage, lang), value="0"),
            gr.update(choices=session.block_choices(0, lang=lang)))


def on_pair(pair, lang="en"):
    return gr.update(choices=session.block_choices(pair, lang=lang))


def on_preset(name, lang="en"):
    """A preset: every model setting at once, its model included (then the model runs)."""
    p = panel.PRESETS.get(name if isinstance(name, str) else "")
    if p is None:
        return tuple(gr.update() for _ in range(10))
    weights = p["weights"] or default_weights_source(MODELS[p["model"]])
    interactive = weights == "random"
    return (gr.update(value=p["model"]),
            gr.update(choices=[str(s) for s in SIZES_OF[p["model"]]],
                      value=str(p["img_size"])),
            gr.update(value=p["window_size"], interactive=interactive),
            gr.update(value=p["shift_size"], interactive=interactive),
            gr.update(value=weights),
            gr.update(value=p["embed_dim"], interactive=interactive),
            gr.update(value=p["num_heads"], interactive=interactive),
            gr.update(value=p["stage"]),
            gr.update(choices=session.pair_choices(p["stage"], lang), value=p["pair"]),
            gr.update(choices=session.block_choices(p["pair"], lang=lang)))


def settings_key(*values) -> str:
    """The page's model settings (and stage, pair) as one text: equal for equal settings
    however the widgets send them (7, 7.0 or "7")."""
    def one(v):
        if isinstance(v, (list, tuple)):  # a checkbox group: in any order
            return ",".join(sorted(str(x) for x in v))
        try:
            f = float(v)
        except (TypeError, ValueError, OverflowError):
            return str(v).strip() if v is not None else ""
        return str(int(f)) if f.is_integer() else repr(f)
    return json.dumps([one(v) for v in values])


def on_settled(values: Mapping):
    """After a change of the settings (and what it changed in turn: a preset sets them all,
    weights reset some), given {component: value} (`by_name`: the names of SETTLED): the
    complete settings, read once, as `settled` (whose change computes the budget line and runs
    the model, only when they differ from the last), and the preset they are (none: custom
    settings)."""
    v = by_name(values)
    if not (in_slider(v.get("window_size"), *WINDOW_RANGE)
            and in_slider(v.get("shift_size"), *SHIFT_RANGE)):
        # typed half-way into a slider's box: the rest follows (the box clamps it on leaving)
        return gr.skip(), gr.skip()
    key = settings_key(*(v.get(name) for name in SETTLED))
    return key, gr.update(value=panel.preset_of(
        v.get("img_size"), v.get("window_size"), v.get("shift_size"), v.get("weights"),
        v.get("embed_dim"), v.get("num_heads"), v.get("model")))


def on_budget(values: Mapping) -> str:
    """The budget line of the settled settings, given {component: value} (the names of
    SETTLED, and "lang": the page's language)."""
    v = by_name(values)
    return panel.budget_line(**{name: v[name] for name in SETTLED if name in v},
                             lang=v.get("lang") or "en")


def tab_texts(view, lang: str = "en") -> tuple:
    """Every tab's text, said for the run shown (its stage, grid, windows, shift, padding) in
    the page's language."""
    if view is None:
        return tuple(gr.update() for _ in TAB_NAMES)
    exp = view.exp
    lang = Shown.parse(None, lang=lang or "en").lang
    return tuple(tab_text(tab, exp, lang) for tab in TAB_NAMES)


def after_run(view, head, block, lang="en"):
    return (session.sync_heads(view, head, lang), session.sync_blocks(view, lang),
            panel.query_caption(view, block, lang), *tab_texts(view, lang))
