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
from swinviz.config import SwinConfig, shift_sentence
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
SIZES = (112, 224, 448)  # offered in the page; any multiple of 4 up to MAX_SIZE works
MAX_SIZE = 448  # with the per-request memory limit (app.limits), bounds the memory of one run
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
    weights = text_choice("weights", weights, WEIGHT_SOURCES, state.default_weights_source(),
                          WEIGHT_ALIASES)
    size = whole("input size", img_size, lo=MIN_SIZE, hi=MAX_SIZE)
    M = whole("window size", window_size, lo=1)
    s = whole("shift", shift_size, lo=0)
    C = whole("embedding width", embed_dim, lo=1, hi=MAX_EMBED_DIM)
    nH = whole("number of heads", num_heads, lo=1, hi=MAX_HEADS)
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
        choice = state.default_weights_choice()
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
            folder = checkpoint_folder()
            raise SettingsError(
                "choose a checkpoint file from the list" if folder else
                "no checkpoint folder is set up on this server "
                f"(the operator sets {CHECKPOINT_DIR})"
            )
        source = str(offered_checkpoint(ckpt_name))  # refuses anything not listed
        if 32 * DEFAULT_WINDOW > size:
            raise SettingsError(
                f"Swin-T checkpoints need an input of at least 224 px (stage 4's token grid "
                f"must hold their 7x7 windows), got {size}"
            )
    return ModelSettings(size, M_eff, s_eff, weights, ckpt_name if weights == "checkpoint"
                         else None, seed_n, C, nH, requested=(M, s), source=source)


# The page's components and the /explore API's parameters, by name, and their defaults.
DEFAULTS: dict[str, object] = dict(
    img_size=DEFAULT_SIZE, window_size=DEFAULT_WINDOW, shift_size=DEFAULT_SHIFT, weights=None,
    checkpoint=None, seed=0, embed_dim=DEFAULT_EMBED_DIM, num_heads=DEFAULT_HEADS,
    stage=1, pair=0, query=None, block=1, head="0", template="default", without=None,
)
MODEL_FIELDS = ("img_size", "window_size", "shift_size", "weights", "checkpoint", "seed",
                "embed_dim", "num_heads")


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
    query, block, head, template, without; a name left out takes its default, DEFAULTS) -> the
    checked settings; a SettingsError with one sentence for the first value that cannot be used.

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
