"""Tests for swinviz.image. Every input is built here with Pillow / numpy (nothing downloaded)."""

from __future__ import annotations

import io
import struct
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hostile import (
    bmp_palette_claiming,
    data_uri,
    gif_screen,
    hostile_files,
    png_claiming,
    png_grey16,
    png_with_chunk,
    tiff_rows,
    zlib_bomb,
)
from PIL import Image

from swinviz import image as image_mod
from swinviz.image import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    MAX_BYTES,
    MAX_PIXELS,
    ImageError,
    PreparedImage,
    denormalize,
    open_image,
    prepare_image,
    to_tensor,
    valid_size,
)

RED = (255, 0, 0)
BLUE = (0, 0, 255)
GREEN = (0, 160, 0)
WHITE = (255, 255, 255)


# ------------------------------------------------------------------------------------------
# helpers


def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def close(pixel, expected, tol: int = 6) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel, expected, strict=True))


def normalised(rgb: tuple[int, int, int]) -> torch.Tensor:
    """The expected (3,) tensor for one pixel: (value / 255 - mean) / std."""
    triples = zip(rgb, IMAGENET_MEAN, IMAGENET_STD, strict=True)
    return torch.tensor([(v / 255 - m) / s for v, m, s in triples])


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory) -> Path:
    """8000x6000 JPEG: green, with a red band on the 800 px at the left edge (inside the
    1000 px a centre square crop removes)."""
    im = Image.new("RGB", (8000, 6000), GREEN)
    im.paste(RED, (0, 0, 800, 6000))
    path = tmp_path_factory.mktemp("big") / "big.jpg"
    im.save(path, "JPEG", quality=85)
    return path


# ------------------------------------------------------------------------------------------
# constants, valid_size, tensors


def test_constants():
    assert IMAGENET_MEAN == (0.485, 0.456, 0.406)
    assert IMAGENET_STD == (0.229, 0.224, 0.225)
    assert MAX_PIXELS == 64_000_000 >= 8000 * 6000
    assert MAX_BYTES == 50 * 1024 * 1024
    assert issubclass(ImageError, ValueError)


@pytest.mark.parametrize(
    ("size", "unit", "expected"),
    [
        (224, 28, 224),
        (224, 48, 240),
        (384, 32, 384),
        (384, 48, 384),
        (256, 28, 252),
        (1, 28, 28),
        (13, 28, 28),
        (14, 28, 28),
        (41, 28, 28),
        (42, 28, 56),  # halves round up
        (43, 28, 56),
        (120, 48, 144),
        (224, 1, 224),
    ],
)
def test_valid_size(size, unit, expected):
    assert valid_size(size, unit) == expected


@pytest.mark.parametrize(("size", "unit"), [(0, 28), (-5, 28), (224, 0)])
def test_valid_size_rejects_non_positive(size, unit):
    with pytest.raises(ValueError, match="positive"):
        valid_size(size, unit)


def test_to_tensor_exact_normalisation():
    im = Image.new("RGB", (3, 2), (255, 0, 128))
    im.putpixel((2, 1), (10, 20, 30))
    t = to_tensor(im)
    assert t.shape == (1, 3, 2, 3) and t.dtype == torch.float32 and t.is_contiguous()
    assert torch.allclose(t[0, :, 0, 0], normalised((255, 0, 128)), atol=1e-6)
    assert torch.allclose(t[0, :, 1, 2], normalised((10, 20, 30)), atol=1e-6)
    # spelled out for one channel: red 255 -> (1 - 0.485) / 0.229
    assert t[0, 0, 0, 0].item() == pytest.approx(2.2489083, abs=1e-6)


def test_denormalize_inverts_to_tensor():
    im = noise(7, 5)
    back = denormalize(to_tensor(im))
    assert back.shape == (5, 7, 3) and back.dtype == np.uint8
    np.testing.assert_array_equal(back, np.asarray(im))
    np.testing.assert_array_equal(denormalize(to_tensor(im)[0].numpy()), np.asarray(im))
    with pytest.raises(ValueError):
        denormalize(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError):
        denormalize(torch.zeros(1, 4, 4, 4))


def test_to_tensor_converts_other_modes():
    t = to_tensor(Image.new("RGBA", (2, 2), (0, 0, 0, 0)))
    np.testing.assert_array_equal(denormalize(t), np.full((2, 2, 3), 255, np.uint8))


# ------------------------------------------------------------------------------------------
# bad files: every one is an ImageError with a message a person understands


def assert_image_error(source, *words: str, **kwargs) -> str:
    with pytest.raises(ImageError) as info:
        open_image(source, **kwargs)
    message = str(info.value)
    assert not isinstance(info.value, OSError)
    for word in words:
        assert word.lower() in message.lower(), message
    return message


def test_text_file_named_png(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello, this is just some text\nsecond line\n")
    msg = assert_image_error(path, "not an image", "text")
    assert msg == "This file is not an image Pillow can read (it looks like text)."
    with pytest.raises(ImageError):
        prepare_image(str(path))


@pytest.mark.parametrize(
    ("content", "word"),
    [
        (b"<!DOCTYPE html><html><body>404</body></html>", "web page"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"\x00\x01\x02\x03" * 64, "not an image"),
    ],
)
def test_other_non_images(content, word):
    assert_image_error(content, "not an image", word)


def test_zero_bytes(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert_image_error(path, "empty")
    assert_image_error(b"", "empty")
    assert_image_error(io.BytesIO(b""), "empty")


def test_truncated_jpeg(tmp_path):
    data = encode(noise(64, 64), "JPEG", quality=90)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    assert_image_error(path, "truncated or corrupt")
    assert_image_error(data[:20], "truncated or corrupt")  # not even a full header


def test_corrupt_png():
    data = encode(noise(32, 32), "PNG")
    assert_image_error(data[: len(data) // 2], "truncated or corrupt")
    broken_crc = bytearray(data)
    broken_crc[29] ^= 0xFF  # the IHDR checksum
    assert_image_error(bytes(broken_crc), "truncated or corrupt")
    assert_image_error(b"\x89PNG\r\n\x1a\n", "truncated or corrupt")


def test_missing_file_and_folder(tmp_path):
    assert_image_error(tmp_path / "nope.png", "no file")
    assert_image_error(tmp_path, "folder")
    assert_image_error("https://example.com/cat.jpg", "web address")


def test_file_too_many_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(image_mod.intake, "MAX_BYTES", 1000)
    path = tmp_path / "big.png"
    path.write_bytes(encode(noise(64, 64), "PNG"))
    assert_image_error(path, "limit")
    assert_image_error(path.read_bytes(), "larger than")


def test_png_claiming_30000x30000_is_refused_fast(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(30000, 30000))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning may escape either
        msg = assert_image_error(path, "30000x30000", "900 million", "64 million")
        # above Pillow's own hard limit too: its DecompressionBombError must become ours
        assert_image_error(path, "30000x30000", "900 million", max_pixels=10**12)
        with pytest.raises(ImageError):
            prepare_image(path)
    assert time.perf_counter() - start < 1.0
    assert msg == (
        "The image is 30000x30000 = 900 million pixels; the limit is 64 million. "
        "Please use a smaller image."
    )


@pytest.mark.parametrize(("width", "height"), [(9000, 8000), (10000, 10000), (8001, 8000)])
def test_png_over_our_limit_refused_from_header(width, height):
    # 72 M is over our limit only; 100 M also trips Pillow's DecompressionBombWarning
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_image_error(png_claiming(width, height), f"{width}x{height}", "limit")
    assert time.perf_counter() - start < 1.0


def test_jpeg_claiming_huge_size():
    data = bytearray(encode(Image.new("RGB", (16, 16), RED), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 30000, 30000)
    assert_image_error(bytes(data), "30000x30000", "million")


def test_max_pixels_parameter():
    array = np.zeros((100, 100, 3), np.uint8)
    assert_image_error(array, "10,000", "5,000", max_pixels=5000)
    assert open_image(array, max_pixels=10_000).size == (100, 100)
    with pytest.raises(ValueError):
        open_image(array, max_pixels=0)


def test_bad_arrays_and_types():
    assert_image_error(np.zeros((4, 4, 3), np.float32), "uint8")
    assert_image_error(np.zeros((4, 4, 2), np.uint8), "shape")
    assert_image_error(np.zeros((4,), np.uint8), "shape")
    assert_image_error(np.zeros((0, 4, 3), np.uint8), "no pixels")
    with pytest.raises(TypeError):
        open_image(12345)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        open_image(io.StringIO("text mode"))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# every kind of source


def test_sources(tmp_path):
    im = Image.new("RGB", (6, 4), BLUE)
    data = encode(im, "PNG")
    path = tmp_path / "blue.png"
    path.write_bytes(data)
    sources = [str(path), path, data, bytearray(data), memoryview(data), io.BytesIO(data), im]
    for source in sources:
        out = open_image(source)
        assert out.mode == "RGB" and out.size == (6, 4), source
        assert out.getpixel((0, 0)) == BLUE
    with open(path, "rb") as handle:
        assert open_image(handle).size == (6, 4)


def test_pil_source_is_not_modified():
    im = Image.new("P", (2, 2), 1)
    im.putpalette([0, 0, 0, *RED])
    out = open_image(im)
    assert im.mode == "P" and out is not im
    out2 = open_image(Image.new("RGB", (2, 2), RED))
    out2.putpixel((0, 0), BLUE)  # a copy: editing it is safe


def test_numpy_arrays():
    grey = np.full((3, 5), 77, np.uint8)
    assert open_image(grey).getpixel((4, 2)) == (77, 77, 77)
    rgb = np.zeros((3, 5, 3), np.uint8)
    rgb[..., 0] = 200
    out = open_image(rgb)
    assert out.size == (5, 3) and out.getpixel((0, 0)) == (200, 0, 0)
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)
    out = open_image(rgba)
    assert out.getpixel((0, 0)) == RED and out.getpixel((1, 1)) == WHITE
    assert open_image(rgb[:, ::2]).size == (3, 3)  # strided view


# ------------------------------------------------------------------------------------------
# colour modes


def test_cmyk_jpeg(tmp_path):
    im = Image.new("CMYK", (32, 16), (0, 255, 255, 0))  # red
    im.paste((0, 0, 0, 128), (16, 0, 32, 16))  # 50 % black = mid grey
    path = tmp_path / "cmyk.jpg"
    im.save(path, "JPEG", quality=95)
    assert Image.open(path).mode == "CMYK"
    out = open_image(path)
    assert out.mode == "RGB"
    assert close(out.getpixel((4, 8)), RED)
    assert close(out.getpixel((28, 8)), (127, 127, 127))


def test_16_bit_grey_png(tmp_path):
    values = np.array([[0, 257, 32768, 65535]], np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I")
    out = np.asarray(open_image(path))
    assert out.shape == (1, 4, 3)
    assert out[0, :, 0].tolist() == [0, 1, 128, 255]  # 32768 -> 128, not clipped to 255
    assert (out[..., 0] == out[..., 2]).all()


def test_32_bit_int_and_float_modes():
    i = Image.fromarray(np.array([[0, 32768, 65535]], np.int32))
    assert i.mode == "I"
    assert np.asarray(open_image(i))[0, :, 0].tolist() == [0, 128, 255]
    wide = Image.fromarray(np.array([[-50, 0, 205]], np.int32))  # outside 16 bit: stretched
    assert np.asarray(open_image(wide))[0, :, 0].tolist() == [0, 50, 255]
    f = Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert f.mode == "F"
    assert np.asarray(open_image(f))[0, :, 0].tolist() == [0, 128, 255]
    f255 = Image.fromarray(np.array([[0.0, 100.0, 255.0]], np.float32))
    assert np.asarray(open_image(f255))[0, :, 0].tolist() == [0, 100, 255]


def test_palette_png_with_transparent_index(tmp_path):
    im = Image.new("P", (4, 1), 1)
    im.putpalette([*GREEN, *RED, *BLUE])
    im.putpixel((0, 0), 0)
    im.putpixel((3, 0), 2)
    path = tmp_path / "pal.png"
    im.save(path, transparency=0)
    assert Image.open(path).mode == "P" and "transparency" in Image.open(path).info
    out = open_image(path)
    assert out.getpixel((0, 0)) == WHITE  # transparent index -> white, not green
    assert out.getpixel((1, 0)) == RED and out.getpixel((3, 0)) == BLUE


def test_la_png(tmp_path):
    im = Image.new("LA", (3, 1), (0, 0))
    im.putpixel((1, 0), (100, 255))
    im.putpixel((2, 0), (0, 128))
    path = tmp_path / "la.png"
    im.save(path)
    out = open_image(path)
    assert out.getpixel((0, 0)) == WHITE
    assert out.getpixel((1, 0)) == (100, 100, 100)
    assert close(out.getpixel((2, 0)), (127, 127, 127), tol=1)  # half black over white


def test_rgba_png(tmp_path):
    im = Image.new("RGBA", (2, 1), (0, 0, 0, 0))
    im.putpixel((1, 0), (255, 0, 0, 255))
    path = tmp_path / "rgba.png"
    im.save(path)
    out = open_image(path)
    assert out.getpixel((0, 0)) == WHITE and out.getpixel((1, 0)) == RED


def test_pa_and_rgb_with_trns():
    im = Image.new("P", (2, 1), 0)
    im.putpalette([*RED, *BLUE])
    im.putpixel((1, 0), 1)
    pa = im.convert("PA")
    pa.putpixel((0, 0), (0, 0))
    out = open_image(pa)
    assert out.getpixel((0, 0)) == WHITE and out.getpixel((1, 0)) == BLUE
    rgb = Image.new("RGB", (2, 1), RED)
    rgb.putpixel((1, 0), BLUE)
    trns = Image.open(io.BytesIO(encode(rgb, "PNG", transparency=RED)))
    out = open_image(trns)
    assert out.getpixel((0, 0)) == WHITE and out.getpixel((1, 0)) == BLUE


@pytest.mark.parametrize("mode", ["1", "L", "YCbCr", "LAB", "HSV", "RGBX"])
def test_other_modes(mode):
    colour = (200, 60, 20)
    if mode == "LAB":
        from PIL import ImageCms

        srgb, lab = ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB")
        transform = ImageCms.buildTransform(srgb, lab, "RGB", "LAB")
        im = ImageCms.applyTransform(Image.new("RGB", (2, 2), colour), transform)
    elif mode == "1":
        im = Image.new("1", (2, 2), 1)
    else:
        im = Image.new("RGB", (2, 2), colour).convert(mode)
    assert im.mode == mode
    out = open_image(im).getpixel((0, 0))
    expected = {"1": WHITE, "L": (99, 99, 99)}.get(mode, colour)
    assert close(out, expected, tol=4), (mode, out)


def test_animated_gif_uses_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in (RED, BLUE, GREEN)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert Image.open(path).n_frames == 3
    out = open_image(path)
    assert out.mode == "RGB" and out.getpixel((4, 4)) == RED
    opened = Image.open(path)
    opened.seek(2)
    assert open_image(opened).getpixel((4, 4)) == RED  # first frame even from a later one
    assert opened.tell() == 2  # and the caller's frame position is restored
    assert prepare_image(path).image.getpixel((100, 100)) == RED


def exif_jpeg(orientation: int) -> bytes:
    """Stored pixels 40 wide x 20 high, white, a red 10x10 block at the stored top-left."""
    im = Image.new("RGB", (40, 20), WHITE)
    im.paste(RED, (0, 0, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(im, "JPEG", quality=95, exif=exif.tobytes())


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [
        (1, (2, 2)),  # upright: top-left
        (6, (17, 2)),  # rotate 90 clockwise to show: stored top-left -> top-right
        (8, (2, 37)),  # rotate 90 anticlockwise: stored top-left -> bottom-left
    ],
)
def test_exif_orientation(orientation, corner):
    data = exif_jpeg(orientation)
    out = open_image(data)
    expected_size = (40, 20) if orientation == 1 else (20, 40)
    assert out.size == expected_size
    assert close(out.getpixel(corner), RED, tol=30)
    w, h = expected_size
    opposite = (w - 1 - corner[0], h - 1 - corner[1])
    assert close(out.getpixel(opposite), WHITE, tol=30)
    prepared = prepare_image(data, 28, policy="keep")
    assert prepared.original_size == expected_size
    assert prepared.size == ((28, 56) if orientation == 1 else (56, 28))


def test_exif_orientation_with_jpeg_draft():
    """A large rotated JPEG goes through draft mode (decoded at 1/4 scale) before rotation."""
    im = Image.new("RGB", (1600, 800), WHITE)
    im.paste(RED, (0, 0, 400, 400))  # stored top-left quarter of the height
    exif = Image.Exif()
    exif[0x0112] = 6
    p = prepare_image(encode(im, "JPEG", exif=exif.tobytes()), 56, policy="keep")
    assert p.original_size == (800, 1600)
    assert p.size == (112, 56)  # portrait: H = 2 * W
    assert close(p.image.getpixel((50, 3)), RED, tol=30)  # top-right
    assert close(p.image.getpixel((3, 3)), WHITE, tol=30)  # top-left


# ------------------------------------------------------------------------------------------
# prepare_image


@pytest.mark.parametrize(
    ("src", "policy", "window", "hw"),
    [
        ((640, 480), "crop", 7, (224, 224)),
        ((640, 480), "crop", 12, (240, 240)),
        ((640, 480), "keep", 7, (224, 280)),  # 298.7 -> 280 = 10 * 28
        ((640, 480), "keep", 12, (240, 288)),  # 320 -> 288 = 6 * 48
        ((480, 640), "keep", 7, (280, 224)),
        ((224, 224), "keep", 7, (224, 224)),
        ((1, 1), "crop", 7, (224, 224)),
        ((1, 1), "keep", 7, (224, 224)),
        ((5000, 20), "crop", 7, (224, 224)),
        ((5000, 20), "keep", 7, (224, 896)),  # capped at 4:1
        ((20, 5000), "keep", 12, (960, 240)),
    ],
)
def test_prepare_sizes(src, policy, window, hw):
    p = prepare_image(Image.new("RGB", src, BLUE), 224, window_size=window, policy=policy)
    assert isinstance(p, PreparedImage)
    assert p.size == hw
    assert p.image.size == (hw[1], hw[0]) and p.image.mode == "RGB"
    assert p.pixels.shape == (1, 3, *hw) and p.pixels.dtype == torch.float32
    assert p.original_size == src and p.policy == policy
    unit = 4 * window
    assert hw[0] % unit == 0 and hw[1] % unit == 0
    assert torch.equal(p.pixels, to_tensor(p.image))


def test_prepare_pixels_values():
    p = prepare_image(Image.new("RGB", (300, 200), (255, 0, 128)))
    assert torch.allclose(p.pixels[0, :, 100, 100], normalised((255, 0, 128)), atol=1e-5)


def test_extreme_aspect_keeps_the_centre():
    im = Image.new("RGB", (5000, 20), RED)
    im.paste(GREEN, (2400, 0, 2600, 20))  # 200 px centre band; keep uses the centre 80 px
    p = prepare_image(im, policy="keep")
    assert p.size == (224, 896)
    for x in (0, 448, 895):
        assert close(p.image.getpixel((x, 112)), GREEN, tol=2)
    p = prepare_image(im, policy="crop")
    assert close(p.image.getpixel((0, 0)), GREEN, tol=2)


def test_prepare_rejects_bad_arguments():
    im = Image.new("RGB", (10, 10))
    with pytest.raises(ValueError, match="policy"):
        prepare_image(im, policy="stretch")
    for size in (0, -224):
        with pytest.raises(ValueError, match="size"):
            prepare_image(im, size)
    with pytest.raises(ValueError, match="window_size"):
        prepare_image(im, window_size=0)


def test_big_jpeg_is_fast_and_centre_cropped(big_jpeg):
    start = time.perf_counter()
    p = prepare_image(big_jpeg)
    elapsed = time.perf_counter() - start
    assert p.size == (224, 224) and p.original_size == (8000, 6000)
    assert elapsed < 1.0, elapsed  # JPEG draft mode decodes at 1/8 scale
    for corner in ((0, 0), (223, 0), (0, 223), (223, 223)):
        assert close(p.image.getpixel(corner), GREEN, tol=12)  # red band cropped away
    keep = prepare_image(big_jpeg, policy="keep", window_size=12)
    assert keep.size == (240, 288)
    assert close(keep.image.getpixel((0, 120)), RED, tol=12)  # band inside the kept width


def test_big_jpeg_full_open(big_jpeg):
    out = open_image(big_jpeg)
    assert out.size == (8000, 6000) and out.mode == "RGB"
    assert close(out.getpixel((10, 10)), RED, tol=12)


# ------------------------------------------------------------------------------------------
# correct under every input: deep images in bounded memory, one size limit for data: URIs,
# hostile files (tests/hostile.py builds them in milliseconds)


def deep_reference(values: np.ndarray, mode: str) -> np.ndarray:
    """The documented 8-bit value of each deep pixel, on the whole array at once: 16 bit (and
    "I" within 0..65535) scaled by 255/65535, float in [0, 1] by 255, [0, 255] kept, anything
    else stretched from the finite minimum to the maximum; NaN and infinities black."""
    data = values.astype(np.float64)
    finite = np.isfinite(data)
    low, high = (data[finite].min(), data[finite].max()) if finite.any() else (0.0, 0.0)
    if mode.startswith("I;16") or (mode == "I" and low >= 0 and high <= 65535):
        scaled = data * 255 / 65535
    elif mode == "F" and low >= 0 and high <= 1:
        scaled = data * 255
    elif mode == "F" and low >= 0 and high <= 255:
        scaled = data
    else:
        scaled = (data - low) * 255 / (high - low) if high > low else data * 0
    return np.where(finite, np.clip(np.rint(scaled), 0, 255), 0).astype(np.uint8)


def test_float_nan_is_black_also_when_stretched():
    # old code: NaN became the value 0 before stretching, i.e. mid grey (128) here
    f = Image.fromarray(np.array([[-10.0, 10.0, np.nan, np.inf, 0.0]], np.float32))
    assert np.asarray(open_image(f))[0, :, 0].tolist() == [0, 255, 0, 0, 128]
    f01 = Image.fromarray(np.array([[np.nan, 0.5, -np.inf]], np.float32))
    assert np.asarray(open_image(f01))[0, :, 0].tolist() == [0, 128, 0]


@pytest.mark.parametrize("mode", ["F", "I", "I;16", "F01", "F255"])
def test_deep_conversion_in_strips_equals_whole_array(monkeypatch, mode):
    """Strips of 7 pixels (the range is found across all of them) give what one pass over the
    whole array gives; the extremes sit in the first and the last strip."""
    rng = np.random.default_rng(3)
    values = {
        "F": rng.normal(0, 300, (9, 5)).astype(np.float32),
        "F01": rng.random((9, 5)).astype(np.float32),
        "F255": (rng.random((9, 5)) * 255).astype(np.float32),
        "I": rng.integers(-70000, 90000, (9, 5)).astype(np.int32),
        "I;16": rng.integers(0, 65536, (9, 5)).astype(np.uint16),
    }[mode]
    if mode.startswith("F"):
        values[4, 2] = np.nan
    values[0, 0], values[8, 4] = values.max() + 1, values.min() - 1 if mode == "F" else 0
    im = Image.fromarray(values)
    monkeypatch.setattr(image_mod.modes, "_STRIP_PIXELS", 7)
    expected = deep_reference(values, im.mode)
    out = np.asarray(open_image(im))
    np.testing.assert_array_equal(out[..., 0], expected)
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 0] == out[..., 2]).all()


def test_deep_tiffs_and_16_bit_png_from_files():
    row = np.array([0.0, 0.25, np.nan, 1.0], np.float32)
    out = np.asarray(open_image(tiff_rows(row, 3)))
    assert out.shape == (3, 4, 3) and out[:, :, 0].tolist() == [[0, 64, 0, 255]] * 3
    out = np.asarray(open_image(tiff_rows(np.array([0, 32768, 65535], np.int32), 2)))
    assert out[:, :, 0].tolist() == [[0, 128, 255]] * 2
    out = np.asarray(open_image(tiff_rows(np.array([-5, 0, 5], np.int32), 2)))
    assert out[:, :, 0].tolist() == [[0, 128, 255]] * 2  # outside 16 bit: stretched
    out = np.asarray(open_image(png_grey16(np.array([0, 257, 32768, 65535], np.uint16), 2)))
    assert out[:, :, 0].tolist() == [[0, 1, 128, 255]] * 2


# One process per measurement would import torch each time; this script imports it once and
# forks a child per case: a forked child's ru_maxrss starts at its own resident size, so its
# growth is what the case needed.
MEASURE = r"""
import json, os, resource, sys
import numpy as np
from swinviz import image
results = []
for path, call, kwargs in json.loads(sys.argv[1]):
    read, write = os.pipe()
    if os.fork() == 0:
        start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            out = getattr(image, call)(path, **kwargs)
            mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start) / 1024
            out = out.image if call == "prepare_image" else out
            red, green, blue = (np.asarray(out.getchannel(c)) for c in range(3))
            answer = {"size": out.size, "row": red[0].tolist(), "mb": mb,
                      "grey": bool((red == green).all() and (red == blue).all()),
                      "rows_equal": bool((red == red[:1]).all())}
        except image.ImageError as exc:
            answer = {"error": str(exc)}
        os.write(write, json.dumps(answer).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        results.append(json.loads(pipe.read()))
    os.wait()
print(json.dumps(results))
"""


def measure(cases: list[tuple[Path, str, dict]]) -> list[dict]:
    """Run each (file, "open_image" | "prepare_image", kwargs) in its own forked process."""
    import json
    import subprocess
    import sys

    cases = [(str(path), call, kwargs) for path, call, kwargs in cases]
    done = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(cases)], check=True,
                          capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    return json.loads(done.stdout)


@pytest.mark.slow  # about 10 s: three 64-million-pixel decodes
def test_deep_images_at_the_pixel_limit_in_bounded_memory(tmp_path):
    """8000x8000 (64 million pixels, the limit) float TIFF, 16-bit PNG and 32-bit "I" TIFF.
    Decoded, they hold 256, 128 and 256 MB; the whole call grew the process by 2.1-2.7 GB with
    the old float64 conversion, and by 0.31-0.35 GB now (the 8-bit copies and strips add about
    60-100 MB to the decoded pixels)."""
    side = 8000
    f_row = np.linspace(-1000, 1000, side, dtype=np.float32)
    f_row[::1000] = np.nan
    i_row = (np.arange(side, dtype=np.int32) * 8) - 1000
    u_row = (np.arange(side) * 8).astype(np.uint16)
    files = {"F": tiff_rows(f_row, side), "I": tiff_rows(i_row, side),
             "I;16": png_grey16(u_row, side)}
    for name, data in files.items():
        (tmp_path / name.replace(";", "")).write_bytes(data)
    f, i, u = (tmp_path / name.replace(";", "") for name in files)
    results = measure([(f, "open_image", {}), (i, "prepare_image", {}),
                       (u, "prepare_image", {"policy": "keep"})])
    for result, mode in zip(results, ("F", "I", "I;16"), strict=True):
        assert "error" not in result, result
        assert result["grey"] and result["rows_equal"], mode
        assert result["mb"] < 600, (mode, result["mb"])  # old: 2689, 2200, 2077 MB
    assert results[0]["size"] == [side, side]
    assert results[0]["row"] == deep_reference(f_row, "F").tolist()
    assert results[1]["size"] == [224, 224] and results[2]["size"] == [224, 224]
    # the model input is the bicubic resize of the exactly converted image
    expected = Image.fromarray(np.tile(deep_reference(u_row, "I;16"), (side, 1)))
    expected = expected.resize((224, 224), Image.Resampling.BICUBIC, reducing_gap=3.0)
    assert results[2]["row"] == np.asarray(expected)[0].tolist()


def test_tiff_claiming_a_huge_size_names_it():
    # Pillow refuses it while opening (over its own limit); the size comes from its TIFF reader
    msg = assert_image_error(tiff_rows(np.zeros(30000, np.uint8), 30000), "30000x30000")
    assert msg == (
        "The image is 30000x30000 = 900 million pixels; the limit is 64 million. "
        "Please use a smaller image."
    )
    assert_image_error(tiff_rows(np.zeros(8001, np.float32), 8000), "8001x8000", "64 million")


def test_16_bit_png_header_over_the_limit_is_refused_before_decoding():
    data = bytearray(png_grey16(np.zeros(4, np.uint16), 1))
    data[16:24] = struct.pack(">II", 8001, 8000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    assert_image_error(bytes(data), "8001x8000", "64.01 million", "64 million")
    assert_image_error(bytes(data[:33]), "truncated or corrupt")  # nothing after the header


@pytest.mark.parametrize(("size", "words"), [
    ((65535, 65535), ("65535x65535", "4,294.84 million")),  # over Pillow's own limit too
    ((10000, 10000), ("10000x10000", "100 million")),
])
def test_gif_with_a_huge_logical_screen(size, words):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_image_error(gif_screen(*size), *words, "64 million")
    assert open_image(gif_screen(3, 2)).size == (3, 2)


def test_tiff_with_many_pages_or_a_page_cycle_serves_the_first():
    row = np.arange(0, 250, 10, dtype=np.uint8)
    for data in (tiff_rows(row, 4, pages=20000), tiff_rows(row, 4, pages=3, loop=True)):
        out = open_image(data)
        assert out.size == (25, 4) and np.asarray(out)[3, :, 1].tolist() == row.tolist()


def test_palette_and_chunk_bombs_are_refused():
    assert_image_error(bmp_palette_claiming(1 << 24), "truncated or corrupt")
    bomb = zlib_bomb(16 << 20)  # 16 MB of text from 16 KB; Pillow stops after 1 MB
    for chunk in (b"zTXt" + b"k\0\0", b"iCCP" + b"icc\0\0", b"iTXt" + b"k\0\x01\0\0\0"):
        assert_image_error(png_with_chunk(chunk[:4], chunk[4:] + bomb), "truncated or corrupt")
    huge_palette = png_with_chunk(b"PLTE", bytes(3 * 100_000))  # an RGB PNG ignores it
    assert open_image(huge_palette).getpixel((0, 0)) == (10, 120, 200)


def test_data_uri_round_trip_and_limit():
    data = encode(noise(40, 40), "PNG")
    assert image_mod.decode_data_uri(data_uri(data), len(data)) == data
    assert image_mod.decode_data_uri(data_uri(data, "IMAGE/PNG").replace("base64", "BASE64"),
                                     10**6) == data
    with pytest.raises(ImageError, match=f"is {len(data):,} bytes; the limit is {len(data) - 1:,}"):
        image_mod.decode_data_uri(data_uri(data), len(data) - 1)
    with pytest.raises(ImageError) as info:
        image_mod.decode_data_uri(data_uri(data), 1024)
    assert str(info.value) == (
        f"The pasted image is {len(data) / 1024:.1f} KB; the limit is 1 KB. "
        "Please use a smaller image."
    )
    # refused from its length, before decoding: this payload is not even base64
    over = "data:image/png;base64," + "!" * 4_000_000
    with pytest.raises(ImageError, match=r"is 2\.9 MB; the limit is 1 MB"):
        image_mod.decode_data_uri(over, 1 << 20)


@pytest.mark.parametrize(("url", "words"), [
    ("data:image/png,%89PNG", "not a base64 data: URI"),
    ("data:image/png;base64", "not a base64 data: URI"),
    ("image/png;base64,iVBORw0KGgo=", "not a base64 data: URI"),
    ("data:image/png;base64,iVBOR w0KGgo=", "damaged"),
    ("data:image/png;base64,iVBORw0KGgo", "damaged"),  # padding missing
    ("data:image/png;base64,iVBORw0KGgé=", "damaged"),
])
def test_malformed_data_uris(url, words):
    with pytest.raises(ImageError, match=words):
        image_mod.decode_data_uri(url, 1 << 20)


def test_parse_size():
    parse = image_mod.parse_size
    assert parse("20mb") == 20 * 1024 * 1024 == parse("20 MB") == parse(20 * 1024 * 1024)
    assert parse("1kb") == 1024 and parse("7b") == 7 and parse("2GB") == 2 << 30
    for bad in ("20", "mb", "twenty mb", "1.5mb", "-1mb", "20 mib"):
        with pytest.raises(ValueError, match="not a file size"):
            parse(bad)


def test_app_applies_its_upload_limit_to_pasted_images(monkeypatch):
    """A data: URI skipped SWINVIZ_MAX_FILE_SIZE: 30 and 49 MB were accepted, 150 MB decoded
    before the library refused it. Now the app's limit applies before decoding."""
    import gradio as gr

    from app import runs
    from app.runs import image_source

    data = encode(noise(40, 40), "PNG")
    assert len(data) > 2048
    monkeypatch.setattr(runs, "MAX_FILE_BYTES", 2048)  # SWINVIZ_MAX_FILE_SIZE=2kb
    with pytest.raises(gr.Error, match="the limit is 2 KB"):
        image_source({"path": None, "url": data_uri(data)})
    with pytest.raises(gr.Error, match="damaged"):
        image_source({"path": None, "url": "data:image/png;base64,@@@@"})
    monkeypatch.setattr(runs, "MAX_FILE_BYTES", 1 << 20)
    assert image_source({"path": None, "url": data_uri(data)}) == data
    monkeypatch.undo()  # the default, 20mb
    with pytest.raises(gr.Error, match="is 21 MB; the limit is 20 MB"):
        image_source({"path": None, "url": "data:image/png;base64," + "A" * (28 << 20)})


def test_hostile_matrix_through_the_library(tmp_path):
    for name, (path, expect) in hostile_files(tmp_path).items():
        if expect is None:
            assert open_image(path).mode == "RGB", name
            assert prepare_image(path, 56).size == (56, 56), name
        else:
            assert_image_error(path, expect)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on the broken metadata
def test_mutated_files_give_an_image_or_an_image_error():
    """Every exception Pillow raises for a damaged file must be in the list the intake
    catches: random byte changes in the headers of files of ten formats."""
    rng = np.random.default_rng(7)
    im = noise(24, 16)
    exif = Image.Exif()
    exif[0x0112] = 6
    files = [encode(im, "JPEG", exif=exif.tobytes()), encode(im, "PNG"),
             encode(im.convert("P"), "GIF", save_all=True, append_images=[im.convert("P")]),
             encode(im, "TIFF", exif=exif), encode(im, "WEBP", exif=exif.tobytes()),
             encode(im.convert("P"), "BMP"), encode(im, "ICO"), encode(im, "TGA"),
             tiff_rows(np.linspace(0, 1, 24, dtype=np.float32), 16),
             png_grey16(np.arange(24, dtype=np.uint16) * 2000, 16)]
    for data in files:
        for _ in range(300):
            mutated = bytearray(data)
            for at in rng.integers(0, min(len(data), 400), rng.integers(1, 4)):
                mutated[at] = rng.choice([0, 255, int(rng.integers(256))])
            try:
                assert open_image(bytes(mutated)).mode == "RGB"
            except ImageError:
                pass
