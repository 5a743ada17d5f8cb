"""The page: thin gr.Blocks wiring over the functions in `app.callbacks`.

Layout: the weights notice (when the pretrained weights could not be had); image input +
model settings (presets, budget line) on the left; badge (with the prediction), the clickable
query image and the view controls (stage, pair, block, head, style) on the right; below, tabs
that follow the data's path through the block pair (Windows, Cyclic shift, Masks, Relative
position, Attention, Information flow, Cost, Shapes, Prediction).
"""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from swinviz.figures import KINDS, QUERY_KINDS
from swinviz.figures.registry import tab_text, tabs

from . import callbacks as cb
from .guard import (
    RECEIVED,
    RequestLimits,
    bound_queue_per_session,
    example_images,
    refuse_bad_inputs,
    short_validation_error,
    trust_examples,
)
from .instant import page_head
from .limits import (
    MAX_BODY_BYTES,
    MAX_DIRECT,
    MAX_FILE_SIZE,
    MAX_INFLIGHT_BODY_BYTES,
    MAX_SESSIONS,
    MODEL_CONCURRENCY,
    QUEUE_MAX,
    QUEUE_PER_SESSION,
)
from .state import (
    DEFAULT_EMBED_DIM,
    DEFAULT_HEADS,
    DEFAULT_SHIFT,
    DEFAULT_SIZE,
    DEFAULT_WINDOW,
    MAX_SIZE,
    SIZES,
    STAGES,
    checkpoint_dir,
    default_weights_choice,
    default_weights_source,
    list_checkpoints,
    warm_up,
)

STATE_TTL_S = 1800  # an idle session's exploration is dropped after 30 minutes
DRAW_CONCURRENCY = 4  # redraws and clicks (figures only, no model)
EXPORT_CONCURRENCY = 1  # kaleido starts a browser: one export at a time

FIG_IDS = {kind: f"fig-{kind}" for kind in KINDS}
# The select event's inputs as the page sends them, the last one (`drew`) replaced by what the
# page's own click handler redrew (app/instant.js).
PICK_JS = ("(...args) => { args[args.length - 1] = window.swinviz ? window.swinviz.drewFor() "
           ": ''; return args; }")

INTRO = """\
# swinviz · the shifted windows of the Swin Transformer
Upload a photo (or click an example). It is cut into **4x4-pixel patches (tokens)** and run
through a whole Swin-T; the page shows one **pair of blocks** of one **stage** (stage 1, pair 0
first): the pair's **first block** lets each token attend only to the tokens of its own regular
window (W-MSA); its **second block** does the same with the windows **shifted** by a few tokens
(SW-MSA), so information crosses the window borders. Later stages work on coarser tokens (8, 16,
32 px). Every picture is drawn from the model's own tensors. **Click the image on the right** to
pick a query token; the tabs below follow the data's path through the two blocks.
"""

# The tabs, their figures and what they explain: swinviz.figures.registry, numbered here.
TABS: list[tuple[str, tuple[str, ...], str]] = [
    (f"{i} · {tab}", kinds, tab_text(tab)) for i, (tab, kinds) in enumerate(tabs(), start=1)
]

TAB_KINDS = {kinds[0]: kinds for _, kinds, _ in TABS}  # a tab's id (its first kind) -> kinds
TAB_NAMES = [tab for tab, _ in tabs()]  # the registry's names, in the order of TABS

CSS = """
#badge { font-size: 0.95em; }
#weights-notice { border-left: 4px solid #E69F00; background: #fff8e6; padding: 6px 12px;
                  border-radius: 4px; }
#status { border-left: 4px solid #D55E00; background: #fff4ec; padding: 6px 12px;
          border-radius: 4px; }
.explain { font-size: 0.95em; line-height: 1.45; }
#query-image img { image-rendering: pixelated; cursor: crosshair; }
/* the label and the fullscreen button sit in a strip above the clickable image, not over its
   top rows (where they took the clicks meant for those patches) */
#query-image .image-container { padding-top: 30px; }
#query-image label.float { pointer-events: none; }
"""


# ---------------------------------------------------------------------- event wrappers (thin)


def on_explore(image, img_size, window_size, shift_size, weights, checkpoint, block, head,
               template, seed, embed_dim, num_heads, stage, pair, query,
               progress=gr.Progress()):  # noqa: B008
    """The API endpoint /explore: errors are raised (gradio_client turns them into AppError).
    stage (1-4), pair and query ("row,col" on the stage's token grid, empty: the default
    patch) make the same figures as the page's choices and click."""
    return cb.run(image, img_size, window_size, shift_size, weights, checkpoint, block, head,
                  template, seed, embed_dim, num_heads, stage, pair, query, progress=progress)


def status_text(message: str) -> str:
    return (f"**Could not run the model:** {message}\n\n"
            "*The figures below (if any) still show the previous run.*")


def open_kinds(open_tab) -> tuple[str, ...]:
    """The figure kinds of the open tab (named by its first kind; the first tab otherwise)."""
    return TAB_KINDS.get(open_tab, TABS[0][1]) if isinstance(open_tab, str) else TABS[0][1]


def on_run(image, img_size, window_size, shift_size, weights, checkpoint, block, head, template,
           seed, embed_dim, num_heads, stage, pair, open_tab=None, carry=None,
           progress=gr.Progress()):  # noqa: B008
    """The page's model runs: a failure is a message in the page (status line and a toast);
    the figures of the previous run stay as they were, consistent with the badge. Only the open
    tab's figures come with the run; `on_rest` sends the others right after. carry: the
    session's previous run (same image), whose picked query stays on the same spot of the
    image (`cb.carry_query`)."""
    try:
        out = cb.run(image, img_size, window_size, shift_size, weights, checkpoint, block, head,
                     template, seed, embed_dim, num_heads, stage, pair, progress=progress,
                     strict_head=False, pack=True, first=open_kinds(open_tab), carry=carry)
    except gr.Error as exc:
        gr.Warning(exc.message, duration=8)
        return (*[gr.update()] * (len(KINDS) + 3), gr.update(value=status_text(exc.message),
                                                            visible=True))
    return (*out, gr.update(value="", visible=False))


DUPLICATE = "\u200b"  # the hidden status of a run that was the duplicate of one in flight


def on_image_change(image, img_size, window_size, shift_size, weights, checkpoint, block, head,
                    template, seed, embed_dim, num_heads, stage, pair, open_tab=None,
                    request: gr.Request = None, progress=gr.Progress()):  # noqa: B008
    if image is None:  # cleared: empty page, ready for the next image
        return (*[None] * len(KINDS), None, cb.badge(None), None,
                gr.update(value="", visible=False))
    args = (image, img_size, window_size, shift_size, weights, checkpoint, block, head,
            template, seed, embed_dim, num_heads, stage, pair, open_tab)
    # Gradio 6.31's Image fires `change` twice when a new file replaces the shown one: the same
    # run twice at once, each slowing the other; the second one does nothing.
    key = (getattr(request, "session_hash", None) or id(request), repr(args))
    if not cb.IN_FLIGHT.claim(key):
        return (*[gr.skip()] * (len(KINDS) + 3), gr.update(value=DUPLICATE, visible=False))
    try:
        return on_run(*args, progress=progress)
    finally:
        cb.IN_FLIGHT.release(key)


def on_rest(view, block, head, template, open_tab, status):
    """After a page run: the figures of the tabs that are not open (nothing after a failed
    run, which shows its message in `status`, or after a duplicate that did nothing)."""
    if view is None or (isinstance(status, str) and status.strip()) or status == DUPLICATE:
        return tuple(gr.skip() for _ in KINDS)
    return cb.rest(view, block, head, template, first=open_kinds(open_tab))


def on_redraw(view, block, head, template):
    if view is None:
        gr.Info("Upload an image first (or click an example); the figures then follow.")
        return (*[gr.update()] * len(KINDS), gr.update())
    return cb.redraw(view, block, head, template)


def saved(path: str) -> dict:
    """A finished download: the browser saves the zip at once (SAVE_JS, one click on the page's
    button), and a button naming the whole file saves it again."""
    return gr.update(value=path, label=f"Save again: {Path(path).name}", visible=True)


# After a download's event: the browser saves the file the server made (its whole name), as
# gr.DownloadButton's own click does. (A gr.File showed a chip to click a second time, its
# name cut.)
SAVE_JS = "(file) => { window.swinviz && window.swinviz.save(file); }"


def on_download(view, block, head, template, progress=gr.Progress()):  # noqa: B008
    return saved(cb.download(view, block, head, template, progress=progress))


def on_deck(view, block, head, progress=gr.Progress()):  # noqa: B008
    return saved(cb.lecture_deck(view, block, head, progress=progress))


SHIFT_TAB = "shift"  # the tab (by its first kind) that shows the shift animation


def on_tab(evt: gr.SelectData):
    """A tab was opened: remember which (its first kind), for what follows a run."""
    for title, kinds, _ in TABS:
        if evt.value == title:
            return kinds[0]
    return gr.update()


def shift_animation_for(view, open_tab):
    """After a run: the new animation when its tab is open, else none (made when it opens)."""
    return cb.shift_gif(view) if open_tab == SHIFT_TAB else None


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


def on_weights(weights):
    """Weights changed: the checkpoint list, and the settings only random weights may change
    (reset to Swin-T's for pretrained weights or a checkpoint)."""
    names = list_checkpoints()
    ckpt = gr.update(visible=weights == "checkpoint",
                     choices=[("(choose a file)", "")] + [(n, n) for n in names])
    if weights == "random":
        fixed = [gr.update(interactive=True)] * 4
    else:
        fixed = [gr.update(value=v, interactive=False) for v in
                 (DEFAULT_WINDOW, DEFAULT_SHIFT, DEFAULT_EMBED_DIM, DEFAULT_HEADS)]
    return (ckpt, *fixed)


def on_stage(stage):
    """Stage changed: its pairs (pair 0 chosen) and the block labels of pair 0."""
    return (gr.update(choices=cb.pair_choices(stage), value="0"),
            gr.update(choices=cb.block_choices(0)))


def on_pair(pair):
    return gr.update(choices=cb.block_choices(pair))


def on_preset(name):
    """A preset: every model setting at once (then the model runs)."""
    p = cb.PRESETS.get(name if isinstance(name, str) else "")
    if p is None:
        return tuple(gr.update() for _ in range(9))
    weights = p["weights"] or default_weights_source()
    interactive = weights == "random"
    return (gr.update(value=p["img_size"]),
            gr.update(value=p["window_size"], interactive=interactive),
            gr.update(value=p["shift_size"], interactive=interactive),
            gr.update(value=weights),
            gr.update(value=p["embed_dim"], interactive=interactive),
            gr.update(value=p["num_heads"], interactive=interactive),
            gr.update(value=p["stage"]),
            gr.update(choices=cb.pair_choices(p["stage"]), value=p["pair"]),
            gr.update(choices=cb.block_choices(p["pair"])))


def settings_key(*values) -> str:
    """The page's model settings (and stage, pair) as one text: equal for equal settings
    however the widgets send them (7, 7.0 or "7")."""
    def one(v):
        try:
            f = float(v)
        except (TypeError, ValueError, OverflowError):
            return str(v).strip() if v is not None else ""
        return str(int(f)) if f.is_integer() else repr(f)
    return json.dumps([one(v) for v in values])


def on_settled(img_size, window_size, shift_size, weights, checkpoint, seed, embed_dim,
               num_heads, stage, pair):
    """After a change of the settings (and what it changed in turn: a preset sets them all,
    weights reset some): the complete settings, read once, as `settled` (whose change computes
    the budget line and runs the model, only when they differ from the last), and the preset
    they are (none: custom settings)."""
    if not (in_slider(window_size, *WINDOW_RANGE) and in_slider(shift_size, *SHIFT_RANGE)):
        # typed half-way into a slider's box: the rest follows (the box clamps it on leaving)
        return gr.skip(), gr.skip()
    key = settings_key(img_size, window_size, shift_size, weights, checkpoint, seed, embed_dim,
                       num_heads, stage, pair)
    return key, gr.update(value=cb.preset_of(img_size, window_size, shift_size, weights,
                                             embed_dim, num_heads))


def on_budget(*settings) -> str:
    """The budget line of the settled settings."""
    return cb.budget_line(*settings)


def tab_texts(view) -> tuple:
    """Every tab's text, said for the run shown (its stage, grid, windows, shift, padding)."""
    if view is None:
        return tuple(gr.update() for _ in TAB_NAMES)
    exp = view.exp
    return tuple(tab_text(tab, exp) for tab in TAB_NAMES)


def after_run(view, head, block):
    return (cb.sync_heads(view, head), cb.sync_blocks(view), cb.query_caption(view, block),
            *tab_texts(view))


# --------------------------------------------------------------------------------- the page


def build_demo(warm: bool = True) -> gr.Blocks:
    """The page. warm=True: the default model is built in the background now, so the first
    upload does not wait for it (not on ZeroGPU, where the model lives in the GPU process)."""
    if warm and cb._run_model is cb.explore_on_device:
        warm_up()
    examples = example_images()
    ckpts = list_checkpoints()
    choice = default_weights_choice()  # decided once per process (seconds at most)
    default_weights = default_weights_source()
    fixed = default_weights != "random"
    with gr.Blocks(title="swinviz: Swin Transformer shifted windows",
                   delete_cache=(3600, 3600)) as demo:
        view = gr.State(None, time_to_live=STATE_TTL_S)
        gr.Markdown(INTRO)
        gr.Markdown(f"**{choice.notice}**" if choice.notice else "", elem_id="weights-notice",
                    visible=bool(choice.notice))
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
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
                with gr.Accordion("Model settings: presets, input size, window, shift, weights",
                                  open=False, elem_id="model-settings"):
                    gr.Markdown("A change here runs the model again (in a number box: when "
                                "you press Enter or leave the box).", elem_classes="explain")
                    preset = gr.Dropdown(
                        [(p["label"], name) for name, p in cb.PRESETS.items()],
                        value=cb.preset_of(DEFAULT_SIZE, DEFAULT_WINDOW, DEFAULT_SHIFT,
                                           default_weights, DEFAULT_EMBED_DIM, DEFAULT_HEADS),
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
                        [("pretrained Swin-T" if choice.pretrained
                          else "pretrained Swin-T (not available here: see the notice)",
                          "pretrained"),
                         ("random (seeded)", "random"), ("checkpoint file", "checkpoint")],
                        value=default_weights, label="Weights", elem_id="weights",
                        info="Pretrained: what a trained Swin-T attends to (window 7, width 96 "
                             "and 3 heads are then fixed). Random weights show the mechanics "
                             "and let every setting change.",
                    )
                    checkpoint = gr.Dropdown(
                        [("(choose a file)", "")] + [(n, n) for n in ckpts], value="",
                        label="Checkpoint", visible=False,
                        info=("Files in the server's checkpoint folder." if checkpoint_dir()
                              else "No checkpoint folder is set up on this server."),
                    )
                    window = gr.Slider(*WINDOW_RANGE, value=DEFAULT_WINDOW, step=1,
                                       label="Window size M (tokens)", interactive=not fixed,
                                       elem_id="window",
                                       info="Swin uses 7: windows of 7x7 tokens.")
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
                    budget = gr.Markdown(cb.budget_line(weights=default_weights),
                                         elem_id="budget", elem_classes="explain")
                    run_btn = gr.Button("Run the model", variant="primary")
            with gr.Column(scale=3, min_width=360):
                badge = gr.Markdown(cb.badge(None), elem_id="badge", label="badge")
                status = gr.Markdown("", elem_id="status", visible=False)
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
                        pair = gr.Dropdown(cb.pair_choices(1), value="0", label="Block pair",
                                           elem_id="pair")
                        block = gr.Radio(cb.block_choices(0), value="1", label="Block",
                                         elem_id="block")
                        head = gr.Dropdown(cb.head_choices(DEFAULT_HEADS), value="0",
                                           label="Attention head")
                        template = gr.Radio([("screen", "default"), ("lecture slides", "lecture")],
                                            value="default", label="Figure style",
                                            info="Lecture: white background, large fonts.")
                        dl_btn = gr.Button("Download figures (PNG + SVG, zip)",
                                           elem_id="download-button")
                        dl_file = gr.DownloadButton("Save again", visible=False, size="sm",
                                                    elem_id="download-file")
                        deck_btn = gr.Button("Download lecture deck (slides, PDF, animation)",
                                             elem_id="deck-button")
                        deck_file = gr.DownloadButton("Save again", visible=False, size="sm",
                                                      elem_id="deck-file")
                        gr.Markdown(
                            "Each figure's camera button (top right of the figure) saves it "
                            f"alone as a PNG {cb.EXPORT_WIDTH} px wide.", elem_classes="explain")
        plots: dict[str, gr.Plot] = {}
        open_tab = gr.State(TABS[0][1][0])  # the open tab's first kind
        tab_items = []
        tab_mds = []  # what each tab explains, said for the run shown (`after_run`)
        with gr.Tabs():
            for title, kinds, text in TABS:
                with gr.Tab(title, id=kinds[0]) as tab_item:
                    tab_items.append(tab_item)
                    tab_mds.append(gr.Markdown(text, elem_classes="explain",
                                               elem_id=f"text-{kinds[0]}"))
                    for kind in kinds:
                        plots[kind] = gr.Plot(elem_id=FIG_IDS[kind], show_label=False,
                                              label=kind)
                    if kinds[0] == SHIFT_TAB:
                        shift_anim = gr.Image(  # its frames carry their own titles
                            label="The cyclic shift, animated", show_label=False,
                            interactive=False, format="gif", elem_id="shift-animation",
                            buttons=["download", "fullscreen"])

        fig_outputs = [plots[k] for k in KINDS]
        settings_inputs = [size, window, shift, weights, checkpoint, seed, embed_dim, num_heads,
                           stage, pair]
        run_inputs = [image_in, size, window, shift, weights, checkpoint, block, head, template,
                      seed, embed_dim, num_heads, stage, pair]
        run_outputs = [*fig_outputs, query_img, badge, view]
        ui_outputs = [*run_outputs, status]
        # preprocess=False: the uploaded file's path goes to swinviz.image unopened (Gradio's own
        # preprocessing would open it with Pillow first and fail on a text file or a
        # decompression bomb with an unfriendly message). Gradio still moves the upload into its
        # cache and refuses paths outside it; the callbacks parse every raw value themselves.
        model_kw = dict(concurrency_id="model", concurrency_limit=MODEL_CONCURRENCY,
                        preprocess=False)
        # Every event takes the raw values (preprocess=False): Gradio's own checks would refuse
        # a pair or head that this session's updated choices offer but the page's first
        # choices did not ("Value: 2 is not in the list of choices"), with a traceback in the
        # log; the callbacks check every value themselves.
        draw_kw = dict(concurrency_id="draw", concurrency_limit=DRAW_CONCURRENCY,
                       preprocess=False)
        private = dict(api_visibility="private", queue=False, show_progress="hidden",
                       preprocess=False)
        page_run = dict(api_visibility="private", trigger_mode="always_last", **model_kw)

        page_inputs = [*run_inputs, open_tab]

        def then_sync(event):
            event.success(after_run, [view, head, block], [head, block, query_md, *tab_mds],
                          **private)
            event.success(on_rest, [view, block, head, template, open_tab, status], fig_outputs,
                          api_visibility="private", show_progress="hidden",
                          trigger_mode="always_last", **draw_kw)
            event.success(shift_animation_for, [view, open_tab], [shift_anim],
                          api_visibility="private", show_progress="hidden",
                          trigger_mode="always_last", **draw_kw)

        # The API endpoint: Client(url).predict(handle_file(path), api_name="/explore").
        # It hangs on a hidden button so that its errors are raised to the client, while the
        # page's own runs show them as a message (see on_run). Its query (row,col) is an input
        # of its own: the page picks the query with a click.
        api_btn = gr.Button("explore", visible=False)
        api_query = gr.Textbox("", visible=False, label="query")
        api_btn.click(on_explore, [*run_inputs, api_query], run_outputs, api_name="explore",
                      **model_kw)

        # the same image again: the picked query stays where it was on the image
        then_sync(run_btn.click(on_run, [*page_inputs, view], ui_outputs,
                                api_visibility="private", **model_kw))
        then_sync(image_in.change(on_image_change, page_inputs, ui_outputs, **page_run))
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
                                        DEFAULT_HEADS, "1", "0"))
        settle_kw = dict(trigger_mode="always_last", **private)
        # queued: Gradio 6.31's page starts a State's change events only after a queued event
        # (a direct one's answer does not say which states changed)
        settling = dict(trigger_mode="always_last", api_visibility="private",
                        show_progress="hidden", preprocess=False, concurrency_id="settle",
                        concurrency_limit=None)

        def settles(event):
            event.success(on_settled, settings_inputs, [settled, preset], **settling)

        for trig in (size.input, checkpoint.input, shift.input, shift.release, seed.submit,
                     seed.blur, embed_dim.submit, embed_dim.blur, num_heads.submit,
                     num_heads.blur):
            trig(on_settled, settings_inputs, [settled, preset], **settling)
        for trig in (window.input, window.release):
            settles(trig(on_window, [window, shift], [shift], **settle_kw))
        settles(weights.input(on_weights, [weights],
                              [checkpoint, window, shift, embed_dim, num_heads], **settle_kw))
        # stage / pair: the cached model explores another pair (no new model)
        settles(stage.input(on_stage, [stage], [pair, block], **settle_kw))
        settles(pair.input(on_pair, [pair], [block], **settle_kw))
        settles(preset.input(on_preset, [preset],
                             [size, window, shift, weights, embed_dim, num_heads, stage, pair,
                              block], **settle_kw).success(
            on_weights, [weights], [checkpoint, window, shift, embed_dim, num_heads],
            **settle_kw))
        # what a run with these settings needs (arithmetic only), then the run itself
        settled.change(on_budget, settings_inputs, [budget], **settle_kw)
        then_sync(settled.change(on_run, [*page_inputs, view], ui_outputs, **page_run))

        for trig in (block.input, head.input, template.input):
            trig(on_redraw, [view, block, head, template], [*fig_outputs, query_img],
                 api_visibility="private", trigger_mode="always_last", **draw_kw).success(
                cb.query_caption, [view, block], [query_md], **private)
        # A click: the page redraws the attention figure itself at once (app/instant.js) and
        # says so in `drew` (set by PICK_JS); the server learns the query and sends the rest.
        # With the flow tab open the page asks for the flow figure itself at the click
        # (PAGE_FLOW_PATH, below) and draws it on the figure shown; where it cannot (no page
        # meta on the figure yet) it draws the JSON text the server sends to `flow_text`
        # (Gradio's Plot would build a new plot twice).
        # A click is a direct request, not queued (the queue's join and event stream cost
        # about 40 ms); cb.pick_query_page bounds how many run at once (CLICK_CONCURRENCY).
        drew = gr.Textbox("", visible=False, label="drew")
        flow_text = gr.Textbox("", visible=False, label="flow figure for the page")
        picked = query_img.select(cb.pick_query_page, [view, block, head, template, drew],
                                  [view, query_img, *[plots[k] for k in QUERY_KINDS], flow_text],
                                  api_visibility="private", show_progress="hidden", js=PICK_JS,
                                  trigger_mode="always_last", queue=False, preprocess=False)
        picked.success(None, [flow_text], None, queue=False, api_visibility="private",
                       js="(text) => { window.swinviz && window.swinviz.flowFigure(text); }")
        picked.success(cb.query_caption, [view, block], [query_md], **private)
        export_kw = dict(api_visibility="private", concurrency_id="export",
                         concurrency_limit=EXPORT_CONCURRENCY, preprocess=False)
        # one click: the zip is made, then the browser saves it (SAVE_JS)
        dl_btn.click(on_download, [view, block, head, template], [dl_file], **export_kw).success(
            None, [dl_file], None, queue=False, api_visibility="private", js=SAVE_JS)
        deck_btn.click(on_deck, [view, block, head], [deck_file], **export_kw).success(
            None, [deck_file], None, queue=False, api_visibility="private", js=SAVE_JS)
        for tab_item, (_, kinds, _) in zip(tab_items, TABS, strict=True):
            tab_item.select(on_tab, None, [open_tab], **private)
            # the page draws what a click on another tab left for this one (app/instant.js)
            tab_item.select(None, None, None, queue=False, api_visibility="private",
                            js=f"() => {{ window.swinviz && window.swinviz.shown("
                               f"{json.dumps(kinds[0])}); }}")
        tab_items[[k[0] for _, k, _ in TABS].index(SHIFT_TAB)].select(
            cb.shift_gif, [view], [shift_anim], api_visibility="private",
            show_progress="minimal", **draw_kw)
    demo.queue(default_concurrency_limit=MODEL_CONCURRENCY, max_size=QUEUE_MAX)
    bound_queue_per_session(demo._queue, QUEUE_PER_SESSION)
    RECEIVED.watch(demo)  # the uploads Gradio receives for this page
    refuse_bad_inputs(demo)
    return demo


PAGE_FLOW_PATH = "/swinviz/flow"  # app/instant.js asks here for a clicked token's flow figure


async def page_flow_route(request: Request) -> Response:
    """POST PAGE_FLOW_PATH: `cb.page_flow` over HTTP. 200 with the figure's JSON; else a JSON
    {"error": sentence} the page shows: 400 for a bad request, 410 for a run the server no
    longer holds. The body is read only up to its limit; the figure is drawn in a worker
    thread."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > cb.PAGE_FLOW_MAX_BYTES:
            break
    if len(body) > cb.PAGE_FLOW_MAX_BYTES:  # too large: refused as every route refuses it
        return JSONResponse({"error": cb.page_flow_too_long()}, status_code=413)
    try:
        text = await run_in_threadpool(cb.page_flow, body)
    except LookupError as exc:
        return JSONResponse({"error": str(exc)}, status_code=410)
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    except Exception:  # a bug: a sentence for the page, the traceback for the log
        cb.log.exception("page flow request failed")
        return JSONResponse({"error": "The server could not draw this figure; the next click "
                                      "tries again."}, status_code=500)
    return Response(text, media_type="application/json")


def launch_options() -> dict:
    """Keyword arguments for demo.launch shared by app.py and the tests (Gradio 6: theme and css
    are launch options)."""
    return dict(
        max_file_size=MAX_FILE_SIZE,
        state_session_capacity=MAX_SESSIONS,
        theme=gr.themes.Default(primary_hue="blue"),
        css=CSS,
        ssr_mode=False,
        show_error=False,
        footer_links=["api", "gradio"],
        head=page_head(),
        app_kwargs={"routes": [Route(PAGE_FLOW_PATH, page_flow_route, methods=["POST"])],
                    "middleware": [Middleware(
                        RequestLimits, max_body=MAX_BODY_BYTES,
                        max_inflight_body=MAX_INFLIGHT_BODY_BYTES, max_direct=MAX_DIRECT,
                        direct_prefixes=("/gradio_api/run/", PAGE_FLOW_PATH))],
                    "exception_handlers": {RequestValidationError: short_validation_error}},
    )
