"""Command line: `python -m swinviz figures|lecture IMAGE --out DIR ...`.

    python -m swinviz figures assets/cat.jpg --out figs --format png,svg --template lecture
    python -m swinviz figures assets/cat.jpg --out figs --stage 3 --pair 2 --arch swin-s
    python -m swinviz lecture assets/cat.jpg --out deck       # slides, lecture.pdf, a GIF
    python -m swinviz lecture assets/cat.jpg --out six --preset 6x6
    python -m swinviz bench            # same as python -m swinviz.bench

Every argument is checked before any work (`figure_settings`: argv -> FigureSettings), the memory
the run needs included (`swinviz.budget`, as the app checks it; the limit is SWINVIZ_REQUEST_MB,
default 4096 MB here); a bad one is one sentence on stderr and exit code 2. A failure during the
run that is not the input's fault is one sentence and exit code 1 (SWINVIZ_DEBUG=1 prints the
traceback as well).

Adding an option: declare it in `_add_common` or a command's block of `build_parser` (as text,
no `type=`), add a field to `FigureSettings`, and convert and check it in `figure_settings`; the
run only reads settings.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

from .config import expanduser, short

MAX_SIZE = 1024  # input pixels: bounds one exploration's memory (about 250 MB of traces)
MIN_WIDTH, MAX_WIDTH = 200, 10_000  # PNG width in pixels; export refuses below 200
SLIDE_WIDTH = 1600
COMMANDS = ("figures", "lecture")
WEIGHTS = ("auto", "random", "hub")
DEBUG_ENV = "SWINVIZ_DEBUG"
# --preset NAME: values for the options not given on the command line. "6x6" is the 6x6
# example (docs/concepts.md's worked example; the page's preset of the same name): a 24 px input
# (a 6x6 token grid), window 3, shift 1, random weights, stage 1, so every figure shows exactly
# its tables.
PRESETS: dict[str, dict[str, str]] = {
    "6x6": {"size": "24", "window": "3", "shift": "1", "weights": "random", "stage": "1"},
}


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
    """A checked `figures` / `lecture` command line: every value here is one the run can use."""

    image: str  # a file whose header Pillow reads as an image
    out: Path
    formats: tuple[str, ...]  # lecture: ("png",)
    size: int
    window: int
    shift: int | None
    weights: str | Path  # "auto", "random", "hub" or an existing checkpoint path
    query: tuple[int, int] | None  # (row, col) inside the stage's token grid
    block: int
    head: int | None  # None: all heads
    template: str
    width: int
    kinds: tuple[str, ...]
    device: str  # "cpu", "cuda" or "cuda:N", already resolved
    command: str = "figures"
    arch: str = "swin_tiny_patch4_window7_224"  # a name of swinviz.config.ARCHS
    stage: int = 1
    pair: int = 0
    preset: str | None = None


# ------------------------------------------------------------------------------ parsing


class _Parser(argparse.ArgumentParser):
    """argparse's own complaints (unknown option, missing value) become a UsageError."""

    def error(self, message: str):
        if len(message) > 200:  # argparse quotes the offending argument whole
            message = message[:200] + "…"
        raise UsageError(f"{message} (see `python -m swinviz --help`)")


def _add_common(c: argparse.ArgumentParser, template: str) -> None:
    """The options `figures` and `lecture` share."""
    c.add_argument("image", help="an image file (any format Pillow reads)")
    c.add_argument("--out", required=True, help="output folder (created if missing)")
    c.add_argument("--arch", default="swin-t",
                   help="swin-t, swin-s, swin-b, swin-b-384 or a timm name (default swin-t)")
    c.add_argument("--stage", default=None, help="stage 1-4, as the paper numbers them (default 1)")
    c.add_argument("--pair", default="0",
                   help="block pair inside the stage, from 0 (blocks 2p and 2p+1; default 0)")
    c.add_argument("--size", default=None,
                   help=f"input size in pixels, at most {MAX_SIZE} (default: the arch's, 224)")
    c.add_argument("--window", default=None,
                   help="window size M in tokens (default: the arch's, 7)")
    c.add_argument("--shift", default=None, help="shift s (default M // 2)")
    c.add_argument("--weights", default=None,
                   help="auto (pretrained when they can be had, else random), random, hub or "
                        "a checkpoint path (default auto)")
    c.add_argument("--preset", default=None,
                   help="6x6: the 6x6 example (24 px, window 3, shift 1, random weights, "
                        "stage 1); options given on the command line win")
    c.add_argument("--query", default=None,
                   help="query patch ROW,COL in the stage's token coordinates "
                        "(default near bottom-right)")
    c.add_argument("--block", default="1", help="block 0 or 1 of the pair (default 1)")
    c.add_argument("--head", default="0", help="head index from 0, or 'all' (default 0)")
    c.add_argument("--template", default=template, help=f"default or lecture (default {template})")
    c.add_argument("--width", default=str(SLIDE_WIDTH),
                   help=f"PNG width in pixels, {MIN_WIDTH} to {MAX_WIDTH} (default 1600)")
    c.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def build_parser() -> argparse.ArgumentParser:
    """The options, all read as text; `figure_settings` converts and checks them."""
    p = _Parser(prog="python -m swinviz",
                description="Explore the shifted-window attention of Swin.")
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("figures", help="export every figure for one image (PNG/SVG)")
    _add_common(f, "default")
    f.add_argument("--format", default="png,svg", help="png, svg or png,svg (default png,svg)")
    f.add_argument("--kinds", default=None, help="comma-separated subset of figure kinds")
    lec = sub.add_parser("lecture", help="numbered slides, one PDF and the cyclic-shift GIF")
    _add_common(lec, "lecture")
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


def _cut(text: str, limit: int = 60) -> str:
    """Text a person typed, for a message: whole up to `limit` characters, else cut there."""
    return text if len(text) <= limit else text[:limit] + "…"


def _whole(option: str, text: str, lo: int, hi: int | None, what: str) -> int:
    """`text` as a whole number in lo..hi (hi None: no upper bound), else a UsageError that
    says what `option` takes (`what`, e.g. "a whole number of pixels from 1 to 1024")."""
    t = text.strip()
    if re.fullmatch(r"[+-]?\d{1,18}", t):
        v = int(t)
        if v >= lo and (hi is None or v <= hi):
            return v
    raise UsageError(f"{option} must be {what}, got {short(text)}")


def parse_query(text: str | None) -> tuple[int, int] | None:
    """"12,40" -> (12, 40); "-1,3" -> (-1, 3) (the grid check refuses it with the grid size)."""
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != 2 or not all(re.fullmatch(r"\s*[+-]?\d{1,9}\s*", v) for v in parts):
        raise UsageError(
            f"--query must be ROW,COL (two whole numbers, e.g. 20,25), got {short(text)}"
        )
    r, c = (int(v) for v in parts)
    return r, c


def _check_out(text: str) -> Path:
    """The output folder: an existing folder, or one that can be created (no file in the way).
    The nearest folder that exists must take a new folder: one is made there and removed
    again (a permission check alone says yes to root, and on /proc or a read-only disk)."""
    if not text.strip():
        raise UsageError("--out must name a folder for the figures, got an empty path")
    shown = _cut(text, 200)
    try:
        out = Path(expanduser(text))
        is_file = out.exists() and not out.is_dir()
        probe = out.absolute()
        while not probe.exists():  # the nearest existing folder above must take a new folder
            probe = probe.parent
    except (OSError, ValueError) as e:  # a name too long, a NUL byte
        why = getattr(e, "strerror", None) or "not a usable path"
        raise UsageError(f"--out '{shown}' cannot be used as a folder ({why})") from None
    if is_file:
        raise UsageError(f"--out '{shown}' is a file, not a folder; give a folder for the "
                         "figures (it is created if missing)")
    where = _cut(str(probe), 200)
    if not probe.is_dir():
        raise UsageError(f"--out '{shown}' cannot be created: '{where}' is a file, not a folder")
    verb = "written" if probe == out.absolute() else "created"
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--out '{shown}' cannot be {verb}: '{where}' is not writable")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".swinviz-", dir=probe))
    except OSError as e:
        raise UsageError(f"--out '{shown}' cannot be {verb}: no folder can be made in "
                         f"'{where}' ({e.strerror or 'refused'})") from None
    return out


def _check_weights(text: str) -> str | Path:
    if text in WEIGHTS:
        return text
    try:
        path = Path(expanduser(text))
        found = path.exists()
    except (OSError, ValueError):  # a name too long, a NUL byte
        found = False
    if not found:
        raise UsageError(f"--weights must be auto, random, hub or an existing checkpoint file "
                         f"or folder, and nothing was found at {short(text)}")
    return path


def _check_image(text: str) -> str:
    """Refuse a missing file or a non-image from its header alone (nothing is decoded when it
    is fine); the messages are `swinviz.image`'s own."""
    from PIL import Image

    from .image import MAX_BYTES, MAX_PIXELS, check_file, open_image

    path = expanduser(text)  # a str: Path() would fold "http://" into "http:/"
    check_file(path)  # a regular file, from os.stat: opening a named pipe would block
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


def _with_preset(a: argparse.Namespace) -> argparse.Namespace:
    """Fill the options the command line left out from --preset, then from the defaults."""
    if a.preset is not None:
        name = a.preset.strip().lower()
        if name not in PRESETS:
            raise UsageError(
                f"--preset must be one of {', '.join(PRESETS)}, got {short(a.preset)}"
            )
        a.preset = name
        for key, value in PRESETS[name].items():
            if getattr(a, key) is None:
                setattr(a, key, value)
    if a.weights is None:
        a.weights = "auto"
    if a.stage is None:
        a.stage = "1"
    return a


def _check_stage(cfg, stage_text: str, pair_text: str) -> tuple[int, int]:
    """--stage and --pair through `swinviz.config.check_stage_pair`, worded as options."""
    from .config import SettingsError, check_stage_pair

    try:
        stage, _ = check_stage_pair(cfg, stage_text, 0)
    except SettingsError as e:
        raise UsageError(f"--{e}") from None
    try:
        return check_stage_pair(cfg, stage, pair_text)
    except SettingsError as e:
        pairs = cfg.depths[stage - 1] // 2
        if str(e).startswith("pair"):  # not a whole number
            which = (f"0 (stage {stage} has one block pair)" if pairs == 1 else
                     f"a whole number from 0 to {pairs - 1} (stage {stage} has {pairs} block "
                     "pairs)")
            raise UsageError(f"--pair must be {which}, got {short(pair_text)}") from None
        raise UsageError(f"--pair {_cut(pair_text.strip())}: {e}") from None


def _check_budget(cfg, stage: int, pair: int) -> None:
    """The memory the run needs, estimated from its settings by `swinviz.budget` as the app
    does, against $SWINVIZ_REQUEST_MB (default CLI_REQUEST_MB: one run on this machine); over
    it, a UsageError naming the options that fit ("--window 14 or --size 448 fits")."""
    from .budget import CLI_REQUEST_MB, BudgetError, check_budget, request_limit_mb

    try:
        check_budget(cfg, stage, pair, limit_mb=request_limit_mb(CLI_REQUEST_MB),
                     vary=("window", "size"))
    except BudgetError as e:
        text = re.sub(r"\ban input size of (\d+)", r"--size \1", str(e))
        raise UsageError(re.sub(r"\ba window of (\d+)", r"--window \1", text)) from None


def _a(n: int) -> str:
    """The article before a number said aloud: "an 11", "an 8", "a 14"."""
    return "an" if str(n).startswith("8") or n in (11, 18) else "a"


def figure_settings(argv: list[str]) -> FigureSettings:
    """argv of `figures` or `lecture` (e.g. ["figures", "cat.jpg", "--out", "figs"]) -> checked
    settings.

    Checks run in this order: each value on its own (the preset fills what is not given), the
    architecture, then the model settings together (`swinviz.model.check_settings`; a grid
    that does not split into whole windows is padded), the stage and pair
    (`swinviz.config.check_stage_pair`), the memory the run needs (`_check_budget`), the
    selection against the stage (query inside the stage's token grid, head below the stage's
    number of heads), the device, and last the files (the image's header, the output folder,
    the weights). Nothing is built or decoded. Raises UsageError, or SettingsError /
    ImageError, each with one sentence.
    """
    from .config import SettingsError, get_config
    from .export import parse_formats
    from .figures import KINDS
    from .figures.style import TEMPLATES
    from .model import check_settings, config_for, resolve_device

    parser = build_parser()
    a = parser.parse_args(_attach_dash_values(argv, parser))
    if a.command not in COMMANDS:
        raise UsageError(f"unknown command {a.command!r}; use figures, lecture or bench")
    a = _with_preset(a)

    lecture = a.command == "lecture"
    try:
        formats = ("png",) if lecture else parse_formats(a.format)
    except ValueError as e:
        detail = str(e) if len(str(e)) <= 200 else (
            f"unknown export format(s) {short(a.format)}; choose from png, svg")
        raise UsageError(f"--format: {detail}") from None
    try:
        base = get_config(a.arch)
    except SettingsError as e:
        raise UsageError(f"--arch: {e}") from None
    size = base.img_size if a.size is None else _whole(
        "--size", a.size, 1, MAX_SIZE, f"a whole number of pixels from 1 to {MAX_SIZE} (e.g. 224)")
    window = base.window_size if a.window is None else _whole(
        "--window", a.window, 1, None, "a whole number of tokens, at least 1 (e.g. 7)")
    shift = None if a.shift is None else _whole(
        "--shift", a.shift, 0, None, "a whole number of tokens, 0 or more (e.g. 3)")
    width = _whole("--width", a.width, MIN_WIDTH, MAX_WIDTH,
                   f"a whole number of pixels from {MIN_WIDTH} to {MAX_WIDTH} (e.g. 1600)")
    block = _whole("--block", a.block, 0, 1, "0 (W-MSA) or 1 (SW-MSA)")
    query = parse_query(a.query)
    if a.template not in TEMPLATES:
        raise UsageError(
            f"--template must be one of {', '.join(TEMPLATES)}, got {short(a.template)}"
        )
    kinds = KINDS
    if not lecture and a.kinds is not None:
        kinds = tuple(dict.fromkeys(k.strip() for k in a.kinds.split(",") if k.strip()))
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            bad = f"unknown figure kind(s) {_cut(', '.join(unknown))}" if unknown else \
                "no figure kind"
            raise UsageError(f"--kinds names {bad}; choose from {', '.join(KINDS)}")

    # the model settings together: the arch's own width and heads (a token grid that does not
    # split into whole windows is padded, as the blocks do, and the figures show the padding)
    check_settings(size, window, shift, base.embed_dim, base.num_heads[0], arch=base)
    cfg = config_for(base, img_size=size, window_size=window, shift_size=shift)
    stage, pair = _check_stage(cfg, a.stage, a.pair)
    _check_budget(cfg, stage, pair)
    geo = cfg.stage(stage)
    H, W = geo.grid
    if query is not None and not (0 <= query[0] < H and 0 <= query[1] < W):
        where = (f"token grid of a {size} px input" if stage == 1 else
                 f"token grid of stage {stage} ({size} px input)")
        rows = (f"ROW and COL must be from 0 to {H - 1}" if H == W else
                f"ROW must be from 0 to {H - 1} and COL from 0 to {W - 1}")
        raise UsageError(f"--query {query[0]},{query[1]} is outside the {H}x{W} {where}; {rows}")
    heads = geo.num_heads
    if a.head.strip().lower() == "all":
        head = None
    else:
        head = _whole("--head", a.head, 0, heads - 1,
                      f"a head number from 0 to {heads - 1} (stage {stage} has {heads} heads) "
                      "or 'all'")
    device = str(resolve_device(a.device))

    return FigureSettings(
        image=_check_image(a.image), out=_check_out(a.out), formats=formats, size=size,
        window=window, shift=shift, weights=_check_weights(a.weights), query=query,
        block=block, head=head, template=a.template, width=width, kinds=kinds, device=device,
        command=a.command, arch=base.name, stage=stage, pair=pair, preset=a.preset,
    )


# ------------------------------------------------------------------------------ running


def resolve_weights(s: FigureSettings) -> str | Path:
    """--weights auto -> `swinviz.checkpoints.default_weights(arch)` (pretrained when they can
    be had); its notice, with random weights, goes to stderr on one line."""
    if s.weights != "auto":
        return s.weights
    from .checkpoints import default_weights

    choice = default_weights(s.arch)
    if choice.notice:
        print(f"note: {' '.join(choice.notice.split())}", file=sys.stderr)
    return choice.weights


def run(s: FigureSettings) -> int:
    """Build the model, explore the image, write the figures (or the lecture deck); 0 when all
    were written. The export browser starts first, in the background, while the model runs."""
    from . import export, model

    if s.width < SLIDE_WIDTH:
        print(f"note: --width {s.width} is below slide resolution ({SLIDE_WIDTH})",
              file=sys.stderr)
    lecture = s.command == "lecture"
    with export.Exporter() as exporter:  # no browser: ExportError before any work
        try:  # before the model runs: a folder that cannot be made costs nothing
            s.out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"--out '{_cut(str(s.out), 200)}' cannot be created "
                             f"({e.strerror or e})") from None
        weights = resolve_weights(s)
        if lecture:
            from .deck import deck_steps

            progress = Progress(2 + deck_steps())
        else:
            progress = Progress(2 + len(s.kinds) * (1 + len(s.formats)))
        try:
            m = model.load_model(weights, arch=s.arch, img_size=s.size, window_size=s.window,
                                 shift_size=s.shift, device=s.device)
            progress.step("model ready")
            exp = m.explore(s.image, stage=s.stage, pair=s.pair)
            progress.step("image explored")
            selection = dict(block=s.block, head=s.head, query=s.query, template=s.template)
            if lecture:
                from .deck import write_deck

                paths = write_deck(exp, s.out, width=s.width, exporter=exporter,
                                   progress=progress.step, **selection)
            else:
                from .figures import make_figure

                figs = {}
                for kind in s.kinds:
                    figs[kind] = make_figure(kind, exp, **selection)
                    progress.step(f"{kind} built")
                paths = exporter.export(figs, s.out, s.formats, width=s.width,
                                        progress=progress.step)
        finally:
            if progress.mid_line:
                print(file=sys.stderr)
    print(f"wrote {len(paths)} files to {s.out.resolve()}")
    return 0


def _sentence(e: BaseException) -> str:
    text = " ".join(str(e)[:2000].split()) or type(e).__name__
    if len(text) > 1000:  # a message that quotes something whole: its start is enough
        text = text[:1000] + "…"
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
        return run(figure_settings(argv))
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
