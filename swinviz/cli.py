"""Command line: `python -m swinviz figures IMAGE --out DIR ...` exports every figure for slides.

    python -m swinviz figures assets/cat.jpg --out figs --format png,svg --template lecture
    python -m swinviz bench            # same as python -m swinviz.bench

Every argument is checked before any work (`figure_settings`: argv -> FigureSettings); a bad one
is one sentence on stderr and exit code 2. A failure during the run that is not the input's
fault is one sentence and exit code 1 (SWINVIZ_DEBUG=1 prints the traceback as well).

Adding an option: declare it in `build_parser` (as text, no `type=`), add a field to
`FigureSettings`, and convert and check it in `figure_settings`; the run only reads settings.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

MAX_SIZE = 1024  # input pixels: bounds one exploration's memory (about 250 MB of traces)
MIN_WIDTH, MAX_WIDTH = 200, 10_000  # PNG width in pixels; export refuses below 200
SLIDE_WIDTH = 1600
EMBED_DIM, NUM_HEADS = 96, 3  # Swin-T stage 1: what the CLI builds and checks --head against
DEBUG_ENV = "SWINVIZ_DEBUG"


class UsageError(ValueError):
    """A bad command line; the message is one sentence for the person who typed it."""


class Progress:
    """A one-line progress bar on stderr: `[#####-----] 5/12 attention.png`."""

    def __init__(self, total: int, width: int = 30, stream=None) -> None:
        self.total, self.width, self.done = total, width, 0
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    @property
    def mid_line(self) -> bool:
        """True while the bar is drawn but not finished (a message must start a new line)."""
        return 0 < self.done < self.total

    def step(self, label: str) -> None:
        self.done += 1
        filled = round(self.width * self.done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        end = "\n" if self.done >= self.total else ""
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {elapsed:5.1f}s {label:<22}{end}")
        self.stream.flush()


@dataclass(frozen=True)
class FigureSettings:
    """A checked `figures` command line: every value here is one the run can use."""

    image: str  # a file whose header Pillow reads as an image
    out: Path
    formats: tuple[str, ...]
    size: int
    window: int
    shift: int | None
    weights: str | Path  # "random", "hub" or an existing checkpoint path
    query: tuple[int, int] | None  # (row, col) inside the size/4 x size/4 token grid
    block: int
    head: int | None  # None: all heads
    template: str
    width: int
    kinds: tuple[str, ...]
    device: str  # "cpu", "cuda" or "cuda:N", already resolved
    embed_dim: int = EMBED_DIM
    num_heads: int = NUM_HEADS


# ------------------------------------------------------------------------------ parsing


class _Parser(argparse.ArgumentParser):
    """argparse's own complaints (unknown option, missing value) become a UsageError."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `python -m swinviz figures --help`)")


def build_parser() -> argparse.ArgumentParser:
    """The options, all read as text; `figure_settings` converts and checks them."""
    p = _Parser(prog="python -m swinviz",
                description="Explore the shifted-window attention of Swin.")
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("figures", help="export every figure for one image (PNG/SVG)")
    f.add_argument("image", help="an image file (any format Pillow reads)")
    f.add_argument("--out", required=True, help="output folder (created if missing)")
    f.add_argument("--format", default="png,svg", help="png, svg or png,svg (default png,svg)")
    f.add_argument("--size", default="224",
                   help=f"input size in pixels, at most {MAX_SIZE} (default 224)")
    f.add_argument("--window", default="7", help="window size M in tokens (default 7)")
    f.add_argument("--shift", default=None, help="shift s (default M // 2)")
    f.add_argument("--weights", default="random", help="random, hub or a checkpoint path")
    f.add_argument("--query", default=None,
                   help="query patch ROW,COL in token coordinates (default near bottom-right)")
    f.add_argument("--block", default="1", help="block 0 or 1 (default 1)")
    f.add_argument("--head", default="0",
                   help=f"head index 0..{NUM_HEADS - 1}, or 'all' (default 0)")
    f.add_argument("--template", default="default", help="default or lecture")
    f.add_argument("--width", default=str(SLIDE_WIDTH),
                   help=f"PNG width in pixels, {MIN_WIDTH} to {MAX_WIDTH} (default 1600)")
    f.add_argument("--kinds", default=None, help="comma-separated subset of figure kinds")
    f.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    sub.add_parser("bench", help="run the benchmark (python -m swinviz.bench)", add_help=False)
    return p


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """The option strings (of the parser and its subcommands) that take one value."""
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found |= _value_options(child)
        elif action.option_strings and action.nargs is None:
            found.update(action.option_strings)
    return found


def _attach_dash_values(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """`--query -1,3` -> `--query=-1,3`: argparse would take "-1,3" for an option and say
    "expected one argument"; attached, it is a value, and the range check words the answer."""
    takes_value = _value_options(parser)
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if (arg in takes_value and nxt is not None and nxt.startswith("-")
                and not nxt.startswith("--") and nxt not in ("-", "-h")):
            out.append(f"{arg}={nxt}")
            i += 2
        else:
            out.append(arg)
            i += 1
    return out


def _whole(option: str, text: str, lo: int, hi: int | None, what: str) -> int:
    """`text` as a whole number in lo..hi (hi None: no upper bound), else a UsageError that
    says what `option` takes (`what`, e.g. "a whole number of pixels from 1 to 1024")."""
    t = text.strip()
    if re.fullmatch(r"[+-]?\d{1,18}", t):
        v = int(t)
        if v >= lo and (hi is None or v <= hi):
            return v
    raise UsageError(f"{option} must be {what}, got {text!r}")


def parse_query(text: str | None) -> tuple[int, int] | None:
    """"12,40" -> (12, 40); "-1,3" -> (-1, 3) (the grid check refuses it with the grid size)."""
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != 2 or not all(re.fullmatch(r"\s*[+-]?\d{1,9}\s*", v) for v in parts):
        raise UsageError(f"--query must be ROW,COL (two whole numbers, e.g. 20,25), got {text!r}")
    r, c = (int(v) for v in parts)
    return r, c


def _check_out(text: str) -> Path:
    """The output folder: an existing folder, or one that can be created (no file in the way)."""
    out = Path(text).expanduser()
    if not text.strip():
        raise UsageError("--out must name a folder for the figures, got an empty path")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out '{text}' is a file, not a folder; give a folder for the "
                         "figures (it is created if missing)")
    probe = out.absolute()
    while not probe.exists():  # the nearest existing folder above must be a writable folder
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"--out '{text}' cannot be created: '{probe}' is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--out '{text}' cannot be written: '{probe}' is not writable")
    return out


def _check_weights(text: str) -> str | Path:
    if text in ("random", "hub"):
        return text
    path = Path(text).expanduser()
    if not path.exists():
        raise UsageError(f"--weights must be random, hub or an existing checkpoint file or "
                         f"folder, and nothing was found at '{text}'")
    return path


def _check_image(text: str) -> str:
    """Refuse a missing file or a non-image from its header alone (nothing is decoded when it
    is fine); the messages are `swinviz.image`'s own."""
    from PIL import Image

    from .image import MAX_BYTES, MAX_PIXELS, open_image

    path = os.path.expanduser(text)  # a str: Path() would fold "http://" into "http:/"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
        if 0 < w * h <= MAX_PIXELS and os.path.getsize(path) <= MAX_BYTES:
            return path
    except Exception:
        pass
    open_image(path)  # a file the header check refused: raises ImageError saying why
    return path


def figure_settings(argv: list[str]) -> FigureSettings:
    """argv of `figures` (e.g. ["figures", "cat.jpg", "--out", "figs"]) -> checked settings.

    Checks run in this order: each value on its own, then the model settings together
    (`swinviz.model.check_settings`), the selection against the model (query inside the token
    grid, head below the number of heads), the device, and last the files (output folder,
    weights, the image's header). Nothing is built or decoded. Raises UsageError, or
    SettingsError / ImageError, each with one sentence.
    """
    from .export import parse_formats
    from .figures import KINDS
    from .figures.style import TEMPLATES
    from .model import PATCH_SIZE, check_settings, resolve_device

    parser = build_parser()
    a = parser.parse_args(_attach_dash_values(argv, parser))
    if a.command != "figures":
        raise UsageError(f"unknown command {a.command!r}; use figures or bench")

    try:
        formats = parse_formats(a.format)
    except ValueError as e:
        raise UsageError(f"--format: {e}") from None
    size = _whole("--size", a.size, 1, MAX_SIZE,
                  f"a whole number of pixels from 1 to {MAX_SIZE} (e.g. 224)")
    window = _whole("--window", a.window, 1, None, "a whole number of tokens, at least 1 (e.g. 7)")
    shift = None if a.shift is None else _whole(
        "--shift", a.shift, 0, None, "a whole number of tokens, 0 or more (e.g. 3)")
    width = _whole("--width", a.width, MIN_WIDTH, MAX_WIDTH,
                   f"a whole number of pixels from {MIN_WIDTH} to {MAX_WIDTH} (e.g. 1600)")
    block = _whole("--block", a.block, 0, 1, "0 (W-MSA) or 1 (SW-MSA)")
    query = parse_query(a.query)
    if a.template not in TEMPLATES:
        raise UsageError(f"--template must be one of {', '.join(TEMPLATES)}, got {a.template!r}")
    kinds = KINDS
    if a.kinds is not None:
        kinds = tuple(dict.fromkeys(k.strip() for k in a.kinds.split(",") if k.strip()))
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            bad = f"unknown figure kind(s) {', '.join(unknown)}" if unknown else "no figure kind"
            raise UsageError(f"--kinds names {bad}; choose from {', '.join(KINDS)}")

    embed_dim, num_heads = EMBED_DIM, NUM_HEADS  # the model's width and heads (Swin-T stage 1)
    check_settings(size, window, shift, embed_dim, num_heads, whole_windows=True)
    grid = size // PATCH_SIZE
    if query is not None and not all(0 <= v < grid for v in query):
        raise UsageError(
            f"--query {query[0]},{query[1]} is outside the {grid}x{grid} token grid of a "
            f"{size} px input; ROW and COL must be from 0 to {grid - 1}"
        )
    if a.head.strip().lower() == "all":
        head = None
    else:
        head = _whole("--head", a.head, 0, num_heads - 1,
                      f"a head number from 0 to {num_heads - 1} (the model has {num_heads} "
                      "heads) or 'all'")
    device = str(resolve_device(a.device))

    return FigureSettings(
        image=_check_image(a.image), out=_check_out(a.out), formats=formats, size=size,
        window=window, shift=shift, weights=_check_weights(a.weights), query=query,
        block=block, head=head, template=a.template, width=width, kinds=kinds, device=device,
        embed_dim=embed_dim, num_heads=num_heads,
    )


# ------------------------------------------------------------------------------ running


def run_figures(s: FigureSettings) -> int:
    """Build the model, explore the image, export the figures; 0 when all were written."""
    from . import export, model
    from .figures import make_figure

    if s.width < SLIDE_WIDTH:
        print(f"note: --width {s.width} is below slide resolution ({SLIDE_WIDTH})",
              file=sys.stderr)
    if export.find_browser() is None:  # before any work: raises ExportError saying what to do
        export.export_figures({}, s.out, s.formats)
    progress = Progress(2 + len(s.kinds) * (1 + len(s.formats)))
    try:
        m = model.load_model(s.weights, img_size=s.size, window_size=s.window,
                             shift_size=s.shift, embed_dim=s.embed_dim, num_heads=s.num_heads,
                             device=s.device)
        progress.step("model ready")
        exp = m.explore(s.image)
        progress.step("image explored")
        figs = {}
        for kind in s.kinds:
            figs[kind] = make_figure(kind, exp, block=s.block, head=s.head, query=s.query,
                                     template=s.template)
            progress.step(f"{kind} built")
        paths = export.export_figures(figs, s.out, s.formats, width=s.width,
                                      progress=progress.step)
    finally:
        if progress.mid_line:
            print(file=sys.stderr)
    print(f"wrote {len(paths)} files to {s.out.resolve()}")
    return 0


def _sentence(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if text.endswith((".", "!", "?")) else text + "."


def main(argv: list[str] | None = None) -> int:
    """`python -m swinviz ...`; returns the exit code: 0 done, 1 failed, 2 bad input."""
    from .checkpoints import CheckpointError
    from .export import ExportError
    from .image import ImageError
    from .model import SettingsError

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from .bench import main as bench_main

        return bench_main(argv[1:])
    try:
        return run_figures(figure_settings(argv))
    except (UsageError, ImageError, SettingsError, CheckpointError, ExportError) as e:
        print(f"error: {_sentence(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    except Exception as e:  # not the input's fault: one line, the traceback only when asked
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            traceback.print_exc()
        why = _sentence(e).rstrip(".")
        print(f"error: the run failed unexpectedly ({type(e).__name__}: {why}); "
              f"set {DEBUG_ENV}=1 to see the traceback.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
