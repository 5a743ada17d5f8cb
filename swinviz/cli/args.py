"""The command line's options: the parser (every option read as text), the presets, and
`FigureSettings`, what a checked command line becomes (`swinviz.cli.checks.figure_settings`).

Adding an option: declare it in `_add_common` or a command's block of `build_parser` (as text,
no `type=`), add a field to `FigureSettings`, and convert and check it in `figure_settings`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from ..config import short
from ..settings import Settings

MAX_SIZE = 1024  # input pixels: bounds one exploration's memory (about 250 MB of traces)
MIN_WIDTH, MAX_WIDTH = 200, 10_000  # PNG width in pixels; export refuses below 200
SLIDE_WIDTH = 1600
COMMANDS = ("figures", "lecture")
WEIGHTS = ("auto", "random", "hub")
# --preset NAME: values for the options not given on the command line. "6x6" is the 6x6
# example (docs/concepts.md's worked example; the page's preset of the same name): a 24 px input
# (a 6x6 token grid), window 3, shift 1, random weights, stage 1, so every figure shows exactly
# its tables.
PRESETS: dict[str, dict[str, str]] = {
    "6x6": {"size": "24", "window": "3", "shift": "1", "weights": "random", "stage": "1"},
}



class UsageError(ValueError):
    """A bad command line; the message is one sentence for the person who typed it."""



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
    # figures: the class the evidence figure explains (an index or an ImageNet name; None: the
    # top class); its maps are computed only when that kind is drawn
    target: int | str | None = None
    lang: str = "en"  # the figures' or the lecture deck's language; theme: the deck's look
    theme: str = "light"
    # the same settings as the library's one checked object (`swinviz.settings.Settings`: the
    # model's config, the pair, what the figures show), which the run hands on
    view: Settings | None = field(default=None, compare=False, repr=False)


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
                        "(default: a token on a window border near the middle); a query set "
                        "ROW,COL;ROW,COL;...: the attention figure sums its attention")
    c.add_argument("--block", default="1", help="block 0 or 1 of the pair (default 1)")
    c.add_argument("--without", default=None,
                   help="parts to leave out in every block, from shift, mask and bias (e.g. "
                        "mask,bias): what Swin computes without them")
    c.add_argument("--head", default="0", help="head index from 0, or 'all' (default 0)")
    c.add_argument("--template", default=template,
                   help=f"default, lecture or narrow (a phone's column; default {template})")
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
    f.add_argument("--lang", default="en", help="en or zh: the figures' language (default en)")
    f.add_argument("--target", default=None,
                   help="the class the evidence figure explains: an ImageNet class index or "
                        "name, e.g. 281 or tabby (default: the model's top class)")
    lec = sub.add_parser("lecture", help="the lesson as a 16:9 deck: lecture.pptx, lecture.pdf, "
                                         "1920x1080 slide PNGs and the cyclic-shift GIF")
    _add_common(lec, "lecture")
    lec.add_argument("--lang", default="en", help="en or zh: the slides' and notes' language "
                                                  "(default en)")
    lec.add_argument("--theme", default="light", help="light or dark (default light)")
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
