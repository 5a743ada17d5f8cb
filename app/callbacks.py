"""What the page's events do, as plain functions (callable and testable without a browser).

All maths and figures come from `swinviz`; this module only parses settings, keeps the session's
`View` (the exploration and the picked query patch), turns figures into what `gr.Plot` shows and
turns every expected failure into a `gr.Error` whose message a person understands (and that
Gradio does not log as a traceback).

Events and what they recompute:
- `run`: image, model settings, stage or pair changed -> the budget check
  (`swinviz.budget.check_budget`), then a model run (the cached model when only the stage or
  pair changed) + all figures;
- `redraw`: block / head / template changed -> the figures from the kept exploration;
- `pick_query_at`: a click on the image -> the query patch, then only the attention and
  information-flow figures;
- `download`: all figures as PNG (1600 px wide) and SVG in one zip;
- `lecture_deck`: the numbered slides, their PDF and the shift animation in one zip;
- `shift_gif`: the cyclic shift of the exploration, animated (the Cyclic shift tab).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
import weakref
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import gradio as gr
import numpy as np
import plotly.graph_objects as go
from gradio.components.plot import PlotData
from PIL import Image, ImageDraw

from swinviz import SettingsError
from swinviz.budget import check_budget, human, request_limit_mb
from swinviz.checkpoints import CheckpointError
from swinviz.config import short
from swinviz.export import WARM, ExportError, export_warm, figure_size
from swinviz.figures import KINDS, QUERY_KINDS, make_figure
from swinviz.image import ImageError

from .guard import RECEIVED, BoundedFolder
from .limits import CLICK_IMAGES_BYTES, MAX_FILE_BYTES
from .state import (
    DEFAULT_EMBED_DIM,
    DEFAULT_HEADS,
    DEFAULT_SHIFT,
    DEFAULT_SIZE,
    DEFAULT_WINDOW,
    EXPLORATIONS,
    FIGURES,
    Held,
    ModelSettings,
    load_cached_model,
    parse_query,
    parse_settings,
    parse_stage_pair,
    release_free_memory,
    slim_exploration,
    text_choice,
    whole,
)

log = logging.getLogger("swinviz.app")

EXPORT_WIDTH = 1600  # slide resolution of the camera button and of the downloaded PNGs
QUERY_IMAGE_MIN = 448  # the clickable image is shown at least this many pixels wide
ALL_HEADS = "all"
TEMPLATES = ("default", "lecture")
EXPORT_ROOT = Path(tempfile.gettempdir()) / "swinviz-app-exports"
EXPORT_KEEP_S = 3600  # downloaded zips are deleted after an hour
CLICK_CONCURRENCY = 4  # the page's clicks drawn at once (figures only, no model)
CLICK_SLOTS = threading.BoundedSemaphore(CLICK_CONCURRENCY)
# ZeroGPU: the seconds a model run may hold the GPU (the whole model at 448 px takes < 10 s)
GPU_DURATION_S = 60
# run_id -> the session's Held, weakly: an entry lives exactly as long as the session keeps that
# run (its gr.State), so the page's direct flow requests (`page_flow`) see only live runs
PAGE_RUNS: weakref.WeakValueDictionary[str, Held] = weakref.WeakValueDictionary()
# Figures whose JSON depends only on the settings (model, stage, pair, selection), never on the
# image or the run's timings: drawn once and shared by all sessions (app.state.FIGURES).
# tests/test_app_callbacks.py checks each is the same for two different images.
SETTINGS_KINDS = ("regions", "relpos", "shapes", "bias")

# Presets of the page's model settings (the accordion): name -> label and values.
PRESETS: dict[str, dict] = {
    "swin-t": dict(label="Swin-T (224 px, window 7, shift 3)", img_size="224", window_size=7,
                   shift_size=3, weights=None, embed_dim=DEFAULT_EMBED_DIM,
                   num_heads=DEFAULT_HEADS, stage="1", pair="0"),
    "6x6": dict(label="the 6x6 example (24 px, window 3, shift 1)", img_size="24",
                window_size=3, shift_size=1, weights="random", embed_dim=DEFAULT_EMBED_DIM,
                num_heads=DEFAULT_HEADS, stage="1", pair="0"),
}


def preset_of(img_size=DEFAULT_SIZE, window_size=DEFAULT_WINDOW, shift_size=DEFAULT_SHIFT,
              weights=None, embed_dim=DEFAULT_EMBED_DIM, num_heads=DEFAULT_HEADS) -> str | None:
    """The name of the preset these model settings are (the Presets box shows it), or None:
    custom settings. A preset's weights None are the page's default weights. The stage and
    pair are what the page shows, not model settings: they are not compared."""
    from .state import default_weights_source

    try:
        mine = (whole("input size", img_size), whole("window size", window_size),
                whole("shift", shift_size), whole("embedding width", embed_dim),
                whole("number of heads", num_heads))
    except SettingsError:
        return None
    for name, p in PRESETS.items():
        theirs = (int(p["img_size"]), p["window_size"], p["shift_size"], p["embed_dim"],
                  p["num_heads"])
        if mine == theirs and weights == (p["weights"] or default_weights_source()):
            return name
    return None


class InFlight:
    """Keys of the requests being served now (thread-safe): `claim` is False while an equal key
    is in flight, so a request sent twice at once is served once."""

    def __init__(self) -> None:
        self._keys: set = set()
        self._lock = threading.Lock()

    def claim(self, key) -> bool:
        with self._lock:
            if key in self._keys:
                return False
            self._keys.add(key)
            return True

    def release(self, key) -> None:
        with self._lock:
            self._keys.discard(key)


IN_FLIGHT = InFlight()


# Errors that mean "bad input or settings": their message is for the user.
EXPECTED = (CheckpointError, ImageError, SettingsError, ValueError)


def user_error(message: str) -> gr.Error:
    """A gr.Error shown in the page (and raised as AppError by gradio_client); no traceback."""
    return gr.Error(message, duration=None, print_exception=False)


# --------------------------------------------------------------------------------- session view


@dataclass
class View:
    """A session's exploration (kept in gr.State) and what is picked on it.

    The exploration sits in a `Held` registered with the byte-bounded store, which may drop it
    when the server needs the memory; `exp` then raises a gr.Error asking for a new run.
    """

    held: Held
    settings: ModelSettings
    query: tuple[int, int] | None = None  # None: the figures' default patch
    run_ms: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    run_id: str = ""  # names this model run in the page's click packs (app.instant)
    spot: tuple[float, float] | None = None  # the image spot a carried query stands for

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


def parse_head(head, num_heads: int, stage: int | None = None) -> int | None:
    """Dropdown value ("all", "0", 1, "head 2") -> head index or None (all heads); the range is
    the explored stage's heads."""
    if head is None or (isinstance(head, str) and head.strip().lower() in (
            "", ALL_HEADS, "all heads", "none")):
        return None
    where = f" (stage {stage} has {num_heads} heads)" if stage is not None else ""
    if isinstance(head, str):
        head = head.strip().lower().removeprefix("head").strip()
    try:
        h = whole("head", head)
    except SettingsError:
        raise SettingsError(f"head must be a whole number from 0 to {num_heads - 1}{where} or "
                            f"'all', got {short(head)}") from None
    if not 0 <= h < num_heads:
        raise SettingsError(f"head must be from 0 to {num_heads - 1}{where} or 'all', got {h}")
    return h


def parse_block(block) -> int:
    """0 (the pair's first block, W-MSA) or 1 (its second block, SW-MSA); anything else
    (0.5, "inf", a list) is a SettingsError."""
    msg = "block must be 0 (the pair's first block, W-MSA) or 1 (its second block, SW-MSA)"
    try:
        b = whole("block", block)
    except SettingsError:
        raise SettingsError(f"{msg}, got {short(block)}") from None
    if b not in (0, 1):
        raise SettingsError(f"{msg}, got {b}")
    return b


def parse_template(template) -> str:
    return text_choice("template", template, TEMPLATES, "default")


def head_choices(num_heads: int) -> list[tuple[str, str]]:
    return [("all heads", ALL_HEADS)] + [(f"head {h}", str(h)) for h in range(num_heads)]


def pair_choices(stage) -> list[tuple[str, str]]:
    """The pairs of a Swin-T stage: ("pair p: blocks 2p, 2p+1", "p"); stage 1's for a stage
    that is not 1-4."""
    from swinviz.config import get_config

    from .state import ARCH

    cfg = get_config(ARCH)
    try:
        s, _ = parse_stage_pair(cfg, stage, 0)
    except SettingsError:
        s = 1
    return [(f"pair {p}: blocks {2 * p}, {2 * p + 1}", str(p))
            for p in range(cfg.depths[s - 1] // 2)]


def block_choices(pair=0, shifted: bool = True) -> list[tuple[str, str]]:
    """The block radio's labels for pair p: the pair's first (2p, W-MSA) and second (2p+1,
    SW-MSA) block; shifted=False says the second block does not shift (one window covers the
    stage's grid)."""
    try:
        p = whole("pair", pair, lo=0)
    except SettingsError:
        p = 0
    second = "SW-MSA" if shifted else "SW-MSA, no shift here: one window"
    return [(f"first block of the pair: block {2 * p} (W-MSA)", "0"),
            (f"second block: block {2 * p + 1} ({second})", "1")]


def sync_blocks(view: View | None):
    """After a run: the block labels name the explored pair's blocks (and a missing shift)."""
    if view is None:
        return gr.update()
    exp = view.exp
    return gr.update(choices=block_choices(exp.pair, shifted=exp.shift_size > 0))


# ------------------------------------------------------------------------------------ figures


def placeholder(kind: str, message: str, template: str = "default") -> go.Figure:
    """A figure that says why the real one is missing (the rest of the page keeps working)."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=16 if template == "default" else 22, color="#555"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=dict(text=f"{kind}: not available"), template="plotly_white",
                      height=300, meta={"placeholder": True, "kind": kind})
    return fig


def figure_or_placeholder(kind: str, exp, *, block: int = 1, head: int | None = 0,
                          query: tuple[int, int] | None = None,
                          template: str = "default") -> go.Figure:
    """make_figure, or a placeholder saying why when it fails (a bug): one broken figure must not
    take the page down."""
    try:
        return make_figure(kind, exp, block=block, head=head, query=query, template=template)
    except Exception as exc:
        log.exception("figure %s failed", kind)
        return placeholder(
            kind, f"This figure could not be drawn ({type(exc).__name__}: {exc}).", template)


def build_figures(view: View, kinds=KINDS, *, block: int = 1, head: int | None = 0,
                  template: str = "default") -> dict[str, go.Figure]:
    """The requested figures; a kind that fails (a bug) becomes a placeholder."""
    exp = view.exp  # outside the try: a dropped exploration is the user's message, not a figure's
    return {kind: figure_or_placeholder(kind, exp, block=block, head=head, query=view.query,
                                        template=template) for kind in kinds}


def build_plots(view: View, kinds=KINDS, *, block: int = 1, head: int | None = 0,
                template: str = "default", pack: bool = False) -> list[PlotData]:
    """What gr.Plot shows for each kind, in order. Figures of SETTINGS_KINDS come from the cache
    shared by all sessions (keyed by the model settings, stage, pair, kind and selection); a kind
    that fails becomes a placeholder (never cached). pack=True: the attention figure carries
    the numbers the page needs to redraw it for any query (`app.instant.attention_pack`, in
    layout.meta["click"]), and the attention and flow figures where the image's tokens are and
    which run they show (`add_page_meta`: the flow figure of another query is asked for by the
    page itself, and a click tells the server its token)."""
    exp = view.exp
    query = resolved_query(view)
    out = []
    for kind in kinds:
        if kind in SETTINGS_KINDS:
            key = (view.settings.cache_key(), exp.stage, exp.pair, kind, block, head, template,
                   query)
            try:
                text = FIGURES.get(key, lambda k=kind: _plot_text(k, make_figure(
                    k, exp, block=block, head=head, query=view.query, template=template)))
                out.append(PlotData(type="plotly", plot=text))
                continue
            except Exception:  # drawn again below, where a failure becomes a placeholder
                pass
        fig = build_figures(view, (kind,), block=block, head=head, template=template)[kind]
        # the lecture template states the query's strongest keys in its note: clicks there go
        # to the server
        if pack and kind == "attention" and template == "default" \
                and not (fig.layout.meta or {}).get("placeholder"):
            add_click_pack(view, fig, block, head)
        if pack and kind in ("attention", "flow"):
            add_page_meta(fig, view.run_id, exp, template)
        out.append(to_plot(kind, fig))
    return out


def add_page_meta(fig: go.Figure, run_id: str, exp, template: str) -> None:
    """A figure's layout.meta["page"] for app/instant.js: the run's name, the template, and
    where the clickable image's tokens are (`instant.click_geometry`). With it the page finds
    the token of a click (`page_token`) and asks `page_flow` for another query's flow figure."""
    from .instant import click_geometry

    if not run_id:
        return
    meta = fig.layout.meta
    fig.layout.meta = {**(meta if isinstance(meta, dict) else {}),
                       "page": {"run": run_id, "template": template, **click_geometry(exp)}}


def add_click_pack(view: View, fig: go.Figure, block: int, head: int | None) -> None:
    """Put the attention figure's click pack into its layout.meta (nothing when none can be
    sent: the page's clicks then go to the server)."""
    from .instant import attention_pack

    try:
        data = attention_pack(view.exp, block, head, resolved_query(view), key=view.run_id)
    except Exception:  # the pack is a speed-up, never a reason to fail
        log.exception("click pack failed")
        return
    if data is not None:
        meta = fig.layout.meta
        fig.layout.meta = {**(meta if isinstance(meta, dict) else {}), "click": data}


def plot_config(kind: str, fig: go.Figure) -> dict:
    """Plotly config for gr.Plot: the camera button saves a PNG at slide resolution.

    Gradio 6.31's Plot passes the JSON's "config" to Plotly.react (checked in its frontend), so
    `toImageButtonOptions` works: the figure keeps its designed layout size and is scaled up to
    EXPORT_WIDTH pixels wide.
    """
    width, height = figure_size(fig)  # the size the download uses, too
    return {
        "displaylogo": False,
        "toImageButtonOptions": {
            "format": "png", "filename": f"swinviz-{kind}", "width": int(width),
            "height": int(height), "scale": EXPORT_WIDTH / float(width),
        },
    }


def _plot_text(kind: str, fig: go.Figure) -> str:
    text = fig.to_json()
    assert text.endswith("}")
    return text[:-1] + ',"config":' + json.dumps(plot_config(kind, fig)) + "}"


def to_plot(kind: str, fig: go.Figure) -> PlotData:
    """A figure as gr.Plot's payload, with the Plotly config attached."""
    return PlotData(type="plotly", plot=_plot_text(kind, fig))


# ------------------------------------------------------------------------- the clickable image


def display_scale(image: Image.Image) -> int:
    """Integer up-scaling of the model's image in the page (crisp patches, exact click maths)."""
    return max(1, math.ceil(QUERY_IMAGE_MIN / max(image.size)))


def resolved_query(view: View) -> tuple[int, int]:
    """The query patch the figures use (the figures' own default when none was picked)."""
    from swinviz.figures import Selection

    return Selection(query=view.query).resolved(view.exp).query


def query_window(view: View, block: int, query: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the tokens in the same window as the query in `block` (original positions),
    from the library's own window assignment (the order of the trace's windows)."""
    from swinviz.windows import window_of_token

    H, W = view.grid
    tr = view.exp.traces[block]
    win = window_of_token(H, W, tr.window_size, tr.shift_size)[..., 0]  # (H, W) window index
    return (win == win[query]).numpy()


def _outline_segments(inside: np.ndarray, p: int) -> list[tuple[int, int, int, int]]:
    """Pixel segments (x0, y0, x1, y1) along the border of a token mask (no wrap-around)."""
    H, W = inside.shape
    pad = np.pad(inside, 1)
    segs = []
    for r, c in zip(*np.nonzero(inside), strict=True):
        x0, y0, x1, y1 = c * p, r * p, (c + 1) * p, (r + 1) * p
        if not pad[r, c + 1]:  # above
            segs.append((x0, y0, x1, y0))
        if not pad[r + 2, c + 1]:  # below
            segs.append((x0, y1, x1, y1))
        if not pad[r + 1, c]:  # left
            segs.append((x0, y0, x0, y1))
        if not pad[r + 1, c + 2]:  # right
            segs.append((x1, y0, x1, y1))
    return segs


def query_image(view: View | None, block: int = 1) -> Image.Image | None:
    """The model's image, enlarged, with the query patch marked (yellow square in a ring) and
    its window in `block` outlined in that block's colour; the rest is dimmed."""
    if view is None:
        return None
    from swinviz.figures.style import BLOCK_COLORS, QUERY_COLOR

    img = view.exp.image.convert("RGB")
    k = display_scale(img)
    p = view.exp.patch_size * k
    big = img.resize((img.width * k, img.height * k), Image.Resampling.NEAREST)
    r, c = resolved_query(view)
    try:
        inside = query_window(view, block, (r, c))
    except Exception:  # the highlight is a help, never a reason to fail
        log.exception("query window highlight failed")
        inside = None
    arr = np.asarray(big).astype(np.float32)
    if inside is not None:
        # a merge pads an odd grid: the last tokens may reach past the image's edge
        outside = np.kron(~inside, np.ones((p, p), dtype=bool))[:arr.shape[0], :arr.shape[1]]
        arr[outside] = arr[outside] * 0.5 + 0.5 * 190  # wash out what the query cannot see
    out = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(out)
    lw = max(2, min(k, 5))
    if inside is not None:
        for seg in _outline_segments(inside, p):
            draw.line(seg, fill=BLOCK_COLORS[block], width=lw)
    x0, y0 = c * p, r * p
    # the ring finds a small token; around a large one (later stages) it stays close
    cx, cy, rad = x0 + p / 2, y0 + p / 2, p / 2 + min(1.7 * p + 4, 24)
    draw.ellipse([cx - rad, cy - rad, cx + rad, cy + rad], outline="black", width=lw + 2)
    draw.ellipse([cx - rad + 1, cy - rad + 1, cx + rad - 1, cy + rad - 1], outline=QUERY_COLOR,
                 width=lw)
    draw.rectangle([x0 - lw, y0 - lw, x0 + p + lw - 1, y0 + p + lw - 1], outline="black", width=lw)
    draw.rectangle([x0, y0, x0 + p - 1, y0 + p - 1], outline=QUERY_COLOR, width=lw)
    return out


def token_at(spot: tuple[float, float], img_size: int, grid: tuple[int, int],
             patch_px: int) -> tuple[int, int]:
    """The token of a grid (`patch_px` pixels a token on an `img_size` input) that covers a
    spot of the image (row, column as fractions of its side), clipped to the grid."""
    r, c = (min(max(int(f * img_size // patch_px), 0), n - 1)
            for f, n in zip(spot, grid, strict=True))
    return r, c


def query_spot(view: View | None) -> tuple[float, float] | None:
    """Where on the image the query picked on `view` stands (row, column as fractions of its
    side): the spot it was carried from while the query is still that spot's token (so that
    going through a coarser stage and back loses nothing), else the centre of its token. None
    when nothing was picked (the figures' default patch) or the run is gone."""
    exp = view.held.exp if isinstance(view, View) else None
    if exp is None or view.query is None:
        return None
    size, p = view.settings.img_size, exp.patch_size
    if view.spot is not None and token_at(view.spot, size, exp.grid, p) == tuple(view.query):
        return view.spot
    r, c = ((q + 0.5) * p / size for q in view.query)
    return r, c


def carry_query(view: View | None, img_size: int, grid: tuple[int, int],
                patch_px: int) -> tuple[int, int] | None:
    """The query picked on `view`, moved to another token grid of the same image (another
    stage, or another input size: the same square of the photo): the token that covers the same
    spot (`query_spot`). None when nothing was picked or the run is gone."""
    spot = query_spot(view)
    return None if spot is None else token_at(spot, img_size, grid, patch_px)


def click_to_token(view: View, x: float, y: float) -> tuple[int, int]:
    """Pixel (x, y) of the displayed (enlarged) image -> token (row, col)."""
    k = display_scale(view.exp.image)
    p = view.exp.patch_size * k
    H, W = view.grid
    r = min(max(int(y // p), 0), H - 1)
    c = min(max(int(x // p), 0), W - 1)
    return r, c


# ---------------------------------------------------------------------------------- the badge


def prediction_text(exp) -> str:
    """The top-5 classes as one markdown line; says when they mean nothing (random weights)."""
    top5 = getattr(exp, "top5", None)
    if not top5:
        return ""
    classes = " · ".join(f"{name} {100 * p:.1f}%" for _, name, p in top5)
    line = f"**Prediction (top 5):** {classes}"
    if not getattr(exp, "pretrained", False):
        line += " *(meaningless with random weights)*"
    return line


def badge(view: View | None) -> str:
    """Stage and pair, device, weights in use, token grid, windows, shift (and fact 2), heads,
    the model run's time, the prediction."""
    if view is None:
        return "Upload an image (or click an example) to run the model."
    exp, st = view.exp, view.settings
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    nW = exp.num_windows
    b0, b1 = exp.blocks
    windows = "1 window" if nW == 1 else f"{nW} windows"
    shift = "no shift" if s == 0 else f"shift {s}"
    parts = [
        f"**Stage {exp.stage}, pair {exp.pair}** (blocks {b0} and {b1})",
        f"**Tokens:** {H}x{W} ({exp.patch_size}x{exp.patch_size} px each, "
        f"{st.img_size}x{st.img_size} px input)",
        f"**Windows:** {windows} of {M}x{M}, {shift}",
        f"**Heads:** {exp.num_heads} x {exp.embed_dim // exp.num_heads} channels",
        f"**Weights:** {exp.weights}",
        f"**Device:** {exp.device}",
        f"**Model run:** {view.run_ms:.0f} ms",
    ]
    line = " · ".join(parts)
    if nW == 1 and s == 0:
        Mr, _ = st.requested
        why = (f"The window you asked for ({Mr}x{Mr}) covers the whole {H}x{W} token grid"
               if exp.stage == 1 and st.capped else
               f"One {M}x{M} window covers the whole {H}x{W} token grid of stage {exp.stage}")
        line += (f"\n\n*{why}, so both blocks use that one window and neither shifts "
                 f"(docs/concepts.md, fact 2): nothing needs shifting when one window already "
                 f"sees everything, as at stage 4 of Swin-T at 224 px.*")
    pred = prediction_text(exp)
    if pred:
        line += "\n\n" + pred
    return line


def budget_line(img_size=DEFAULT_SIZE, window_size=DEFAULT_WINDOW, shift_size=DEFAULT_SHIFT,
                weights=None, checkpoint=None, seed=0, embed_dim=DEFAULT_EMBED_DIM,
                num_heads=DEFAULT_HEADS, stage=1, pair=0) -> str:
    """One line for the settings panel: what a run with these settings needs against the
    per-request limit, or why it will not run (the same sentence the run would give)."""
    try:
        settings = parse_settings(img_size, window_size, shift_size, weights, checkpoint, seed,
                                  embed_dim, num_heads)
        cfg = settings.config()
        s, p = parse_stage_pair(cfg, stage, pair)
        est = check_budget(cfg, s, p)
    except EXPECTED as exc:
        return f"**These settings will not run:** {sentence(str(exc))}"
    return (f"This run needs about {human(est.total)} of the {request_limit_mb():g} MB each "
            f"request may use; its figures send about {human(est.payload)}.")


def sentence(text: str) -> str:
    """`text` ending in exactly one full stop (or its own "?" / "!"): a message that already
    ends a sentence gets no second one."""
    text = text.strip().rstrip(".").rstrip()
    return text if text.endswith(("?", "!")) else text + "."


# ------------------------------------------------------------------------------------- events


def exploration_to_cpu(exp):
    """Every tensor of an Exploration on the CPU (a CUDA tensor returned from a ZeroGPU function
    hangs the main process); a no-op for one that is already there."""
    import torch

    def cpu(t):
        return t.cpu() if isinstance(t, torch.Tensor) and t.device.type not in ("cpu", "meta") \
            else t

    exp.pixels, exp.tokens, exp.output = cpu(exp.pixels), cpu(exp.tokens), cpu(exp.output)
    exp.logits = cpu(exp.logits)
    exp.traces = [replace(t, **{k: cpu(v) for k, v in vars(t).items()
                                if isinstance(v, torch.Tensor)}) for t in exp.traces]
    exp.chain = [replace(b, attn=cpu(b.attn)) for b in exp.chain]
    return exp


def explore_on_device(settings: ModelSettings, image, stage: int = 1, pair: int = 0):
    """The only model call: plain, picklable arguments in (settings, the image as a path, bytes,
    PIL image or array, stage, pair), a CPU Exploration out.

    On a Hugging Face Space with ZeroGPU this runs in another process with a GPU borrowed for
    GPU_DURATION_S seconds (`spaces.GPU`): the model is loaded there on first use (and kept in
    that process's cache), nothing is compiled, and everything returned is on the CPU.
    """
    model = load_cached_model(settings, device="auto")
    return exploration_to_cpu(model.explore(image, stage=stage, pair=pair))


_run_model = explore_on_device
try:  # ZeroGPU on Hugging Face Spaces: borrow a GPU for the model call only
    import spaces  # type: ignore[import-not-found]

    _run_model = spaces.GPU(duration=GPU_DURATION_S)(explore_on_device)
except ImportError:
    pass


def image_source(image):
    """What the page or the API hands over -> something `swinviz.image` opens.

    A path names the image: Gradio's raw payload (events run with preprocess=False) is a dict
    with the cached upload's "path"; callers in this process may pass a path as text. A path
    is opened only when this server received that file as an upload or ships it as an example,
    and only when it is a regular file (`app.guard.RECEIVED`); any other path is refused with
    the same sentence, before the disk is looked at. A payload's "url" holding a data: URI
    (pasted images in some browsers) is decoded to bytes here, refused before decoding when
    over the upload limit (SWINVIZ_MAX_FILE_SIZE). Bytes, a PIL image or an array (callers in
    this process) pass through; anything else (a number, a list) is a gr.Error.
    """
    from swinviz.image import decode_data_uri

    if isinstance(image, dict) or hasattr(image, "model_dump"):
        data = image if isinstance(image, dict) else image.model_dump()
        path = data.get("path")
        if path:
            if not isinstance(path, (str, os.PathLike)):
                raise user_error(f"The image's path must be text, got {short(path)}.")
            return _received(path)
        url = data.get("url") or ""
        if isinstance(url, str) and url.startswith("data:"):
            try:
                return decode_data_uri(url, MAX_FILE_BYTES)
            except ImageError as exc:
                raise user_error(str(exc)) from None
        return None
    if isinstance(image, (str, os.PathLike)):
        return _received(image) if str(image) else None
    if image is None or isinstance(image, (bytes, Image.Image, np.ndarray)):
        return image
    raise user_error(f"The image must be an uploaded file, got {short(image)}.")


def _received(path) -> str:
    try:
        return RECEIVED.open_path(path)
    except ValueError as exc:
        raise user_error(str(exc)) from None


def explore_image(image, settings: ModelSettings, progress=None, *, stage: int = 1,
                  pair: int = 0) -> View:
    """Image + settings -> View (model run); expected failures become gr.Error."""
    image = image_source(image)
    if image is None:
        raise user_error("Upload an image first (or click one of the examples).")
    release_free_memory()
    if progress is not None:
        progress(0.1, desc="Loading the model")
    t0 = time.perf_counter()
    try:
        exp = _run_model(settings, image, stage, pair)
    except EXPECTED as exc:
        raise user_error(_message(exc)) from None
    except MemoryError:
        raise user_error("The server ran out of memory for this image; try a smaller input size."
                         ) from None
    except Exception as exc:
        log.exception("model run failed")
        raise user_error(f"The model run failed ({type(exc).__name__}: {exc}).") from None
    held = EXPLORATIONS.admit(Held(slim_exploration(exp)))
    run_id = uuid.uuid4().hex  # 128 random bits: the page's name for this run (PAGE_RUNS)
    PAGE_RUNS[run_id] = held
    return View(held=held, settings=settings, run_ms=(time.perf_counter() - t0) * 1e3,
                timings=dict(getattr(exp, "timings_ms", {}) or {}), run_id=run_id)


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[0].upper() + text[1:]


def _view_settings(view: View | None, block, head, template) -> tuple[int, int | None, str]:
    try:
        b = parse_block(block)
        h = (parse_head(head, view.exp.num_heads, view.exp.stage) if view is not None
             else head)
        t = parse_template(template)
    except SettingsError as exc:
        raise user_error(_message(exc)) from None
    return b, h, t


def check_request(img_size=DEFAULT_SIZE, window_size=DEFAULT_WINDOW, shift_size=DEFAULT_SHIFT,
                  weights=None, checkpoint=None, seed=0, embed_dim=DEFAULT_EMBED_DIM,
                  num_heads=DEFAULT_HEADS, stage=1, pair=0):
    """Every model setting checked before any work, the budget included:
    (ModelSettings, stage, pair, swinviz.budget.Estimate); a gr.Error with the sentence
    otherwise."""
    try:
        settings = parse_settings(img_size, window_size, shift_size, weights, checkpoint, seed,
                                  embed_dim, num_heads)
        cfg = settings.config()
        s, p = parse_stage_pair(cfg, stage, pair)
        est = check_budget(cfg, s, p)
    except EXPECTED as exc:
        raise user_error(_message(exc)) from None
    return settings, s, p, est


def run(image, img_size=DEFAULT_SIZE, window_size=DEFAULT_WINDOW, shift_size=DEFAULT_SHIFT,
        weights=None, checkpoint=None, block=1, head="0", template="default", seed=0,
        embed_dim=DEFAULT_EMBED_DIM, num_heads=DEFAULT_HEADS, stage=1, pair=0, query=None,
        progress=None, strict_head=True, pack=False, first=None, carry=None):
    """Model run + all figures.

    stage (1-4) and pair (0..pairs-1) choose the traced block pair; query ("r,c", [r, c] or
    None) the query patch on that stage's token grid. Every setting is checked first, the
    per-request budget included (swinviz.budget), so a refused run costs nothing.
    Returns (PlotData per kind in KINDS order, clickable image, badge markdown, View).
    strict_head=False (the page): a head beyond the stage's heads falls back to head 0 (the head
    picker is updated after the run); True (the API): it is an error. pack=True (the page): the
    attention figure carries its click pack (`app.instant`). first (the page): draw only these
    kinds (the open tab's); the others are gr.skip() and `rest` draws them next.
    carry (the page): its previous View; without a `query`, the query picked there stays on
    the same spot of the image (`carry_query`), on this run's stage and input size.
    """
    settings, s, p, _ = check_request(img_size, window_size, shift_size, weights, checkpoint,
                                      seed, embed_dim, num_heads, stage, pair)
    cfg = settings.config()
    geo = cfg.stage(s)
    b, _, t = _view_settings(None, block, None, template)
    try:
        q = parse_query(query, geo.grid)
        spot = query_spot(carry) if q is None else None
        if spot is not None:  # the query picked before, on the same spot of the image
            q = token_at(spot, settings.img_size, geo.grid, geo.patch_px)
        h = parse_head(head, geo.num_heads, s)
    except SettingsError as exc:
        if strict_head or not _beyond_heads(head, geo.num_heads):
            raise user_error(_message(exc)) from None
        gr.Warning(f"There is no head {head} in stage {s} ({geo.num_heads} heads); "
                   f"showing head 0.")
        h = 0
    view = explore_image(image, settings, progress, stage=s, pair=p)
    view = replace(view, query=q, spot=spot)
    if progress is not None:
        progress(0.6, desc="Drawing the figures")
    if first is None:
        plots = build_plots(view, block=b, head=h, template=t, pack=pack)
    else:  # the open tab's figures now; `rest` draws the others
        todo = [k for k in KINDS if k in first]
        drawn = dict(zip(todo, build_plots(view, todo, block=b, head=h, template=t, pack=pack),
                         strict=True))
        plots = [drawn.get(k, gr.skip()) for k in KINDS]
    view.held.refresh()  # the figures' caches on the exploration count too
    return (*plots, query_image(view, b), badge(view), view)


def rest(view: View | None, block=1, head="0", template="default", first=(), pack=True):
    """After a page run that drew only the open tab's figures (`run(first=...)`): the other
    figures (gr.skip() for those in `first`), in KINDS order."""
    if view is None:
        return tuple(gr.skip() for _ in KINDS)
    b, h, t = _view_settings(view, block, head, template)
    todo = [k for k in KINDS if k not in first]
    drawn = dict(zip(todo, build_plots(view, todo, block=b, head=h, template=t, pack=pack),
                     strict=True))
    view.held.refresh()
    return tuple(drawn.get(k, gr.skip()) for k in KINDS)


def _beyond_heads(head, num_heads: int) -> bool:
    """True for a head number that is valid but beyond this stage's heads (the page keeps the
    last stage's head picked while a new stage runs)."""
    try:
        return parse_head(head, 10**6) is not None and parse_head(head, 10**6) >= num_heads
    except SettingsError:
        return False


def redraw(view: View | None, block=1, head="0", template="default"):
    """Block / head / template changed: the figures again, no model run."""
    if view is None:
        return (*[None] * len(KINDS), None)
    b, h, t = _view_settings(view, block, head, template)
    plots = build_plots(view, block=b, head=h, template=t, pack=True)
    return (*plots, query_image(view, b))


def _coordinate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise user_error(f"The click's {name} must be a number of pixels, got {short(value)}.")
    try:
        f = float(value)
    except ValueError:
        raise user_error(f"The click's {name} must be a number of pixels, got {short(value)}."
                         ) from None
    if not math.isfinite(f):
        raise user_error(f"The click's {name} must be a finite number of pixels, got "
                         f"{short(value)}.")
    return f


def pick_query_at(view: View | None, x: float, y: float, block=1, head="0",
                  template="default"):
    """A click at (x, y) on the displayed image: new query patch, then attention + flow only.

    Returns (View, clickable image, PlotData per kind in QUERY_KINDS).
    """
    if view is None:
        raise user_error("Upload an image first; then click it to pick a patch.")
    fx, fy = _coordinate("x", x), _coordinate("y", y)
    b, h, t = _view_settings(view, block, head, template)
    view = replace(view, query=click_to_token(view, fx, fy))
    plots = build_plots(view, QUERY_KINDS, block=b, head=h, template=t)
    return (view, query_image(view, b), *plots)


_CLICK_IMAGES: BoundedFolder | None = None


def click_images() -> BoundedFolder:
    """The folder of the clicks' images (in Gradio's cache, which Gradio serves as it is),
    bounded by bytes (SWINVIZ_CLICK_IMAGES_MB): a click writes a new file (a new name, so the
    browser never shows a cached older one) and the oldest go."""
    global _CLICK_IMAGES
    if _CLICK_IMAGES is None:
        from gradio.utils import get_upload_folder

        _CLICK_IMAGES = BoundedFolder(Path(get_upload_folder()) / "swinviz-query",
                                      CLICK_IMAGES_BYTES)
    return _CLICK_IMAGES


def query_image_file(view: View, block: int = 1) -> str:
    """`query_image` written as a PNG into `click_images()`. zlib level 1: a 448 px image is
    written in a few ms, against gr.Image's own PNG of a PIL image (level 6, then hashed)."""
    image = query_image(view, block)
    path = click_images().write(lambda p: image.save(p, format="PNG", compress_level=1))
    return str(path)


def _click_index(evt) -> tuple:
    index = getattr(evt, "index", None)
    if not isinstance(index, (list, tuple)) or len(index) != 2:
        raise user_error(f"Click on the image to pick a patch (the click's position should be "
                         f"[x, y], got {short(index)}).")
    return index[0], index[1]


def pick_query(view: View | None, block, head, template, evt: gr.SelectData):
    """gr.Image.select handler: evt.index is [x, y] in the displayed image's pixels."""
    return pick_query_at(view, *_click_index(evt), block, head, template)


def _drew_parts(drew) -> list[str]:
    """`drew` as the page sends it: "run_id:block:head:row:col" (or "") for the attention
    figure, then flags: "|flow" when the information-flow figure is open and the page draws it,
    "|flowpage" when the page asked for it itself, "|at:run_id:row:col" the click's token."""
    return drew.split("|") if isinstance(drew, str) else [""]


def page_drew(view: View, drew, block: int, head: int | None, query: tuple[int, int]) -> bool:
    """True when the page says it redrew the attention figure itself (app/instant.js) for this
    run, block, head and query: "run_id:block:head:row:col" (head "all" for the mean)."""
    if not isinstance(drew, str) or not view.run_id:
        return False
    want = [view.run_id, str(block), "all" if head is None else str(head), str(query[0]),
            str(query[1])]
    return _drew_parts(drew)[0].split(":") == want


def page_draws_flow(drew) -> bool:
    """True when the page says it draws the information-flow figure itself from the figure's
    JSON (its tab is open): Gradio's Plot would build a new plot, twice, for every click."""
    return "flow" in _drew_parts(drew)[1:]


def page_fetches_flow(drew) -> bool:
    """True when the page says it asked `page_flow` for this click's flow figure itself
    ("flowpage"): the click's answer then leaves that figure out."""
    return "flowpage" in _drew_parts(drew)[1:]


def page_token(view: View, drew) -> tuple[int, int] | None:
    """The token the page found for the click ("|at:run:row:col" in `drew`, see app/instant.js
    `pageAt`) when it names this session's run and lies on its token grid; else None, and the
    click's coordinates decide. The page's token wins because Gradio may send a click held back
    behind a running one (trigger_mode "always_last") with an earlier click's coordinates, while
    `drew` is always the page's latest."""
    for part in _drew_parts(drew)[1:]:
        bits = part.split(":")
        if len(bits) != 4 or bits[0] != "at" or not view.run_id or bits[1] != view.run_id:
            continue
        try:
            r, c = int(bits[2]), int(bits[3])
        except ValueError:
            return None
        H, W = view.exp.grid
        return (r, c) if 0 <= r < H and 0 <= c < W else None
    return None


def pick_query_page(view: View | None, block, head, template, drew,
                    evt: gr.SelectData):
    """The page's click: like `pick_query`, but when the page already redrew the attention
    figure for the same query (`drew`, see `page_drew`) it is not sent again (gr.skip()): the
    server only learns the query and sends the marked image and the information-flow figure;
    when the page draws the flow figure itself (`page_draws_flow`), that figure goes as gr.Plot's
    JSON text to the last output (for app/instant.js's `Plotly.react` on the figure shown) and
    its Plot gets gr.skip(); else that output is "". When the page fetched the flow figure
    itself (`page_fetches_flow`, from `page_flow`) it is not drawn here at all.
    Returns (View, clickable image, one output per kind in QUERY_KINDS, the flow text)."""
    if view is None:
        raise user_error("Upload an image first; then click it to pick a patch.")
    x, y = _click_index(evt)
    fx, fy = _coordinate("x", x), _coordinate("y", y)
    b, h, t = _view_settings(view, block, head, template)
    view = replace(view, query=page_token(view, drew) or click_to_token(view, fx, fy))
    with CLICK_SLOTS:  # the page's clicks skip Gradio's queue: at most this many at once
        return _page_click(view, b, h, t, drew)


def _page_click(view: View, b: int, h: int | None, t: str, drew):
    skip = {"attention"} if page_drew(view, drew, b, h, view.query) else set()
    if page_fetches_flow(drew):
        skip.add("flow")
    todo = [k for k in QUERY_KINDS if k not in skip]
    plots = dict(zip(todo, build_plots(view, todo, block=b, head=h, template=t, pack=True),
                     strict=True))
    flow_text = ""
    if page_draws_flow(drew) and "flow" in plots:
        flow_text = plots.pop("flow").plot
    return (view, query_image_file(view, b), *[plots.get(k, gr.skip()) for k in QUERY_KINDS],
            flow_text)


PAGE_FLOW_MAX_BYTES = 2048  # a page_flow request is a few short fields


def page_flow_too_long() -> str:
    return (f"A flow request is a few short fields (at most {PAGE_FLOW_MAX_BYTES} bytes); this "
            f"one is longer.")


def page_flow(body: bytes) -> str:
    """The page's own request for the information-flow figure of a clicked token, sent at the
    click itself (app/instant.js), beside Gradio's event for the click, which then leaves that
    figure out: the page draws it about 100 ms sooner than through Gradio's answer and its
    status updates.

    body: JSON {"run": the run's name from the flow figure's layout.meta["page"], "row": r,
    "col": c, "template": "default" | "lecture"}. Returns the figure as gr.Plot's JSON text (as
    the click's flow text). A run the server no longer holds (the session ended, or its
    exploration was dropped to free memory) is a LookupError, anything else wrong a ValueError,
    each with the sentence the page shows. At most CLICK_CONCURRENCY figures are drawn at once,
    clicks through Gradio included.
    """
    if len(body) > PAGE_FLOW_MAX_BYTES:
        raise ValueError(page_flow_too_long())
    try:
        req = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nesting: no flat object
        req = None
    if not isinstance(req, dict):
        raise ValueError('A flow request is JSON like {"run": ..., "row": 3, "col": 5, '
                         '"template": "default"}.')
    run = req.get("run")
    if not isinstance(run, str) or len(run) > 64:
        raise ValueError("A flow request names its run with the text the figure carries "
                         "(layout.meta.page.run).")
    held = PAGE_RUNS.get(run)
    exp = held.exp if held is not None else None
    if exp is None:
        raise LookupError("This page's model run is no longer on the server (the session ended "
                          "or it was dropped to free memory); press \"Run the model\" to run "
                          "it again.")
    EXPLORATIONS.touch(held)
    try:
        query = parse_query([req.get("row"), req.get("col")], exp.grid)
        template = parse_template(req.get("template", "default"))
    except SettingsError as exc:
        raise ValueError(_message(exc)) from None
    with CLICK_SLOTS:
        fig = figure_or_placeholder("flow", exp, query=query, template=template)
        add_page_meta(fig, run, exp, template)
        return _plot_text("flow", fig)


def sync_heads(view: View | None, head):
    """After a run: the head picker offers exactly the explored stage's heads."""
    if view is None:
        return gr.update()
    n = view.exp.num_heads
    value = head if str(head) in {v for _, v in head_choices(n)} else "0"
    return gr.update(choices=head_choices(n), value=value)


def query_caption(view: View | None, block=1) -> str:
    if view is None:
        return ""
    r, c = resolved_query(view)
    try:
        b = parse_block(block)
    except SettingsError:
        b = 1
    exp = view.exp
    number = exp.blocks[b]
    name = (f"block {number} (regular windows)" if b == 0
            else f"block {number} (shifted windows)" if exp.shift_size
            else f"block {number} (one window, no shift)")
    return (f"**Query patch:** row {r}, column {c} of stage {exp.stage}'s {exp.grid[0]}x"
            f"{exp.grid[1]} tokens ({exp.patch_size}x{exp.patch_size} px each; yellow square "
            f"in the ring). The outlined, bright area is its window in {name}: the only patches "
            f"it can attend to in that block. Click anywhere on the image to pick another patch.")


def _prune_exports(now: float) -> None:
    if not EXPORT_ROOT.is_dir():
        return
    for d in EXPORT_ROOT.iterdir():
        try:
            if now - d.stat().st_mtime > EXPORT_KEEP_S:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def _export_dir() -> Path:
    """A fresh folder for one download (folders older than EXPORT_KEEP_S are deleted first)."""
    _prune_exports(time.time())
    out = EXPORT_ROOT / uuid.uuid4().hex
    out.mkdir(parents=True)
    return out


def _zip(paths, zpath: Path) -> str:
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in paths:
            zf.write(p, arcname=Path(p).name)
    return str(zpath)


def _file_stem(view: View, b: int) -> str:
    st, exp = view.settings, view.exp
    return (f"{st.img_size}px-w{st.window_size}-s{st.shift_size}-stage{exp.stage}-"
            f"block{exp.blocks[b]}")


def _exporting(out: Path, write):
    """write() with every failure a sentence (and the folder removed)."""
    try:
        return write()
    except ExportError as exc:
        shutil.rmtree(out, ignore_errors=True)
        raise user_error(f"Could not export the figures: {exc}") from None
    except Exception as exc:
        shutil.rmtree(out, ignore_errors=True)
        log.exception("export failed")
        raise user_error(f"Could not export the figures ({type(exc).__name__}: {exc}).") from None


def _progress_steps(progress, total: int, start: float = 0.1):
    done: list[str] = []

    def step(name: str) -> None:
        done.append(name)
        if progress is not None:
            progress(start + (0.95 - start) * min(1.0, len(done) / total), desc=f"Writing {name}")

    return step


def download(view: View | None, block=1, head="0", template="default", progress=None) -> str:
    """All figures (as on screen) as PNG (1600 px wide) and SVG, zipped; returns the path.
    The PNGs and SVGs come from the server's warm browser (`swinviz.export.export_warm`)."""
    if view is None:
        raise user_error("Run the model on an image first; then the figures can be downloaded.")
    b, h, t = _view_settings(view, block, head, template)
    if progress is not None:
        progress(0.05, desc="Drawing the figures")
    figs = build_figures(view, block=b, head=h, template=t)
    out = _export_dir()
    step = _progress_steps(progress, 2 * len(figs))
    paths = _exporting(out, lambda: export_warm(figs, out / "figures", ("png", "svg"),
                                                width=EXPORT_WIDTH, progress=step))
    zpath = _zip(sorted(Path(x) for x in paths),
                 out / f"swinviz-figures-{_file_stem(view, b)}.zip")
    shutil.rmtree(out / "figures", ignore_errors=True)
    return zpath


def lecture_deck(view: View | None, block=1, head="0", progress=None) -> str:
    """The lecture deck of the session's exploration (`swinviz.deck.write_deck`: numbered
    slides in the lecture template, the same as one PDF, the cyclic shift as a GIF), zipped;
    returns the path."""
    from swinviz.deck import deck_steps, write_deck

    if view is None:
        raise user_error("Run the model on an image first; then the lecture deck can be made.")
    b, h, _ = _view_settings(view, block, head, "lecture")
    out = _export_dir()
    step = _progress_steps(progress, deck_steps(), start=0.02)
    paths = _exporting(out, lambda: write_deck(
        view.exp, out / "deck", block=b, head=h, query=view.query, template="lecture",
        width=EXPORT_WIDTH, exporter=WARM, progress=step))
    zpath = _zip(paths, out / f"swinviz-lecture-{_file_stem(view, b)}.zip")
    shutil.rmtree(out / "deck", ignore_errors=True)
    return zpath


def shift_gif(view: View | None) -> str | None:
    """The cyclic shift of the session's exploration animated (`swinviz.animation`), as a GIF
    file; None before a run. Built once per exploration and kept beside the exports."""
    from swinviz.animation import save_gif, shift_animation

    if view is None:
        return None
    held = view.held
    if held.gif is not None and Path(held.gif).is_file():
        return held.gif
    held.gif = str(save_gif(shift_animation(view.exp), _export_dir() / "cyclic-shift.gif"))
    return held.gif
