"""The library's switches: every `SWINVIZ_*` environment variable the library reads, named and
read here and nowhere else in `swinviz/` (the server's own settings are `app/limits.py`).

| variable | read by | meaning |
|---|---|---|
| `SWINVIZ_ONEDNN` | `onednn_default()` | 0: plain torch linears instead of oneDNN's fused ones |
| `SWINVIZ_FUSED_ATTENTION` | `fused_attention_default()` | 0: no fused C window attention |
| `SWINVIZ_CACHE_DIR` | `cache_dir()` | where built kernels are kept |
| `SWINVIZ_WEIGHTS` | `weights_file()` | a checkpoint the default weights may use |
| `SWINVIZ_CHECKPOINT_DIR` | `checkpoint_dir()` | a folder of checkpoints offered by name |
| `SWINVIZ_REQUEST_MB` | `request_mb()` | memory one run may need (the CLI's budget) |
| `SWINVIZ_DEBUG` | `debug()` | the CLI prints tracebacks |

Each function reads the environment when it is called (a switch that holds for a process, like
the oneDNN default, is read once by its caller at import); a value that cannot be used is a
warning or a sentence, never Python's own message.
"""

from __future__ import annotations

import math
import os
import warnings

ONEDNN = "SWINVIZ_ONEDNN"
FUSED_ATTENTION = "SWINVIZ_FUSED_ATTENTION"
CACHE_DIR = "SWINVIZ_CACHE_DIR"
WEIGHTS = "SWINVIZ_WEIGHTS"
CHECKPOINT_DIR = "SWINVIZ_CHECKPOINT_DIR"
REQUEST_MB = "SWINVIZ_REQUEST_MB"
DEBUG = "SWINVIZ_DEBUG"


def text(name: str) -> str:
    """The variable's value, stripped ("" when unset)."""
    return os.environ.get(name, "").strip()


def switch(name: str, on: str, off: str) -> bool:
    """A 1/0 switch, on unless set to 0 (or false/off/no); anything else warns and stays on."""
    value = text(name).lower()
    if value in ("", "1", "true", "on", "yes"):
        return True
    if value in ("0", "false", "off", "no"):
        return False
    shown = value if len(value) <= 20 else value[:20] + "…"
    warnings.warn(f"{name}={shown!r} is not understood; expected 1 ({on}, the default) or 0 "
                  f"({off}). Leaving it on.", stacklevel=3)
    return True


def onednn_default() -> bool:
    return switch(ONEDNN, "use oneDNN's linears", "plain torch linears")


def fused_attention_default() -> bool:
    return switch(FUSED_ATTENTION, "the fused C window attention",
                  "batched GEMMs and a softmax")


def cache_dir() -> str:
    """$SWINVIZ_CACHE_DIR, else $XDG_CACHE_HOME/swinviz, else ~/.cache/swinviz."""
    return text(CACHE_DIR) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "swinviz")


def weights_file() -> str:
    return text(WEIGHTS)


def checkpoint_dir() -> str:
    return text(CHECKPOINT_DIR)


def debug() -> bool:
    return text(DEBUG) not in ("", "0")


def positive_number(name: str, default: float, error=ValueError) -> float:
    """A positive number from variable `name`, else `default`; a bad value raises `error` with a
    sentence naming the variable."""
    value_text = text(name)
    if not value_text:
        return default
    try:
        value = float(value_text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        shown = value_text if len(value_text) <= 40 else value_text[:40] + "…"
        raise error(f"{name}={shown!r} must be a positive number (the default is {default:g})")
    return value


def request_mb(default: float, error=ValueError) -> float:
    return positive_number(REQUEST_MB, default, error)
