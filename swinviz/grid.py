"""The token grid's arithmetic: window sizes, the effective window and shift, padding; the
mask's value.

Plain integers, no torch: the settings (`swinviz.config`) and the app's page use it before
torch is imported (docs/performance.md, the app's start). `swinviz.windows` re-exports it beside
the tensor code that uses it.
"""

from __future__ import annotations

MASK_VALUE = -100.0  # what the reference adds to the scores of keys from another region


def to_2tuple(size: int | tuple[int, int]) -> tuple[int, int]:
    """`7 -> (7, 7)`; a pair stays a pair."""
    if isinstance(size, int):
        return (size, size)
    mh, mw = size
    return (int(mh), int(mw))


def effective_window(
    input_resolution: tuple[int, int], window_size: int, shift_size: int
) -> tuple[int, int]:
    """Apply concepts fact 2 and return the (window_size, shift_size) a block really uses.

    If min(H, W) <= M the window becomes min(H, W) and the shift 0 (one window, no shift).
    Raises ValueError unless 0 <= shift < window.
    """
    H, W = input_resolution
    if H <= 0 or W <= 0:
        raise ValueError(f"input_resolution must be positive, got {H}x{W}")
    if window_size <= 0:
        raise ValueError(f"window_size must be positive, got {window_size}")
    if min(H, W) <= window_size:
        return min(H, W), 0
    if not 0 <= shift_size < window_size:
        raise ValueError(
            f"shift_size must satisfy 0 <= shift_size < window_size, "
            f"got shift_size={shift_size} with window_size={window_size}"
        )
    return window_size, shift_size


def check_divisible(H: int, W: int, window_size: int | tuple[int, int]) -> None:
    """Raise a clear ValueError unless the (H, W) token grid splits into whole windows."""
    mh, mw = to_2tuple(window_size)
    if H % mh or W % mw:
        raise ValueError(
            f"the {H}x{W} token grid does not split into whole {mh}x{mw} windows; "
            f"choose an input size whose token grid is a multiple of the window"
        )


def padded_size(H: int, W: int, window_size: int) -> tuple[int, int]:
    """(Hp, Wp): H and W rounded up to whole windows. A block pads the bottom and right of its
    normalised tokens with zeros to this size before the roll (as transformers and torchvision
    do; timm 1.0.x rolls first and pads after: docs/concepts.md, "Padding"), and crops the
    padding off after rolling back."""
    M = window_size
    return -(-H // M) * M, -(-W // M) * M
