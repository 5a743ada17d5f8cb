"""Server-side state of the app: settings parsing, the allowed checkpoints and a bounded cache of
models.

Nothing here is per user. Models are read-only after loading (eval mode, no gradients), so one
model may serve several sessions at once; explorations (one image through a model) are never kept
here, they live in each session's `gr.State`.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from swinviz import SettingsError, check_settings

PATCH = 4
SIZES = (112, 224, 448)  # offered in the page; any multiple of 4 * window up to MAX_SIZE works
MAX_SIZE = 448  # bounds the memory of one exploration (about 50 MB at 448, 12 MB at 224)
MIN_SIZE = 16
DEFAULT_SIZE = 224
DEFAULT_WINDOW = 7
DEFAULT_SHIFT = 3
DEFAULT_EMBED_DIM = 96  # Swin-T stage 1
DEFAULT_HEADS = 3
WEIGHT_SOURCES = ("random", "hub", "checkpoint")
CHECKPOINT_ENV = "SWINVIZ_CHECKPOINT_DIR"
CHECKPOINT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")
MODEL_CACHE_SIZE = int(os.environ.get("SWINVIZ_MODEL_CACHE", "4"))
# Explorations held by all sessions together (about 12 MB each at 224 px, 50 MB at 448 px).
STATE_BUDGET_MB = float(os.environ.get("SWINVIZ_STATE_MB", "768"))


@dataclass(frozen=True)
class ModelSettings:
    """Everything that decides which model runs (and so needs a new model run when it changes).

    window_size / shift_size are the values the shifted block really uses (SPEC fact 2 applied);
    `requested` keeps what the person asked for, for the badge.
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

    @property
    def grid(self) -> int:
        return self.img_size // PATCH

    @property
    def capped(self) -> bool:
        """True when the window covered the whole token grid (one window, no shift)."""
        return self.requested != (self.window_size, self.shift_size)

    def cache_key(self) -> tuple:
        return (self.img_size, self.window_size, self.shift_size, self.weights, self.checkpoint,
                self.seed if self.weights == "random" else None, self.embed_dim, self.num_heads)


def _whole(name: str, value, *, lo: int | None = None, hi: int | None = None) -> int:
    """A whole number from a widget value (int, float like 7.0, or text like "224")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise SettingsError(f"{name} is empty; enter a whole number")
    try:
        f = float(str(value).strip().lower().removesuffix("px").strip())
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {value!r}") from None
    if f != int(f):
        raise SettingsError(f"{name} must be a whole number, got {value!r}")
    n = int(f)
    if lo is not None and n < lo:
        raise SettingsError(f"{name} must be at least {lo}, got {n}")
    if hi is not None and n > hi:
        raise SettingsError(f"{name} must be at most {hi}, got {n}")
    return n


def parse_settings(
    img_size=DEFAULT_SIZE,
    window_size=DEFAULT_WINDOW,
    shift_size=DEFAULT_SHIFT,
    weights: str = "random",
    checkpoint: str | None = None,
    seed=0,
    embed_dim=DEFAULT_EMBED_DIM,
    num_heads=DEFAULT_HEADS,
) -> ModelSettings:
    """Check the page's settings before any work; SettingsError with a readable message.

    A window as large as the token grid (or larger) is accepted as SPEC fact 2 says: the block
    then uses one window of the whole grid and no shift; `ModelSettings.capped` tells the badge.
    """
    size = _whole("input size", img_size, lo=MIN_SIZE, hi=MAX_SIZE)
    M = _whole("window size", window_size, lo=1)
    s = _whole("shift", shift_size, lo=0)
    C = _whole("embedding width", embed_dim, lo=1, hi=768)
    nH = _whole("number of heads", num_heads, lo=1, hi=64)
    seed_n = _whole("seed", seed, lo=0, hi=2**31 - 1)
    weights = (weights or "random").strip().lower()
    if weights not in WEIGHT_SOURCES:
        raise SettingsError(f"weights must be one of {', '.join(WEIGHT_SOURCES)}, got {weights!r}")
    if s >= M:  # refuse even when fact 2 would drop the shift: the setting itself is wrong
        raise SettingsError(
            f"shift {s} must be smaller than the window {M} (0 <= shift < window); "
            f"the usual choice is window // 2 = {M // 2}"
        )
    if size % PATCH:
        raise SettingsError(f"input size {size} is not a multiple of the patch size {PATCH}")
    grid = size // PATCH
    if grid <= M:  # SPEC fact 2
        M_eff, s_eff = grid, 0
    else:
        M_eff, s_eff = M, s
    check_settings(size, M_eff, s_eff, C, nH, PATCH, whole_windows=True)
    if weights != "random" and (C, nH) != (DEFAULT_EMBED_DIM, DEFAULT_HEADS):
        raise SettingsError(
            f"pretrained Swin-T weights have width {DEFAULT_EMBED_DIM} and {DEFAULT_HEADS} heads; "
            f"width {C} with {nH} heads only works with random weights"
        )
    ckpt = None
    if weights == "checkpoint":
        ckpt = checkpoint or None
        if ckpt is None:
            folder = checkpoint_dir()
            raise SettingsError(
                "choose a checkpoint file from the list" if folder else
                "no checkpoint folder is set up on this server "
                f"(the operator sets {CHECKPOINT_ENV})"
            )
        resolve_checkpoint(ckpt)  # refuses anything not listed
    return ModelSettings(size, M_eff, s_eff, weights, ckpt, seed_n, C, nH, requested=(M, s))


# ------------------------------------------------------------------------- checkpoints on disk


def checkpoint_dir() -> Path | None:
    """The folder the operator allowed (env SWINVIZ_CHECKPOINT_DIR), or None."""
    value = os.environ.get(CHECKPOINT_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_dir() else None


def list_checkpoints() -> list[str]:
    """Names of the checkpoints in the allowed folder: files with a checkpoint suffix, and
    sub-folders holding a transformers `model.safetensors`. Only names, never paths."""
    folder = checkpoint_dir()
    if folder is None:
        return []
    names = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix.lower() in CHECKPOINT_SUFFIXES:
            names.append(entry.name)
        elif entry.is_dir() and (entry / "model.safetensors").is_file():
            names.append(entry.name)
    return names


def resolve_checkpoint(name: str) -> Path:
    """The path of a listed checkpoint; a name that is not in the listing is refused (so no path
    a visitor types, such as ../../etc/passwd, ever reaches the loader)."""
    folder = checkpoint_dir()
    if folder is None:
        raise SettingsError(
            f"no checkpoint folder is set up on this server (the operator sets {CHECKPOINT_ENV})"
        )
    if name not in list_checkpoints():
        raise SettingsError(f"{name!r} is not one of the checkpoints offered by this server")
    return folder / name


# ------------------------------------------------------------------------------- model cache


class ModelCache:
    """A small LRU cache of loaded models, keyed by settings and device (bounded by count).

    Thread-safe: the lock guards the dictionary only, so a slow load (the Hub) never blocks
    sessions that want a model already in the cache. Two sessions asking for the same new model
    at once may both build it; the second copy is dropped.
    """

    def __init__(self, capacity: int = MODEL_CACHE_SIZE) -> None:
        self.capacity = max(1, capacity)
        self._models: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple, build: Callable[[], object]):
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                self.hits += 1
                return self._models[key]
            self.misses += 1
        model = build()
        with self._lock:
            model = self._models.setdefault(key, model)
            self._models.move_to_end(key)
            while len(self._models) > self.capacity:
                self._models.popitem(last=False)
        return model

    def __len__(self) -> int:
        return len(self._models)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


MODELS = ModelCache()


def load_cached_model(settings: ModelSettings, device: str = "auto"):
    """The model for these settings, from the cache or freshly built (random / hub / file)."""
    from swinviz import load_model

    if settings.weights == "checkpoint":
        weights: str | Path = resolve_checkpoint(settings.checkpoint or "")
    else:
        weights = settings.weights

    def build():
        return load_model(
            weights, img_size=settings.img_size, window_size=settings.window_size,
            shift_size=settings.shift_size, embed_dim=settings.embed_dim,
            num_heads=settings.num_heads, seed=settings.seed, device=device,
        )

    return MODELS.get((*settings.cache_key(), str(device)), build)


# ------------------------------------------------------------------ explorations (per session)


def exploration_nbytes(exp) -> int:
    """Bytes of the tensors an Exploration holds (shared storages counted once)."""
    import torch

    seen: set[int] = set()
    total = 0

    def add(t) -> None:
        nonlocal total
        if isinstance(t, torch.Tensor):
            st = t.untyped_storage()
            if st.data_ptr() not in seen:
                seen.add(st.data_ptr())
                total += st.nbytes()

    for name in ("pixels", "tokens", "output"):
        add(getattr(exp, name, None))
    for tr in getattr(exp, "traces", []):
        for value in vars(tr).values():
            add(value)
    image = getattr(exp, "image", None)
    if image is not None:
        total += image.width * image.height * 3
    return total


class Held:
    """One session's exploration. The session's gr.State holds this object; the store below
    only keeps a weak reference, and may drop `exp` (set it to None) to stay within budget."""

    __slots__ = ("exp", "nbytes", "__weakref__")

    def __init__(self, exp) -> None:
        self.exp = exp
        self.nbytes = exploration_nbytes(exp)


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
