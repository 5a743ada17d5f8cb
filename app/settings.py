"""The page's settings: what it offers (sizes, the weight sources), `ModelSettings` (what
decides which model runs), `parse_settings`, which checks the model settings once before any
work and says in one sentence what is wrong, and `from_components`, every setting of the page
(or of an /explore call) by name -> one checked `PageSettings` (the one parse of a run: the page's
events and the API hand it to `app.runs.run_settings`).

The weights a setting may name are the server's (`app.state`: the pretrained weights when they
can be had, the operator's checkpoint folder), so this module asks `app.state` for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from swinviz import SettingsError, check_settings
from swinviz.config import SwinConfig, get_config, shift_sentence
from swinviz.environment import CHECKPOINT_DIR
from swinviz.settings import (
    Settings,
    optional_text,
    parse_head,
    parse_stage_pair,
    text_choice,
    whole,
)
from swinviz.weights import checkpoint_folder, offered_checkpoint

from . import state
from .budget import check_budget
from .state import ARCH

PATCH = 4
# The models the page offers (its chooser, a link's and the API's `model`), by the command
# line's short names (`swinviz.config.SHORT_NAMES`): the first is the page's default.
MODELS = {"swin-t": "swin_tiny_patch4_window7_224", "swinv2-t": "swinv2_tiny_window8_256"}
MODEL_LABELS = {"swin-t": "Swin-T", "swinv2-t": "Swin V2-T"}
MODEL_ALIASES = {arch: name for name, arch in MODELS.items()}  # timm's names work too
DEFAULT_MODEL = "swin-t"
assert MODELS[DEFAULT_MODEL] == ARCH
# sizes offered in the page, per model; any multiple of 4 up to MAX_SIZE works
SIZES_OF = {"swin-t": (112, 224, 448), "swinv2-t": (128, 256, 384)}
SIZES = SIZES_OF[DEFAULT_MODEL]
MAX_SIZE = 448  # with the per-request memory limit (app.limits), bounds the memory of one run
MIN_SIZE = 16
DEFAULT_SIZE = 224  # Swin-T's: the page as it opens (`model_defaults` for every model)
DEFAULT_WINDOW = 7
DEFAULT_SHIFT = 3
DEFAULT_EMBED_DIM = 96  # Swin-T stage 1
DEFAULT_HEADS = 3
MAX_EMBED_DIM = 768
MAX_HEADS = 64
STAGES = (1, 2, 3, 4)
WEIGHT_SOURCES = ("pretrained", "random", "checkpoint")
WEIGHT_ALIASES = {"hub": "pretrained"}  # the name earlier versions of the API used


def parse_model(model) -> str:
    """The page's model by its short name ("swin-t", "swinv2-t"; timm's names work too; None or
    "": Swin-T); SettingsError naming the choices otherwise."""
    return text_choice("model", model, tuple(MODELS), DEFAULT_MODEL, MODEL_ALIASES)


def model_defaults(model: str = DEFAULT_MODEL) -> dict[str, int]:
    """A page model's own settings, by the API's names: its input size, window, shift, width
    and stage 1's heads, read from its config (Swin-T: 224, 7, 3, 96, 3; Swin V2-T: 256, 8, 4,
    96, 3). A setting left out (None) takes these."""
    cfg = get_config(MODELS[parse_model(model)])
    return dict(img_size=cfg.img_size, window_size=cfg.window_size, shift_size=cfg.shift,
                embed_dim=cfg.embed_dim, num_heads=cfg.num_heads[0])


@dataclass(frozen=True)
class ModelSettings:
    """Everything that decides which model runs (and so needs a new model run when it changes).

    window_size / shift_size are the values stage 1's shifted block really uses
    (docs/concepts.md, fact 2 applied); `requested` keeps what the person asked for, for the
    badge. `source` is what `load_model` takes for the weights ("random", "hub" or a path).
    `model`: which of the page's models (MODELS). Plain values only: it pickles (ZeroGPU hands
    it to another process).
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
    model: str = DEFAULT_MODEL

    @property
    def arch(self) -> str:
        """The model's timm name (`swinviz.config.ARCHS`)."""
        return MODELS[self.model]

    @property
    def label(self) -> str:
        return MODEL_LABELS[self.model]

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
        """The model's config with these settings (validated)."""
        from swinviz.config import config_for

        return config_for(self.arch, img_size=self.img_size, window_size=self.window_size,
                          shift_size=self.shift_size, embed_dim=self.embed_dim,
                          num_heads=self.num_heads)

    def cache_key(self) -> tuple:
        return (self.arch, self.img_size, self.window_size, self.shift_size, self.source,
                self.seed if self.weights == "random" else None, self.embed_dim, self.num_heads)


def parse_settings(
    img_size=None,
    window_size=None,
    shift_size=None,
    weights=None,
    checkpoint=None,
    seed=0,
    embed_dim=None,
    num_heads=None,
    model=None,
) -> ModelSettings:
    """Check the page's settings before any work; SettingsError with a readable message.

    model: one of the page's models (`parse_model`; None: Swin-T); a size, window, shift,
    width or heads left out (None) is the model's own (`model_defaults`). weights:
    "pretrained" (the model's ImageNet weights from wherever `default_weights_choice(arch)`
    found them), "random" or "checkpoint" (a file the operator listed); None: the default
    (pretrained when it can be had). With pretrained weights only the input size may change:
    their relative position tables (Swin V2: the coordinates their bias MLP was trained on)
    fix the window and their shapes the width and heads. A window as large as the token grid
    (or larger) is accepted as fact 2 says: the block then uses one window of the whole grid
    and no shift; `ModelSettings.capped` tells the badge.
    """
    name = parse_model(model)
    own = model_defaults(name)
    arch, label = MODELS[name], MODEL_LABELS[name]
    weights = text_choice("weights", weights, WEIGHT_SOURCES, state.default_weights_source(arch),
                          WEIGHT_ALIASES)

    def given(key, value):
        return own[key] if value is None or (isinstance(value, str) and not value.strip()) \
            else value

    size = whole("input size", given("img_size", img_size), lo=MIN_SIZE, hi=MAX_SIZE)
    M = whole("window size", given("window_size", window_size), lo=1)
    s = whole("shift", given("shift_size", shift_size), lo=0)
    C = whole("embedding width", given("embed_dim", embed_dim), lo=1, hi=MAX_EMBED_DIM)
    nH = whole("number of heads", given("num_heads", num_heads), lo=1, hi=MAX_HEADS)
    seed_n = whole("seed", seed, lo=0, hi=2**31 - 1)
    ckpt_name = optional_text("checkpoint", checkpoint)
    if s >= M:  # refuse even when fact 2 would drop the shift: the setting itself is wrong
        raise SettingsError(shift_sentence(s, M))
    if size % PATCH:
        raise SettingsError(f"input size {size} is not a multiple of the patch size {PATCH}")
    grid = size // PATCH
    if grid <= M:  # docs/concepts.md, fact 2
        M_eff, s_eff = grid, 0
    else:
        M_eff, s_eff = M, s
    M0, s0, C0, nH0 = (own[k] for k in ("window_size", "shift_size", "embed_dim", "num_heads"))
    if weights != "random" and (M, s, C, nH) != (M0, s0, C0, nH0):
        raise SettingsError(
            f"pretrained {label} weights fix the window at {M0} (shift {s0}), the width at "
            f"{C0} and the heads at {nH0} (their position bias and layers have those "
            f"shapes); window {M}, shift {s}, width {C} with {nH} heads only work with random "
            f"weights"
        )
    # a grid that does not split into whole windows is padded in the blocks (and drawn so)
    check_settings(size, M_eff, s_eff, C, nH, PATCH)
    source = "random"
    least = 32 * M0  # stage 4's grid must hold a whole window of the trained size
    if weights == "pretrained":
        choice = state.default_weights_choice(arch)
        if not choice.pretrained:  # the notice says why, and how to get them
            why = (choice.notice or "").removeprefix("Random weights:").strip()
            raise SettingsError("pretrained weights are not available here, so this server "
                                "uses random weights" + (f": {why}" if why else ""))
        source = str(choice.weights)
        if least > size:
            raise SettingsError(
                f"pretrained {label} weights need an input of at least {least} px (stage 4's "
                f"token grid must hold their {M0}x{M0} windows), got {size}"
            )
    elif weights == "checkpoint":
        if ckpt_name is None:
            folder = checkpoint_folder()
            raise SettingsError(
                "choose a checkpoint file from the list" if folder else
                "no checkpoint folder is set up on this server "
                f"(the operator sets {CHECKPOINT_DIR})"
            )
        source = str(offered_checkpoint(ckpt_name))  # refuses anything not listed
        if least > size:
            raise SettingsError(
                f"{label} checkpoints need an input of at least {least} px (stage 4's token "
                f"grid must hold their {M0}x{M0} windows), got {size}"
            )
    return ModelSettings(size, M_eff, s_eff, weights, ckpt_name if weights == "checkpoint"
                         else None, seed_n, C, nH, requested=(M, s), source=source, model=name)


# The page's components and the /explore API's parameters, by name, and their defaults.
# A model setting left out (None) is the model's own (`model_defaults`).
DEFAULTS: dict[str, object] = dict(
    img_size=None, window_size=None, shift_size=None, weights=None,
    checkpoint=None, seed=0, embed_dim=None, num_heads=None,
    stage=1, pair=0, query=None, block=1, head="0", template="default", without=None,
    model=None,
)
MODEL_FIELDS = ("img_size", "window_size", "shift_size", "weights", "checkpoint", "seed",
                "embed_dim", "num_heads", "model")


@dataclass(frozen=True)
class PageSettings:
    """A page's (or an /explore call's) settings, every one checked once: `model` decides which
    model runs (a new run when it changes), `view` (`swinviz.settings.Settings`) which pair is
    traced and what the figures show. `head_asked`: the head the page asked for when it was
    beyond the stage's heads and head 0 stands in for it (`from_components(strict_head=False)`),
    else None."""

    model: ModelSettings
    view: Settings
    head_asked: object = None

    @property
    def stage(self) -> int:
        return self.view.stage

    @property
    def pair(self) -> int:
        return self.view.pair


def beyond_heads(head, num_heads: int) -> bool:
    """True for a head number that is valid but beyond this stage's heads (the page keeps the
    last stage's head picked while a new stage runs)."""
    try:
        h = parse_head(head, 10**6)
    except SettingsError:
        return False
    return h is not None and h >= num_heads


def from_components(values: Mapping[str, object], *, strict_head: bool = True,
                    budget: bool = False) -> PageSettings:
    """The page's components' values by name (the /explore API's parameter names: img_size,
    window_size, shift_size, weights, checkpoint, seed, embed_dim, num_heads, stage, pair,
    query, block, head, template, without, model; a name left out takes its default, DEFAULTS)
    -> the checked settings; a SettingsError with one sentence for the first value that cannot
    be used.

    budget=True (a run): the per-request budget (`app.budget.check_budget`) is checked too,
    right after the model, stage and pair, so a refused run costs nothing. strict_head=False
    (the page): a head beyond the stage's heads becomes head 0 (`PageSettings.head_asked` says
    which was asked); True (the API): it is an error."""
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"unknown settings {', '.join(map(str, unknown))}; "
                        f"known: {', '.join(DEFAULTS)}")
    raw = {**DEFAULTS, **values}
    model = parse_settings(**{k: raw[k] for k in MODEL_FIELDS})
    cfg = model.config()
    s, p = parse_stage_pair(cfg, raw["stage"], raw["pair"])
    if budget:
        check_budget(cfg, s, p)
    view_values = {k: raw[k] for k in ("stage", "pair", "query", "block", "head", "template",
                                       "without")}
    try:
        return PageSettings(model, Settings.parse(cfg, **view_values))
    except SettingsError:
        if strict_head or not beyond_heads(raw["head"], cfg.stage(s).num_heads):
            raise
    # the head alone was beyond the stage's heads (any other error is raised again here)
    return PageSettings(model, Settings.parse(cfg, **{**view_values, "head": "0"}),
                        head_asked=raw["head"])
