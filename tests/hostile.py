"""Hostile and odd image files, shared by the intake, CLI and app tests (issue 5's matrix),
and the generators the intake tests use to build huge or hostile files in milliseconds."""

from __future__ import annotations

import base64
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


def tiff_rows(row: np.ndarray, height: int, *, pages: int = 1, loop: bool = False) -> bytes:
    """A deflate-compressed greyscale TIFF, len(row) wide and `height` high, every row equal to
    `row` (uint8 / uint16 -> "L" / "I;16", int32 -> "I", float32 -> "F"). All strips share one
    compressed block, so an 8000x8000 file is a few KB and is built in milliseconds. pages: that
    many pages (the same image); loop: the last page points back to the first (an IFD cycle)."""
    row = np.ascontiguousarray(row).astype(row.dtype.newbyteorder("<"))
    width, bits = len(row), 8 * row.dtype.itemsize
    sample_format = {"u": 1, "i": 2, "f": 3}[row.dtype.kind]
    per_strip = max(1, min(height, (1 << 20) // row.nbytes))
    strips = -(-height // per_strip)
    block = zlib.compress(row.tobytes() * per_strip, 9)
    last = height - (strips - 1) * per_strip
    last_block = zlib.compress(row.tobytes() * last, 9)
    out = bytearray(b"II*\x00" + struct.pack("<I", 0))
    data_at = len(out)
    out += block + last_block
    offsets_at = len(out)
    out += struct.pack(f"<{strips}I", *([data_at] * (strips - 1) + [data_at + len(block)]))
    counts_at = len(out)
    out += struct.pack(f"<{strips}I", *([len(block)] * (strips - 1) + [len(last_block)]))
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, bits), (259, 3, 1, 8),
               (262, 3, 1, 1), (273, 4, strips, offsets_at if strips > 1 else data_at),
               (277, 3, 1, 1), (278, 4, 1, per_strip),
               (279, 4, strips, counts_at if strips > 1 else len(block)),
               (339, 3, 1, sample_format)]
    ifd_size = 2 + 12 * len(entries) + 4
    first = len(out)
    struct.pack_into("<I", out, 4, first)
    for page in range(pages):
        following = first + (page + 1) * ifd_size
        if page == pages - 1:
            following = first if loop else 0
        out += struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, count) + packed
        out += struct.pack("<I", following)
    return bytes(out)


def png_grey16(row: np.ndarray, height: int) -> bytes:
    """A 16-bit greyscale PNG, len(row) wide and `height` high, every row equal to `row`."""
    line = b"\x00" + np.asarray(row, ">u2").tobytes()
    packer = zlib.compressobj(1)
    idat = b"".join(packer.compress(line) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", len(row), height, 16, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def gif_screen(width: int, height: int) -> bytes:
    """A GIF whose logical screen is width x height (what Pillow reports as its size) holding
    one 1x1 frame."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    frame = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return screen + frame + b";"


def bmp_palette_claiming(colours: int) -> bytes:
    """A 2x2 8-bit BMP whose header claims a palette of `colours` entries."""
    buf = io.BytesIO()
    Image.new("P", (2, 2)).save(buf, "BMP")
    data = bytearray(buf.getvalue())
    struct.pack_into("<I", data, 46, colours)  # biClrUsed
    return bytes(data)


def png_with_chunk(kind: bytes, payload: bytes) -> bytes:
    """A valid 4x4 RGB PNG with one more chunk (kind, payload) before its pixel data."""
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 120, 200)).save(buf, "PNG")
    data = buf.getvalue()
    at = data.index(b"IDAT") - 4
    return data[:at] + png_chunk(kind, payload) + data[at:]


def zlib_bomb(size: int) -> bytes:
    """`size` zero bytes, deflated (about 1000 times smaller)."""
    packer = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    parts = [packer.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + packer.compress(bytes(size & ((1 << 20) - 1))) + packer.flush()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """bytes -> "data:<mime>;base64,<data>" (what a browser sends for a pasted image)."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


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
    # added for "correct under every input": deep TIFFs, many pages, size and palette claims
    put("float.tif", tiff_rows(np.linspace(-3.0, 5.0, 80, dtype=np.float32), 60), None)
    put("int32.tif", tiff_rows(np.arange(0, 80 * 800, 800, dtype=np.int32), 60), None)
    put("pages.tif", tiff_rows(np.arange(80, dtype=np.uint8), 60, pages=5000), None)
    put("bomb.tif", tiff_rows(np.zeros(30000, np.uint8), 30000), "pixels")
    put("screen.gif", gif_screen(65535, 65535), "pixels")
    put("palette.bmp", bmp_palette_claiming(1 << 24), "corrupt")
    return out
