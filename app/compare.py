"""The Compare tab: the page's image through Swin-T and Swin V2-T side by side (issue 26), in
two columns: each model's settings, the same query's attention (the same spot of the image,
on each model's own token grid), its position bias and its prediction.

The session's own run fills its model's column; the other model (`partner`: its own input
size, window and shift, its default weights) runs the same image at the same stage and pair
once, and is kept in the session's `Partner` state until the image, the settings or the pair
change, so that a click or another head only redraws. Both Swin-T and Swin V2-T have the
depths (2, 2, 6, 2) and heads (3, 6, 12, 24), so every stage, pair, block and head of one
exists in the other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import gradio as gr

from swinviz import SettingsError

from .events import SHOWN
from .panel import prediction_text, weights_text
from .picture import query_spot, resolved_query, token_at
from .plotting import build_plots
from .runs import explore_image, image_source
from .session import Shown, View, by_name
from .settings import DEFAULT_MODEL, MODEL_LABELS, MODELS, ModelSettings, parse_settings
from .words import say

COMPARE_TAB = "compare"  # the tab's id (and a link's tab=compare)
KINDS = ("attention", "bias")  # the figures each column draws, top to bottom
COLUMNS = tuple(MODELS)  # Swin-T on the left, Swin V2-T on the right
OUT_PER_COLUMN = 2 + len(KINDS)  # heading, figures, prediction
COLUMN_TEMPLATE = {"default": "narrow"}  # the page's figure style -> a column's


@dataclass
class Partner:
    """The other model's run of the session's image, kept (gr.State) with what it was made
    for: `key` (the image, both models' settings, stage, pair, the parts left out)."""

    key: tuple
    view: View


def partner(settings: ModelSettings) -> ModelSettings:
    """The page's other model at its own settings with its default weights (pretrained where
    they can be had here), else random weights with the same seed."""
    other = next(m for m in COLUMNS if m != settings.model)
    try:
        return parse_settings(model=other, seed=settings.seed)
    except SettingsError:  # e.g. its pretrained weights fail a check: random ones still show
        return parse_settings(model=other, weights="random", seed=settings.seed)


def same_spot(view: View, other: View) -> tuple[int, int]:
    """The token of `other`'s grid that covers the spot of the image `view`'s query stands on
    (each model crops the same square of the photo, at its own input size)."""
    spot = query_spot(view)
    if spot is None:  # the figures' default patch: its centre
        r, c = resolved_query(view)
        p, size = view.exp.patch_size, view.settings.img_size
        spot = ((r + 0.5) * p / size, (c + 0.5) * p / size)
    exp = other.exp
    return token_at(spot, other.settings.img_size, exp.grid, exp.patch_size)


def heading(view: View, lang: str = "en") -> str:
    """A column's heading: the model, its input, the stage's grid and windows, the weights and
    the query on this grid."""
    exp, st = view.exp, view.settings
    H, W = exp.grid
    r, c = resolved_query(view)
    return say(lang, "### {model}\n{size} px input · stage {stage}: {H}x{W} tokens, windows of "
                     "{M}x{M}, shift {s} · weights: {weights} · query ({r}, {c})",
               model=st.label, size=st.img_size, stage=exp.stage, H=H, W=W,
               M=exp.window_size, s=exp.shift_size, weights=weights_text(exp.weights, lang),
               r=r, c=c)


def _partner_view(view: View, image, kept: Partner | None) -> tuple[View, Partner]:
    """The other model's View of this image (kept when it was made for the same image,
    settings, stage, pair and parts left out)."""
    exp = view.exp
    other = partner(view.settings)
    key = (str(image_source(image)), view.settings.cache_key(), other.cache_key(), exp.stage,
           exp.pair, exp.without)
    if kept is not None and kept.key == key and kept.view.held.exp is not None:
        return kept.view, kept
    pview = explore_image(image, other, stage=exp.stage, pair=exp.pair, without=exp.without,
                          evidence=False)
    return pview, Partner(key, pview)


def columns(view: View, image, shown: Shown = Shown(), kept: Partner | None = None  # noqa: B008
            ) -> tuple[list, Partner]:
    """Both columns' contents in COLUMNS order (per column: heading markdown, the KINDS'
    figures, prediction markdown) and the Partner to keep. The query is the session's on its
    own grid and the same spot of the image on the other's."""
    pview, kept = _partner_view(view, image, kept)
    pview = replace(pview, query=same_spot(view, pview), added=())
    # half the page's width a column: the screen's figures are laid out as a phone's column
    # (panels one above the other), the lecture's keep their own
    template = COLUMN_TEMPLATE.get(shown.template, shown.template)
    out = []
    for model in COLUMNS:
        v = view if view.settings.model == model else pview
        out += [heading(v, shown.lang),
                *build_plots(v, KINDS, block=shown.block, head=shown.head,
                             template=template, lang=shown.lang),
                prediction_text(v.exp, shown.lang)]
    return out, kept


def on_compare(values, force: bool = False):
    """The Compare tab's event, given {component: value} (SHOWN, "image", "open_tab",
    "compare"): both columns and the kept Partner; nothing (gr.skip) when the tab is not open
    (unless `force`: the tab's own select, which runs before the open tab is recorded) or there
    is no run yet."""
    named = by_name(values)
    skip = tuple(gr.skip() for _ in range(OUT_PER_COLUMN * len(COLUMNS) + 1))
    if not force and named.get("open_tab") != COMPARE_TAB:
        return skip
    view, shown = Shown.of(named)
    image = named.get("image")
    if view is None or image is None:
        return skip
    out, kept = columns(view, image, shown, named.get("compare"))
    return (*out, kept)


def on_compare_tab(values):
    """The Compare tab was opened: both columns now."""
    return on_compare(values, force=True)


TEXT = ("The same image through both models, side by side: the query's attention at the same "
        "spot of the image (each model's own token grid), the position bias each block adds, "
        "and the prediction. Swin V2 computes cosine similarity times a learned temperature "
        "where Swin V1 computes q·k times 1/√d, and a small network (MLP) of log-spaced "
        "offsets gives its bias where Swin V1 reads a learned table.")


def compare_tab(c, model_kw: dict) -> None:
    """The tab's components (in `c`: compare_outputs, compare_state, compare_tab) and its
    events' keywords (`c.compare_kw`: it runs the other model, once per image and settings,
    so its events are the page's model events, `model_kw`)."""
    with gr.Tab("Compare Swin-T · Swin V2-T", id=COMPARE_TAB) as tab:
        gr.Markdown(TEXT, elem_classes="explain", elem_id="text-compare")
        outputs = []
        with gr.Row(equal_height=False):
            for model in COLUMNS:
                with gr.Column(min_width=320):
                    outputs.append(gr.Markdown(f"### {MODEL_LABELS[model]}",
                                               elem_id=f"compare-head-{model}"))
                    outputs += [gr.Plot(elem_id=f"compare-{kind}-{model}", show_label=False,
                                        label=f"{kind} ({MODEL_LABELS[model]})")
                                for kind in KINDS]
                    outputs.append(gr.Markdown("", elem_id=f"compare-prediction-{model}"))
    c.compare_state = gr.State(None)
    c.compare_kw = dict(api_visibility="private", show_progress="minimal",
                        trigger_mode="always_last", **model_kw)
    c.compare_tab, c.compare_outputs = tab, [*outputs, c.compare_state]


def model_chooser() -> gr.Radio:
    """The page's model chooser (#model): Swin-T or Swin V2-T."""
    return gr.Radio([(label, name) for name, label in MODEL_LABELS.items()],
                    value=DEFAULT_MODEL, label="Model", elem_id="model",
                    info="Swin V2 changed the parts drawn here: cosine attention, a position "
                         "bias from a small network, norms after attention. The Compare tab "
                         "shows both on your image.")


def _inputs(c) -> set:
    return {c.named[name] for name in (*SHOWN, "image", "open_tab", "compare")}


# A page-only step before the columns follow a run, a redraw or a click: it fails when the
# tab is not shown (its text is not on screen), and nothing follows a failed step (as
# app.instant.AFTER_PAINT_JS after a duplicate run). The columns' event is queued: four
# loading-status updates a time, each a snapshot of every component an event has touched,
# after every click of the image, for a tab that was not even open (`on_compare` skips then).
SHOWN_JS = ("() => { const t = document.querySelector('#text-compare');"
            " return t && t.offsetParent !== null ? null"
            " : Promise.reject(new Error('the Compare tab is not shown')); }")


def follow(c, event) -> None:
    """After `event` (a run, a redraw, a click): both columns again, when the tab is open."""
    event.success(None, None, None, js=SHOWN_JS, queue=False, api_visibility="private",
                  show_progress="hidden").success(on_compare, _inputs(c), c.compare_outputs,
                                                  **c.compare_kw)


def wire_compare(c, private: dict) -> None:
    """The tab's own events: opened, it records itself as the open tab and draws both columns;
    the page's language redraws them."""
    c.compare_tab.select(lambda: COMPARE_TAB, None, [c.open_tab], **private)
    c.compare_tab.select(on_compare_tab, _inputs(c), c.compare_outputs, **c.compare_kw)
    c.lang_changed.then(on_compare, _inputs(c), c.compare_outputs, **c.compare_kw)
