"""Image intake: open anything a user might hand us, make it RGB, size it for the model.

Pipeline (what `prepare_image` does):

1. `open_image`: path / bytes / file-like / PIL image / uint8 array -> a fully loaded RGB
   PIL image, EXIF orientation applied, first frame of an animation, transparency composited
   over white. Every problem with the image itself raises `ImageError` whose message is meant
   for a person, not a programmer. A path must name a regular file: a named pipe, socket,
   device or folder is refused from `os.stat` before anything is opened (`check_file`).
2. Resize + centre-crop so that height H and width W are multiples of
   unit = patch_size * window_size (the Swin stage-1 windows must tile the token map).
3. `to_tensor`: (1, 3, H, W) float32, ImageNet-normalised.

Safety: the encoded file may be at most `MAX_BYTES` (`decode_data_uri` checks a data: URI's
size before decoding it); the image at most `max_pixels`, checked from the header before any
pixel is decoded. Pillow's own decompression-bomb limit (`PIL.Image.MAX_IMAGE_PIXELS`) still
applies on top of ours: its `DecompressionBombError` becomes `ImageError` and its warning is
silenced. 16-bit, 32-bit and float images are scaled to 8 bit in strips of about a million
pixels: the conversion needs the 8-bit copy (one byte a pixel) and a few tens of MB on top of
the decoded pixels (8000x8000 float: 345 MB in all, where full float64 copies took 2.7 GB).
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import io
import math
import os
import re
import stat
import struct
import warnings
from dataclasses import dataclass
from typing import IO

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .config import short as _echo

__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "MAX_BYTES", "MAX_PIXELS", "POLICIES", "ImageError",
    "ImageSource", "PreparedImage", "check_file", "decode_data_uri", "denormalize", "open_image",
    "parse_size", "prepare_image", "to_tensor", "valid_size",
]

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
MAX_PIXELS: int = 64_000_000  # an 8000x6000 photo (48 million) fits
MAX_BYTES: int = 50 * 1024 * 1024  # size of the encoded file
POLICIES: tuple[str, ...] = ("crop", "keep")
KEEP_MAX_ASPECT = 4  # "keep" caps the long side at this many times the short side
# what "keep" pads a square input with: the ImageNet mean, 0 once normalised (nothing to see)
PAD_RGB: tuple[int, int, int] = tuple(round(255 * m) for m in IMAGENET_MEAN)

ImageSource = (
    str | os.PathLike | bytes | bytearray | memoryview | IO[bytes] | Image.Image | np.ndarray
)

# What Pillow raises for a damaged or hostile file while opening, decoding, reading EXIF or
# converting it (found by mutating files of every format it reads; UnidentifiedImageError and
# "image file is truncated" are OSErrors, struct.error comes from broken EXIF).
_PILLOW_ERRORS = (OSError, SyntaxError, ValueError, TypeError, EOFError, struct.error,
                  NotImplementedError)
_DEEP_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")  # more than 8 bits per pixel
_STRIP_PIXELS = 1 << 20  # deep images are scaled to 8 bit this many pixels at a time
_RESAMPLE = Image.Resampling.BICUBIC
# resize() first shrinks by an integer factor with reduce() while the image is more than this
# many times the target; Pillow's own thumbnail() uses 2.0, 3.0 is visually indistinguishable
# from an exact resize.
_REDUCING_GAP = 3.0
_CORRUPT = "The image file is truncated or corrupt."
_T = Image.Transpose  # EXIF orientation -> the turn that shows the image upright
_TRANSPOSE = {2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM, 5: _T.TRANSPOSE,
              6: _T.ROTATE_270, 7: _T.TRANSVERSE, 8: _T.ROTATE_90}
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00",
               b"MM\x00*", b"BM")


class ImageError(ValueError):
    """The one exception for every image we cannot use; `str(err)` is meant for the user."""


# --------------------------------------------------------------------------------------------
# messages


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


def _megabytes(n: int) -> str:
    """52428800 -> '50 MB', 1536 -> '1.5 KB', 900 -> '900 bytes'."""
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + " " + unit
    return f"{n} bytes"


def _sizes(size: int, limit: int) -> tuple[str, str]:
    """The two sizes for a 'file is X; the limit is Y' message, exact when rounding hides
    the difference."""
    have, lim = _megabytes(size), _megabytes(limit)
    return (have, lim) if have != lim else (f"{size:,} bytes", f"{limit:,} bytes")


def _unreadable(head: bytes) -> ImageError:
    """The message for a file Pillow could not identify, with a guess at what it is."""
    if head.startswith(_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return ImageError(_CORRUPT)
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


def _bomb_error(data: bytes, max_pixels: int) -> ImageError:
    """Pillow refused to open `data` as a decompression bomb: our message, with the size read
    by Pillow's own format readers (`Image.open` makes the check before it returns one)."""
    Image.init()
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        if accept is None or accept(data[:16]):
            try:
                size = factory(io.BytesIO(data), "").size
            except (*_PILLOW_ERRORS, Image.DecompressionBombError):  # a GIF frame may be larger
                continue
            pillow_limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
            over_ours = size[0] * size[1] > max_pixels or not pillow_limit
            return _too_many_pixels(size, max_pixels if over_ours else pillow_limit)
    return ImageError("The image is too large: it has more pixels than Pillow will safely decode.")


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(f"The image has no pixels (it is {width}x{height}).")
    if width * height > max_pixels:
        raise _too_many_pixels(size, max_pixels)


# --------------------------------------------------------------------------------------------
# data: URIs


def parse_size(size: str | int) -> int:
    """A size as Gradio's `max_file_size` reads it -> bytes: '20mb' -> 20 * 1024**2.

    A whole number and a unit b, kb, mb, gb or tb (powers of 1024; case and spaces ignored), or
    an int (bytes). Raises ValueError otherwise.
    """
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    match = re.fullmatch(r"(\d+)([kmgt]?)b", str(size).replace(" ", "").lower())
    if match is None:
        raise ValueError(
            f"{size!r} is not a file size; write a whole number and a unit, e.g. '20mb'."
        )
    return int(match[1]) * 1024 ** " kmgt".index(match[2] or " ")


def decode_data_uri(url: str, max_bytes: int) -> bytes:
    """A pasted image's "data:<type>;base64,<data>" URI -> the encoded bytes it holds.

    Raises ImageError, before decoding anything, when the payload would decode to more than
    `max_bytes` bytes, and for a URI that is not base64 data or whose base64 is damaged.
    """
    header, comma, payload = url.partition(",")
    header = header.lower().replace(" ", "")
    if not (header.startswith("data:") and header.endswith(";base64") and comma):
        raise ImageError(
            "The pasted image is not a base64 data: URI; please upload the image file instead."
        )
    size = len(payload) // 4 * 3 - payload[-2:].count("=")
    if size > max_bytes:
        raise ImageError(
            "The pasted image is {}; the limit is {}. Please use a smaller image.".format(
                *_sizes(size, max_bytes))
        )
    try:
        return base64.b64decode(payload, validate=True)
    except ValueError:  # binascii.Error, or characters outside ASCII
        raise ImageError(
            "The pasted image is damaged (its base64 data cannot be decoded); please upload "
            "the image file instead."
        ) from None


# --------------------------------------------------------------------------------------------
# colour modes


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


def _deep_to_grey(im: Image.Image) -> Image.Image:
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


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> a new or the same "RGB" image (transparency over white)."""
    if im.mode in _DEEP_MODES:
        return _deep_to_grey(im).convert("RGB")
    im = _apply_icc(im)
    if im.mode == "RGB" and "transparency" not in im.info:
        return im
    if im.mode == "La":
        im = im.convert("LA")
    if im.mode in ("RGBA", "RGBa", "LA", "PA") or "transparency" in im.info:
        return _over_white(im.convert("RGBA"))
    return im.convert("RGB")  # 1, L, P, CMYK, YCbCr, LAB, HSV, RGBX, ...


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation, 1 (upright) when there is none or it cannot be read."""
    try:
        return int(im.getexif().get(0x0112, 1))
    except _PILLOW_ERRORS:
        return 1


# --------------------------------------------------------------------------------------------
# decoding


_NOT_REGULAR = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def _shown(name: str) -> str:
    return f" '{name if len(name) <= 200 else name[:197] + '...'}'"


def _check_regular(mode: int, shown: str) -> None:
    """ImageError unless `mode` (an os.stat st_mode) is a regular file's: a folder, and a
    pipe, socket or device (whose reading may block forever or never end) are refused."""
    if stat.S_ISDIR(mode):
        raise ImageError(f"{shown[1:]} is a folder, not an image file.")
    if not stat.S_ISREG(mode):
        what = next((w for test, w in _NOT_REGULAR if test(mode)), "a special file")
        raise ImageError(f"{shown[1:]} is not a regular file (it is {what}), so it was not "
                         "read; please give an image file.")


def _regular_file(name: str) -> os.stat_result:
    """os.stat of the file `name`, ImageError unless it is a regular file (checked before it
    is opened: opening a named pipe blocks until someone writes to it)."""
    if "\x00" in name:
        raise ImageError("The file name contains a NUL character (\\0), which no file name can "
                         "hold; please check the path.")
    st = os.stat(name)
    _check_regular(st.st_mode, _shown(name))
    return st


@contextlib.contextmanager
def _path_errors(name: str):
    """The OSErrors of opening or reading the file `name` -> ImageError with a sentence."""
    shown = _shown(name)
    try:
        yield
    except FileNotFoundError:
        if re.match(r"^[a-z][a-z0-9+.-]*://", name, re.IGNORECASE):
            raise ImageError(f"{shown[1:]} is a web address; please download the image and "
                             "open the saved file.") from None
        raise ImageError(f"No file was found at{shown}.") from None
    except IsADirectoryError:
        raise ImageError(f"{shown[1:]} is a folder, not an image file.") from None
    except PermissionError:
        raise ImageError(f"The file{shown} cannot be read (permission denied).") from None
    except OSError as exc:
        raise ImageError(f"The file{shown} cannot be read ({exc.strerror or exc}).") from None


def check_file(path: str | os.PathLike) -> None:
    """ImageError with a sentence unless `path` names an existing regular file; nothing is
    opened (a named pipe, a socket, a device or a folder is refused from os.stat alone)."""
    name = os.fsdecode(os.fspath(path))
    with _path_errors(name):
        _regular_file(name)


def _read(source: str | os.PathLike | IO[bytes]) -> bytes:
    """A path or a binary file object -> its bytes (at most MAX_BYTES + 1 of them). A path must
    name a regular file (`_regular_file`); it is opened without blocking and checked again, so
    a file swapped for a pipe in between cannot block either."""
    if hasattr(source, "read"):
        data = source.read(MAX_BYTES + 1)
        if isinstance(data, str):
            raise TypeError("open_image needs a binary file object (open it with 'rb').")
        return bytes(data or b"")
    name = os.fsdecode(os.fspath(source))
    with _path_errors(name):
        _regular_file(name)
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with open(fd, "rb") as handle:
            st = os.fstat(fd)
            _check_regular(st.st_mode, _shown(name))
            if st.st_size > MAX_BYTES:
                have, limit = _sizes(st.st_size, MAX_BYTES)
                raise ImageError(f"The file is {have}; the limit is {limit}.")
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
            return handle.read(MAX_BYTES + 1)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Encoded bytes -> Pillow's lazily opened image (header read, no pixel decoded)."""
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImageError(
            f"The file is larger than {_megabytes(MAX_BYTES)}; please use a smaller file."
        )
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise _bomb_error(data, max_pixels) from None
    except UnidentifiedImageError:
        raise _unreadable(data[:4096]) from None
    except _PILLOW_ERRORS as exc:
        raise ImageError(_CORRUPT) from exc


def _from_array(array: np.ndarray, max_pixels: int) -> Image.Image:
    """uint8 (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) -> "L", "RGB" or "RGBA" image."""
    if array.dtype != np.uint8:
        raise ImageError(
            f"The picture array holds {array.dtype} values; expected uint8 (whole numbers 0-255)."
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ImageError(
            f"The picture array has shape {tuple(array.shape)}; expected (height, width) for "
            "grey, (height, width, 3) for RGB or (height, width, 4) for RGBA."
        )
    _check_pixels((array.shape[1], array.shape[0]), max_pixels)
    return Image.fromarray(np.ascontiguousarray(array))


def _load(
    source: ImageSource, max_pixels: int, min_short: int | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """Any source -> (RGB image, original (width, height) after EXIF rotation).

    min_short: if given, a JPEG may be decoded at 1/2, 1/4 or 1/8 scale (libjpeg "draft"
    mode) as long as its short side stays >= min_short. A caller's PIL image is never changed
    (its frame position is restored) and never returned itself.
    """
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0:
        raise ValueError(f"max_pixels must be a positive whole number, got {_echo(max_pixels)}.")
    if isinstance(source, np.ndarray):
        source = _from_array(source, max_pixels)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)) or hasattr(source, "read"):
        data = _read(source)
    elif not isinstance(source, Image.Image):
        raise TypeError(
            "open_image accepts a file path, bytes, a binary file object, a PIL image or a "
            f"uint8 numpy array; got {type(source).__name__}."
        )
    with warnings.catch_warnings():
        # our own max_pixels check is what decides; do not let Pillow's warning out
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im = source if isinstance(source, Image.Image) else _open(data, max_pixels)
        _check_pixels(im.size, max_pixels)  # header only: nothing decoded yet
        # The first frame is 0, or Pillow's `_min_frame` (a Photoshop file's composite image
        # is frame 1, and it cannot seek to 0). An image opened here is at its first frame; a
        # caller's may be at a later one: it is moved to the first and put back afterwards.
        first = getattr(im, "_min_frame", 0)
        frame = im.tell() if im is source else first
        width, height = im.size
        if min_short is not None and im is not source and im.format in ("JPEG", "MPO"):
            if min_short < min(width, height):
                factor = min_short / min(width, height)
                im.draft(None, (math.ceil(width * factor), math.ceil(height * factor)))
        try:
            if frame != first:
                im.seek(first)
            im.load()  # the first frame of an animation
            orientation = _orientation(im)
            if im.mode in _DEEP_MODES:  # to 8 bit first; rebinding frees the deep pixels
                im = _deep_to_grey(im)
            turn = _TRANSPOSE.get(orientation)
            rgb = _to_rgb(im.transpose(turn) if turn is not None else im)
        except Image.DecompressionBombError:
            raise ImageError(
                "The image is too large: it has more pixels than Pillow will safely decode."
            ) from None
        except MemoryError:
            raise ImageError("There is not enough memory to decode this image.") from None
        except _PILLOW_ERRORS as exc:
            raise ImageError(_CORRUPT) from exc
        finally:
            if frame != first:  # only a caller's image can be at a later frame
                source.seek(frame)
    turned = orientation in (5, 6, 7, 8)
    return (rgb.copy() if rgb is source else rgb), ((height, width) if turned else (width, height))


# --------------------------------------------------------------------------------------------
# public API


def open_image(source: ImageSource, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open an image from almost anything and return it fully loaded in mode "RGB".

    source: a path (str / os.PathLike), the encoded bytes, a binary file object, a PIL image
    (never modified; a new image is returned) or a uint8 numpy array of shape (H, W),
    (H, W, 3) or (H, W, 4).

    Returns an RGB image of W x H pixels, i.e. `np.asarray(result)` has shape (H, W, 3), after
    EXIF orientation (so W and H may be swapped relative to the stored pixels), first frame
    of an animation, transparency composited over white, 16-bit/32-bit/float greyscale scaled
    to 8 bit (see `_deep_to_grey`), CMYK / YCbCr / LAB / HSV / palette converted, and an
    embedded non-sRGB ICC profile applied where possible.

    Raises ImageError (a ValueError with a plain-language message) for every unusable image:
    empty, not an image, truncated/corrupt, more than `max_pixels` pixels (checked from the
    header, before decoding), a file over `MAX_BYTES`, a missing file. Raises TypeError for a
    source of the wrong Python type.
    """
    return _load(source, max_pixels)[0]


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
    rgb, original = _load(source, max_pixels, min_short=2 * side)

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
        image = _to_rgb(image)
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
