"""Server-side state of the app: settings parsing, the default weights, the allowed checkpoints,
a bounded cache of models, a shared cache of figures that depend only on settings, and what a
session keeps of its model run.

Nothing here is per user. Models are read-only after loading (eval mode, no gradients), so one
model may serve several sessions at once; explorations (one image through a model) are never kept
here, they live in each session's `gr.State`, slimmed (`slim_exploration`) and bounded in bytes
all together (`EXPLORATIONS`). Gradio itself keeps every session's last outputs (the figures'
JSON, `swinviz.budget.Estimate.payload`: ~2.3 MB at 224 px, ~7 MB at 448, plus the attention
figure's click pack, `app.instant`: ~1.5 MB at 224 px stage 1, at most ~8 MB) in its session
state, bounded by count only (SWINVIZ_MAX_SESSIONS, app.ui.launch_options).

Operator settings (environment variables; the README's table lists them all):
SWINVIZ_REQUEST_MB / SWINVIZ_RESPONSE_MB (swinviz.budget: memory and response size of one
request), SWINVIZ_MODEL_CACHE (models kept, default 4) and SWINVIZ_MODEL_CACHE_MB (their bytes,
default 400), SWINVIZ_STATE_MB (all sessions' explorations, default 256), SWINVIZ_FIGURE_CACHE_MB
(figures shared by all sessions, default 32), SWINVIZ_WEIGHTS / SWINVIZ_CHECKPOINT_DIR (weights).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from swinviz import SettingsError, check_settings, kernels
from swinviz.budget import env_number
from swinviz.checkpoints import CHECKPOINT_DIR_ENV, list_checkpoint_files
from swinviz.config import SwinConfig, check_stage_pair, expanduser, short

ARCH = "swin_tiny_patch4_window7_224"  # the page explores Swin-T
PATCH = 4
SIZES = (112, 224, 448)  # offered in the page; any multiple of 4 up to MAX_SIZE works
MAX_SIZE = 448  # with swinviz.budget's per-request limit, bounds the memory of one run
MIN_SIZE = 16
DEFAULT_SIZE = 224
DEFAULT_WINDOW = 7
DEFAULT_SHIFT = 3
DEFAULT_EMBED_DIM = 96  # Swin-T stage 1
DEFAULT_HEADS = 3
MAX_EMBED_DIM = 768
MAX_HEADS = 64
STAGES = (1, 2, 3, 4)
WEIGHT_SOURCES = ("pretrained", "random", "checkpoint")
WEIGHT_ALIASES = {"hub": "pretrained"}  # the name earlier versions of the API used
CHECKPOINT_ENV = CHECKPOINT_DIR_ENV  # SWINVIZ_CHECKPOINT_DIR


MODEL_CACHE_SIZE = int(env_number("SWINVIZ_MODEL_CACHE", 4))
MODEL_CACHE_MB = env_number("SWINVIZ_MODEL_CACHE_MB", 400)
BUILD_WAIT_S = 120.0  # the longest a session waits for another session's build of its model
# Explorations held by all sessions together (slimmed: about 9 MB each at 224 px, 36 at 448).
STATE_BUDGET_MB = env_number("SWINVIZ_STATE_MB", 256)
FIGURE_CACHE_MB = env_number("SWINVIZ_FIGURE_CACHE_MB", 32)


# ---------------------------------------------------------------------------- parsing values


def whole(name: str, value, *, lo: int | None = None, hi: int | None = None) -> int:
    """A whole number from a widget or API value: an int, a float like 7.0, or text like "224"
    or "224px". Anything else (inf, 1e400, nan, 0.5, True, None, lists, dicts) is a
    SettingsError whose message names the field and what it expects."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise SettingsError(f"{name} is empty; enter a whole number")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SettingsError(f"{name} must be a whole number, got {short(value)}")
    if isinstance(value, int):
        n = value
    else:
        text = str(value).strip().lower().removesuffix("px").strip()
        try:
            f = float(text)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {short(value)}") from None
        if not math.isfinite(f):
            raise SettingsError(f"{name} must be a finite whole number, got {short(value)}")
        if f != int(f):
            raise SettingsError(f"{name} must be a whole number, got {short(value)}")
        n = int(f)
    if lo is not None and n < lo:
        raise SettingsError(f"{name} must be at least {lo}, got {short(n)}")
    if hi is not None and n > hi:
        raise SettingsError(f"{name} must be at most {hi}, got {short(n)}")
    return n


def text_choice(name: str, value, choices, default: str, aliases: dict | None = None) -> str:
    """One of `choices` from a widget or API value (None or "" -> default); anything that is
    not text, or not one of them, is a SettingsError naming the choices."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str):
        raise SettingsError(f"{name} must be one of {', '.join(choices)} (as text), "
                            f"got {short(value)}")
    key = value.strip().lower()
    key = (aliases or {}).get(key, key)
    if key not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {short(value)}")
    return key


def optional_text(name: str, value) -> str | None:
    """Text or nothing (None, ""); anything else is a SettingsError."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{name} must be text, got {short(value)}")
    return value.strip() or None


# ------------------------------------------------------------------------------- the weights


@lru_cache(maxsize=1)
def default_weights_choice():
    """`swinviz.checkpoints.default_weights()` for Swin-T, decided once per process (a few
    seconds at most without a network) so that the page decides quickly: the pretrained weights
    when they can be had (the Hub cache, the Hub, SWINVIZ_WEIGHTS, the checkpoint folder), else
    random weights with a notice that says why and how to get real ones."""
    from swinviz.checkpoints import default_weights

    return default_weights(ARCH)


def default_weights_source() -> str:
    """"pretrained" when the pretrained weights can be had, else "random"."""
    return "pretrained" if default_weights_choice().pretrained else "random"


@dataclass(frozen=True)
class ModelSettings:
    """Everything that decides which model runs (and so needs a new model run when it changes).

    window_size / shift_size are the values stage 1's shifted block really uses
    (docs/concepts.md, fact 2 applied); `requested` keeps what the person asked for, for the
    badge. `source` is what `load_model` takes for the weights ("random", "hub" or a path).
    Plain values only: it pickles (ZeroGPU hands it to another process).
    """

    img_size: int = DEFAULT_SIZE
    window_size: int = DEFAULT_WINDOW
    shift_size: int = DEFAULT_SHIFT
    weights: str = "random"
    checkpoint: str | None = None
    seed: int = 0
    embed_dim: int = DEFAULT_EMBED_DIM
    num_heads: int = DEFAULT_HEADS
    requested: tuple[int, int] = (DEFAULT_WINDOW, DEFAULT_SHIFT)
    source: str = "random"

    @property
    def grid(self) -> int:
        return self.img_size // PATCH

    @property
    def capped(self) -> bool:
        """True when the window covered the whole token grid (one window, no shift)."""
        return self.requested != (self.window_size, self.shift_size)

    @property
    def pretrained(self) -> bool:
        return self.weights != "random"

    def config(self) -> SwinConfig:
        """The Swin-T config with these settings (validated)."""
        from swinviz.model import config_for

        return config_for(ARCH, img_size=self.img_size, window_size=self.window_size,
                          shift_size=self.shift_size, embed_dim=self.embed_dim,
                          num_heads=self.num_heads)

    def cache_key(self) -> tuple:
        return (ARCH, self.img_size, self.window_size, self.shift_size, self.source,
                self.seed if self.weights == "random" else None, self.embed_dim, self.num_heads)


def parse_settings(
    img_size=DEFAULT_SIZE,
    window_size=DEFAULT_WINDOW,
    shift_size=DEFAULT_SHIFT,
    weights=None,
    checkpoint=None,
    seed=0,
    embed_dim=DEFAULT_EMBED_DIM,
    num_heads=DEFAULT_HEADS,
) -> ModelSettings:
    """Check the page's settings before any work; SettingsError with a readable message.

    weights: "pretrained" (Swin-T's ImageNet weights from wherever
    `default_weights_choice()` found them), "random" or "checkpoint" (a file the operator
    listed); None: the default (pretrained when it can be had). With pretrained weights only the
    input size may change: their relative position tables fix the window at 7 and their shapes
    the width (96) and heads (3). A window as large as the token grid (or larger) is accepted
    as fact 2 says: the block then uses one window of the whole grid and no shift;
    `ModelSettings.capped` tells the badge.
    """
    weights = text_choice("weights", weights, WEIGHT_SOURCES, default_weights_source(),
                          WEIGHT_ALIASES)
    size = whole("input size", img_size, lo=MIN_SIZE, hi=MAX_SIZE)
    M = whole("window size", window_size, lo=1)
    s = whole("shift", shift_size, lo=0)
    C = whole("embedding width", embed_dim, lo=1, hi=MAX_EMBED_DIM)
    nH = whole("number of heads", num_heads, lo=1, hi=MAX_HEADS)
    seed_n = whole("seed", seed, lo=0, hi=2**31 - 1)
    ckpt_name = optional_text("checkpoint", checkpoint)
    if s >= M:  # refuse even when fact 2 would drop the shift: the setting itself is wrong
        raise SettingsError(
            f"shift {s} must be smaller than the window {M} (0 <= shift < window); "
            f"the usual choice is window // 2 = {M // 2}"
        )
    if size % PATCH:
        raise SettingsError(f"input size {size} is not a multiple of the patch size {PATCH}")
    grid = size // PATCH
    if grid <= M:  # docs/concepts.md, fact 2
        M_eff, s_eff = grid, 0
    else:
        M_eff, s_eff = M, s
    if weights != "random" and (M, s, C, nH) != (DEFAULT_WINDOW, DEFAULT_SHIFT,
                                                 DEFAULT_EMBED_DIM, DEFAULT_HEADS):
        raise SettingsError(
            f"pretrained Swin-T weights fix the window at {DEFAULT_WINDOW} (shift "
            f"{DEFAULT_SHIFT}), the width at {DEFAULT_EMBED_DIM} and the heads at "
            f"{DEFAULT_HEADS} (their relative position tables and layers have those shapes); "
            f"window {M}, shift {s}, width {C} with {nH} heads only work with random weights"
        )
    # a grid that does not split into whole windows is padded in the blocks (and drawn so)
    check_settings(size, M_eff, s_eff, C, nH, PATCH)
    source = "random"
    if weights == "pretrained":
        choice = default_weights_choice()
        if not choice.pretrained:  # the notice says why, and how to get them
            why = (choice.notice or "").removeprefix("Random weights:").strip()
            raise SettingsError("pretrained weights are not available here, so this server "
                                "uses random weights" + (f": {why}" if why else ""))
        source = str(choice.weights)
        if 32 * DEFAULT_WINDOW > size:  # stage 4's grid must hold a whole 7x7 window
            raise SettingsError(
                f"pretrained Swin-T weights need an input of at least 224 px (stage 4's token "
                f"grid must hold their 7x7 windows), got {size}"
            )
    elif weights == "checkpoint":
        if ckpt_name is None:
            folder = checkpoint_dir()
            raise SettingsError(
                "choose a checkpoint file from the list" if folder else
                "no checkpoint folder is set up on this server "
                f"(the operator sets {CHECKPOINT_ENV})"
            )
        source = str(resolve_checkpoint(ckpt_name))  # refuses anything not listed
        if 32 * DEFAULT_WINDOW > size:
            raise SettingsError(
                f"Swin-T checkpoints need an input of at least 224 px (stage 4's token grid "
                f"must hold their 7x7 windows), got {size}"
            )
    return ModelSettings(size, M_eff, s_eff, weights, ckpt_name if weights == "checkpoint"
                         else None, seed_n, C, nH, requested=(M, s), source=source)


def parse_stage_pair(cfg: SwinConfig, stage, pair) -> tuple[int, int]:
    """(stage, pair) inside the model (stage 1-4, pair 0..pairs-1); SettingsError naming the
    range otherwise. None or "" mean stage 1 / pair 0."""
    stage = 1 if stage is None or (isinstance(stage, str) and not stage.strip()) else stage
    pair = 0 if pair is None or (isinstance(pair, str) and not pair.strip()) else pair
    for name, value in (("stage", stage), ("pair", pair)):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise SettingsError(f"{name} must be a whole number, got {short(value)}")
    return check_stage_pair(cfg, stage, pair)


def parse_query(query, grid: tuple[int, int]) -> tuple[int, int] | None:
    """The query patch as (row, col) on the explored stage's token grid, from "r,c", "(r, c)",
    [r, c] or None / "" (the figures' default patch); SettingsError otherwise."""
    if query is None or (isinstance(query, str) and not query.strip()):
        return None
    H, W = grid
    if isinstance(query, str):
        parts = query.strip().strip("()[]").replace(";", ",").split(",")
    elif isinstance(query, (list, tuple)):
        parts = list(query)
    else:
        parts = None
    if parts is None or len(parts) != 2:
        raise SettingsError(f"query must be a token as \"row,col\" (e.g. \"{H // 2},{W // 2}\"), "
                            f"got {short(query)}")
    r = whole("query row", parts[0])
    c = whole("query column", parts[1])
    if not (0 <= r < H and 0 <= c < W):
        raise SettingsError(f"query ({short(r)}, {short(c)}) is outside the {H}x{W} token grid "
                            f"of this stage "
                            f"(rows 0 to {H - 1}, columns 0 to {W - 1})")
    return r, c


# ------------------------------------------------------------------------- checkpoints on disk


def checkpoint_dir() -> Path | None:
    """The folder the operator allowed (env SWINVIZ_CHECKPOINT_DIR), or None."""
    value = os.environ.get(CHECKPOINT_ENV, "").strip()
    if not value:
        return None
    path = Path(expanduser(value))
    return path if path.is_dir() else None


def list_checkpoints() -> list[str]:
    """Names of the checkpoints in the allowed folder (`swinviz.checkpoints.list_checkpoint_files`,
    the one listing rule, which `default_weights` follows too). Only names, never paths."""
    folder = checkpoint_dir()
    return [] if folder is None else [p.name for p in list_checkpoint_files(folder)]


def resolve_checkpoint(name: str) -> Path:
    """The path of a listed checkpoint; a name that is not in the listing is refused (so no path
    a visitor types, such as ../../etc/passwd, ever reaches the loader)."""
    folder = checkpoint_dir()
    if folder is None:
        raise SettingsError(
            f"no checkpoint folder is set up on this server (the operator sets {CHECKPOINT_ENV})"
        )
    if name not in list_checkpoints():
        raise SettingsError(f"{short(name)} is not one of the checkpoints offered by this server")
    return folder / name


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


def warm_up() -> threading.Thread:
    """Build the default model and the fused attention kernel (compiled at first use, about a
    second) in a background thread (server start), so that the first upload waits for neither;
    returns the (daemon) thread. Errors are only logged: the first run then builds the model and
    says what is wrong."""
    def work() -> None:
        try:
            load_cached_model(parse_settings())
            kernels.fused_attention_unavailable()  # builds it, or says once why it cannot
        except Exception:  # noqa: BLE001 - the first real run reports it
            import logging

            logging.getLogger("swinviz.app").exception("warm-up failed")

    thread = threading.Thread(target=work, name="swinviz-warm-up", daemon=True)
    thread.start()
    return thread


def load_cached_model(settings: ModelSettings, device: str = "auto"):
    """The model for these settings, from the cache or freshly built (random / hub / file)."""
    from swinviz import load_model

    def build():
        return load_model(
            settings.source, arch=ARCH, img_size=settings.img_size,
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
    add(getattr(exp, "__dict__", {}).get("_figure_cache"))
    image = getattr(exp, "image", None)
    if image is not None:
        total += image.width * image.height * len(image.getbands())
    return total


class Held:
    """One session's exploration. The session's gr.State holds this object; the store below
    only keeps a weak reference, and may drop `exp` (set it to None) to stay within budget."""

    __slots__ = ("exp", "nbytes", "gif", "__weakref__")

    def __init__(self, exp) -> None:
        self.exp = exp
        self.nbytes = exploration_nbytes(exp)
        self.gif: str | None = None  # this exploration's shift animation, once made (a file)

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
