"""Command line: `python -m swinviz figures IMAGE --out DIR ...` exports every figure for slides.

    python -m swinviz figures assets/cat.jpg --out figs --format png,svg --template lecture
    python -m swinviz bench            # same as python -m swinviz.bench
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


class Progress:
    """A one-line progress bar on stderr: `[#####-----] 5/12 attention.png`."""

    def __init__(self, total: int, width: int = 30, stream=None) -> None:
        self.total, self.width, self.done = total, width, 0
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    def step(self, label: str) -> None:
        self.done += 1
        filled = round(self.width * self.done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        end = "\n" if self.done >= self.total else ""
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {elapsed:5.1f}s {label:<22}{end}")
        self.stream.flush()


def parse_query(text: str | None) -> tuple[int, int] | None:
    """"12,40" -> (12, 40)."""
    if text is None:
        return None
    try:
        r, c = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--query must be ROW,COL (two whole numbers), got {text!r}"
        ) from None
    return r, c


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m swinviz",
                                description="Explore the shifted-window attention of Swin.")
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("figures", help="export every figure for one image (PNG/SVG)")
    f.add_argument("image", help="an image file (any format Pillow reads)")
    f.add_argument("--out", required=True, help="output folder (created if missing)")
    f.add_argument("--format", default="png,svg", help="png, svg or png,svg (default png,svg)")
    f.add_argument("--size", type=int, default=224, help="input size in pixels (default 224)")
    f.add_argument("--window", type=int, default=7, help="window size M in tokens (default 7)")
    f.add_argument("--shift", type=int, default=None, help="shift s (default M // 2)")
    f.add_argument("--weights", default="random", help="random, hub or a checkpoint path")
    f.add_argument("--query", type=parse_query, default=None,
                   help="query patch ROW,COL in token coordinates (default near bottom-right)")
    f.add_argument("--block", type=int, default=1, choices=(0, 1), help="block 0 or 1")
    f.add_argument("--head", default="0", help="head index, or 'all' (default 0)")
    f.add_argument("--template", default="default", choices=("default", "lecture"))
    f.add_argument("--width", type=int, default=1600, help="PNG width in pixels (default 1600)")
    f.add_argument("--kinds", default=None, help="comma-separated subset of figure kinds")
    f.add_argument("--device", default="auto", help="auto, cpu or cuda")
    sub.add_parser("bench", help="run the benchmark (python -m swinviz.bench)", add_help=False)
    return p


def run_figures(args: argparse.Namespace) -> int:
    from .checkpoints import CheckpointError
    from .export import ExportError, export_figures, find_browser, parse_formats
    from .figures import KINDS, make_figure
    from .image import ImageError
    from .model import SettingsError, check_settings, load_model

    try:
        formats = parse_formats(args.format)
        kinds = tuple(k.strip() for k in args.kinds.split(",")) if args.kinds else KINDS
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown figure kind(s) {unknown}; choose from {', '.join(KINDS)}")
        head = None if args.head.strip().lower() == "all" else int(args.head)
        if args.width < 1600:
            print(f"note: --width {args.width} is below slide resolution (1600)", file=sys.stderr)
        check_settings(args.size, args.window, args.shift)
        if find_browser() is None:  # before any work
            export_figures({}, args.out, formats)
        progress = Progress(2 + len(kinds) * (1 + len(formats)))
        weights = args.weights if args.weights in ("random", "hub") else Path(args.weights)
        model = load_model(weights, img_size=args.size, window_size=args.window,
                           shift_size=args.shift, device=args.device)
        progress.step("model ready")
        exp = model.explore(args.image)
        progress.step("image explored")
        figs = {}
        for kind in kinds:
            figs[kind] = make_figure(kind, exp, block=args.block, head=head, query=args.query,
                                     template=args.template)
            progress.step(f"{kind} built")
        paths = export_figures(figs, args.out, formats, width=args.width, progress=progress.step)
    except (ImageError, SettingsError, CheckpointError, ExportError, ValueError,
            FileNotFoundError) as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} files to {Path(args.out).resolve()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        from .bench import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    return run_figures(args)


if __name__ == "__main__":
    raise SystemExit(main())
