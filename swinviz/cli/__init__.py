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

The package reads like a command's life: `args` (the options, the presets, `FigureSettings`),
`checks` (argv -> checked `FigureSettings`, before any work), `commands` (the run, `main`).
Adding an option: declare it in `args._add_common` or a command's block of `args.build_parser`
(as text, no `type=`), add a field to `FigureSettings`, and convert and check it in
`checks.figure_settings`; the run only reads settings.
"""

from .args import PRESETS, FigureSettings, UsageError, build_parser
from .checks import figure_settings, parse_query
from .commands import Progress, main, resolve_weights, run

__all__ = ["PRESETS", "FigureSettings", "Progress", "UsageError", "build_parser",
           "figure_settings", "main", "parse_query", "resolve_weights", "run"]
