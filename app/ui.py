"""The page: its panels (`input_panel`, `view_panel`, `figure_tabs`) and the wiring of its
events (`wire_runs`, `wire_settings`, `wire_view`) to the wrappers in `app.events` and the
click path in `app.clicks`.

Layout: the weights notice (when the pretrained weights could not be had); image input +
model settings (presets, budget line) on the left; badge (with the prediction), the clickable
query image and the view controls (stage, pair, block, head, style) on the right; below, tabs
that follow the data's path through the block pair (Windows, Cyclic shift, Masks, Relative
position, Attention, Information flow, Cost, Shapes, Prediction).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from swinviz.figures import KINDS, QUERY_KINDS
from swinviz.weights import checkpoint_folder, offered_checkpoints

from . import clicks, compare, evidence, exports, panel, plotting, session, words
from .address import wire_address
from .clicks import PICK_JS
from .events import (
    RUN_NAMES,
    SAVE_JS,
    SETTLED,
    SHIFT_RANGE,
    SHIFT_TAB,
    SHOWN,
    TABS,
    WINDOW_RANGE,
    after_run,
    model_notice,
    on_budget,
    on_deck,
    on_download,
    on_explore,
    on_image_change,
    on_language,
    on_model,
    on_pair,
    on_preset,
    on_redraw,
    on_rest,
    on_run,
    on_settled,
    on_stage,
    on_tab,
    on_weights,
    on_window,
    settings_key,
    shift_animation_for,
)
from .guard import (
    RECEIVED,
    bound_queue_per_session,
    example_images,
    refuse_bad_inputs,
    trust_examples,
)
from .instant import AFTER_PAINT_JS
from .launch import launch_options, warm_model
from .lesson import language_changed, language_switch, lesson_tab, wire_lesson
from .limits import MODEL_CONCURRENCY, QUEUE_MAX, QUEUE_PER_SESSION
from .session import name_components
from .settings import (
    DEFAULT_EMBED_DIM,
    DEFAULT_HEADS,
    DEFAULT_MODEL,
    DEFAULT_SHIFT,
    DEFAULT_SIZE,
    DEFAULT_WINDOW,
    MAX_SIZE,
    SIZES,
    STAGES,
)
from .state import default_weights_choice, default_weights_source

__all__ = ["build_demo", "launch_options"]

STATE_TTL_S = 1800  # an idle session's exploration is dropped after 30 minutes
DRAW_CONCURRENCY = 4  # redraws and clicks (figures only, no model)
EXPORT_CONCURRENCY = 1  # kaleido starts a browser: one export at a time

# preprocess=False: the uploaded file's path goes to swinviz.image unopened (Gradio's own
# preprocessing would open it with Pillow first and fail on a text file or a
# decompression bomb with an unfriendly message). Gradio still moves the upload into its
# cache and refuses paths outside it; the callbacks parse every raw value themselves.
MODEL_KW = dict(concurrency_id="model", concurrency_limit=MODEL_CONCURRENCY,
                preprocess=False)
# Every event takes the raw values (preprocess=False): Gradio's own checks would refuse
# a pair or head that this session's updated choices offer but the page's first
# choices did not ("Value: 2 is not in the list of choices"), with a traceback in the
# log; the callbacks check every value themselves.
DRAW_KW = dict(concurrency_id="draw", concurrency_limit=DRAW_CONCURRENCY,
               preprocess=False)
PRIVATE = dict(api_visibility="private", queue=False, show_progress="hidden", preprocess=False)
PAGE_RUN = dict(api_visibility="private", trigger_mode="always_last", **MODEL_KW)
SETTLE_KW = dict(trigger_mode="always_last", **PRIVATE)
# queued: Gradio 6.31's page starts a State's change events only after a queued event
# (a direct one's answer does not say which states changed)
SETTLING = dict(trigger_mode="always_last", api_visibility="private",
                show_progress="hidden", preprocess=False, concurrency_id="settle",
                concurrency_limit=None)
EXPORT_KW = dict(api_visibility="private", concurrency_id="export",
                 concurrency_limit=EXPORT_CONCURRENCY, preprocess=False)

FIG_IDS = {kind: f"fig-{kind}" for kind in KINDS}

# --------------------------------------------------------------------------------- the page


def build_demo(warm: bool = True) -> gr.Blocks:
    """The page. warm=True: the default model is built in the background now, so the first
    upload does not wait for it (not on ZeroGPU, where the model lives in the GPU process)."""
    if warm:
        warm_model()
    choice = default_weights_choice()  # decided once per process (seconds at most)
    with gr.Blocks(title="swinviz: Swin Transformer shifted windows",
                   delete_cache=(3600, 3600)) as demo:
        c = SimpleNamespace(view=gr.State(None, time_to_live=STATE_TTL_S))
        gr.Markdown(panel.INTRO)
        c.notice = gr.Markdown(f"**{choice.notice}**" if choice.notice else "",
                               elem_id="weights-notice", visible=bool(choice.notice))
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                input_panel(c, choice)
            with gr.Column(scale=3, min_width=360):
                view_panel(c)
        figure_tabs(c)
        wire_lesson(c, demo)
        wire_runs(c)
        wire_settings(c)
        wire_view(c)
        evidence.wire_evidence(c, **MODEL_KW)
        wire_address(c, demo)
        words.wire_words(demo, c.lang, c.lang_changed.then, skip=(c.badge,), **SETTLE_KW)
        c.lang_changed.then(model_notice, [c.model, c.lang], [c.notice], **SETTLE_KW)  # own words
    demo.queue(default_concurrency_limit=MODEL_CONCURRENCY, max_size=QUEUE_MAX)
    bound_queue_per_session(demo._queue, QUEUE_PER_SESSION)
    RECEIVED.watch(demo)  # the uploads Gradio receives for this page
    refuse_bad_inputs(demo)
    return demo


def input_panel(c: SimpleNamespace, choice) -> None:
    """The left column: the image input, the examples and the model settings (presets, input
    size, weights, window, shift, more, the budget line, the run button)."""
    examples = example_images()
    ckpts = offered_checkpoints()
    default_weights = default_weights_source()
    fixed = default_weights != "random"
    image_in = gr.Image(
        label="Your image (upload, paste or webcam)", type="filepath",
        image_mode=None, sources=["upload", "clipboard", "webcam"],
        elem_id="image-input", height=280,
    )
    if examples:
        trust_examples(gr.Examples(
            examples=[[p] for p in examples], inputs=[image_in],
            label="Example photos (click one)", examples_per_page=8,
            example_labels=[Path(p).stem for p in examples]))
    model = compare.model_chooser()
    with gr.Accordion("Model settings: presets, input size, window, shift, weights",
                      open=False, elem_id="model-settings"):
        gr.Markdown("A change here runs the model again (in a number box: when "
                    "you press Enter or leave the box).", elem_classes="explain")
        preset = gr.Dropdown(
            [(p["label"], name) for name, p in panel.PRESETS.items()],
            value=panel.preset_of(DEFAULT_SIZE, DEFAULT_WINDOW, DEFAULT_SHIFT,
                               default_weights, DEFAULT_EMBED_DIM, DEFAULT_HEADS,
                               DEFAULT_MODEL),
            label="Presets", elem_id="preset",
            info="Sets every model setting at once; the 6x6 example shows "
                 "the tables of docs/concepts.md's worked example (6x6 tokens, "
                 "window 3, shift 1, random weights).",
        )
        size = gr.Dropdown(
            [str(s) for s in SIZES], value=str(DEFAULT_SIZE), allow_custom_value=True,
            label="Input size (pixels)", elem_id="input-size",
            info=f"The image is centre-cropped to a square of this size, a multiple of "
                 f"4 (a token grid that does not split into whole windows is padded), "
                 f"at most {MAX_SIZE}."
        )
        weights = gr.Radio(
            [("pretrained (ImageNet)" if choice.pretrained
              else "pretrained (not available here: see the notice)", "pretrained"),
             ("random (seeded)", "random"), ("checkpoint file", "checkpoint")],
            value=default_weights, label="Weights", elem_id="weights",
            info="Pretrained: what the trained model attends to (its window, width and heads "
                 "are then fixed). Random weights show the mechanics and let every setting "
                 "change.",
        )
        checkpoint = gr.Dropdown(
            [("(choose a file)", "")] + [(n, n) for n in ckpts], value="",
            label="Checkpoint", visible=False,
            info=("Files in the server's checkpoint folder." if checkpoint_folder()
                  else "No checkpoint folder is set up on this server."),
        )
        window = gr.Slider(*WINDOW_RANGE, value=DEFAULT_WINDOW, step=1,
                           label="Window size M (tokens)", interactive=not fixed,
                           elem_id="window",
                           info="Swin-T uses 7 (windows of 7x7 tokens), Swin V2-T 8.")
        shift = gr.Slider(*SHIFT_RANGE, value=DEFAULT_SHIFT, step=1,
                          label="Shift s of the second block (tokens)",
                          interactive=not fixed, elem_id="shift",
                          info="Smaller than the window; Swin uses M // 2.")
        with gr.Accordion("More settings", open=False):
            seed = gr.Number(0, precision=0, minimum=0, label="Seed (random weights)")
            embed_dim = gr.Number(DEFAULT_EMBED_DIM, precision=0, minimum=1,
                                  label="Embedding width C (random weights)",
                                  interactive=not fixed)
            num_heads = gr.Number(DEFAULT_HEADS, precision=0, minimum=1,
                                  label="Heads of stage 1 (doubled per stage; must "
                                        "divide C)", interactive=not fixed)
        budget = gr.Markdown(panel.budget_line(weights=default_weights),
                             elem_id="budget", elem_classes="explain")
        run_btn = gr.Button("Run the model", variant="primary")
    vars(c).update(image_in=image_in, model=model, preset=preset, size=size, weights=weights,
                   checkpoint=checkpoint, window=window, shift=shift, seed=seed,
                   embed_dim=embed_dim, num_heads=num_heads, budget=budget, run_btn=run_btn,
                   default_weights=default_weights)


def view_panel(c: SimpleNamespace) -> None:
    """The right column: the badge, the status line, the clickable image and its caption, the
    view controls (stage, pair, block, head, style) and the downloads."""
    badge = gr.Markdown(panel.badge(None), elem_id="badge", label="badge")
    status = gr.Markdown("", elem_id="status", visible=False)
    run_mark = gr.Textbox("", elem_id="run-mark", label="run", container=False)  # instant.RAN
    link_note = gr.Markdown("", elem_id="link-note", visible=False)
    # the address: a link's query for the first run, and the address the page writes
    link_query = gr.Textbox("", visible=False, label="query from the link")
    link_target = gr.Textbox("", visible=False, label="class from the link")
    address = gr.Textbox("", visible=False, label="address")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=280):
            query_img = gr.Image(
                label="The model's input: click a patch to pick the query",
                interactive=False, format="png", elem_id="query-image",
                buttons=["fullscreen"], height=420,
            )
            query_md = gr.Markdown("", elem_id="query-caption")
        with gr.Column(scale=2, min_width=220):
            stage = gr.Radio([(f"stage {s}", str(s)) for s in STAGES], value="1",
                             label="Stage", elem_id="stage",
                             info="Tokens of 4, 8, 16, 32 px; the model is not "
                                  "run again from scratch.")
            pair = gr.Dropdown(session.pair_choices(1), value="0", label="Block pair",
                               elem_id="pair")
            without = gr.CheckboxGroup(
                [("the shift", "shift"), ("the mask", "mask"), ("the bias", "bias")],
                value=[], label="What if Swin ran without…", elem_id="without",
                info="Left out in every block, same weights: the figures show what breaks; "
                     "the prediction tab compares with Swin as it is.")
            block = gr.Radio(session.block_choices(0), value="1", label="Block", elem_id="block")
            head = gr.Dropdown(session.head_choices(DEFAULT_HEADS), value="0",
                               label="Attention head")
            lang = language_switch()
            template = gr.Radio([("screen", "default"), ("lecture slides", "lecture"),
                                 ("phone", "narrow")],
                                value="default", label="Figure style", elem_id="template",
                                info="Lecture: white background, large fonts. Phone: the "
                                     "panels one above the other (chosen by itself on a "
                                     "narrow screen).")
            dl_btn = gr.Button("Download figures (PNG + SVG, zip)",
                               elem_id="download-button")
            dl_file = gr.DownloadButton("Save again", visible=False, size="sm",
                                        elem_id="download-file")
            deck_btn = gr.Button("Download the lesson's deck (16:9 slides, PPTX, PDF)",
                                 elem_id="deck-button")
            deck_file = gr.DownloadButton("Save again", visible=False, size="sm",
                                          elem_id="deck-file")
            copy_link = gr.Button("Copy a link to this view", size="sm", elem_id="copy-link")
            gr.Markdown(
                "Each figure's camera button (top right of the figure) saves it "
                f"alone as a PNG {plotting.EXPORT_WIDTH} px wide.",
                elem_classes="explain")
    vars(c).update(badge=badge, status=status, run_mark=run_mark, query_img=query_img,
                   query_md=query_md, stage=stage, pair=pair, without=without, block=block,
                   head=head, template=template, lang=lang, lang_changed=language_changed(lang),
                   dl_btn=dl_btn, dl_file=dl_file, deck_btn=deck_btn, deck_file=deck_file,
                   copy_link=copy_link, link_note=link_note, link_query=link_query,
                   link_target=link_target, address=address)


def figure_tabs(c: SimpleNamespace) -> None:
    """The tabs that follow the data's path through the pair (TABS), one gr.Plot a figure, and
    the inputs and outputs the events share: the page's components by name (`c.named`, the
    names of `app.settings.DEFAULTS` and "image", "open_tab", "view"), registered once
    (`session.name_components`) so that an event given a set of them reads its values by
    name."""
    plots: dict[str, gr.Plot] = {}
    open_tab = gr.State(TABS[0][1][0])  # the open tab's first kind
    tab_items = []
    tab_mds = []  # what each tab explains, said for the run shown (`after_run`)
    with gr.Tabs(selected=TABS[0][1][0]):
        lesson_tab(c)
        for title, kinds, text in TABS:
            with gr.Tab(title, id=kinds[0]) as tab_item:
                tab_items.append(tab_item)
                tab_mds.append(gr.Markdown(text, elem_classes="explain",
                                           elem_id=f"text-{kinds[0]}"))
                if kinds[0] == evidence.KIND:  # its class picker, above its figure
                    c.evidence_class = evidence.evidence_picker()
                for kind in kinds:
                    plots[kind] = gr.Plot(elem_id=FIG_IDS[kind], show_label=False,
                                          label=kind)
                if kinds[0] == SHIFT_TAB:
                    shift_anim = gr.Image(  # its frames carry their own titles
                        label="The cyclic shift, animated", show_label=False,
                        interactive=False, format="gif", elem_id="shift-animation",
                        buttons=["download", "fullscreen"])
        compare.compare_tab(c, MODEL_KW)
    vars(c).update(plots=plots, open_tab=open_tab, tab_items=tab_items, tab_mds=tab_mds,
                   shift_anim=shift_anim)
    size, window, shift, weights, checkpoint, seed, embed_dim, num_heads = (
        c.size, c.window, c.shift, c.weights, c.checkpoint, c.seed, c.embed_dim, c.num_heads)
    image_in, stage, pair, block, head, template = (
        c.image_in, c.stage, c.pair, c.block, c.head, c.template)
    query_img, badge, view, status = c.query_img, c.badge, c.view, c.status
    fig_outputs = [plots[k] for k in KINDS]
    named = dict(image=image_in, img_size=size, window_size=window, shift_size=shift,
                 weights=weights, checkpoint=checkpoint, seed=seed, embed_dim=embed_dim,
                 num_heads=num_heads, stage=stage, pair=pair, block=block, head=head,
                 template=template, open_tab=open_tab, view=view, status=status,
                 without=c.without, query=c.link_query, target=c.link_target,
                 lang=c.lesson.lang, model=c.model, compare=c.compare_state)
    name_components(named)
    # the API's inputs, in the order of /explore's parameters (its query comes last)
    api_inputs = [image_in, size, window, shift, weights, checkpoint, block, head, template,
                  seed, embed_dim, num_heads, stage, pair]
    run_outputs = [*fig_outputs, query_img, badge, view]
    ui_outputs = [*run_outputs, status, c.run_mark]
    vars(c).update(fig_outputs=fig_outputs, named=named, api_inputs=api_inputs,
                   run_outputs=run_outputs, ui_outputs=ui_outputs)


def inputs(c: SimpleNamespace, *names: str) -> set:
    """The page's components of these names, as a set: the event gets {component: value}
    (`session.by_name` reads it by name)."""
    return {c.named[name] for name in names}


def then_sync(c: SimpleNamespace, event) -> None:
    """After a page run: the pickers and texts follow the run, the other tabs' figures come,
    and the shift animation when its tab is open."""
    view, head, block, query_md, tab_mds = c.view, c.head, c.block, c.query_md, c.tab_mds
    open_tab, shift_anim = c.open_tab, c.shift_anim
    # first the browser paints the run's figure (instant.AFTER_PAINT_JS says why)
    event = event.success(None, [c.run_mark], None, js=AFTER_PAINT_JS, queue=False,
                          api_visibility="private")
    event.success(after_run, [view, head, block, c.lesson.lang],
                  [head, block, query_md, *tab_mds],
                  **PRIVATE)
    event.success(*c.after_run_lesson, **PRIVATE)
    event.success(lambda: ("", ""), None, [c.link_query, c.link_target],
                  **PRIVATE)  # a link's query and class: used once
    compare.follow(c, event)
    rest = event.success(on_rest, inputs(c, *SHOWN, "open_tab", "status"), c.fig_outputs,
                         api_visibility="private", show_progress="hidden",
                         trigger_mode="always_last", **DRAW_KW)
    # the class picker once the run's evidence is there (it may come with the rest)
    rest.then(evidence.picker, [view], [c.evidence_class], **PRIVATE)
    event.success(shift_animation_for, [view, open_tab], [shift_anim],
                  api_visibility="private", show_progress="hidden",
                  trigger_mode="always_last", **DRAW_KW)


def wire_runs(c: SimpleNamespace) -> None:
    """The API endpoint /explore and the page's model runs (the button, a new image)."""
    api_inputs, run_outputs, ui_outputs = c.api_inputs, c.run_outputs, c.ui_outputs
    run_btn, image_in = c.run_btn, c.image_in
    # The API endpoint: Client(url).predict(handle_file(path), api_name="/explore").
    # It hangs on a hidden button so that its errors are raised to the client, while the
    # page's own runs show them as a message (see on_run). Its query (row,col) is an input
    # of its own: the page picks the query with a click.
    api_btn = gr.Button("explore", visible=False)
    api_query = gr.Textbox("", visible=False, label="query")
    api_without = gr.Textbox("", visible=False, label="without")
    api_target = gr.Textbox("", visible=False, label="target")
    api_model = gr.Textbox("", visible=False, label="model")
    api_btn.click(on_explore, [*api_inputs, api_query, api_without, api_target, api_model],
                  run_outputs,
                  api_name="explore",
                  **MODEL_KW)

    # the same image again: the picked query stays where it was on the image
    then_sync(c, run_btn.click(on_run, inputs(c, *RUN_NAMES, "view"), ui_outputs,
                               api_visibility="private", **MODEL_KW))
    then_sync(c, image_in.change(on_image_change, inputs(c, *RUN_NAMES), ui_outputs,
                                 **PAGE_RUN))


def wire_settings(c: SimpleNamespace) -> None:
    """The settings panel: what a change changes in turn, the settled settings, the budget line
    and the run that follows."""
    size, window, shift, weights, checkpoint, seed, embed_dim, num_heads = (
        c.size, c.window, c.shift, c.weights, c.checkpoint, c.seed, c.embed_dim, c.num_heads)
    stage, pair, block, preset, budget = c.stage, c.pair, c.block, c.preset, c.budget
    settings_inputs, ui_outputs = inputs(c, *SETTLED), c.ui_outputs
    default_weights = c.default_weights
    # A change of a model setting, the stage or the pair: first what it changes in turn (a
    # preset sets every setting, weights reset some, a window its shift, a stage its pair),
    # then `on_settled` reads the complete settings once into `settled`; only its change
    # computes the budget line and runs the model, each one event that reads the settings
    # as they are then (trigger_mode "always_last": one at a time, the last reading the
    # latest). A change event per widget read the others half-way through a preset's
    # updates, and its late answer said that the 6x6 preset "will not run".
    # Sliders: every change (drag, arrow keys, typing into the box; a value typed half-way,
    # below the slider, waits for the rest); number boxes: Enter or leaving the box. A
    # change that leaves the settings as they were (a release after a drag) runs nothing.
    settled = gr.State(settings_key(DEFAULT_SIZE, DEFAULT_WINDOW, DEFAULT_SHIFT,
                                    default_weights, "", 0, DEFAULT_EMBED_DIM,
                                    DEFAULT_HEADS, "1", "0", [], DEFAULT_MODEL))

    def settles(event):
        event.success(on_settled, settings_inputs, [settled, preset], **SETTLING)

    for trig in (size.input, checkpoint.input, shift.input, shift.release, seed.submit,
                 seed.blur, embed_dim.submit, embed_dim.blur, num_heads.submit,
                 num_heads.blur, c.without.input):
        trig(on_settled, settings_inputs, [settled, preset], **SETTLING)
    for trig in (window.input, window.release):
        settles(trig(on_window, [window, shift], [shift], **SETTLE_KW))
    settles(weights.input(on_weights, [weights, c.model],
                          [checkpoint, window, shift, embed_dim, num_heads], **SETTLE_KW))
    # another model: its own settings (and weights notice), then the run
    settles(c.model.input(on_model, [c.model, weights, c.lang],
                          [size, window, shift, weights, embed_dim, num_heads, c.notice],
                          **SETTLE_KW))
    # stage / pair: the cached model explores another pair (no new model)
    settles(stage.input(on_stage, [stage, c.lang], [pair, block], **SETTLE_KW))
    settles(pair.input(on_pair, [pair, c.lang], [block], **SETTLE_KW))
    settles(preset.input(on_preset, [preset, c.lang],
                         [c.model, size, window, shift, weights, embed_dim, num_heads, stage,
                          pair, block], **SETTLE_KW).success(
        on_weights, [weights, c.model], [checkpoint, window, shift, embed_dim, num_heads],
        **SETTLE_KW).success(model_notice, [c.model, c.lang], [c.notice], **SETTLE_KW))
    # what a run with these settings needs (again in a new language), then the run
    for trigger in (settled.change, c.lang_changed.then):
        trigger(on_budget, inputs(c, *SETTLED, "lang"), [budget], **SETTLE_KW)
    then_sync(c, settled.change(on_run, inputs(c, *RUN_NAMES, "view"), ui_outputs,
                                **PAGE_RUN))


def wire_view(c: SimpleNamespace) -> None:
    """The view controls (redraws), the click on the image, the downloads and the tabs."""
    view, block, head, template, query_img, query_md = (
        c.view, c.block, c.head, c.template, c.query_img, c.query_md)
    plots, fig_outputs, open_tab, shift_anim = c.plots, c.fig_outputs, c.open_tab, c.shift_anim
    dl_btn, dl_file, deck_btn, deck_file, tab_items = (
        c.dl_btn, c.dl_file, c.deck_btn, c.deck_file, c.tab_items)
    for trig in (block.input, head.input, template.input):
        redrawn = trig(on_redraw, inputs(c, *SHOWN), [*fig_outputs, query_img],
                       api_visibility="private", trigger_mode="always_last", **DRAW_KW)
        redrawn.success(panel.query_caption, [view, block, c.lang], [query_md], **PRIVATE)
        compare.follow(c, redrawn)
    # the page's language: the figures and the tabs' texts again, in it (no model run); the
    # badge before a run on the page itself (`panel.pre_run_badge_js` says why)
    c.lang_changed.then(on_language, inputs(c, *SHOWN, "stage", "pair"),
                        [*fig_outputs, *c.tab_mds, c.badge, query_md, c.pair, block, head],
                        api_visibility="private", trigger_mode="always_last", **DRAW_KW)
    c.lang_changed.then(None, [c.lang, c.badge], [c.badge], js=panel.pre_run_badge_js(),
                        **PRIVATE)
    # A click: the page redraws the attention figure itself at once (app/instant.js) and
    # says so in its click message (set by PICK_JS); the server learns the query and sends it.
    # With the flow tab open the page asks for the flow figure itself at the click
    # (PAGE_FLOW_PATH) and draws it; where it cannot (no page meta on the figure yet) it draws
    # the JSON text the server sends to `flow_text` (Gradio's Plot would plot twice). A click
    # is a direct request (docs/performance.md); clicks.pick_query_page bounds how many run.
    message = gr.Textbox("", visible=False, label="click message")
    name_components(dict(message=message))
    flow_text = gr.Textbox("", visible=False, label="flow figure for the page")
    picked = query_img.select(clicks.pick_query_page, inputs(c, *SHOWN) | {message},
                              [view, query_img, *[plots[k] for k in QUERY_KINDS], flow_text],
                              api_visibility="private", show_progress="hidden", js=PICK_JS,
                              trigger_mode="always_last", queue=False, preprocess=False)
    picked.success(None, [flow_text], None, queue=False, api_visibility="private",
                   js="(text) => { window.swinviz && window.swinviz.flowFigure(text); }")
    picked.success(panel.query_caption, [view, block, c.lang], [query_md], **PRIVATE)
    compare.follow(c, picked)
    # one click: the zip is made, then the browser saves it (SAVE_JS)
    dl_btn.click(on_download, inputs(c, *SHOWN), [dl_file], **EXPORT_KW).success(
        None, [dl_file], None, queue=False, api_visibility="private", js=SAVE_JS)
    deck_btn.click(on_deck, [view, c.lesson.lang], [deck_file], **EXPORT_KW).success(
        None, [deck_file], None, queue=False, api_visibility="private", js=SAVE_JS)
    for tab_item, (_, kinds, _) in zip(tab_items, TABS, strict=True):
        tab_item.select(on_tab, None, [open_tab], **PRIVATE)
        # the page draws what a click on another tab left for this one (app/instant.js)
        tab_item.select(None, None, None, queue=False, api_visibility="private",
                        js=f"() => {{ window.swinviz && window.swinviz.shown("
                           f"{json.dumps(kinds[0])}); }}")
    compare.wire_compare(c, PRIVATE)
    tab_items[[k[0] for _, k, _ in TABS].index(SHIFT_TAB)].select(
        exports.shift_gif, [view], [shift_anim], api_visibility="private",
        show_progress="minimal", **DRAW_KW)
