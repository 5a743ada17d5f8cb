"""What the page's events do, as plain functions (callable and testable without a browser).

All maths and figures come from `swinviz`; this module only parses settings, keeps the session's
`View` (the exploration and the picked query patch), turns figures into what `gr.Plot` shows and
turns every expected failure into a `gr.Error` whose message a person understands.

Events and what they recompute:
- `run`: image or model settings changed -> model run + all ten figures (the only model run);
- `redraw`: block / head / template changed -> the ten figures from the kept exploration;
- `pick_query_at`: a click on the image -> the query patch, then only the attention and
  information-flow figures;
- `download`: all ten figures as PNG (1600 px wide) and SVG in one zip.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import gradio as gr
import numpy as np
import plotly.graph_objects as go
from gradio.components.plot import PlotData
from PIL import Image, ImageDraw

from swinviz import SettingsError
from swinviz.checkpoints import CheckpointError
from swinviz.export import ExportError, export_figures, figure_size
from swinviz.figures import KINDS, QUERY_KINDS, make_figure
from swinviz.image import ImageError

from .state import (
    DEFAULT_EMBED_DIM,
    DEFAULT_HEADS,
    DEFAULT_SHIFT,
    DEFAULT_SIZE,
    DEFAULT_WINDOW,
    EXPLORATIONS,
    Held,
    ModelSettings,
    load_cached_model,
    parse_settings,
    release_free_memory,
)

log = logging.getLogger("swinviz.app")

EXPORT_WIDTH = 1600  # slide resolution of the camera button and of the downloaded PNGs
QUERY_IMAGE_MIN = 448  # the clickable image is shown at least this many pixels wide
ALL_HEADS = "all"
TEMPLATES = ("default", "lecture")
EXPORT_ROOT = Path(tempfile.gettempdir()) / "swinviz-app-exports"
EXPORT_KEEP_S = 3600  # downloaded zips are deleted after an hour


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


def parse_head(head, num_heads: int) -> int | None:
    """Dropdown value ("all", "0", 1, "head 2") -> head index or None (all heads)."""
    if head is None or str(head).strip().lower() in ("", ALL_HEADS, "all heads", "none"):
        return None
    text = str(head).strip().lower().removeprefix("head").strip()
    try:
        h = int(float(text))
    except ValueError:
        raise SettingsError(f"head must be a number or 'all', got {head!r}") from None
    if not 0 <= h < num_heads:
        raise SettingsError(f"head must be in 0..{num_heads - 1} or 'all', got {h}")
    return h


def parse_block(block) -> int:
    try:
        b = int(float(block))
    except (TypeError, ValueError):
        raise SettingsError(f"block must be 0 (W-MSA) or 1 (SW-MSA), got {block!r}") from None
    if b not in (0, 1):
        raise SettingsError(f"block must be 0 (W-MSA) or 1 (SW-MSA), got {b}")
    return b


def parse_template(template) -> str:
    t = (template or "default").strip().lower()
    if t not in TEMPLATES:
        raise SettingsError(f"template must be one of {', '.join(TEMPLATES)}, got {template!r}")
    return t


def head_choices(num_heads: int) -> list[tuple[str, str]]:
    return [("all heads", ALL_HEADS)] + [(f"head {h}", str(h)) for h in range(num_heads)]


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


def build_figures(view: View, kinds=KINDS, *, block: int = 1, head: int | None = 0,
                  template: str = "default") -> dict[str, go.Figure]:
    """The requested figures; a kind that fails (a bug) becomes a placeholder."""
    figs: dict[str, go.Figure] = {}
    exp = view.exp  # outside the try: a dropped exploration is the user's message, not a figure's
    for kind in kinds:
        try:
            figs[kind] = make_figure(kind, exp, block=block, head=head, query=view.query,
                                     template=template)
        except Exception as exc:  # one broken figure must not take the page down
            log.exception("figure %s failed", kind)
            figs[kind] = placeholder(
                kind, f"This figure could not be drawn ({type(exc).__name__}: {exc}).", template)
    return figs


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


def to_plot(kind: str, fig: go.Figure) -> PlotData:
    """A figure as gr.Plot's payload, with the Plotly config attached."""
    text = fig.to_json()
    assert text.endswith("}")
    text = text[:-1] + ',"config":' + json.dumps(plot_config(kind, fig)) + "}"
    return PlotData(type="plotly", plot=text)


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
        outside = np.kron(~inside, np.ones((p, p), dtype=bool))
        arr[outside] = arr[outside] * 0.5 + 0.5 * 190  # wash out what the query cannot see
    out = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(out)
    lw = max(2, k)
    if inside is not None:
        for seg in _outline_segments(inside, p):
            draw.line(seg, fill=BLOCK_COLORS[block], width=lw)
    x0, y0 = c * p, r * p
    cx, cy, rad = x0 + p / 2, y0 + p / 2, 2.2 * p + 4
    draw.ellipse([cx - rad, cy - rad, cx + rad, cy + rad], outline="black", width=lw + 2)
    draw.ellipse([cx - rad + 1, cy - rad + 1, cx + rad - 1, cy + rad - 1], outline=QUERY_COLOR,
                 width=lw)
    draw.rectangle([x0 - lw, y0 - lw, x0 + p + lw - 1, y0 + p + lw - 1], outline="black", width=lw)
    draw.rectangle([x0, y0, x0 + p - 1, y0 + p - 1], outline=QUERY_COLOR, width=lw)
    return out


def click_to_token(view: View, x: float, y: float) -> tuple[int, int]:
    """Pixel (x, y) of the displayed (enlarged) image -> token (row, col)."""
    k = display_scale(view.exp.image)
    p = view.exp.patch_size * k
    H, W = view.grid
    r = min(max(int(y // p), 0), H - 1)
    c = min(max(int(x // p), 0), W - 1)
    return r, c


# ---------------------------------------------------------------------------------- the badge


def badge(view: View | None) -> str:
    """One line: device, weights in use, token grid, windows, shift (and SPEC fact 2)."""
    if view is None:
        return "Upload an image (or click an example) to run the model."
    exp, st = view.exp, view.settings
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    nW = exp.num_windows
    windows = "1 window" if nW == 1 else f"{nW} windows"
    parts = [
        f"**Device:** {exp.device}",
        f"**Weights:** {exp.weights}",
        f"**Tokens:** {H}x{W} ({exp.patch_size}x{exp.patch_size} px patches, "
        f"{H * exp.patch_size}x{W * exp.patch_size} px input)",
        f"**Windows:** {windows} of {M}x{M}, shift {s}",
        f"**Heads:** {exp.num_heads} x {exp.embed_dim // exp.num_heads} channels",
        f"**Model run:** {view.run_ms:.0f} ms",
    ]
    line = " · ".join(parts)
    if st.capped:
        Mr, sr = st.requested
        line += (
            f"\n\n*The window you asked for ({Mr}x{Mr}) covers the whole {H}x{W} token grid, so "
            f"the block uses one {M}x{M} window and no shift (as Swin does at stage 4 of a "
            f"224 px input): nothing needs shifting when one window already sees everything.*"
        )
    return line


# ------------------------------------------------------------------------------------- events


def _run_model(settings: ModelSettings, image):
    """Load (or reuse) the model and run the image through it: the only model call."""
    model = load_cached_model(settings, device="auto")
    return model.explore(image)


try:  # ZeroGPU on Hugging Face Spaces: borrow a GPU for the model call only
    import spaces  # type: ignore[import-not-found]

    _run_model = spaces.GPU(_run_model)
except ImportError:
    pass


def image_source(image):
    """What the page or the API hands over -> something `swinviz.image` opens.

    A path (str / Path), a PIL image or an array pass through; Gradio's raw payload (events run
    with preprocess=False) is a dict with the cached upload's "path", or a "url" holding a
    data: URI (pasted images in some browsers), which is decoded to bytes here, refused before
    decoding when over the upload limit (SWINVIZ_MAX_FILE_SIZE, as app/ui.py gives Gradio).
    """
    import os

    from swinviz.image import decode_data_uri, parse_size

    if isinstance(image, dict) or hasattr(image, "model_dump"):
        data = image if isinstance(image, dict) else image.model_dump()
        if data.get("path"):
            return str(data["path"])
        url = data.get("url") or ""
        if url.startswith("data:"):
            limit = parse_size(os.environ.get("SWINVIZ_MAX_FILE_SIZE", "20mb"))
            try:
                return decode_data_uri(url, limit)
            except ImageError as exc:
                raise user_error(str(exc)) from None
        return None
    return image


def explore_image(image, settings: ModelSettings, progress=None) -> View:
    """Image + settings -> View (model run); expected failures become gr.Error."""
    image = image_source(image)
    if image is None:
        raise user_error("Upload an image first (or click one of the examples).")
    release_free_memory()
    if progress is not None:
        progress(0.1, desc="Loading the model")
    t0 = time.perf_counter()
    try:
        exp = _run_model(settings, image)
    except EXPECTED as exc:
        raise user_error(_message(exc)) from None
    except MemoryError:
        raise user_error("The server ran out of memory for this image; try a smaller input size."
                         ) from None
    except Exception as exc:
        log.exception("model run failed")
        raise user_error(f"The model run failed ({type(exc).__name__}: {exc}).") from None
    held = EXPLORATIONS.admit(Held(exp))
    return View(held=held, settings=settings, run_ms=(time.perf_counter() - t0) * 1e3,
                timings=dict(getattr(exp, "timings_ms", {}) or {}))


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[0].upper() + text[1:]


def _view_settings(view: View | None, block, head, template) -> tuple[int, int | None, str]:
    try:
        b = parse_block(block)
        h = parse_head(head, view.exp.num_heads if view is not None else 64)
        t = parse_template(template)
    except SettingsError as exc:
        raise user_error(_message(exc)) from None
    return b, h, t


def run(image, img_size=DEFAULT_SIZE, window_size=DEFAULT_WINDOW, shift_size=DEFAULT_SHIFT,
        weights="random", checkpoint=None, block=1, head="0", template="default", seed=0,
        embed_dim=DEFAULT_EMBED_DIM, num_heads=DEFAULT_HEADS, progress=None,
        strict_head=True):
    """Model run + all figures.

    Returns (ten PlotData in KINDS order, clickable image, badge markdown, View).
    strict_head=False (the page): a head beyond the new number of heads falls back to head 0
    (the head picker is updated after the run); True (the API): it is an error.
    """
    try:
        settings = parse_settings(img_size, window_size, shift_size, weights, checkpoint, seed,
                                  embed_dim, num_heads)
    except EXPECTED as exc:
        raise user_error(_message(exc)) from None
    b, h, t = _view_settings(None, block, head, template)
    if h is not None and h >= settings.num_heads:
        if strict_head:
            raise user_error(f"Head must be in 0..{settings.num_heads - 1} or 'all', got {h}")
        gr.Warning(f"There is no head {h} with {settings.num_heads} heads; showing head 0.")
        h = 0
    view = explore_image(image, settings, progress)
    if progress is not None:
        progress(0.6, desc="Drawing the figures")
    figs = build_figures(view, block=b, head=h, template=t)
    return (*[to_plot(k, figs[k]) for k in KINDS], query_image(view, b), badge(view), view)


def redraw(view: View | None, block=1, head="0", template="default"):
    """Block / head / template changed: the ten figures again, no model run."""
    if view is None:
        return (*[None] * len(KINDS), None)
    b, h, t = _view_settings(view, block, head, template)
    figs = build_figures(view, block=b, head=h, template=t)
    return (*[to_plot(k, figs[k]) for k in KINDS], query_image(view, b))


def pick_query_at(view: View | None, x: float, y: float, block=1, head="0",
                  template="default"):
    """A click at (x, y) on the displayed image: new query patch, then attention + flow only.

    Returns (View, clickable image, attention PlotData, flow PlotData).
    """
    if view is None:
        raise user_error("Upload an image first; then click it to pick a patch.")
    b, h, t = _view_settings(view, block, head, template)
    view = replace(view, query=click_to_token(view, x, y))
    figs = build_figures(view, QUERY_KINDS, block=b, head=h, template=t)
    return (view, query_image(view, b), *[to_plot(k, figs[k]) for k in QUERY_KINDS])


def pick_query(view: View | None, block, head, template, evt: gr.SelectData):
    """gr.Image.select handler: evt.index is [x, y] in the displayed image's pixels."""
    if evt is None or evt.index is None:
        raise user_error("Click on the image to pick a patch.")
    x, y = evt.index[0], evt.index[1]
    return pick_query_at(view, x, y, block, head, template)


def sync_heads(view: View | None, head):
    """After a run: the head picker offers exactly the model's heads."""
    if view is None:
        return gr.update()
    n = view.exp.num_heads
    value = head if str(head) in {v for _, v in head_choices(n)} else "0"
    return gr.update(choices=head_choices(n), value=value)


def query_caption(view: View | None, block=1) -> str:
    if view is None:
        return ""
    r, c = resolved_query(view)
    b = parse_block(block)
    name = "block 0 (regular windows)" if b == 0 else "block 1 (shifted windows)"
    return (f"**Query patch:** row {r}, column {c} (yellow square in the ring). The outlined, "
            f"bright area is its window in {name}: the only patches it can attend to in that "
            f"block. Click anywhere on the image to pick another patch.")


def _prune_exports(now: float) -> None:
    if not EXPORT_ROOT.is_dir():
        return
    for d in EXPORT_ROOT.iterdir():
        try:
            if now - d.stat().st_mtime > EXPORT_KEEP_S:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def _accepts_progress(fn) -> bool:
    import inspect

    try:
        return "progress" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def download(view: View | None, block=1, head="0", template="default", progress=None) -> str:
    """All ten figures (as on screen) as PNG (1600 px wide) and SVG, zipped; returns the path."""
    if view is None:
        raise user_error("Run the model on an image first; then the figures can be downloaded.")
    b, h, t = _view_settings(view, block, head, template)
    if progress is not None:
        progress(0.1, desc="Drawing the figures")
    figs = build_figures(view, block=b, head=h, template=t)
    now = time.time()
    _prune_exports(now)
    out = EXPORT_ROOT / uuid.uuid4().hex
    out.mkdir(parents=True)
    total = 2 * len(figs)
    done: list[str] = []

    def step(name: str) -> None:
        done.append(name)
        if progress is not None:
            progress(0.1 + 0.85 * len(done) / total, desc=f"Writing {name}")

    if progress is not None:
        progress(0.1, desc="Starting the exporter (a headless Chromium)")
    try:
        paths = export_figures(figs, out / "figures", formats=("png", "svg"), width=EXPORT_WIDTH,
                               **({"progress": step} if _accepts_progress(export_figures) else {}))
    except ExportError as exc:
        shutil.rmtree(out, ignore_errors=True)
        raise user_error(f"Could not export the figures: {exc}") from None
    except Exception as exc:
        shutil.rmtree(out, ignore_errors=True)
        log.exception("export failed")
        raise user_error(f"Could not export the figures ({type(exc).__name__}: {exc}).") from None
    st = view.settings
    name = f"swinviz-figures-{st.img_size}px-w{st.window_size}-s{st.shift_size}-block{b}.zip"
    zpath = out / name
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(Path(x) for x in paths):
            zf.write(p, arcname=p.name)
    shutil.rmtree(out / "figures", ignore_errors=True)
    return str(zpath)
