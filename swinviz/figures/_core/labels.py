"""The words figures share: which blocks a figure shows ("stage 3, blocks 4 and 5"), a block's
name ("block 5 (SW-MSA)"), the architecture ("Swin-T", read from its config), and the sentences
for one window without a shift and for padding (docs/concepts.md, facts 2 and 4)."""

from __future__ import annotations

from ...config import ARCHS
from .words import tr

# block pairs the reach of a query is counted over (the parts figure's panel (c), the lesson's
# sentences about it): the pair repeated, as the flow figure counts it
PAIRS = 4


def block_name(block: int, exp=None, lang: str = "en") -> str:
    """"block 0 (W-MSA)" / "block 1 (SW-MSA)": the pair's first / second block. With an
    exploration the number is the block's own inside its stage, as timm numbers them
    (2p and 2p + 1 for pair p): "block 5 (SW-MSA)"; a second block that does not shift
    (stage 4 of Swin-T at 224 px) is plain W-MSA: "block 1 (W-MSA, shift 0)"."""
    n = block if exp is None else 2 * int(getattr(exp, "pair", 0)) + block
    if block == 0:
        return tr(lang, "block {n} (W-MSA)", n=n)
    if exp is not None and getattr(exp, "shift_size", 1) == 0:
        return tr(lang, "block {n} (W-MSA, shift 0)", n=n)
    return tr(lang, "block {n} (SW-MSA)", n=n)


def where(exp, lang: str = "en") -> str:
    """Which part of the model a figure shows: "stage 3, blocks 4 and 5"."""
    p = int(getattr(exp, "pair", 0))
    return tr(lang, "stage {stage}, blocks {b0} and {b1}", stage=int(getattr(exp, "stage", 1)),
              b0=2 * p, b1=2 * p + 1)


def one_window_text(H: int, W: int, M: int, lang: str = "en") -> str:
    """Why a block has one window and no shift (docs/concepts.md, fact 2), in one sentence."""
    return tr(lang, "one {M}×{M} window covers the whole {H}×{W} grid (min(H, W) ≤ M), so every "
              "token already sees every other: there is nothing to shift and no mask is needed",
              M=M, H=H, W=W)


def padding_text(H: int, W: int, Hp: int, Wp: int, s: int, lang: str = "en",
                 roll_first: bool = False) -> str:
    """The order the block uses when its grid does not split into whole windows (`roll_first`:
    it rolls and then pads, as timm's Swin V2 does, `BlockTrace.roll_first`)."""
    if s and roll_first:
        return tr(lang, "{H}×{W} tokens do not split into whole windows: the block rolls them "
                  "by ({ms}, {ms}), then pads them with zeros to {Hp}×{Wp} (bottom and right, "
                  "hatched), cuts the windows, and crops the padding off again",
                  H=H, W=W, Hp=Hp, Wp=Wp, ms=-s)
    if s:
        return tr(lang, "{H}×{W} tokens do not split into whole windows: the block pads them "
                  "with zeros to {Hp}×{Wp} (bottom and right, hatched), then rolls by ({ms}, "
                  "{ms}), cuts the windows, and crops the padding off again",
                  H=H, W=W, Hp=Hp, Wp=Wp, ms=-s)
    return tr(lang, "{H}×{W} tokens do not split into whole windows: the block pads them with "
              "zeros to {Hp}×{Wp} (bottom and right, hatched), cuts the windows, and crops the "
              "padding off again", H=H, W=W, Hp=Hp, Wp=Wp)


def is_v2(exp) -> bool:
    """The exploration is Swin V2's (cosine attention, the bias MLP; concepts facts 16-19)."""
    return getattr(getattr(exp, "config", None), "version", 1) == 2


def content_term(exp) -> str:
    """The logit's content term as the block computes it: V1's q·kᵀ·scale, V2's cosine of q and
    k times the head's temperature τ (a formula: the same in every language)."""
    return "cos(q, k)·τ" if is_v2(exp) else "q·kᵀ·scale"


def arch_label(exp) -> str:
    """"Swin-T", or "Swin-T (img_size=200)" for a named architecture with changed settings;
    the config's own name otherwise."""
    return config_label(getattr(exp, "config", None))


def config_label(cfg) -> str:
    """`arch_label` of a config (a `swinviz.config.SwinConfig`, or None: "Swin")."""
    if cfg is None:
        return "Swin"
    base, _, rest = cfg.name.partition("+")
    label = short_arch_name(base)
    return f"{label} ({rest.replace('+', ', ')})" if rest else label


def short_arch_name(name: str) -> str:
    """The paper's short name of one of `swinviz.config.ARCHS`, read from its config:
    swin_tiny_patch4_window7_224 -> "Swin-T", swin_base_patch4_window12_384 -> "Swin-B 384"
    (the input size is named when it is not 224); any other name as it is."""
    cfg = ARCHS.get(name)
    if cfg is None or not name.startswith("swin_"):
        return name
    size = name.split("_")[1]  # tiny / small / base, as timm names them
    return f"Swin-{size[0].upper()}" + (f" {cfg.img_size}" if cfg.img_size != 224 else "")


def offset_titles(layout: dict, refs: tuple[str, str], lang: str, explain: bool = True) -> None:
    """The axis titles `layout.offset_axes` writes, said in `lang` (English: left as they are)."""
    if lang == "en":
        return
    from .layout import axis_key

    layout[axis_key(refs[0])]["title"] = dict(
        text="Δw = wi − wj" + (tr(lang, "<br>(key to the left → Δw > 0)") if explain else ""))
    layout[axis_key(refs[1])]["title"] = dict(
        text="Δh = hi − hj" + (tr(lang, "<br>(key above → Δh > 0)") if explain else ""))
