"""Image intake: open anything a user might hand us, make it RGB, size it for the model.

Pipeline (what `prepare_image` does):

1. `open_image`: path / bytes / file-like / PIL image / uint8 array -> a fully loaded RGB
   PIL image, EXIF orientation applied, first frame of an animation, transparency composited
   over white. Every problem with the image itself raises `ImageError` whose message is meant
   for a person, not a programmer.
2. Resize + centre-crop so that height H and width W are multiples of
   unit = patch_size * window_size (the Swin stage-1 windows must tile the token map).
3. `to_tensor`: (1, 3, H, W) float32, ImageNet-normalised.

Safety: the encoded file may be at most `MAX_BYTES`; the decoded image at most `max_pixels`
(checked from the header, before any pixel is decoded). Pillow's own decompression-bomb limit
(`PIL.Image.MAX_IMAGE_PIXELS`) still applies on top of ours: its `DecompressionBombError`
becomes `ImageError` and its `DecompressionBombWarning` is silenced (our check, 64 million by
default, is stricter than Pillow's warning threshold of about 89 million).
"""

from __future__ import annotations

import codecs
import io
import math
import os
import re
import struct
import warnings
from dataclasses import dataclass
from typing import IO

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "MAX_BYTES",
    "MAX_PIXELS",
    "POLICIES",
    "ImageError",
    "ImageSource",
    "PreparedImage",
    "denormalize",
    "open_image",
    "prepare_image",
    "to_tensor",
    "valid_size",
]

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
MAX_PIXELS: int = 64_000_000  # an 8000x6000 photo (48 million) fits
MAX_BYTES: int = 50 * 1024 * 1024  # size of the encoded file
POLICIES: tuple[str, ...] = ("crop", "keep")
KEEP_MAX_ASPECT = 4  # "keep" caps the long side at this many times the short side

ImageSource = (
    str | os.PathLike | bytes | bytearray | memoryview | IO[bytes] | Image.Image | np.ndarray
)

_WHITE = (255, 255, 255)
_RESAMPLE = Image.Resampling.BICUBIC
# resize() first shrinks by an integer factor with reduce() while the image is more than this
# many times the target; Pillow's own thumbnail() uses 2.0, 3.0 is visually indistinguishable
# from an exact resize.
_REDUCING_GAP = 3.0
_CORRUPT = "The image file is truncated or corrupt."
_ORIENTATION_TAG = 0x0112
_HEAD_BYTES = 256 * 1024  # how much of the file the diagnostics look at


class ImageError(ValueError):
    """The one exception for every image we cannot use; `str(err)` is meant for the user."""


# --------------------------------------------------------------------------------------------
# messages


def _millions(n: int) -> str:
    """900_000_000 -> '900 million'; 64_008_000 -> '64.01 million'; 5_000 -> '5,000'."""
    if n < 1_000_000:
        return f"{n:,}"
    text = f"{n / 1e6:,.2f}".rstrip("0").rstrip(".")
    return f"{text} million"


def _too_many_pixels(size: tuple[int, int] | None, pixels: int, limit: int) -> ImageError:
    have, lim = _millions(pixels), _millions(limit)
    if have == lim:  # rounding hid the difference: use exact counts
        have, lim = f"{pixels:,}", f"{limit:,}"
    what = f"{size[0]}x{size[1]} = {have}" if size else have
    return ImageError(
        f"The image is {what} pixels; the limit is {lim}. Please use a smaller image."
    )


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


def _looks_like_text(head: bytes) -> bool:
    """True when the bytes decode as UTF-8 and are almost all printable characters."""
    sample = head[:4096]
    if not sample or b"\x00" in sample:
        return False
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    if not text:
        return False
    printable = sum(ch.isprintable() or ch in "\t\r\n\f" for ch in text)
    return printable >= 0.95 * len(text)


_IMAGE_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",
    b"MM\x00*",
    b"BM",
)


def _looks_like_image(head: bytes) -> bool:
    return head.startswith(_IMAGE_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def _unreadable(head: bytes) -> ImageError:
    """The message for a file Pillow could not identify, with a guess at what it is."""
    if _looks_like_image(head):
        return ImageError(_CORRUPT)
    start = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
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
    elif _looks_like_text(head):
        why = "it looks like text"
    else:
        why = "its format is not one of JPEG, PNG, GIF, WebP, BMP, TIFF or similar"
    return ImageError(f"This file is not an image Pillow can read ({why}).")


def _header_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) read straight from a PNG / GIF / JPEG header, or None. Only used to
    word the message when Pillow itself refuses an image as too large."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 <= len(head):
            if head[i] != 0xFF:
                return None
            marker = head[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
                i += 2
                continue
            length = int.from_bytes(head[i + 2 : i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
                height, width = struct.unpack(">HH", head[i + 5 : i + 9])
                return (width, height)
            i += 2 + length
    return None


def _bomb_error(exc: Exception, head: bytes, max_pixels: int) -> ImageError:
    """Turn Pillow's DecompressionBombError into our message."""
    size = _header_size(head)
    if size is not None:
        pixels = size[0] * size[1]
    else:
        match = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(match.group(1)) if match else 0
    if pixels == 0:
        return ImageError(
            "The image is too large: it has more pixels than Pillow will safely decode."
        )
    pillow_limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
    limit = max_pixels if pixels > max_pixels or not pillow_limit else pillow_limit
    return _too_many_pixels(size, pixels, limit)


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(f"The image has no pixels (it is {width}x{height}).")
    if width * height > max_pixels:
        raise _too_many_pixels(size, width * height, max_pixels)


# --------------------------------------------------------------------------------------------
# reading the source


def _read_path(path: str | os.PathLike) -> bytes:
    name = os.fspath(path)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    shown = name if len(name) <= 200 else name[:197] + "..."
    if re.match(r"^[a-z][a-z0-9+.-]*://", name, re.IGNORECASE) and not os.path.exists(name):
        raise ImageError(
            f"'{shown}' is a web address; please download the image and open the saved file."
        )
    try:
        if os.path.isdir(name):
            raise ImageError(f"'{shown}' is a folder, not an image file.")
        size = os.path.getsize(name)
        if size > MAX_BYTES:
            raise ImageError(
                f"The file is {_megabytes(size)}; the limit is {_megabytes(MAX_BYTES)}."
            )
        with open(name, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ImageError(f"No file was found at '{shown}'.") from None
    except PermissionError:
        raise ImageError(f"The file '{shown}' cannot be read (permission denied).") from None
    except OSError as exc:
        raise ImageError(f"The file '{shown}' cannot be read ({exc.strerror or exc}).") from None


def _read_stream(stream: IO[bytes]) -> bytes:
    try:
        data = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ImageError(f"The file cannot be read ({exc.strerror or exc}).") from None
    if isinstance(data, str):
        raise TypeError("open_image needs a binary file object (open the file with 'rb').")
    return bytes(data or b"")


# --------------------------------------------------------------------------------------------
# colour modes


def _over_white(rgba: Image.Image) -> Image.Image:
    """Composite an RGBA image over white -> RGB (alpha 0 becomes pure white)."""
    out = Image.new("RGB", rgba.size, _WHITE)
    out.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
    return out


def _grey_to_rgb(values: np.ndarray) -> Image.Image:
    """(H, W) uint8 -> RGB."""
    return Image.fromarray(np.ascontiguousarray(values, dtype=np.uint8)).convert("RGB")


def _integer_to_rgb(im: Image.Image) -> Image.Image:
    """16/32-bit greyscale ("I;16*", "I") -> RGB, scaled by the range of the data type.

    "I;16*" is unsigned 16 bit: 0..65535 -> 0..255 (32768 -> 128). "I" is 32-bit signed, but
    in practice holds 16-bit data (Pillow's mode for 16-bit PNG/TIFF greyscale in older
    versions), so 0..65535 is scaled the same way; data outside that range is stretched from
    its own minimum to its maximum.
    """
    data = np.asarray(im).astype(np.float64)
    low, high = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
    if im.mode.startswith("I;16") or (low >= 0 and high <= 65535):
        scaled = data * (255.0 / 65535.0)
    else:
        scaled = (data - low) * (255.0 / (high - low)) if high > low else np.zeros_like(data)
    return _grey_to_rgb(np.clip(np.rint(scaled), 0, 255))


def _float_to_rgb(im: Image.Image) -> Image.Image:
    """32-bit float greyscale ("F") -> RGB.

    Values in [0, 1] are scaled by 255, values in [0, 255] are kept, anything else is stretched
    from its minimum to its maximum. NaN becomes 0 (black).
    """
    data = np.asarray(im).astype(np.float64)
    finite = data[np.isfinite(data)]
    data = np.where(np.isfinite(data), data, 0.0)
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if low >= 0 and high <= 1:
        scaled = data * 255.0
    elif low >= 0 and high <= 255:
        scaled = data
    else:
        scaled = (data - low) * (255.0 / (high - low)) if high > low else np.zeros_like(data)
    return _grey_to_rgb(np.clip(np.rint(scaled), 0, 255))


def _apply_icc(im: Image.Image) -> Image.Image:
    """Convert RGB/CMYK/L pixels with an embedded non-sRGB ICC profile to sRGB (best effort:
    on any problem the image is returned unchanged and converted the plain way)."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "CMYK", "L") or "transparency" in im.info:
        return im
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = source.profile.xcolor_space.strip()
        if {"RGB": "RGB", "CMYK": "CMYK", "L": "GRAY"}[im.mode] != space:
            return im
        if "srgb" in (source.profile.profile_description or "").lower():
            return im  # already what the model expects
        converted = ImageCms.profileToProfile(
            im, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except Exception:
        return im
    return converted if converted is not None else im


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> a new or the same "RGB" image (transparency over white)."""
    mode = im.mode
    im = _apply_icc(im)
    if im.mode == "RGB" and "transparency" not in im.info:
        return im
    if mode.startswith("I;16") or mode == "I":
        return _integer_to_rgb(im)
    if mode == "F":
        return _float_to_rgb(im)
    if mode == "La":
        im = im.convert("LA")
    if mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in im.info:
        return _over_white(im.convert("RGBA"))
    return im.convert("RGB")  # 1, L, P, CMYK, YCbCr, LAB, HSV, RGBX, ...


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # unreadable EXIF: treat as upright
        return 1


def _exif_transpose(im: Image.Image, *, owned: bool) -> Image.Image:
    """Apply the EXIF orientation; never raises (bad EXIF leaves the image as it is). An image
    we do not own is never changed in place."""
    try:
        if owned:
            ImageOps.exif_transpose(im, in_place=True)
            return im
        return ImageOps.exif_transpose(im)
    except Exception:
        return im if owned else im.copy()


# --------------------------------------------------------------------------------------------
# decoding


def _decode(
    data: bytes, max_pixels: int, min_short: int | None
) -> tuple[Image.Image, tuple[int, int]]:
    """Encoded bytes -> (RGB image, (width, height) after EXIF rotation, before any draft).

    min_short: if given, a JPEG may be decoded at 1/2, 1/4 or 1/8 scale (libjpeg "draft"
    mode) as long as its short side stays >= min_short.
    """
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImageError(
            f"The file is larger than {_megabytes(MAX_BYTES)}; please use a smaller file."
        )
    head = data[:_HEAD_BYTES]
    with warnings.catch_warnings():
        # our own max_pixels check below is what decides; do not let Pillow's warning out
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise _bomb_error(exc, head, max_pixels) from None
        except UnidentifiedImageError:
            raise _unreadable(head) from None
        except Exception as exc:
            raise ImageError(_CORRUPT) from exc

        _check_pixels(im.size, max_pixels)  # header only: nothing decoded yet
        width, height = im.size
        orientation = _orientation(im)
        original = (height, width) if orientation in (5, 6, 7, 8) else (width, height)

        if min_short is not None and im.format in ("JPEG", "MPO"):
            factor = min_short / min(width, height)
            if factor < 1:
                request = (max(1, math.ceil(width * factor)), max(1, math.ceil(height * factor)))
                try:
                    im.draft(None, request)
                except Exception:
                    pass  # not fatal: decode at full size
        try:
            im.load()  # the first frame of an animation
        except Image.DecompressionBombError as exc:
            raise _bomb_error(exc, head, max_pixels) from None
        except MemoryError:
            raise ImageError("There is not enough memory to decode this image.") from None
        except Exception as exc:
            raise ImageError(_CORRUPT) from exc
        _check_pixels(im.size, max_pixels)
        im = _exif_transpose(im, owned=True)
        try:
            rgb = _to_rgb(im)
        except ImageError:
            raise
        except Exception as exc:
            raise ImageError(
                f"The image uses a colour format ({im.mode}) that cannot be turned into RGB."
            ) from exc
    return rgb, original


def _from_pil(source: Image.Image, max_pixels: int) -> tuple[Image.Image, tuple[int, int]]:
    """A caller's PIL image -> a new RGB image; the caller's image is left as it was."""
    _check_pixels(source.size, max_pixels)
    frame = 0
    try:
        frame = source.tell()
    except Exception:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            if frame:
                source.seek(0)
            source.load()
            im = _exif_transpose(source, owned=False)
            rgb = _to_rgb(im)
        except ImageError:
            raise
        except Image.DecompressionBombError as exc:
            raise _bomb_error(exc, b"", max_pixels) from None
        except Exception as exc:
            raise ImageError(_CORRUPT) from exc
        finally:
            if frame:
                try:
                    source.seek(frame)
                except Exception:
                    pass
    if rgb is source:
        rgb = rgb.copy()
    return rgb, rgb.size


def _from_array(array: np.ndarray, max_pixels: int) -> tuple[Image.Image, tuple[int, int]]:
    """uint8 (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) -> RGB image (4 channels: RGBA over
    white)."""
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
    height, width = array.shape[:2]
    _check_pixels((width, height), max_pixels)
    im = Image.fromarray(np.ascontiguousarray(array))
    rgb = _over_white(im) if im.mode == "RGBA" else im.convert("RGB")
    return rgb, rgb.size


def _load(
    source: ImageSource, max_pixels: int, min_short: int | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """Dispatch on the type of source; returns (RGB image, original (width, height))."""
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0:
        raise ValueError(f"max_pixels must be a positive whole number, got {max_pixels!r}.")
    if isinstance(source, Image.Image):
        return _from_pil(source, max_pixels)
    if isinstance(source, np.ndarray):
        return _from_array(source, max_pixels)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        data = _read_path(source)
    elif hasattr(source, "read"):
        data = _read_stream(source)
    else:
        raise TypeError(
            "open_image accepts a file path, bytes, a binary file object, a PIL image or a "
            f"uint8 numpy array; got {type(source).__name__}."
        )
    return _decode(data, max_pixels, min_short)


# --------------------------------------------------------------------------------------------
# public API


def open_image(source: ImageSource, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open an image from almost anything and return it fully loaded in mode "RGB".

    source: a path (str / os.PathLike), the encoded bytes, a binary file object, a PIL image
    (never modified; a new image is returned) or a uint8 numpy array of shape (H, W),
    (H, W, 3) or (H, W, 4).

    Returns an RGB image of W x H pixels, i.e. `np.asarray(result)` has shape (H, W, 3), after
    EXIF orientation (so W and H may be swapped relative to the stored pixels), first frame
    of an animation, transparency composited over white, 16-bit/float greyscale scaled to
    8 bit, CMYK / YCbCr / LAB / HSV / palette converted, and an embedded non-sRGB ICC profile
    applied where possible.

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
        raise ValueError(f"{name} must be a positive whole number, got {value!r}.")
    return int(value)


def prepare_image(
    source: ImageSource,
    size: int = 224,
    *,
    patch_size: int = 4,
    window_size: int = 7,
    policy: str = "crop",
    max_pixels: int = MAX_PIXELS,
) -> PreparedImage:
    """Open `source` (see `open_image`) and make the model input.

    unit = patch_size * window_size and S = valid_size(size, unit).
    policy "crop": scale so the short side is S (bicubic, antialiased), centre-crop S x S.
    policy "keep": scale so the short side is S, then centre-crop the long side to a multiple
    of unit, at most 4 * S (so aspect ratios beyond 4:1 are centre-cropped to 4:1).

    Returns PreparedImage with image W x H and pixels (1, 3, H, W), H and W multiples of unit.
    Raises ValueError for an unknown policy or a non-positive size / patch / window, and
    ImageError for a bad image.
    """
    if policy not in POLICIES:
        raise ValueError(
            f"Unknown resize policy {policy!r}; use 'crop' (square centre crop) or 'keep' "
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
        out_long = min(resized_long, KEEP_MAX_ASPECT * side) // unit * unit
    box_long = min(long, out_long / scale)  # the part of the source that is kept
    lo, hi = (long - box_long) / 2, (long + box_long) / 2
    if width >= height:
        out_size, box = (out_long, side), (lo, 0.0, hi, float(height))
    else:
        out_size, box = (side, out_long), (0.0, lo, float(width), hi)
    image = rgb.resize(out_size, _RESAMPLE, box=box, reducing_gap=_REDUCING_GAP)
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
