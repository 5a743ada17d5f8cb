"""Static export of figures (PNG at slide resolution, SVG) through kaleido and a Chrome/Chromium
found on this machine. Used by the CLI and by the app's download button."""

from __future__ import annotations

import os
import shutil
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import plotly.graph_objects as go

FORMATS = ("png", "svg")
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_LOCK = threading.Lock()  # kaleido's sync server is a singleton: one export at a time


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


def parse_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """"png,svg" or ["png"] -> ("png", "svg"); unknown formats are a clear ValueError."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out = tuple(dict.fromkeys(f.strip().lower().lstrip(".") for f in items if f.strip()))
    bad = [f for f in out if f not in FORMATS]
    if bad or not out:
        raise ValueError(f"unknown export format(s) {bad or formats!r}; choose from png, svg")
    return out


def figure_size(fig: go.Figure) -> tuple[int, int]:
    """(width, height) in CSS pixels the figure is laid out for: its own, else its template's."""
    from .figures.style import TEMPLATES

    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    t = TEMPLATES.get(meta.get("template", "default"), TEMPLATES["default"])
    return int(fig.layout.width or t.width), int(fig.layout.height or t.height)


def export_figures(
    figs: dict[str, go.Figure],
    out_dir: str | Path,
    formats: str | Iterable[str] = FORMATS,
    width: int = 1600,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write each figure as `<kind>.<format>` into out_dir; returns the paths written.

    PNGs are `width` pixels wide (1600 or more for slides): the on-screen layout scaled up, so
    fonts stay in proportion; SVGs keep the on-screen size. Raises ExportError when no
    Chrome/Chromium is installed or export fails.
    """
    fmts = parse_formats(formats)
    if width < 200:
        raise ValueError(f"width {width} is too small for an exported figure")
    browser = find_browser()
    if browser is None:
        raise ExportError(
            "Static export (PNG/SVG) needs Chrome or Chromium, and none was found. "
            "On Debian/Ubuntu: `apt-get install -y chromium`; elsewhere install Chrome, "
            "or set BROWSER_PATH to its executable."
        )
    os.environ.setdefault("BROWSER_PATH", browser)
    import kaleido
    import plotly.io as pio

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kaleido.start_sync_server(silence_warnings=True)
        try:
            for kind, fig in figs.items():
                w0, h0 = figure_size(fig)
                for fmt in fmts:
                    path = out / f"{kind}.{fmt}"
                    # the layout as on screen, rendered `width` pixels wide (fonts scale along)
                    pio.write_image(fig, path, format=fmt, width=w0, height=h0,
                                    scale=width / w0 if fmt == "png" else 1)
                    written.append(path)
                    if progress:
                        progress(path.name)
        except Exception as e:  # kaleido/choreographer errors are many and version-specific
            raise ExportError(f"exporting figures with {browser} failed: {e}") from e
        finally:
            kaleido.stop_sync_server(silence_warnings=True)
    return written


def zip_files(paths: Iterable[Path], zip_path: str | Path) -> Path:
    """Pack files (flat, by name) into one zip; returns its path."""
    zip_path = Path(zip_path)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in paths:
            zf.write(p, arcname=Path(p).name)
    return zip_path
