"""Server-side state of the app: the default weights, the allowed checkpoints,
a bounded cache of models, a shared cache of figures that depend only on settings, and what a
session keeps of its model run.

Nothing here is per user. Models are read-only after loading (eval mode, no gradients), so one
model may serve several sessions at once; explorations (one image through a model) are never kept
here, they live in each session's `gr.State`, slimmed (`slim_exploration`) and bounded in bytes
all together (`EXPLORATIONS`). Gradio itself keeps every session's last outputs (the figures'
JSON, `swinviz.budget.Estimate.payload`: ~2.3 MB at 224 px, ~7 MB at 448, plus the attention
figure's click pack, `app.instant`: ~1.5 MB at 224 px stage 1, at most ~8 MB) in its session
state, bounded by count only (SWINVIZ_MAX_SESSIONS, app.ui.launch_options).

Operator settings (environment variables, read and checked once by `app.limits`; the README's
table lists them all):
SWINVIZ_REQUEST_MB / SWINVIZ_RESPONSE_MB (app.budget: memory and response size of one
request), SWINVIZ_MODEL_CACHE (models kept, default 4) and SWINVIZ_MODEL_CACHE_MB (their bytes,
default 400), SWINVIZ_STATE_MB (all sessions' explorations, default 256), SWINVIZ_FIGURE_CACHE_MB
(figures shared by all sessions, default 32), SWINVIZ_WEIGHTS / SWINVIZ_CHECKPOINT_DIR (weights).
"""

from __future__ import annotations

import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache

from swinviz import backends as kernels

from .limits import FIGURE_CACHE_MB, MODEL_CACHE_MB, MODEL_CACHE_SIZE, STATE_BUDGET_MB

ARCH = "swin_tiny_patch4_window7_224"  # the page's first model, Swin-T
BUILD_WAIT_S = 120.0  # the longest a session waits for another session's build of its model


# ------------------------------------------------------------------------------- the weights


@lru_cache(maxsize=4)
def default_weights_choice(arch: str = ARCH):
    """`swinviz.weights.default_weights()` for `arch` (the page's models: Swin-T, Swin V2-T),
    decided once per process and model (a few seconds at most without a network) so that the
    page decides quickly: the pretrained weights when they can be had, else random weights with
    a notice that says why and how to get real ones. Swin-T's may come from the Hub cache, the
    Hub, SWINVIZ_WEIGHTS or the checkpoint folder; the others' only from the Hub (cache), since
    the operator's file and folder hold weights for Swin-T."""
    from swinviz.weights import default_weights

    return default_weights(arch, files=arch == ARCH)


def default_weights_source(arch: str = ARCH) -> str:
    """"pretrained" when the pretrained weights of `arch` can be had, else "random"."""
    return "pretrained" if default_weights_choice(arch).pretrained else "random"


# ------------------------------------------------------------------------------- model cache


class ModelCache:
    """A small LRU cache of loaded models, keyed by settings and device, bounded by count and by
    bytes (a model's parameters and buffers; the newest model is always kept).

    Thread-safe: the lock guards the dictionary only, so a slow load (the Hub) never blocks
    sessions that want a model already in the cache. A session asking for a model that another
    thread is building waits for that build (the server's warm-up, `warm_up`, and the first
    upload share one build); if that build fails, it builds the model itself.
    """

    def __init__(self, capacity: int = MODEL_CACHE_SIZE,
                 max_bytes: float = MODEL_CACHE_MB * 1024 * 1024) -> None:
        self.capacity = max(1, capacity)
        self.max_bytes = int(max_bytes)
        self._models: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self._building: dict[tuple, threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple, build: Callable[[], object]):
        waited = False
        while True:
            with self._lock:
                if key in self._models:
                    self._models.move_to_end(key)
                    self.hits += 1
                    return self._models[key][0]
                busy = self._building.get(key)
                if busy is None or waited:
                    done = self._building.setdefault(key, threading.Event())
                    self.misses += 1
                    break
            busy.wait(BUILD_WAIT_S)  # another thread builds it: wait, then look again
            waited = True
        try:
            model = build()
            size = model_nbytes(model)
            with self._lock:
                model = self._models.setdefault(key, (model, size))[0]
                self._models.move_to_end(key)
                while len(self._models) > 1 and (
                        len(self._models) > self.capacity
                        or sum(n for _, n in self._models.values()) > self.max_bytes):
                    self._models.popitem(last=False)
        finally:
            with self._lock:
                if self._building.get(key) is done:
                    del self._building[key]
            done.set()
        return model

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(n for _, n in self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


def model_nbytes(model) -> int:
    """Bytes of a model's parameters and buffers (0 for anything that is not a torch module)."""
    try:
        tensors = [*model.parameters(), *model.buffers()]
    except AttributeError:
        return 0
    return sum(t.numel() * t.element_size() for t in tensors)


MODELS = ModelCache()


def warm_up(settings) -> threading.Thread:
    """Build the model of `settings` (the page's default, `app.settings.parse_settings()`) and
    the fused attention kernel (compiled at first use, about a second) in a background thread
    (server start), so that the first upload waits for neither; returns the (daemon) thread.
    Errors are only logged: the first run then builds the model and says what is wrong."""
    def work() -> None:
        try:
            load_cached_model(settings)
            kernels.fused_attention_unavailable()  # builds it, or says once why it cannot
        except Exception:  # noqa: BLE001 - the first real run reports it
            import logging

            logging.getLogger("swinviz.app").exception("warm-up failed")

    thread = threading.Thread(target=work, name="swinviz-warm-up", daemon=True)
    thread.start()
    return thread


def load_cached_model(settings, device: str = "auto"):
    """The model for these settings, from the cache or freshly built (random / hub / file)."""
    from swinviz import load_model

    def build():
        return load_model(
            settings.source, arch=settings.arch, img_size=settings.img_size,
            window_size=settings.window_size, shift_size=settings.shift_size,
            embed_dim=settings.embed_dim, num_heads=settings.num_heads, seed=settings.seed,
            device=device,
        )

    return MODELS.get((*settings.cache_key(), str(device)), build)


# ------------------------------------------------------------ figures shared by all sessions


class FigureCache:
    """Figures whose JSON depends only on the settings (never on the image), shared by every
    session: an LRU of JSON texts bounded in bytes, keyed by everything the figure reads (the
    model settings including the weights, stage, pair, kind, block, head, template, query)."""

    def __init__(self, max_bytes: float = FIGURE_CACHE_MB * 1024 * 1024) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[tuple, str] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple, make: Callable[[], str]) -> str:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        text = make()
        size = sys.getsizeof(text)
        if size > self.max_bytes // 4:  # one figure never takes over the cache
            return text
        with self._lock:
            if key not in self._items:
                self._items[key] = text
                self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self._bytes -= sys.getsizeof(old)
        return text

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


FIGURES = FigureCache()


# ------------------------------------------------------------------ explorations (per session)


# What a session keeps: the figures draw these tensors on every click and redraw. The block
# inputs and outputs, the pair's input and output and the normalised pixels are only ever read
# for their shapes (the Shapes figure), so a slimmed exploration keeps them as meta tensors:
# the same shape and dtype, no data.
SHAPE_ONLY = ("pixels", "tokens", "output")
SHAPE_ONLY_TRACE = ("x_in", "x_out")


def _shape_only(t):
    import torch

    if isinstance(t, torch.Tensor) and t.device.type != "meta":
        return torch.empty(t.shape, dtype=t.dtype, device="meta")
    return t


def slim_exploration(exp):
    """The exploration a session keeps: the same object with the tensors that are only read for
    their shapes (pixels, the pair's tokens and output, the blocks' x_in / x_out) replaced by
    meta tensors of the same shape. Attention, scores, bias, mask, region ids, the rollout chain,
    the logits and the image stay as they are (float32: the numbers shown)."""
    from dataclasses import replace

    for name in SHAPE_ONLY:
        setattr(exp, name, _shape_only(getattr(exp, name)))
    exp.traces = [replace(t, **{k: _shape_only(getattr(t, k)) for k in SHAPE_ONLY_TRACE})
                  for t in exp.traces]
    return exp


def exploration_nbytes(exp) -> int:
    """Bytes an Exploration holds: its tensors (shared storages counted once, meta tensors not
    at all), the image, and what the figures cached on it (encoded images, geometry)."""
    import numpy as np
    import torch

    seen: set[int] = set()  # storages counted in this call (all alive until it returns)
    total = 0

    def add(t) -> None:
        nonlocal total
        if isinstance(t, torch.Tensor) and t.device.type != "meta":
            st = t.untyped_storage()
            if st._cdata not in seen:
                seen.add(st._cdata)
                total += st.nbytes()
        elif isinstance(t, np.ndarray):
            total += t.nbytes
        elif isinstance(t, (str, bytes)):
            total += len(t)
        elif isinstance(t, (list, tuple)):
            for v in t:
                add(v)
        elif isinstance(t, dict):
            for v in t.values():
                add(v)

    for name in ("pixels", "tokens", "output", "logits"):
        add(getattr(exp, name, None))
    for tr in getattr(exp, "traces", []):
        for value in vars(tr).values():
            add(value)
    for blk in getattr(exp, "chain", None) or []:
        add(blk.attn)
    evidence = getattr(exp, "evidence", None)
    if evidence is not None:  # the class evidence's maps, one per stage and per place
        add(evidence.by_stage)
        add(evidence.by_layer)
    add(getattr(exp, "__dict__", {}).get("_figure_cache"))
    image = getattr(exp, "image", None)
    if image is not None:
        total += image.width * image.height * len(image.getbands())
    return total


class Held:
    """One session's exploration. The session's gr.State holds this object; the store below
    only keeps a weak reference, and may drop `exp` (set it to None) to stay within budget."""

    __slots__ = ("exp", "nbytes", "gif", "picked", "__weakref__")

    def __init__(self, exp) -> None:
        self.exp = exp
        self.nbytes = exploration_nbytes(exp)
        self.gif: str | None = None  # this exploration's shift animation, once made (a file)
        # the page's clicks on this run, in the order it made them (app.clicks.picked_after,
        # which answers clicks side by side); None before the first
        self.picked: dict | None = None

    def refresh(self) -> None:
        """Count again (the figures cache geometry and encoded images on the exploration)."""
        if self.exp is not None:
            self.nbytes = exploration_nbytes(self.exp)


class ExplorationStore:
    """Bounds the memory of all sessions' explorations together: least recently used first.

    Gradio bounds how many sessions keep their state (launch(state_session_capacity=...)) and
    drops an idle session's state after gr.State(time_to_live=...); this bounds the bytes. The
    newest exploration is never dropped, so one big one always works.
    """

    def __init__(self, max_bytes: float) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[int, weakref.ref] = OrderedDict()
        self._lock = threading.Lock()
        self.dropped = 0

    def _prune(self) -> None:
        for key in [k for k, ref in self._items.items() if ref() is None or ref().exp is None]:
            del self._items[key]

    @property
    def total_bytes(self) -> int:
        with self._lock:
            self._prune()
            return sum(ref().nbytes for ref in self._items.values() if ref() is not None)

    def admit(self, held: Held) -> Held:
        with self._lock:
            self._prune()
            self._items[id(held)] = weakref.ref(held)
            total = sum(ref().nbytes for ref in self._items.values() if ref() is not None)
            while total > self.max_bytes and len(self._items) > 1:
                _, ref = self._items.popitem(last=False)
                old = ref()
                if old is not None and old.exp is not None:
                    total -= old.nbytes
                    old.exp = None
                    self.dropped += 1
        return held

    def touch(self, held: Held) -> None:
        with self._lock:
            if id(held) in self._items:
                self._items.move_to_end(id(held))

    def __len__(self) -> int:
        with self._lock:
            self._prune()
            return len(self._items)


EXPLORATIONS = ExplorationStore(STATE_BUDGET_MB * 1024 * 1024)


_LIBC = None
TRIM_INTERVAL_S = 30.0  # trimming costs the next run its page faults (~40% of a 224 run)
_last_trim = 0.0


def release_free_memory(force: bool = False) -> None:
    """Hand freed heap back to the OS (glibc malloc_trim), at most every TRIM_INTERVAL_S: the
    payloads and temporaries of earlier runs otherwise stay in the process's RSS, but every
    trim makes the next model run fault its pages in again. No-op where glibc is missing."""
    global _LIBC, _last_trim
    now = time.monotonic()
    if not force and now - _last_trim < TRIM_INTERVAL_S:
        return
    _last_trim = now
    try:
        import ctypes

        if _LIBC is None:
            _LIBC = ctypes.CDLL("libc.so.6")
        _LIBC.malloc_trim(0)
    except (OSError, AttributeError):
        _LIBC = False


def tune_allocator() -> None:
    """Fewer glibc malloc arenas: concurrent model runs on worker threads otherwise keep
    hundreds of MB of freed heap (measured: RSS growth for 16 concurrent sessions 500 -> 380
    MB). A no-op where glibc's mallopt is missing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX = 2
    except (OSError, AttributeError):
        pass
