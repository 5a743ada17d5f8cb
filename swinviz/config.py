"""One config object per Swin architecture, and the one place that knows how many stages, blocks,
heads and channels a model has.

    cfg = ARCHS["swin_tiny_patch4_window7_224"]
    cfg.stage(3)   # StageGeometry(stage=3, dim=384, grid=(14, 14), depth=6, num_heads=12, ...)

Stage s (1-4, as the paper numbers them) works on a (H/4)/2^(s-1) token grid of width
C·2^(s-1) with `num_heads[s-1]` heads; a patch merge halves the grid (padding an odd side by one
row or column of zeros first, as transformers and timm do) before stages 2-4. Inside a stage the
blocks come in pairs: block 2p uses regular windows (W-MSA), block 2p+1 windows shifted by s.
When the window covers the whole grid (min(H, W) <= M) a stage has one window and no shift in
either block (docs/concepts.md, fact 2): Swin-T's stage 4 at 224 px.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace

from .grid import effective_window


class SettingsError(ValueError):
    """A combination of settings the model cannot run; the message says which and why.
    `field` names the setting refused ("stage", "pair", "query", "block", "head",
    "template") where one is, so that a front end can word it as its own control (the CLI
    as its option)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


SHORT_TEXT = 60  # characters of a user's value an error message echoes
MAX_SIDE = 1 << 20  # pixels of an input side, tokens of a window: far beyond any machine


def short(value, limit: int = SHORT_TEXT, *, quote: bool = True) -> str:
    """A value as an error message echoes it, at most about `limit` characters: repr for most
    values ('abc', 2.5), text cut after `limit` characters ('xxxx'…), whole numbers of more
    than 15 digits in short form (1e+308, ~1e+5000 beyond a float). quote=False: text as it
    is, cut the same way (xxxx…), for a sentence that quotes it itself. The one helper for
    every "got ..." of the library, the CLI and the app."""
    if not quote and isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        if abs(value) < 10**15:
            return str(value)
        try:
            return f"{float(value):.3g}"
        except OverflowError:  # beyond a float: its power of ten (log10 takes any int)
            return f"~{'-' if value < 0 else ''}1e+{math.floor(math.log10(abs(value)))}"
    if isinstance(value, (str, bytes, bytearray)):
        text = repr(value[:limit])
        if len(text) > limit + 3:  # escapes (\x00 ...) made it longer
            return text[:limit] + "…"
        return text + ("…" if len(value) > limit else "")
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


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


def shift_sentence(shift, window: int) -> str:
    """Why a shift does not fit its window: the one sentence the library, the CLI and the app
    give (docs/concepts.md, fact 2: 0 <= shift < window)."""
    return (f"shift {short(shift)} must be smaller than the window {window} "
            f"(0 <= shift < window); the usual choice is window // 2 = {window // 2}")


LOGIN_NAME_MAX = 256  # the longest user name a system has (Linux: sysconf LOGIN_NAME_MAX)


def expanduser(path: str | os.PathLike) -> str:
    """`os.path.expanduser` ("~/x", "~name/x"; an unknown name is left as it is), except that
    a "~name" longer than any user name is not looked up: looking up a name of megabytes
    aborts the whole process on some systems (glibc with systemd's user database asserts)."""
    text = os.fsdecode(os.fspath(path))
    if text.startswith("~") and len(text[1:].split("/", 1)[0]) > LOGIN_NAME_MAX:
        return text
    return os.path.expanduser(text)


@dataclass(frozen=True)
class StageGeometry:
    """What one stage works on: its token grid, width, heads, windows and pixel size."""

    stage: int  # 1-based
    dim: int  # C·2^(s-1)
    grid: tuple[int, int]  # token grid (H, W) of the stage's blocks
    depth: int  # blocks in the stage (even)
    num_heads: int
    window_size: int  # the window its blocks really use (fact 2 applied)
    shift_size: int  # the shift of its odd blocks (0 when one window covers the grid)
    patch_px: int  # pixels one token of this stage stands for: 4·2^(s-1)
    downsample: bool  # a patch merge precedes the stage
    version: int = 1  # Swin V1 or V2 (docs/concepts.md, facts 16-20)
    pretrained_window_size: int = 0  # V2: the window its position coordinates are scaled by
    roll_first: bool = False  # V2 as timm runs it: roll, then pad (docs/concepts.md, "Padding")

    @property
    def pairs(self) -> int:
        return self.depth // 2

    @property
    def head_dim(self) -> int:
        return self.dim // self.num_heads

    @property
    def num_windows(self) -> int:
        M = self.window_size
        return -(-self.grid[0] // M) * -(-self.grid[1] // M)


@dataclass(frozen=True)
class SwinConfig:
    """A Swin Transformer (V1 or V2): patch embedding, stages of block pairs, final norm, head.

    depths / num_heads: one entry per stage. window_size M and shift_size (default M // 2) are
    the same in every stage (fact 2 shrinks them where a stage's grid is smaller).
    num_classes = 0 means no classifier head (a backbone).
    version 2 (Swin V2, docs/concepts.md facts 16-20): scaled cosine attention, a continuous
    position bias, res-post-norm and merges that reduce before they normalise.
    pretrained_window_sizes (V2 only): per stage, the window the checkpoint was pretrained with,
    which scales the position coordinates (0 or () for the window itself); e.g. timm's
    swinv2_base_window12to16_192to256 has (12, 12, 12, 6).
    roll_first (V2 only): where a grid does not split into whole windows, roll and then pad
    (True, timm's order) or pad and then roll (False, transformers' order, and V1's); None: the
    version's own (V1 False, V2 True), and for V2 weights in transformers' layout False
    (`swinviz.factory.load_model`). Both orders agree when no stage pads.
    """

    name: str = "swin_tiny_patch4_window7_224"
    img_size: int = 224
    patch_size: int = 4
    in_chans: int = 3
    embed_dim: int = 96
    depths: tuple[int, ...] = (2, 2, 6, 2)
    num_heads: tuple[int, ...] = (3, 6, 12, 24)
    window_size: int = 7
    shift_size: int | None = None
    mlp_ratio: float = 4.0
    qkv_bias: bool = True
    num_classes: int = 1000
    layer_norm_eps: float = field(default=1e-5, repr=False)
    version: int = 1
    pretrained_window_sizes: tuple[int, ...] = ()
    roll_first: bool | None = None

    @property
    def num_stages(self) -> int:
        return len(self.depths)

    @property
    def rolls_first(self) -> bool:
        """Whether a padded grid is rolled before it is padded (roll_first, resolved)."""
        return self.version == 2 if self.roll_first is None else bool(self.roll_first)

    @property
    def shift(self) -> int:
        """The shift the config asks for (before fact 2)."""
        return self.window_size // 2 if self.shift_size is None else self.shift_size

    @property
    def num_features(self) -> int:
        """Width of the last stage: C·2^(stages-1)."""
        return self.embed_dim * 2 ** (self.num_stages - 1)

    def grids(self) -> list[tuple[int, int]]:
        """Token grid of every stage: H/4, then ceil(H/2) per merge."""
        h = w = self.img_size // self.patch_size
        out = []
        for i in range(self.num_stages):
            if i:
                h, w = -(-h // 2), -(-w // 2)
            out.append((h, w))
        return out

    def stage(self, s: int) -> StageGeometry:
        """The geometry of stage s (1-based). Raises SettingsError for a stage the model lacks."""
        check_stage_pair(self, s, 0)
        i = s - 1
        grid = self.grids()[i]
        M, shift = effective_window(grid, self.window_size, self.shift)
        return StageGeometry(
            stage=s, dim=self.embed_dim * 2**i, grid=grid, depth=self.depths[i],
            num_heads=self.num_heads[i], window_size=M, shift_size=shift,
            patch_px=self.patch_size * 2**i, downsample=i > 0, version=self.version,
            pretrained_window_size=(self.pretrained_window_sizes[i]
                                    if self.pretrained_window_sizes else 0),
            roll_first=self.rolls_first,
        )

    def stages(self) -> list[StageGeometry]:
        return [self.stage(s) for s in range(1, self.num_stages + 1)]

    def validate(self) -> SwinConfig:
        """Check the config before any work; returns it. SettingsError says what is wrong."""
        check_config(self)
        return self

    def with_settings(self, **changes) -> SwinConfig:
        """A copy with some fields changed (e.g. img_size, window_size), validated."""
        if "num_heads" in changes and isinstance(changes["num_heads"], int):
            h = changes["num_heads"]
            changes["num_heads"] = tuple(h * 2**i for i in range(len(self.depths)))
        name = changes.pop("name", None)
        cfg = replace(self, **changes)
        if name is None and changes:
            differs = {k: v for k, v in changes.items() if getattr(self, k) != v}
            if differs:
                name = self.name + "".join(f"+{k}={v}" for k, v in sorted(differs.items()))
        return replace(cfg, name=name or self.name).validate()


def _positive(name: str, v, most: int | None = None) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise SettingsError(f"{name} must be a positive whole number, got {short(v)}")
    if most is not None and v > most:
        raise SettingsError(f"{name} must be at most {most:,}, got {short(v)}")


def _check_version(cfg: SwinConfig) -> None:
    """What only Swin V2 has: pretrained window sizes and the choice of padding order."""
    if cfg.version not in (1, 2):
        raise SettingsError(f"Swin version must be 1 or 2, got {short(cfg.version)}")
    pws = cfg.pretrained_window_sizes
    if pws and cfg.version == 1:
        raise SettingsError("pretrained window sizes belong to Swin V2 (its continuous position "
                            "bias); a Swin V1 config takes none")
    if pws and (len(pws) != len(cfg.depths) or any(
            isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in pws)):
        raise SettingsError(f"pretrained window sizes need one whole number >= 0 per stage, "
                            f"got {short(pws)} for {len(cfg.depths)} stages")
    if cfg.roll_first and cfg.version == 1:
        raise SettingsError("rolling before padding (timm's order) is only implemented for "
                            "Swin V2; Swin V1 pads, then rolls")


def check_config(cfg: SwinConfig) -> None:
    """The one rule for what a Swin config may be (used by the library, the CLI and the app)."""
    for name, v in (("input size", cfg.img_size), ("patch size", cfg.patch_size),
                    ("window size", cfg.window_size), ("embedding width", cfg.embed_dim)):
        _positive(name, v, MAX_SIDE)
    if not cfg.depths or len(cfg.depths) != len(cfg.num_heads):
        raise SettingsError(
            f"depths {short(cfg.depths)} and num_heads {short(cfg.num_heads)} need one entry "
            "per stage"
        )
    for d in cfg.depths:
        if isinstance(d, bool) or not isinstance(d, int) or d <= 0 or d % 2:
            raise SettingsError(
                f"every stage needs an even, positive number of blocks (W-MSA / SW-MSA pairs), "
                f"got depths {short(cfg.depths)}"
            )
    if cfg.img_size % cfg.patch_size:
        raise SettingsError(
            f"input size {cfg.img_size} is not a multiple of the patch size {cfg.patch_size}"
        )
    s = cfg.shift
    if isinstance(s, bool) or not isinstance(s, int) or s < 0:
        raise SettingsError(f"shift must be a whole number >= 0, got {short(s)}")
    if s >= cfg.window_size:
        raise SettingsError(shift_sentence(s, cfg.window_size))
    for i, heads in enumerate(cfg.num_heads):
        _positive(f"number of heads in stage {i + 1}", heads, MAX_SIDE)
        dim = cfg.embed_dim * 2**i
        if dim % heads:
            raise SettingsError(
                f"{heads} heads do not divide the width {dim} of stage {i + 1} "
                f"(each head needs {dim}/{heads} channels)"
            )
    _check_version(cfg)


def check_stage_pair(cfg: SwinConfig, stage, pair) -> tuple[int, int]:
    """(stage, pair) as whole numbers inside the model, else SettingsError naming the range."""
    n = cfg.num_stages
    try:
        s = whole("stage", stage)
    except SettingsError:
        raise SettingsError(
            f"stage must be a whole number from 1 to {n}, got {short(stage)}", "stage"
        ) from None
    if not 1 <= s <= n:
        raise SettingsError(
            f"stage must be from 1 to {n} (as the paper numbers them), got {short(s)}", "stage"
        )
    pairs = cfg.depths[s - 1] // 2
    try:
        p = whole("pair", pair)
    except SettingsError:
        raise SettingsError(
            f"pair must be a whole number from 0 to {pairs - 1}, got {short(pair)}", "pair"
        ) from None
    if not 0 <= p < pairs:
        raise SettingsError(
            f"stage {s} has {pairs} block pair{'s' if pairs > 1 else ''} "
            f"(pair 0{f' to {pairs - 1}' if pairs > 1 else ''}), got pair {short(p)}", "pair"
        )
    return s, p


def _arch(name: str, img: int, C: int, depths, heads, M: int) -> SwinConfig:
    return SwinConfig(name=name, img_size=img, embed_dim=C, depths=tuple(depths),
                      num_heads=tuple(heads), window_size=M)


# The published ImageNet-1k Swin V1 configs people hold checkpoints for, named as timm names them
# (Table 1 of the paper: Swin-T, Swin-S, Swin-B at 224 px, and Swin-B at 384 px with M = 12).
ARCHS: dict[str, SwinConfig] = {
    c.name: c
    for c in (
        _arch("swin_tiny_patch4_window7_224", 224, 96, (2, 2, 6, 2), (3, 6, 12, 24), 7),
        _arch("swin_small_patch4_window7_224", 224, 96, (2, 2, 18, 2), (3, 6, 12, 24), 7),
        _arch("swin_base_patch4_window7_224", 224, 128, (2, 2, 18, 2), (4, 8, 16, 32), 7),
        _arch("swin_base_patch4_window12_384", 384, 128, (2, 2, 18, 2), (4, 8, 16, 32), 12),
    )
}


def _v2(name: str, img: int, C: int, depths, heads, M: int, pretrained=()) -> SwinConfig:
    return replace(_arch(name, img, C, depths, heads, M), version=2,
                   pretrained_window_sizes=tuple(pretrained))


_T, _S = (2, 2, 6, 2), (2, 2, 18, 2)
_HT, _HB, _HL = (3, 6, 12, 24), (4, 8, 16, 32), (6, 12, 24, 48)
# Swin V2 as timm names it (the paper's Table 1 of V2: 256 px with M = 8 or 16; the ImageNet-22k
# models fine-tuned at 256 / 384 px from M = 12 at 192 px, whose last stage pretrained with M = 6)
V2_ARCHS: dict[str, SwinConfig] = {
    c.name: c
    for c in (
        _v2("swinv2_tiny_window8_256", 256, 96, _T, _HT, 8),
        _v2("swinv2_tiny_window16_256", 256, 96, _T, _HT, 16),
        _v2("swinv2_small_window8_256", 256, 96, _S, _HT, 8),
        _v2("swinv2_small_window16_256", 256, 96, _S, _HT, 16),
        _v2("swinv2_base_window8_256", 256, 128, _S, _HB, 8),
        _v2("swinv2_base_window16_256", 256, 128, _S, _HB, 16),
        _v2("swinv2_base_window12to16_192to256", 256, 128, _S, _HB, 16, (12, 12, 12, 6)),
        _v2("swinv2_base_window12to24_192to384", 384, 128, _S, _HB, 24, (12, 12, 12, 6)),
        _v2("swinv2_large_window12to16_192to256", 256, 192, _S, _HL, 16, (12, 12, 12, 6)),
        _v2("swinv2_large_window12to24_192to384", 384, 192, _S, _HL, 24, (12, 12, 12, 6)),
    )
}
ARCHS.update(V2_ARCHS)
DEFAULT_ARCH = "swin_tiny_patch4_window7_224"
DEFAULT_V2_ARCH = "swinv2_tiny_window8_256"
SHORT_NAMES = {"swin-t": "swin_tiny_patch4_window7_224", "swin-s": "swin_small_patch4_window7_224",
               "swin-b": "swin_base_patch4_window7_224",
               "swin-b-384": "swin_base_patch4_window12_384",
               "swinv2-t": "swinv2_tiny_window8_256", "swinv2-s": "swinv2_small_window8_256",
               "swinv2-b": "swinv2_base_window8_256"}


def get_config(arch: str | SwinConfig = DEFAULT_ARCH) -> SwinConfig:
    """A named architecture (timm's name, or swin-t / swin-s / swin-b / swin-b-384 /
    swinv2-t / swinv2-s / swinv2-b)."""
    if isinstance(arch, SwinConfig):
        return arch.validate()
    key = SHORT_NAMES.get(str(arch).strip().lower(), str(arch).strip())
    if key not in ARCHS:
        raise SettingsError(
            f"unknown architecture {short(arch)}; choose {', '.join(SHORT_NAMES)} or a timm "
            f"name (swin_tiny_patch4_window7_224, swinv2_tiny_window8_256, ...: "
            f"swinviz.config.ARCHS holds all {len(ARCHS)})"
        )
    return ARCHS[key]


# ----------------------------------------------- settings of a model, before it is built

PATCH_SIZE = 4  # pixels a side of a patch (a token of stage 1)


def config_for(arch: str | SwinConfig = DEFAULT_ARCH, *, img_size: int | None = None,
               window_size: int | None = None, shift_size: int | None = None,
               embed_dim: int | None = None, num_heads: int | tuple[int, ...] | None = None,
               num_classes: int | None = None) -> SwinConfig:
    """A named architecture with some settings changed, validated (SettingsError)."""
    base = get_config(arch)
    changes = {k: v for k, v in dict(img_size=img_size, window_size=window_size,
                                     embed_dim=embed_dim, num_heads=num_heads,
                                     num_classes=num_classes).items() if v is not None}
    if shift_size is not None or "window_size" in changes:
        changes["shift_size"] = shift_size
    return base.with_settings(**changes) if changes else base.validate()


def check_settings(
    img_size: int = 224,
    window_size: int = 7,
    shift_size: int | None = None,
    embed_dim: int = 96,
    num_heads: int = 3,
    patch_size: int = PATCH_SIZE,
    *,
    arch: str | SwinConfig = DEFAULT_ARCH,
) -> tuple[int, int]:
    """Validate settings before any work; returns the (window, shift) of stage 1's shifted block.

    A token grid that does not split into whole windows is fine: the blocks pad it.
    Raises SettingsError with a message a person understands.
    """
    if patch_size != PATCH_SIZE:
        raise SettingsError(f"Swin uses 4x4-pixel patches, got patch size {patch_size!r}")
    cfg = config_for(arch, img_size=img_size, window_size=window_size, shift_size=shift_size,
                     embed_dim=embed_dim, num_heads=num_heads)
    geo = cfg.stage(1)
    return geo.window_size, geo.shift_size
