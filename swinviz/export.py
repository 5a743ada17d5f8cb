"""Static export of figures (PNG at slide resolution, SVG) through kaleido and a Chrome/Chromium
found on this machine. Used by the CLI and by the app's download button.

One batch is one headless browser: `export_figures` opens a `kaleido.Kaleido` once (two tabs,
without kaleido's page reload after every render), lays each figure out once as SVG and draws
that SVG as the PNG on a canvas in a tab (`RASTER_JS`), and closes the browser. Photographs
(image traces) are handed to the browser already magnified by whole pixels
(`swinviz.export_dicts`): plotly.js would otherwise redraw them pixel by pixel on a canvas for
every export. Those three were where the time of an export went. Zips of the files:
`swinviz.archive`.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import concurrent.futures
import os
import queue
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go

from .export_dicts import export_dict

FORMATS = ("png", "svg")
PAGE_FORMATS = (*FORMATS, "pdf")  # what a batch can write (pdf: the lecture's slides)
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
TABS = 2  # browser tabs rendering at once: one renders while the other reloads
RENDER_TIMEOUT_S = 120  # per figure and format
OPEN_ATTEMPT_S = 40  # one try at starting the browser; a start that hangs is abandoned ...
OPEN_ATTEMPTS = 2  # ... and tried again on a fresh browser process
OPEN_TIMEOUT_S = OPEN_ATTEMPTS * OPEN_ATTEMPT_S + 10  # how long a batch waits for the start
CLOSE_TIMEOUT_S = 30
SHARED_IDLE_S = 600  # the warm exporter's browser is closed after this long unused
_LOCK = threading.Lock()  # guards the warm exporter (`warm_exporter`)


class ExportError(RuntimeError):
    """Static export failed (no browser, or the browser failed); the message says what to do."""


def find_browser() -> str | None:
    """Path of a Chrome/Chromium kaleido can drive: $BROWSER_PATH, else one on PATH."""
    env = os.environ.get("BROWSER_PATH")
    if env and Path(env).is_file():
        return env
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def parse_formats(formats: str | Iterable[str],
                  allowed: tuple[str, ...] = FORMATS) -> tuple[str, ...]:
    """"png,svg" or ["png"] -> ("png", "svg"); unknown formats are a clear ValueError.
    `allowed`: what the caller takes (the figures: png and svg; the lecture's slides: pdf too)."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out = tuple(dict.fromkeys(f.strip().lower().lstrip(".") for f in items if f.strip()))
    bad = [f for f in out if f not in allowed]
    if bad or not out:
        raise ValueError(f"unknown export format(s) {bad or formats!r}; choose from "
                         f"{', '.join(allowed)}")
    return out


def figure_size(fig: go.Figure) -> tuple[int, int]:
    """(width, height) in CSS pixels the figure is laid out for: its own, else its template's."""
    from .figures import TEMPLATES

    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    t = TEMPLATES.get(meta.get("template", "default"), TEMPLATES["default"])
    return int(fig.layout.width or t.width), int(fig.layout.height or t.height)


# Trace types whose SVG holds everything the PNG shows (no WebGL canvas captured at the PNG's
# own resolution): for these the PNG is the figure's SVG rasterised, one plot for both files.
SVG_EXACT_TYPES = frozenset({"scatter", "bar", "heatmap", "image", "table", "contour",
                             "histogram", "box", "violin", "pie", "scatterternary"})


def svg_raster_figure(svg: bytes, w: int, h: int) -> dict:
    """A figure that is only `svg` (a w x h plotly SVG) laid over the whole paper: exported as
    PNG at scale k it is that SVG drawn at k times its size, pixel for pixel what plotly.js
    gives for the original figure (its PNG export is its SVG drawn on a canvas), without
    laying the figure out a second time. `_raster`'s way where kaleido's tabs cannot be
    reached directly (0.1-0.2 s slower for a figures zip: a second plotly figure around the
    SVG)."""
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    image = dict(source=uri, xref="paper", yref="paper", x=0, y=1, sizex=1, sizey=1,
                 xanchor="left", yanchor="top", sizing="stretch", layer="above")
    return dict(data=[], layout=dict(
        width=w, height=h, margin=dict(l=0, r=0, t=0, b=0, pad=0), images=[image],
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(visible=False), yaxis=dict(visible=False)))


# The PNG of an SVG-exact figure, drawn in a kaleido tab from the SVG made already: the steps
# of plotly.js's own PNG export (its svgToImg: a CPU canvas of scale * size, the SVG drawn on
# it, encoded as PNG), the same pixels, without a second plotly figure wrapped around the SVG.
RASTER_JS = r"""async function(svg, w, h, scale) {
  const url = URL.createObjectURL(new Blob([svg], {type: 'image/svg+xml;charset=utf-8'}));
  try {
    const img = new Image();
    await new Promise((ok, bad) => {
      img.onload = ok; img.onerror = () => bad(new Error('the SVG did not load')); img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = scale * w; canvas.height = scale * h;
    canvas.getContext('2d', {willReadFrequently: true}).drawImage(img, 0, 0, scale * w,
                                                                  scale * h);
    return canvas.toDataURL('image/png').slice('data:image/png;base64,'.length);
  } finally {
    URL.revokeObjectURL(url);
  }
}"""


async def _raster(k, svg: bytes, w: int, h: int, scale: float) -> bytes:
    """The PNG of a w x h plotly SVG at `scale` (RASTER_JS in one of k's tabs); through a
    plotly figure of the SVG (`svg_raster_figure`) where this kaleido's tabs are not as
    expected."""
    try:
        from kaleido._kaleido_tab._devtools_utils import exec_js_fn
        from kaleido._kaleido_tab._errors import _raise_error
        get, give = k._get_kaleido_tab, k._return_kaleido_tab
    except (ImportError, AttributeError):
        exec_js_fn = None
    if exec_js_fn is not None:
        tab = await get()
        try:
            if hasattr(tab, "tab") and hasattr(tab, "_current_js_id"):
                result = await asyncio.wait_for(exec_js_fn(
                    tab.tab, tab._current_js_id, RASTER_JS, svg.decode("utf-8"), w, h, scale),
                    RENDER_TIMEOUT_S)
                _raise_error(result)
                return base64.b64decode(result["result"]["result"]["value"])
        finally:
            await give(tab)
    return await k.calc_fig(svg_raster_figure(svg, w, h),
                            opts=dict(format="png", width=w, height=h, scale=scale))


@dataclass
class _Job:
    """One figure: its browser dict, CSS size, and where each format goes."""

    fig: dict
    size: tuple[int, int]
    paths: dict[str, Path]  # format -> file
    via_svg: bool  # PNG rasterised from the figure's own SVG


def _kaleido_class():
    """kaleido.Kaleido, minus the page reload it does after every render (about 0.25 s of
    browser time each): inside one batch the page is reused, and the batch closes the browser.
    Plain Kaleido when this kaleido has no such hook (slower, same files)."""
    import kaleido

    base = kaleido.Kaleido
    if not callable(getattr(base, "_return_kaleido_tab", None)):
        return base

    class BatchKaleido(base):
        async def _return_kaleido_tab(self, tab) -> None:
            await self.tabs_ready.put(tab)

    return BatchKaleido


NO_BROWSER = ("Static export (PNG/SVG) needs Chrome or Chromium, and none was found. "
              "On Debian/Ubuntu: `apt-get install -y chromium`; elsewhere install Chrome, "
              "or set BROWSER_PATH to its executable.")


async def _close_quietly(k) -> None:
    """Close a Kaleido whose start was abandoned; a browser that will not close is killed."""
    try:
        await asyncio.wait_for(k.close(), CLOSE_TIMEOUT_S)
    except Exception:  # noqa: BLE001 (half-started: close what there is)
        pass
    proc = getattr(k, "subprocess", None)
    if proc is not None and proc.poll() is None:
        proc.kill()


async def _render(k, jobs: list[_Job], width: int, done: queue.Queue) -> None:
    """Render every job through the open Kaleido `k` (its tabs work in parallel); puts each
    written path on `done`. The first failure cancels the rest and is raised."""

    async def write(fig: dict, path: Path, opts: dict) -> None:
        await k.write_fig_from_object(dict(fig=fig, path=path, opts=opts), cancel_on_error=True)
        done.put(path)

    async def one(job: _Job) -> None:
        w0, h0 = job.size
        png = dict(format="png", width=w0, height=h0, scale=width / w0)
        if job.via_svg:
            svg = await k.calc_fig(job.fig, opts=dict(format="svg", width=w0, height=h0))
            if "svg" in job.paths:
                job.paths["svg"].write_bytes(svg)
                done.put(job.paths["svg"])
            if "png" in job.paths:
                job.paths["png"].write_bytes(await _raster(k, svg, w0, h0, width / w0))
                done.put(job.paths["png"])
        for fmt, path in job.paths.items():
            if job.via_svg and fmt in ("svg", "png"):
                continue
            await write(job.fig, path, png if fmt == "png" else dict(format=fmt, width=w0,
                                                                     height=h0))

    tasks = [asyncio.ensure_future(one(job)) for job in jobs]
    finished, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in finished:
        if task.exception() is not None:
            raise task.exception()


class Exporter:
    """One headless browser for one or more batches of figures.

        with Exporter() as ex:          # the browser starts in the background now ...
            figs = build_figures()      # ... while the caller does other work
            ex.export(figs, "out", ("png", "svg"))

    The browser (kaleido, `TABS` tabs) runs on an event loop in a thread of its own, so an
    Exporter works from any thread, including under Gradio's running loop; its batches run one
    at a time. A server keeps one warm (`warm_exporter`, `export_warm`) instead of starting a
    browser per request. Raises ExportError (at once) when no Chrome/Chromium is installed.
    """

    def __init__(self, browser: str | None = None, tabs: int = TABS) -> None:
        self.browser = browser or find_browser()
        if self.browser is None:
            raise ExportError(NO_BROWSER)
        self._kaleido = None
        self._abandoned: list[asyncio.Task] = []  # closing browsers whose start hung
        self._closed = False
        self._batch = threading.Lock()  # one batch at a time through the browser's tabs
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name="swinviz-export", daemon=True)
        self._thread.start()
        self._opened = asyncio.run_coroutine_threadsafe(self._open(tabs), self._loop)

    async def _open(self, tabs: int) -> None:
        """Start the browser. A start that has not finished within OPEN_ATTEMPT_S (Chromium
        now and then hangs at start on a loaded machine) is abandoned, that browser closed in
        the background, and a fresh one started, OPEN_ATTEMPTS times in all."""
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            k = _kaleido_class()(path=self.browser, n=max(1, tabs), mathjax=False,
                                 timeout=RENDER_TIMEOUT_S)
            opening = asyncio.ensure_future(k.open())
            await asyncio.wait({opening}, timeout=OPEN_ATTEMPT_S)
            if opening.done():
                opening.result()  # a browser that failed (not hung) is an error at once
                self._kaleido = k
                return
            # not awaited: choreographer turns a cancelled start into its own error, and a
            # start that hangs might not stop at all; its exception is read and dropped
            opening.cancel()
            opening.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._abandoned.append(asyncio.ensure_future(_close_quietly(k)))
            if attempt == OPEN_ATTEMPTS:
                raise ExportError(f"{self.browser} did not start: {OPEN_ATTEMPTS} tries of "
                                  f"{OPEN_ATTEMPT_S} s each")

    def _failed(self, e: BaseException) -> ExportError:
        text = (" ".join(e.args) if e.args and all(isinstance(a, str) for a in e.args)
                else str(e))
        why = " ".join(text.split()) or type(e).__name__
        return ExportError(f"exporting figures with {self.browser} failed: {why}")

    def export(
        self,
        figs: dict[str, go.Figure],
        out_dir: str | Path,
        formats: str | Iterable[str] = FORMATS,
        width: int = 1600,
        progress: Callable[[str], None] | None = None,
    ) -> list[Path]:
        """Write each figure as `<kind>.<format>` into out_dir; see `export_figures`."""
        with self._batch:
            return self._export(figs, out_dir, formats, width, progress)

    @property
    def closed(self) -> bool:
        return self._closed

    def _export(self, figs, out_dir, formats, width, progress) -> list[Path]:
        if self._closed:
            raise ExportError("this exporter is closed; make a new Exporter")
        fmts = parse_formats(formats, PAGE_FORMATS)
        if width < 200:
            raise ValueError(f"width {width} is too small for an exported figure")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        cache: dict = {}
        jobs = [
            _Job(fig=export_dict(fig, width, cache), size=figure_size(fig),
                 paths={fmt: out / f"{kind}.{fmt}" for fmt in fmts},
                 via_svg=all(t.type in SVG_EXACT_TYPES for t in fig.data))
            for kind, fig in figs.items()
        ]
        if not jobs:
            return []
        try:
            self._opened.result(timeout=OPEN_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            raise ExportError(f"exporting figures failed: {self.browser} did not start within "
                              f"{OPEN_TIMEOUT_S} s") from None
        except Exception as e:
            raise self._failed(e) from e
        done: queue.Queue = queue.Queue()
        batch = asyncio.run_coroutine_threadsafe(_render(self._kaleido, jobs, width, done),
                                                 self._loop)
        batch.add_done_callback(lambda _: done.put(None))
        while (path := done.get()) is not None:  # progress in the caller's thread
            if progress:
                progress(path.name)
        try:
            batch.result()
        except Exception as e:
            raise self._failed(e) from e
        return [path for job in jobs for path in job.paths.values()]

    def close(self) -> None:
        """Stop the browser and its thread (idempotent; waits for a batch in progress)."""
        with self._batch:
            if self._closed:
                return
            self._closed = True
        try:
            self._opened.result(timeout=OPEN_TIMEOUT_S)
            asyncio.run_coroutine_threadsafe(self._kaleido.close(), self._loop).result(
                timeout=CLOSE_TIMEOUT_S)
        except Exception:  # noqa: BLE001 (a browser that failed to start has nothing to close)
            pass
        finally:
            if self._abandoned:  # browsers whose start hung: let their closing finish
                asyncio.run_coroutine_threadsafe(
                    asyncio.wait(self._abandoned, timeout=CLOSE_TIMEOUT_S), self._loop).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> Exporter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def export_figures(
    figs: dict[str, go.Figure],
    out_dir: str | Path,
    formats: str | Iterable[str] = FORMATS,
    width: int = 1600,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write each figure as `<kind>.<format>` into out_dir; returns the paths written (kind by
    kind, format by format).

    PNGs are `width` pixels wide (1600 or more for slides): the on-screen layout scaled up, so
    fonts stay in proportion; SVGs keep the on-screen size. All files come from one browser
    session (an `Exporter`), each figure laid out once for both formats. `progress(file name)`
    is called, in the caller's thread, as each file is written. Raises ExportError when no
    Chrome/Chromium is installed or export fails.
    """
    fmts = parse_formats(formats)
    if width < 200:
        raise ValueError(f"width {width} is too small for an exported figure")
    if not figs:
        if find_browser() is None:
            raise ExportError(NO_BROWSER)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        return []
    with Exporter() as ex:
        return ex.export(figs, out_dir, fmts, width, progress)


_warm: Exporter | None = None
_warm_users = 0  # batches running through the warm exporter now
_warm_timer: threading.Timer | None = None


def warm_exporter() -> Exporter:
    """The process's warm exporter, started now (its browser in the background) if none is
    running; `export_warm` closes it after SHARED_IDLE_S unused, and it is closed at exit.
    A server can call this at start-up so that its first download finds the browser ready.
    Raises ExportError when no Chrome/Chromium is installed."""
    with _LOCK:
        return _warm_locked()


def _warm_locked() -> Exporter:
    global _warm
    if _warm is None or _warm.closed:
        _warm = Exporter()
        atexit.register(_warm.close)
    return _warm


def _close_if_idle(ex: Exporter) -> None:
    global _warm
    with _LOCK:
        if _warm is not ex or _warm_users:
            return
        _warm = None
    ex.close()


def _warm_batch(figs, out_dir, formats, width, progress, retry: bool) -> list[Path] | None:
    """One batch through the warm exporter: the paths, or None when a browser that had been
    running failed and `retry` allows another try on a fresh one."""
    global _warm, _warm_users, _warm_timer
    with _LOCK:
        ex = _warm_locked()
        _warm_users += 1
        if _warm_timer is not None:
            _warm_timer.cancel()
    started = ex._opened.done()
    try:
        return ex.export(figs, out_dir, formats, width, progress)
    except ExportError:
        with _LOCK:  # its browser failed: the next batch starts a fresh one
            if _warm is ex:
                _warm = None
        threading.Thread(target=ex.close, daemon=True).start()
        if not (started and retry):
            raise
        return None
    finally:
        with _LOCK:
            _warm_users -= 1
            if not _warm_users and _warm is ex:
                _warm_timer = threading.Timer(SHARED_IDLE_S, _close_if_idle, (ex,))
                _warm_timer.daemon = True
                _warm_timer.start()


def export_warm(
    figs: dict[str, go.Figure],
    out_dir: str | Path,
    formats: str | Iterable[str] = FORMATS,
    width: int = 1600,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """`export_figures` through the process's warm exporter (a server's downloads: the browser
    starts once, not per request). When a browser that had been running fails, the batch is
    tried once more on a fresh one; after SHARED_IDLE_S without a batch the browser is closed."""
    if not figs:
        return export_figures(figs, out_dir, formats, width, progress)
    paths = _warm_batch(figs, out_dir, formats, width, progress, retry=True)
    if paths is None:
        paths = _warm_batch(figs, out_dir, formats, width, progress, retry=False)
    return paths


class _WarmExporter:
    """`export_warm` as an object with an Exporter's `export` (for code that takes one)."""

    def export(self, figs, out_dir, formats=FORMATS, width=1600, progress=None) -> list[Path]:
        return export_warm(figs, out_dir, formats, width, progress)


WARM = _WarmExporter()
