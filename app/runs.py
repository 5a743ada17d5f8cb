"""Model runs: the settings checked (the budget included), the image opened only when this
server received it, the one model call (on ZeroGPU in a borrowed GPU process), and the figures of
a run (`run_settings` for settings checked once by `page_settings`, or `run` given them one
by one; then `rest`) or of a redraw (`redraw`).

Events and what they recompute: `run` (image, model settings, stage or pair changed): the
budget check, a model run (the cached model when only the stage or pair changed) and all
figures; `redraw` (block / head / template changed): the figures from the kept exploration.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import uuid
import weakref
from dataclasses import replace
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from swinviz.config import short
from swinviz.figures import KINDS
from swinviz.image import ImageError

from .budget import evidence_fits
from .guard import RECEIVED, example_images
from .limits import MAX_FILE_BYTES
from .panel import badge
from .picture import query_image, query_spot, token_at
from .plotting import build_plots
from .session import EXPECTED, Shown, View, message, user_error
from .settings import (
    ModelSettings,
    PageSettings,
    from_components,
)
from .state import (
    EXPLORATIONS,
    Held,
    load_cached_model,
    release_free_memory,
    slim_exploration,
)

log = logging.getLogger("swinviz.app")
# ZeroGPU: the seconds a model run may hold the GPU (the whole model at 448 px takes < 10 s)
GPU_DURATION_S = 60
EVIDENCE = "evidence"  # the class-evidence figure's kind (app.evidence.KIND)
# run_id -> the session's Held, weakly: an entry lives exactly as long as the session keeps that
# run (its gr.State), so the page's direct flow requests (`page_flow`) see only live runs
PAGE_RUNS: weakref.WeakValueDictionary[str, Held] = weakref.WeakValueDictionary()


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


def explore_on_device(settings: ModelSettings, image, stage: int = 1, pair: int = 0,
                      without: tuple[str, ...] = (), target: int | str | None = None,
                      evidence: bool = True):
    """The only model call: plain, picklable arguments in (settings, the image as a path, bytes,
    PIL image or array, stage, pair, the parts to leave out, the class the evidence explains:
    None for the top class; evidence=False leaves the evidence pass for later,
    `app.evidence.complete`), a CPU Exploration out.

    On a Hugging Face Space with ZeroGPU this runs in another process with a GPU borrowed for
    GPU_DURATION_S seconds (`spaces.GPU`): the model is loaded there on first use (and kept in
    that process's cache), nothing is compiled, and everything returned is on the CPU.
    """
    model = load_cached_model(settings, device="auto")
    # Grad-CAM of the top class (or `target`) for the class-evidence tab: one more forward and
    # backward pass, where its memory fits the request's limit (else the figure says why)
    skipped = evidence_fits(settings.config(), stage, pair)
    evidence = False if skipped or not evidence else True if target is None else target
    exp = model.explore(image, stage=stage, pair=pair, without=without, evidence=evidence)
    exp.evidence_note = skipped
    return exploration_to_cpu(exp)


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
                  pair: int = 0, without: tuple[str, ...] = (),
                  target: int | str | None = None, evidence: bool = True) -> View:
    """Image + settings -> View (model run; `target`: the class the evidence explains, None
    for the top class; evidence=False: its pass is left for after the first figure, the View's
    `evidence_due`); expected failures become gr.Error."""
    image = image_source(image)
    if image is None:
        raise user_error("Upload an image first (or click one of the examples).")
    release_free_memory()
    if progress is not None:
        progress(0.1, desc="Loading the model")
    t0 = time.perf_counter()
    try:
        exp = _run_model(settings, image, stage, pair, without, target, evidence)
    except EXPECTED as exc:
        raise user_error(message(exc)) from None
    except MemoryError:
        raise user_error("The server ran out of memory for this image; try a smaller input size."
                         ) from None
    except Exception as exc:
        log.exception("model run failed")
        raise user_error(f"The model run failed ({type(exc).__name__}: {exc}).") from None
    held = EXPLORATIONS.admit(Held(slim_exploration(exp)))
    run_id = uuid.uuid4().hex  # 128 random bits: the page's name for this run (PAGE_RUNS)
    PAGE_RUNS[run_id] = held
    due = (target,) if not evidence and not exp.evidence_note else None
    return View(held=held, settings=settings, run_ms=(time.perf_counter() - t0) * 1e3,
                timings=dict(getattr(exp, "timings_ms", {}) or {}), run_id=run_id,
                example=example_name(image), evidence_due=due)


def example_name(image) -> str | None:
    """The name (file stem) of the shipped example whose bytes `image` (a path) holds, None for
    anything else. By content: Gradio hands the page's examples over as copies in its cache,
    and an upload may carry an example's file name without being it."""
    if not isinstance(image, (str, os.PathLike)):
        return None
    try:
        size = os.path.getsize(image)
        digest = None
        for example in example_images():
            if os.path.getsize(example) != size:
                continue
            digest = digest or _digest(str(image))
            if _example_digest(example) == digest:
                return Path(example).stem.lower()
    except (OSError, ValueError):
        return None
    return None


def _digest(path: str) -> str:
    import hashlib

    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@functools.lru_cache(maxsize=64)
def _example_digest(path: str) -> str:
    """An example's digest, read once: the app ships its examples unchanged while it runs."""
    return _digest(path)


def page_settings(values, strict_head: bool = True) -> PageSettings:
    """Every setting of a run by name (`app.settings.from_components`) checked once, before any
    work, the budget included: the PageSettings; a gr.Error with the sentence otherwise.
    strict_head=False (the page): a head beyond the stage's heads becomes head 0."""
    try:
        return from_components(values, strict_head=strict_head, budget=True)
    except EXPECTED as exc:
        raise user_error(message(exc)) from None


def run(image, img_size=None, window_size=None, shift_size=None, weights=None,
        checkpoint=None, block=1, head="0", template="default", seed=0, embed_dim=None,
        num_heads=None, stage=1, pair=0, query=None, progress=None, strict_head=True,
        pack=False, first=None, carry=None, without=None, model=None):
    """Model run + all figures, the settings given one by one (the /explore API's names):
    `page_settings`, then `run_settings`.

    stage (1-4) and pair (0..pairs-1) choose the traced block pair; query ("r,c", [r, c] or
    None) the query patch on that stage's token grid. strict_head=False (the page): a head
    beyond the stage's heads falls back to head 0 (the head picker is updated after the run);
    True (the API): it is an error. model: one of the page's models ("swin-t", "swinv2-t");
    a size, window, shift, width or heads left out (None) is that model's own.
    """
    values = dict(model=model, img_size=img_size, window_size=window_size, shift_size=shift_size,
                  weights=weights, checkpoint=checkpoint, seed=seed, embed_dim=embed_dim,
                  num_heads=num_heads, stage=stage, pair=pair, query=query, block=block,
                  head=head, template=template, without=without)
    return run_settings(image, page_settings(values, strict_head), progress=progress,
                        pack=pack, first=first, carry=carry)


def run_settings(image, page: PageSettings, progress=None, pack=False, first=None,
                 carry=None, target=None, lang="en"):
    """Model run + all figures, for settings checked once (`page_settings`).

    Returns (PlotData per kind in KINDS order, clickable image, badge markdown, View).
    pack=True (the page): the attention figure carries its click pack (`app.instant`). first
    (the page): draw only these kinds (the open tab's); the others are gr.skip() and `rest`
    draws them next. carry (the page): its previous View; without a query, the query picked
    there stays on the same spot of the image (`carry_query`), on this run's stage and input
    size. target (the API): the class the evidence figure explains (checked, `check_target`),
    None for the top class. lang: the figures' language (checked, `Shown.parse`).
    """
    settings, opts = page.model, page.view
    s, p, b, h, t = opts.stage, opts.pair, opts.block, opts.head, opts.template
    geo = settings.config().stage(s)
    if page.head_asked is not None:
        gr.Warning(f"There is no head {page.head_asked} in stage {s} ({geo.num_heads} heads); "
                   f"showing head 0.")
    q = opts.query
    spot = query_spot(carry) if q is None else None
    if spot is not None:  # the query picked before, on the same spot of the image
        q = token_at(spot, settings.img_size, geo.grid, geo.patch_px)
    # the page: the class evidence (a backward pass, 150-250 ms) waits for the other tabs'
    # figures (`rest`), unless its tab is the one open
    view = explore_image(image, settings, progress, stage=s, pair=p, without=opts.without,
                         target=target, evidence=first is None or EVIDENCE in first)
    # a query set comes only with its query (a link, the API); a carried query comes alone
    view = replace(view, query=q, spot=spot, added=opts.added if spot is None else ())
    if progress is not None:
        progress(0.6, desc="Drawing the figures")
    if first is None:
        plots = build_plots(view, block=b, head=h, template=t, lang=lang, pack=pack)
    else:  # the open tab's figures now; `rest` draws the others
        todo = [k for k in KINDS if k in first]
        drawn = dict(zip(todo, build_plots(view, todo, block=b, head=h, template=t, lang=lang,
                                           pack=pack),
                         strict=True))
        plots = [drawn.get(k, gr.skip()) for k in KINDS]
        view.drawn = tuple(todo)
    view.held.refresh()  # the figures' caches on the exploration count too
    return (*plots, query_image(view, b), badge(view, lang), view)


def rest(view: View | None, shown: Shown = Shown(), first=(), pack=True):  # noqa: B008
    """After a page run that drew only the open tab's figures (`run(first=...)`): the other
    figures (gr.skip() for those in `first`), in KINDS order."""
    if view is None:
        return tuple(gr.skip() for _ in KINDS)
    todo = [k for k in KINDS if k not in first]
    drawn = dict(zip(todo, build_plots(view, todo, **shown.options(), pack=pack),
                     strict=True))
    view.held.refresh()
    return tuple(drawn.get(k, gr.skip()) for k in KINDS)


def redraw(view: View | None, shown: Shown = Shown()):  # noqa: B008
    """Block / head / template changed: the figures again, no model run."""
    if view is None:
        return (*[None] * len(KINDS), None)
    plots = build_plots(view, **shown.options(), pack=True)
    return (*plots, query_image(view, shown.block))
