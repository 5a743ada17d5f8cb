"""Images and sizes handed over as text: a pasted image's `data:` URI, a size such as '20mb'."""

from __future__ import annotations

import base64
import re

from .errors import ImageError, sizes


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
                *sizes(size, max_bytes))
        )
    try:
        return base64.b64decode(payload, validate=True)
    except ValueError:  # binascii.Error, or characters outside ASCII
        raise ImageError(
            "The pasted image is damaged (its base64 data cannot be decoded); please upload "
            "the image file instead."
        ) from None

