"""Running a checked command line: build the model, explore the image, write the figures or
the lecture deck, with a progress bar on stderr; `main` turns every failure into one sentence
and an exit code.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

from ..config import short
from ..environment import DEBUG, debug
from .args import SLIDE_WIDTH, FigureSettings, UsageError
from .checks import figure_settings


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



def resolve_weights(s: FigureSettings) -> str | Path:
    """--weights auto -> `swinviz.weights.default_weights(arch)` (pretrained when they can
    be had); its notice, with random weights, goes to stderr on one line."""
    if s.weights != "auto":
        return s.weights
    from ..weights import default_weights

    choice = default_weights(s.arch)
    if choice.notice:
        print(f"note: {' '.join(choice.notice.split())}", file=sys.stderr)
    return choice.weights


def run(s: FigureSettings) -> int:
    """Build the model, explore the image, write the figures (or the lecture deck); 0 when all
    were written. The export browser starts first, in the background, while the model runs."""
    from .. import export, factory

    lecture = s.command == "lecture"
    if s.width < SLIDE_WIDTH and not lecture:
        print(f"note: --width {s.width} is below slide resolution ({SLIDE_WIDTH})",
              file=sys.stderr)
    with export.Exporter() as exporter:  # no browser: ExportError before any work
        try:  # before the model runs: a folder that cannot be made costs nothing
            s.out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"--out '{short(str(s.out), 200, quote=False)}' cannot be created "
                             f"({e.strerror or e})") from None
        weights = resolve_weights(s)
        if lecture:
            from ..lesson import deck_steps

            progress = Progress(2 + deck_steps())
        else:
            progress = Progress(2 + len(s.kinds) * (1 + len(s.formats)))
        try:
            m = factory.load_model(weights, arch=s.arch, img_size=s.size, window_size=s.window,
                                 shift_size=s.shift, device=s.device)
            progress.step("model ready")
            evidence = (True if s.target is None else s.target) if "evidence" in s.kinds \
                else False
            exp = m.explore(s.image, stage=s.stage, pair=s.pair, without=s.view.without,
                            evidence=evidence)
            progress.step("image explored")
            selection = s.view.figure_options()
            if lecture:
                from ..lesson import write_lecture

                paths = write_lecture(exp, s.out, lang=s.lang, theme=s.theme,
                                      query=selection["query"], exporter=exporter,
                                      progress=progress.step)
            else:
                from ..figures import make_figure

                figs = {}
                for kind in s.kinds:
                    figs[kind] = make_figure(kind, exp, **{**selection, "lang": s.lang})
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
    from ..export import ExportError
    from ..image import ImageError
    from ..model import SettingsError
    from ..weights import CheckpointError

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from ..bench import main as bench_main

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
        if debug():
            traceback.print_exc()
        why = _sentence(e).rstrip(".")
        print(f"error: the run failed unexpectedly ({type(e).__name__}: {why}); "
              f"set {DEBUG}=1 to see the traceback.", file=sys.stderr)
        return 1
