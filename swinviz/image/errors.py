"""What an unusable image says: one exception type (`ImageError`), and the sentences it carries.

Every message is meant for a person, not a programmer: sizes in MB or millions of pixels, and a
guess at what a file that is not an image is (a PDF, an SVG, a web page, a HEIC photo, text).
"""

from __future__ import annotations

import codecs
import io
import struct

from PIL import Image

# What Pillow raises for a damaged or hostile file while opening, decoding, reading EXIF or
# converting it (found by mutating files of every format it reads; UnidentifiedImageError and
# "image file is truncated" are OSErrors, struct.error comes from broken EXIF).
PILLOW_ERRORS = (OSError, SyntaxError, ValueError, TypeError, EOFError, struct.error,
                  NotImplementedError)
CORRUPT = "The image file is truncated or corrupt."
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00",
               b"MM\x00*", b"BM")


class ImageError(ValueError):
    """The one exception for every image we cannot use; `str(err)` is meant for the user."""


def _millions(n: int) -> str:
    """900_000_000 -> '900 million'; 64_008_000 -> '64.01 million'; 5_000 -> '5,000'."""
    if n < 1_000_000:
        return f"{n:,}"
    return f"{n / 1e6:,.2f}".rstrip("0").rstrip(".") + " million"


def _too_many_pixels(size: tuple[int, int], limit: int) -> ImageError:
    pixels = size[0] * size[1]
    have, lim = _millions(pixels), _millions(limit)
    if have == lim:  # rounding hid the difference: use exact counts
        have, lim = f"{pixels:,}", f"{limit:,}"
    return ImageError(
        f"The image is {size[0]}x{size[1]} = {have} pixels; the limit is {lim}. "
        "Please use a smaller image."
    )


def megabytes(n: int) -> str:
    """52428800 -> '50 MB', 1536 -> '1.5 KB', 900 -> '900 bytes'."""
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + " " + unit
    return f"{n} bytes"


def sizes(size: int, limit: int) -> tuple[str, str]:
    """The two sizes for a 'file is X; the limit is Y' message, exact when rounding hides
    the difference."""
    have, lim = megabytes(size), megabytes(limit)
    return (have, lim) if have != lim else (f"{size:,} bytes", f"{limit:,} bytes")


def unreadable(head: bytes) -> ImageError:
    """The message for a file Pillow could not identify, with a guess at what it is."""
    if head.startswith(_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return ImageError(CORRUPT)
    start = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    try:  # text: valid UTF-8 (a character cut at the end is fine), almost all printable
        text = "" if b"\x00" in head[:4096] else codecs.utf_8_decode(head[:4096], "strict")[0]
    except UnicodeDecodeError:
        text = ""
    if start.startswith(b"%pdf"):
        why = "it is a PDF document; please export the page as PNG or JPEG"
    elif b"<svg" in start:
        why = "it looks like an SVG drawing; please export it as PNG or JPEG"
    elif start.startswith((b"<!doctype html", b"<html")) or b"<html" in start[:512]:
        why = "it looks like a web page (HTML), not an image; the link may not point to the image"
    elif head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1"):
        why = "it looks like a HEIC/HEIF photo; please convert it to JPEG or PNG"
    elif head[4:8] == b"ftyp":
        why = "it looks like a video or another ISO media file"
    elif text and sum(c.isprintable() or c in "\t\r\n\f" for c in text) >= 0.95 * len(text):
        why = "it looks like text"
    else:
        why = "its format is not one of JPEG, PNG, GIF, WebP, BMP, TIFF or similar"
    return ImageError(f"This file is not an image Pillow can read ({why}).")


def bomb_error(data: bytes, max_pixels: int) -> ImageError:
    """Pillow refused to open `data` as a decompression bomb: our message, with the size read
    by Pillow's own format readers (`Image.open` makes the check before it returns one)."""
    Image.init()
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        if accept is None or accept(data[:16]):
            try:
                size = factory(io.BytesIO(data), "").size
            except (*PILLOW_ERRORS, Image.DecompressionBombError):  # a GIF frame may be larger
                continue
            pillow_limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
            over_ours = size[0] * size[1] > max_pixels or not pillow_limit
            return _too_many_pixels(size, max_pixels if over_ours else pillow_limit)
    return ImageError("The image is too large: it has more pixels than Pillow will safely decode.")


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(f"The image has no pixels (it is {width}x{height}).")
    if width * height > max_pixels:
        raise _too_many_pixels(size, max_pixels)

