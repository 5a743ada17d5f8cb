"""Tests for swinviz.image. Every input is built here with Pillow / numpy (nothing downloaded)."""

from __future__ import annotations

import io
import struct
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hostile import png_claiming
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
    monkeypatch.setattr(image_mod, "MAX_BYTES", 1000)
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
