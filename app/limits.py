"""The server's limits, read from the environment once, at import, each value checked.

A bad value stops the server at start-up with one sentence naming the variable (`LimitError`),
never later in a request. docs/security.md says what each limit protects; the README's operator
table lists them. Values are plain module constants so that the rest of the app imports them.
"""

from __future__ import annotations

import ctypes
import importlib.util
import math
import os
import re
import sys
from pathlib import Path

from swinviz.config import short
from swinviz.environment import request_mb
from swinviz.image import parse_size


class LimitError(ValueError):
    """A server setting in the environment that cannot be used: its sentence names it."""


def _text(name: str) -> str:
    """The variable's value as a sentence echoes it (at most 40 characters)."""
    return short(os.environ.get(name, "").strip(), 40, quote=False)


def env_whole(name: str, default: int, lo: int, hi: int) -> int:
    """The whole number in environment variable `name` (default when unset or empty), lo..hi."""
    text = _text(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise LimitError(f"{name} must be a whole number from {lo} to {hi}, got {text!r}."
                         ) from None
    if not lo <= value <= hi:
        raise LimitError(f"{name} must be a whole number from {lo} to {hi}, got {value}.")
    return value


def env_positive(name: str, default: float, hi: float) -> float:
    """The positive number in environment variable `name` (default when unset or empty), at
    most `hi`."""
    text = _text(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= hi):
        raise LimitError(f"{name} must be a positive number up to {hi:g}, got {text!r}.")
    return value


def env_size(name: str, default: str, lo: int, hi: int) -> tuple[str, int]:
    """A size like '20mb' in `name` -> (the text as Gradio reads it, bytes), lo..hi bytes."""
    text = _text(name) or default
    try:
        nbytes = parse_size(text)
    except ValueError:
        raise LimitError(f"{name} must be a size like '20mb', got {text!r}.") from None
    if not lo <= nbytes <= hi:
        raise LimitError(f"{name} must be from {lo >> 10} KB to {hi >> 20} MB, got {text!r}.")
    return text, nbytes


def gpu_present() -> bool:
    """Whether torch will find a CUDA GPU, asked at the server's start without importing torch
    when nothing has yet (the page is built first, app/__init__.py): torch's build names a CUDA
    version (its `version.py`, read as text) and the NVIDIA driver counts a device (NVML, as
    torch's own check may); a ROCm build, AMD's driver is there. Once torch is imported (a
    Space's `spaces`, a test), torch's own answer."""
    if "torch" in sys.modules:
        return bool(sys.modules["torch"].cuda.is_available())
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return False
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return False
    try:
        version = Path(list(spec.submodule_search_locations)[0], "version.py").read_text()
    except OSError:
        return False
    if re.search(r"^hip\b[^=\n]*=\s*['\"]", version, re.M):  # ROCm: torch.cuda is AMD's
        return os.path.exists("/dev/kfd")
    if not re.search(r"^cuda\b[^=\n]*=\s*['\"]", version, re.M):  # a CPU build: cuda = None
        return False
    try:
        nvml = ctypes.CDLL("libnvidia-ml.so.1")
        if nvml.nvmlInit_v2() != 0:
            return False
        count = ctypes.c_uint(0)
        found = nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) == 0 and count.value > 0
        nvml.nvmlShutdown()
        return found
    except (OSError, AttributeError):
        return False


ON_GPU = gpu_present()
MB = 1 << 20

# Largest upload (Gradio's max_file_size, the pasted data: URI's decoded size too).
MAX_FILE_SIZE, MAX_FILE_BYTES = env_size("SWINVIZ_MAX_FILE_SIZE", "20mb", 64 << 10, 200 * MB)
# Largest request body on any route, checked before anything reads it: an upload of
# MAX_FILE_BYTES with its multipart framing, or a JSON request carrying that image as base64
# (4/3 of it), with 64 KB for the other fields.
MAX_BODY_BYTES = MAX_FILE_BYTES * 4 // 3 + (64 << 10)
# Bodies being received by all requests together (slow senders cannot add up).
MAX_INFLIGHT_BODY_BYTES = 4 * MAX_BODY_BYTES
# Direct requests (clicks, the page's flow figure: no queue) in flight, answers being sent
# included: each answer holds up to ~10 MB of figures until the client has read it.
MAX_DIRECT = env_whole("SWINVIZ_DIRECT_MAX", 16, 1, 1000)
# Sessions whose explorations (and Gradio state) are kept.
MAX_SESSIONS = env_whole("SWINVIZ_MAX_SESSIONS", 32, 1, 10_000)
# Model runs at once (the queue holds the rest).
MODEL_CONCURRENCY = env_whole("SWINVIZ_MODEL_CONCURRENCY", 4 if ON_GPU else 2, 1, 64)
# Events waiting in the queue, in all and from one session (a page needs about three at once).
QUEUE_MAX = env_whole("SWINVIZ_QUEUE_MAX", 64, 1, 10_000)
QUEUE_PER_SESSION = env_whole("SWINVIZ_QUEUE_PER_SESSION", 8, 1, 10_000)
# Bytes of the clickable images written for clicks (one PNG a click), oldest deleted first.
CLICK_IMAGES_BYTES = env_whole("SWINVIZ_CLICK_IMAGES_MB", 64, 1, 100_000) * MB

# Models kept loaded (LRU, app.state.MODELS), by count and by bytes (the newest is always kept).
MODEL_CACHE_SIZE = env_whole("SWINVIZ_MODEL_CACHE", 4, 1, 1000)
MODEL_CACHE_MB = env_positive("SWINVIZ_MODEL_CACHE_MB", 400, 1e6)
# Explorations held by all sessions together (slimmed: about 9 MB each at 224 px, 36 at 448).
STATE_BUDGET_MB = env_positive("SWINVIZ_STATE_MB", 256, 1e6)
# Figures that depend only on the settings, shared by all sessions (app.state.FIGURES).
FIGURE_CACHE_MB = env_positive("SWINVIZ_FIGURE_CACHE_MB", 32, 1e6)
# Memory one request may need (its model, the run, the figures) and the size of the figures one
# response may send, each estimated from the settings by swinviz.budget before any work
# (app.budget). Two requests at the limit run at once on a CPU (MODEL_CONCURRENCY), each
# counting its model, which also sits in the model cache: two at-limit requests (~2 x 450 MB
# beyond their models), the cache, the explorations and a Python process with torch and Gradio
# (~350 MB) fit in about 2 GB.
REQUEST_MB_NAME = "SWINVIZ_REQUEST_MB"
REQUEST_MB = request_mb(600.0, LimitError)
RESPONSE_MB_NAME = "SWINVIZ_RESPONSE_MB"
RESPONSE_MB = env_positive(RESPONSE_MB_NAME, 64.0, 1e6)
