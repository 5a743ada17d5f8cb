"""The one rule for `explain`'s settings: method, layer, block, class, head fusion, discard
ratio. Each refusal is a `SettingsError` naming the field, in one sentence."""

from __future__ import annotations

import math

import torch

from ..classes import imagenet_classes
from ..config import SettingsError, SwinConfig, check_stage_pair, short, whole

METHODS = ("gradcam", "gradcam++", "gradxinput", "rollout")
LAYERS = ("norm1", "norm2", "output")  # what of the block the CAMs read
HEAD_FUSIONS = ("mean", "max", "min")  # how the rollout joins the heads (as vit-explain)


def one_of(name: str, value, allowed: tuple[str, ...]) -> str:
    """`value` (any case, spaces around) if it is one of `allowed`, else SettingsError."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in allowed:
        raise SettingsError(
            f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {short(value)}",
            name)
    return text


def stage_block(cfg: SwinConfig, stage, block) -> tuple[int, int]:
    """(stage, block) with block counted inside the stage as timm numbers
    `layers[stage-1].blocks[block]`; -1 is the last, -2 the one before."""
    s, _ = check_stage_pair(cfg, stage, 0)
    depth = cfg.depths[s - 1]
    span = f"stage {s} has {depth} blocks (0 to {depth - 1}, or -1 for the last)"
    try:
        b = whole("block", block)
    except SettingsError:
        raise SettingsError(f"block must be a whole number: {span}, got {short(block)}",
                            "block") from None
    if not -depth <= b < depth:
        raise SettingsError(f"{span}, got block {short(b)}", "block")
    return s, b % depth


def discard(value) -> float:
    """The rollout's discard ratio: a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0 <= value < 1:
        raise SettingsError(
            f"discard_ratio must be a number from 0 up to (not including) 1, "
            f"got {short(value)}", "discard_ratio")
    return float(value)


def target_class(target, logits: torch.Tensor, names: tuple[str, ...] | None) -> int:
    """The class to explain: None -> the top-1 class; a whole number (or its text) -> that
    index; other text -> the class whose name it is (any case), else the one class whose name
    contains it. names: the head's class names (None for a head without names)."""
    n = logits.shape[-1]
    if target is None:
        return int(logits[0].argmax())
    if isinstance(target, str) and not target.strip().lstrip("-").isdigit():
        text = target.strip().lower()
        if not names or not text:
            raise SettingsError(
                f"target must be a class index from 0 to {n - 1}"
                f"{' or an ImageNet class name' if names else ''}, got {short(target)}",
                "target")
        exact = [i for i, name in enumerate(names) if name.lower() == text]
        found = exact or [i for i, name in enumerate(names) if text in name.lower()]
        if len(found) == 1:
            return found[0]
        if not found:
            raise SettingsError(f"no ImageNet class is named {short(target)}; give a class "
                                "index from 0 to 999 or a name such as 'tabby'", "target")
        shown = ", ".join(repr(names[i]) for i in found[:4])
        raise SettingsError(f"{short(target)} names {len(found)} classes ({shown}"
                            f"{', ...' if len(found) > 4 else ''}); give the whole name or "
                            "the class index", "target")
    try:
        t = whole("target", target)
    except SettingsError:
        raise SettingsError(f"target must be a class index from 0 to {n - 1}, "
                            f"got {short(target)}", "target") from None
    if not 0 <= t < n:
        raise SettingsError(f"target must be a class index from 0 to {n - 1}, got {short(t)}",
                            "target")
    return t


def class_names(num_classes: int) -> tuple[str, ...] | None:
    """The names of a head's classes: ImageNet's for 1000 outputs, else None."""
    return imagenet_classes() if num_classes == 1000 else None


def check_target(target, num_classes: int) -> int | None:
    """A class asked for, checked against a head of `num_classes` outputs before any work:
    its index, or None for the top class (chosen once the logits are there)."""
    if target is None:
        return None
    return target_class(target, torch.zeros(1, num_classes), class_names(num_classes))
