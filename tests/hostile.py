"""Hostile and odd image files, shared by the intake, CLI and app tests (issue 5's matrix)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_claiming(width: int, height: int) -> bytes:
    """A hand-written 8-bit RGB PNG whose IHDR claims width x height but whose IDAT holds
    one tiny row: decoding it would need width*height*3 bytes (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + png_chunk(b"IEND", b""))


def hostile_files(folder: Path) -> dict[str, tuple[Path, str | None]]:
    """name -> (file, None when it must work | a word the message must contain)."""
    out: dict[str, tuple[Path, str | None]] = {}

    def put(name, data, expect):
        p = folder / name
        p.write_bytes(data)
        out[name] = (p, expect)

    def image(name, im, expect=None, **kw):
        buf = io.BytesIO()
        im.save(buf, format=kw.pop("format", None) or name.rsplit(".", 1)[1].upper()
                .replace("JPG", "JPEG"), **kw)
        put(name, buf.getvalue(), expect)

    rng = np.random.default_rng(1)
    rgb = Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8))
    put("text.png", b"this is not an image at all", "not an image")
    put("zero.jpg", b"", "empty")
    jpeg = io.BytesIO()
    rgb.save(jpeg, format="JPEG", quality=90)
    put("truncated.jpg", jpeg.getvalue()[: len(jpeg.getvalue()) // 2], "corrupt")
    put("bomb.png", png_claiming(30000, 30000), "pixels")
    image("one.png", Image.new("RGB", (1, 1), (200, 10, 10)))
    image("strip.png", Image.new("RGB", (5000, 20), (10, 200, 10)))
    image("cmyk.jpg", rgb.convert("CMYK"))
    image("grey16.png", Image.fromarray((np.arange(4800).reshape(60, 80) * 13).astype(np.uint16)))
    image("rgba.png", rgb.convert("RGBA"))
    image("la.png", rgb.convert("LA"))
    pal = rgb.convert("P", palette=Image.Palette.ADAPTIVE)
    pal.info["transparency"] = 0
    image("palette.png", pal)
    frames = [rgb, rgb.rotate(90), rgb.rotate(180)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    put("animated.gif", buf.getvalue(), None)
    exif = Image.Exif()
    exif[0x0112] = 6
    image("rotated.jpg", rgb, exif=exif)
    return out
