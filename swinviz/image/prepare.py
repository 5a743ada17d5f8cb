"""The model's input: an opened image sized to whole windows and ImageNet-normalised.

`prepare_image` opens the image (`intake.open_image`), scales and centre-crops it so that its
height H and width W are multiples of unit = patch_size * window_size (or, for a square model
input, fits it inside the square and pads it), and `to_tensor` makes the (1, 3, H, W) float32
pixels; `denormalize` undoes it for drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..config import short as _echo
from .intake import MAX_PIXELS, ImageSource, load
from .modes import to_rgb

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
POLICIES: tuple[str, ...] = ("crop", "keep")
KEEP_MAX_ASPECT = 4  # "keep" caps the long side at this many times the short side
# what "keep" pads a square input with: the ImageNet mean, 0 once normalised (nothing to see)
PAD_RGB: tuple[int, int, int] = tuple(round(255 * m) for m in IMAGENET_MEAN)
_RESAMPLE = Image.Resampling.BICUBIC
# resize() first shrinks by an integer factor with reduce() while the image is more than this
# many times the target; Pillow's own thumbnail() uses 2.0, 3.0 is visually indistinguishable
# from an exact resize.
_REDUCING_GAP = 3.0


def valid_size(size: int, unit: int) -> int:
    """Round `size` to the nearest multiple of `unit`, halves rounding up, at least one unit.

    unit = patch_size * window_size, e.g. valid_size(224, 28) == 224,
    valid_size(224, 48) == 240, valid_size(10, 28) == 28.
    """
    if size <= 0 or unit <= 0:
        raise ValueError(f"size and unit must be positive, got size={size}, unit={unit}.")
    return max(1, (2 * size + unit) // (2 * unit)) * unit


@dataclass(eq=False)
class PreparedImage:
    """An image ready for the model.

    image: the RGB PIL image the model sees, W x H pixels.
    pixels: (1, 3, H, W) float32, ImageNet-normalised (see `to_tensor`).
    original_size: (width, height) of the opened image after EXIF rotation.
    policy: the resize policy used, "crop" or "keep".
    H and W are multiples of patch_size * window_size.
    """

    image: Image.Image
    pixels: torch.Tensor
    original_size: tuple[int, int]
    policy: str

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) in pixels of the model input."""
        return (int(self.pixels.shape[-2]), int(self.pixels.shape[-1]))


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive whole number, got {_echo(value)}.")
    return int(value)


def prepare_image(
    source: ImageSource,
    size: int = 224,
    *,
    patch_size: int = 4,
    window_size: int = 7,
    policy: str = "crop",
    max_pixels: int = MAX_PIXELS,
    square: bool = False,
) -> PreparedImage:
    """Open `source` (see `open_image`) and make the model input.

    unit = patch_size * window_size and S = valid_size(size, unit).
    policy "crop": scale so the short side is S (bicubic, antialiased), centre-crop S x S.
    policy "keep": scale so the short side is S, then centre-crop the long side to a multiple
    of unit, at most 4 * S (so aspect ratios beyond 4:1 are centre-cropped to 4:1).
    square=True (a model whose input is S x S, as `SwinTransformer.explore` asks): "keep" then
    scales that same part of the image so its long side is S and pads it to S x S, centred,
    with PAD_RGB (the ImageNet mean: zeros once normalised); "crop" is square already.

    Returns PreparedImage with image W x H and pixels (1, 3, H, W), H and W multiples of unit.
    Raises ValueError for an unknown policy or a non-positive size / patch / window, and
    ImageError for a bad image.
    """
    if policy not in POLICIES:
        raise ValueError(
            f"Unknown resize policy {_echo(policy)}; use 'crop' (square centre crop) or 'keep' "
            "(keep the aspect ratio, up to 4:1)."
        )
    size = _positive_int("size", size)
    unit = _positive_int("patch_size", patch_size) * _positive_int("window_size", window_size)
    side = valid_size(size, unit)

    # A JPEG may be decoded at reduced scale as long as it stays >= 2x the target: the final
    # bicubic resize then still has real pixels to average over.
    rgb, original = load(source, max_pixels, min_short=2 * side)

    width, height = rgb.size
    short, long = min(width, height), max(width, height)
    scale = side / short
    if policy == "crop":
        out_long = side
    else:
        resized_long = max(side, round(long * scale))
        step = 1 if square else unit
        out_long = min(resized_long, KEEP_MAX_ASPECT * side) // step * step
    box_long = min(long, out_long / scale)  # the part of the source that is kept
    out_short = side
    if square and out_long > side:  # that part fitted inside the square, padded below
        out_short, out_long = max(1, round(side * side / out_long)), side
    lo, hi = (long - box_long) / 2, (long + box_long) / 2
    if width >= height:
        out_size, box = (out_long, out_short), (lo, 0.0, hi, float(height))
    else:
        out_size, box = (out_short, out_long), (0.0, lo, float(width), hi)
    image = rgb.resize(out_size, _RESAMPLE, box=box, reducing_gap=_REDUCING_GAP)
    if image.size != (side, side) and square:
        canvas = Image.new("RGB", (side, side), PAD_RGB)
        canvas.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
        image = canvas
    return PreparedImage(
        image=image, pixels=to_tensor(image), original_size=original, policy=policy
    )


def to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL image (W x H; any mode, converted to RGB as in `open_image`) -> (1, 3, H, W) float32,
    (value / 255 - IMAGENET_MEAN) / IMAGENET_STD per channel."""
    if not isinstance(image, Image.Image):
        raise TypeError(f"to_tensor needs a PIL image, got {type(image).__name__}.")
    if image.mode != "RGB" or "transparency" in image.info:
        image = to_rgb(image)
    array = np.asarray(image, dtype=np.float32) / np.float32(255.0)  # (H, W, 3)
    mean = np.asarray(IMAGENET_MEAN, dtype=np.float32)
    std = np.asarray(IMAGENET_STD, dtype=np.float32)
    array = (array - mean) / std
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None]


def denormalize(pixels: torch.Tensor | np.ndarray) -> np.ndarray:
    """Inverse of `to_tensor`: (1, 3, H, W) or (3, H, W) normalised -> (H, W, 3) uint8
    (rounded, clipped to 0..255)."""
    if isinstance(pixels, torch.Tensor):
        array = pixels.detach().to("cpu", torch.float32).numpy()
    else:
        array = np.asarray(pixels, dtype=np.float32)
    if array.ndim == 4:
        if array.shape[0] != 1:
            raise ValueError(f"denormalize takes one image, got a batch of {array.shape[0]}.")
        array = array[0]
    if array.ndim != 3 or array.shape[0] != 3:
        raise ValueError(f"Expected shape (1, 3, H, W) or (3, H, W), got {tuple(array.shape)}.")
    mean = np.asarray(IMAGENET_MEAN, dtype=np.float32)[:, None, None]
    std = np.asarray(IMAGENET_STD, dtype=np.float32)[:, None, None]
    values = (array * std + mean) * 255.0
    return np.clip(np.rint(values), 0, 255).astype(np.uint8).transpose(1, 2, 0).copy()
