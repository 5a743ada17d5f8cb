"""Downloads: every figure as PNG and SVG in one zip, the lecture deck, the shift animation
(files in a folder of their own, deleted after EXPORT_KEEP_S)."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from swinviz.archive import zip_files
from swinviz.export import WARM, ExportError, export_warm

from .plotting import EXPORT_WIDTH, build_figures
from .session import Shown, View, user_error

log = logging.getLogger("swinviz.app")
EXPORT_ROOT = Path(tempfile.gettempdir()) / "swinviz-app-exports"
EXPORT_KEEP_S = 3600  # downloaded zips are deleted after an hour


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


def _zip(paths, zpath: Path, root: Path | None = None) -> str:
    """The files in one zip (`swinviz.archive.zip_files`); returns its path as a string."""
    return str(zip_files(paths, zpath, root))


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


PROGRESS_EVERY_S = 0.3  # a download's progress bar moves at most this often: each move is a
# message to the page and a redraw there, on the CPU the export itself needs


def _progress_steps(progress, total: int, start: float = 0.1, every_s: float = PROGRESS_EVERY_S):
    """A callback for each file written that moves `progress` (Gradio's bar) from `start`
    towards 0.95, at most once per `every_s` seconds."""
    done: list[str] = []
    last = [float("-inf")]

    def step(name: str) -> None:
        done.append(name)
        now = time.monotonic()
        if progress is not None and now - last[0] >= every_s:
            last[0] = now
            progress(start + (0.95 - start) * min(1.0, len(done) / total), desc=f"Writing {name}")

    return step


def download(view: View | None, shown: Shown = Shown(), progress=None) -> str:  # noqa: B008
    """All figures (as on screen) as PNG (1600 px wide) and SVG, zipped; returns the path.
    The PNGs and SVGs come from the server's warm browser (`swinviz.export.export_warm`)."""
    if view is None:
        raise user_error("Run the model on an image first; then the figures can be downloaded.")
    if progress is not None:
        progress(0.05, desc="Drawing the figures")
    figs = build_figures(view, **shown.options())
    out = _export_dir()
    step = _progress_steps(progress, 2 * len(figs))
    paths = _exporting(out, lambda: export_warm(figs, out / "figures", ("png", "svg"),
                                                width=EXPORT_WIDTH, progress=step))
    zpath = _zip(sorted(Path(x) for x in paths),
                 out / f"swinviz-figures-{_file_stem(view, shown.block)}.zip")
    shutil.rmtree(out / "figures", ignore_errors=True)
    return zpath


def lecture_deck(view: View | None, lang: str = "en", progress=None) -> str:
    """The lesson's deck for the session's exploration (`swinviz.lesson.write_lecture`: 16:9
    slides as PNGs, lecture.pptx with speaker notes, lecture.pdf, the shift GIF and its
    frames) in `lang`, zipped; returns the path."""
    from swinviz.lesson import deck_steps, languages, write_lecture

    if view is None:
        raise user_error("Run the model on an image first; then the lecture deck can be made.")
    lang = lang if lang in languages() else "en"
    out = _export_dir()
    step = _progress_steps(progress, deck_steps(), start=0.02)
    paths = _exporting(out, lambda: write_lecture(
        view.exp, out / "deck", lang=lang, query=view.query, exporter=WARM, progress=step))
    frames = sorted((out / "deck" / "shift-frames").glob("*.png"))
    zpath = _zip([*paths, *frames],
                 out / f"swinviz-lecture-{lang}-{_file_stem(view, 1)}.zip", root=out / "deck")
    shutil.rmtree(out / "deck", ignore_errors=True)
    return zpath


def shift_gif(view: View | None) -> str | None:
    """The cyclic shift of the session's exploration animated (`swinviz.animation`), as a GIF
    file; None before a run. Built once per exploration and kept beside the exports."""
    from swinviz.animation import GIF_BETWEEN, save_gif, shift_animation

    if view is None:
        return None
    held = view.held
    if held.gif is not None and Path(held.gif).is_file():
        return held.gif
    held.gif = str(save_gif(shift_animation(view.exp, between=GIF_BETWEEN),
                            _export_dir() / "cyclic-shift.gif", between=GIF_BETWEEN))
    return held.gif
