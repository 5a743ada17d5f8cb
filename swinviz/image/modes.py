"""Colour modes -> RGB: what the model sees, whatever Pillow opened.

Transparency is composited over white; 16-bit, 32-bit and float greyscale are scaled to 8 bit
in strips of about a million pixels (`_STRIP_PIXELS`), so the conversion needs the 8-bit copy and
little more on top of the decoded pixels; an embedded non-sRGB ICC profile is applied where
possible; EXIF orientation is read (`exif_orientation`) for the caller to turn the image upright.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from .errors import PILLOW_ERRORS

DEEP_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")  # more than 8 bits per pixel
_STRIP_PIXELS = 1 << 20  # deep images are scaled to 8 bit this many pixels at a time
_T = Image.Transpose  # EXIF orientation -> the turn that shows the image upright
TRANSPOSE = {2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM, 5: _T.TRANSPOSE,
              6: _T.ROTATE_270, 7: _T.TRANSVERSE, 8: _T.ROTATE_90}


def _over_white(rgba: Image.Image) -> Image.Image:
    """Composite an RGBA image over white -> RGB (alpha 0 becomes pure white)."""
    out = Image.new("RGB", rgba.size, (255, 255, 255))
    out.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
    return out


def _strips(im: Image.Image):
    """Yield (top row, (h, W) array) over horizontal strips of about `_STRIP_PIXELS` pixels."""
    rows = max(1, _STRIP_PIXELS // im.width)
    for top in range(0, im.height, rows):
        yield top, np.asarray(im.crop((0, top, im.width, min(im.height, top + rows))))


def deep_to_grey(im: Image.Image) -> Image.Image:
    """16-bit, 32-bit or float greyscale ("I;16*", "I", "F") -> "L", in strips.

    "I;16*" is unsigned 16 bit: 0..65535 -> 0..255 (32768 -> 128). "I" is 32-bit signed but in
    practice holds 16-bit data, so 0..65535 is scaled the same way. "F": values in [0, 1] are
    scaled by 255, values in [0, 255] kept. Anything else is stretched from its minimum to its
    maximum. NaN and infinities become 0 (black) and do not count for the range.
    """
    low, high = math.inf, -math.inf
    if not im.mode.startswith("I;16"):
        for _, strip in _strips(im):
            finite = strip[np.isfinite(strip)] if im.mode == "F" else strip
            if finite.size:
                low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    if im.mode.startswith("I") and (im.mode != "I" or (low >= 0 and high <= 65535)):
        low, scale = 0.0, 255.0 / 65535.0
    elif low >= 0 and high <= 1:
        low, scale = 0.0, 255.0
    elif low >= 0 and high <= 255:
        low, scale = 0.0, 1.0
    else:
        scale = 255.0 / (high - low) if high > low else 0.0
    grey = Image.new("L", im.size)
    for top, strip in _strips(im):
        values = (strip.astype(np.float64) - low) * scale
        values[~np.isfinite(strip)] = 0.0
        grey.paste(Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8)), (0, top))
    return grey


def _apply_icc(im: Image.Image) -> Image.Image:
    """Convert RGB/CMYK/L pixels with an embedded non-sRGB ICC profile to sRGB (best effort:
    an unreadable or unusable profile leaves the image unchanged)."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "CMYK", "L") or "transparency" in im.info:
        return im
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = {"RGB": "RGB", "CMYK": "CMYK", "L": "GRAY"}[im.mode]
        if source.profile.xcolor_space.strip() != space:
            return im
        if "srgb" in (source.profile.profile_description or "").lower():
            return im  # already what the model expects
        converted = ImageCms.profileToProfile(
            im, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except (OSError, ValueError, ImageCms.PyCMSError):
        return im
    return converted if converted is not None else im


def to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> a new or the same "RGB" image (transparency over white)."""
    if im.mode in DEEP_MODES:
        return deep_to_grey(im).convert("RGB")
    im = _apply_icc(im)
    if im.mode == "RGB" and "transparency" not in im.info:
        return im
    if im.mode == "La":
        im = im.convert("LA")
    if im.mode in ("RGBA", "RGBa", "LA", "PA") or "transparency" in im.info:
        return _over_white(im.convert("RGBA"))
    return im.convert("RGB")  # 1, L, P, CMYK, YCbCr, LAB, HSV, RGBX, ...


def exif_orientation(im: Image.Image) -> int:
    """The EXIF orientation, 1 (upright) when there is none or it cannot be read."""
    try:
        return int(im.getexif().get(0x0112, 1))
    except PILLOW_ERRORS:
        return 1

