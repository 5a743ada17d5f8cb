"""Opening an image from almost anything: a path, bytes, a file object, a PIL image, an array.

A path must name a regular file: a named pipe, socket, device or folder is refused from
`os.stat` before anything is opened (`check_file`). The encoded file may be at most `MAX_BYTES`;
the image at most `max_pixels`, checked from the header before any pixel is decoded. Pillow's own
decompression-bomb limit (`PIL.Image.MAX_IMAGE_PIXELS`) still applies on top of ours: its
`DecompressionBombError` becomes `ImageError` and its warning is silenced.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import stat
import warnings
from typing import IO

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..config import short as _echo
from .errors import (
    CORRUPT,
    PILLOW_ERRORS,
    ImageError,
    bomb_error,
    check_pixels,
    megabytes,
    sizes,
    unreadable,
)
from .modes import DEEP_MODES, TRANSPOSE, deep_to_grey, exif_orientation, to_rgb

MAX_PIXELS: int = 64_000_000  # an 8000x6000 photo (48 million) fits
MAX_BYTES: int = 50 * 1024 * 1024  # size of the encoded file

ImageSource = (
    str | os.PathLike | bytes | bytearray | memoryview | IO[bytes] | Image.Image | np.ndarray
)


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
                have, limit = sizes(st.st_size, MAX_BYTES)
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
            f"The file is larger than {megabytes(MAX_BYTES)}; please use a smaller file."
        )
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise bomb_error(data, max_pixels) from None
    except UnidentifiedImageError:
        raise unreadable(data[:4096]) from None
    except PILLOW_ERRORS as exc:
        raise ImageError(CORRUPT) from exc


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
    check_pixels((array.shape[1], array.shape[0]), max_pixels)
    return Image.fromarray(np.ascontiguousarray(array))


def load(
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
        check_pixels(im.size, max_pixels)  # header only: nothing decoded yet
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
            orientation = exif_orientation(im)
            if im.mode in DEEP_MODES:  # to 8 bit first; rebinding frees the deep pixels
                im = deep_to_grey(im)
            turn = TRANSPOSE.get(orientation)
            rgb = to_rgb(im.transpose(turn) if turn is not None else im)
        except Image.DecompressionBombError:
            raise ImageError(
                "The image is too large: it has more pixels than Pillow will safely decode."
            ) from None
        except MemoryError:
            raise ImageError("There is not enough memory to decode this image.") from None
        except PILLOW_ERRORS as exc:
            raise ImageError(CORRUPT) from exc
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
    to 8 bit (see `deep_to_grey`), CMYK / YCbCr / LAB / HSV / palette converted, and an
    embedded non-sRGB ICC profile applied where possible.

    Raises ImageError (a ValueError with a plain-language message) for every unusable image:
    empty, not an image, truncated/corrupt, more than `max_pixels` pixels (checked from the
    header, before decoding), a file over `MAX_BYTES`, a missing file. Raises TypeError for a
    source of the wrong Python type.
    """
    return load(source, max_pixels)[0]

