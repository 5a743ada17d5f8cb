"""The image behind a figure: PNG data URIs (cached per image), the padded and rolled canvas
of a stage's token grid, image traces in pixel coordinates and the veil over padding tokens."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from .cache import cached
from .geometry import pad_cells
from .palette import OUTSIDE_FILL, PAD_FILL, PAD_HATCH


def png_data_uri(img: Image.Image | np.ndarray) -> str:
    """A PIL image or (H, W, 3) uint8 array as a compact PNG data URI (for go.Image(source=...))."""
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


_SOURCE_CACHE: dict[tuple[int, int, int], tuple[object, str]] = {}


def image_source(img: Image.Image, roll: tuple[int, int] = (0, 0)) -> str:
    """`png_data_uri(img)` (optionally np.roll-ed by `roll` pixels over (y, x)), cached per image
    object: several figures draw the same image."""
    import weakref

    key = (id(img), int(roll[0]), int(roll[1]))
    hit = _SOURCE_CACHE.get(key)
    if hit is not None and hit[0]() is img:
        return hit[1]
    arr = np.asarray(img.convert("RGB"))
    if roll != (0, 0):
        arr = np.roll(arr, shift=(int(roll[0]), int(roll[1])), axis=(0, 1))
    uri = png_data_uri(arr)
    if len(_SOURCE_CACHE) >= 16:
        _SOURCE_CACHE.clear()
    _SOURCE_CACHE[key] = (weakref.ref(img), uri)
    return uri


def canvas(exp, Hp: int, Wp: int, roll: int = 0, roll_first: bool = False) -> str:
    """The image on the (Hp, Wp) padded token grid at the stage's patch size, as a PNG data URI,
    np.roll-ed by `roll` tokens up and left (the block's roll of the padded map; `roll_first`:
    of the real grid only, before the padding, as timm's Swin V2 does).

    Padding tokens (beyond the stage's H x W grid) are hatched grey; pixels of real tokens beyond
    the image (a merge that padded an odd side) plain grey. Without either it is the image itself
    (`image_source`, shared cache)."""
    H, W = exp.grid
    p = exp.patch_size
    w_img, h_img = exp.image.size
    if (Hp * p, Wp * p) == (h_img, w_img):
        return image_source(exp.image, roll=(-roll * p, -roll * p))

    def make():
        arr = np.empty((Hp * p, Wp * p, 3), np.uint8)
        arr[:] = np.array([int(OUTSIDE_FILL[i:i + 2], 16) for i in (1, 3, 5)], np.uint8)
        img = np.asarray(exp.image.convert("RGB"))
        hh, ww = min(h_img, Hp * p), min(w_img, Wp * p)
        arr[:hh, :ww] = img[:hh, :ww]
        pad = np.kron(pad_cells(H, W, Hp, Wp), np.ones((p, p), bool))
        yy, xx = np.indices(pad.shape)
        period = max(6, (Hp * p) // 40)
        stripe = ((yy + xx) % period) < max(2, period // 3)
        for color, where_ in ((PAD_FILL, pad & ~stripe), (PAD_HATCH, pad & stripe)):
            arr[where_] = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
        if roll and roll_first:
            arr[:H * p, :W * p] = np.roll(arr[:H * p, :W * p], (-roll * p, -roll * p),
                                          axis=(0, 1))
        elif roll:
            arr = np.roll(arr, (-roll * p, -roll * p), axis=(0, 1))
        return png_data_uri(arr)
    return cached(exp, ("canvas", Hp, Wp, p, roll, bool(roll_first and roll)), make)


def image_dict(source: str, xaxis: str = "x", yaxis: str = "y", name: str = "image") -> dict:
    """An image trace dict in pixel coordinates: pixel (y, x) covers [x, x+1) x [y, y+1), so its
    centre (what go.Image's x0 / y0 place) is at (x + 0.5, y + 0.5)."""
    return dict(type="image", source=source, x0=0.5, y0=0.5, dx=1, dy=1, name=name,
                hoverinfo="skip", xaxis=xaxis, yaxis=yaxis)


def pad_overlay(pad: np.ndarray, *, x0: float, dx: float, xaxis: str, yaxis: str,
                name: str = "zero padding", showlegend: bool = False,
                opacity: float = 0.3, hover: str | None = None) -> dict:
    """A heatmap over the padding cells only (NaN elsewhere): a grey veil with its own hover,
    named "zero padding". `pad` (rows, cols) bool; cell (r, c) centred at (x0 + c·dx,
    x0 + r·dx)."""
    z = np.where(pad, 1.0, np.nan).astype(np.float32)
    rc = np.stack(np.indices(pad.shape), axis=-1).astype(np.int16)
    return dict(type="heatmap", z=z, x0=x0, dx=dx, y0=x0, dy=dx, zmin=0, zmax=1,
                colorscale=[[0, "#555555"], [1, "#555555"]], opacity=opacity, customdata=rc,
                showscale=False, name=name, showlegend=showlegend, xaxis=xaxis, yaxis=yaxis,
                hovertemplate=hover or "zero padding (%{customdata[0]}, %{customdata[1]}): a "
                                       "token of zeros the block adds to fill its last windows"
                                       "<extra></extra>")
