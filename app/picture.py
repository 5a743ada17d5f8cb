"""The clickable image: the model's input enlarged, the query patch and its window marked, and
the arithmetic between a click's pixel, a spot on the photo and a token of any stage's grid."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .guard import BoundedFolder
from .limits import CLICK_IMAGES_BYTES
from .session import View

log = logging.getLogger("swinviz.app")
QUERY_IMAGE_MIN = 448  # the clickable image is shown at least this many pixels wide


def display_scale(image: Image.Image) -> int:
    """Integer up-scaling of the model's image in the page (crisp patches, exact click maths)."""
    return max(1, math.ceil(QUERY_IMAGE_MIN / max(image.size)))


def resolved_query(view: View) -> tuple[int, int]:
    """The query patch the figures use (the figures' own default when none was picked)."""
    from swinviz.figures import Selection

    return Selection(query=view.query).resolved(view.exp).query


def query_window(view: View, block: int, query: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the tokens in the same window as the query in `block` (original positions),
    from the library's own window assignment (the order of the trace's windows)."""
    from swinviz.windows import window_of_token

    H, W = view.grid
    tr = view.exp.traces[block]
    win = window_of_token(H, W, tr.window_size, tr.shift_size,  # (H, W) window index
                          getattr(tr, "roll_first", False))[..., 0]
    return (win == win[query]).numpy()


def _outline_segments(inside: np.ndarray, p: int) -> list[tuple[int, int, int, int]]:
    """Pixel segments (x0, y0, x1, y1) along the border of a token mask (no wrap-around)."""
    H, W = inside.shape
    pad = np.pad(inside, 1)
    segs = []
    for r, c in zip(*np.nonzero(inside), strict=True):
        x0, y0, x1, y1 = c * p, r * p, (c + 1) * p, (r + 1) * p
        if not pad[r, c + 1]:  # above
            segs.append((x0, y0, x1, y0))
        if not pad[r + 2, c + 1]:  # below
            segs.append((x0, y1, x1, y1))
        if not pad[r + 1, c]:  # left
            segs.append((x0, y0, x0, y1))
        if not pad[r + 1, c + 2]:  # right
            segs.append((x1, y0, x1, y1))
    return segs


def query_image(view: View | None, block: int = 1) -> Image.Image | None:
    """The model's image, enlarged, with the query patch marked (yellow square in a ring) and
    its window in `block` outlined in that block's colour; the rest is dimmed. The patches
    added to the query (a query set) are yellow squares."""
    if view is None:
        return None
    from swinviz.figures._core.palette import BLOCK_COLORS, QUERY_COLOR

    img = view.exp.image.convert("RGB")
    k = display_scale(img)
    p = view.exp.patch_size * k
    big = img.resize((img.width * k, img.height * k), Image.Resampling.NEAREST)
    r, c = resolved_query(view)
    try:
        inside = query_window(view, block, (r, c))
    except Exception:  # the highlight is a help, never a reason to fail
        log.exception("query window highlight failed")
        inside = None
    arr = np.asarray(big).astype(np.float32)
    if inside is not None:
        # a merge pads an odd grid: the last tokens may reach past the image's edge
        outside = np.kron(~inside, np.ones((p, p), dtype=bool))[:arr.shape[0], :arr.shape[1]]
        arr[outside] = arr[outside] * 0.5 + 0.5 * 190  # wash out what the query cannot see
    out = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(out)
    lw = max(2, min(k, 5))
    if inside is not None:
        for seg in _outline_segments(inside, p):
            draw.line(seg, fill=BLOCK_COLORS[block], width=lw)
    x0, y0 = c * p, r * p
    # the ring finds a small token; around a large one (later stages) it stays close
    cx, cy, rad = x0 + p / 2, y0 + p / 2, p / 2 + min(1.7 * p + 4, 24)
    draw.ellipse([cx - rad, cy - rad, cx + rad, cy + rad], outline="black", width=lw + 2)
    draw.ellipse([cx - rad + 1, cy - rad + 1, cx + rad - 1, cy + rad - 1], outline=QUERY_COLOR,
                 width=lw)
    draw.rectangle([x0 - lw, y0 - lw, x0 + p + lw - 1, y0 + p + lw - 1], outline="black", width=lw)
    draw.rectangle([x0, y0, x0 + p - 1, y0 + p - 1], outline=QUERY_COLOR, width=lw)
    for ar, ac in view.added:  # the query set's other patches: yellow squares, no ring
        ax, ay = ac * p, ar * p
        draw.rectangle([ax - 1, ay - 1, ax + p, ay + p], outline="black", width=1)
        draw.rectangle([ax, ay, ax + p - 1, ay + p - 1], outline=QUERY_COLOR, width=max(2, lw - 1))
    return out


def token_at(spot: tuple[float, float], img_size: int, grid: tuple[int, int],
             patch_px: int) -> tuple[int, int]:
    """The token of a grid (`patch_px` pixels a token on an `img_size` input) that covers a
    spot of the image (row, column as fractions of its side), clipped to the grid."""
    r, c = (min(max(int(f * img_size // patch_px), 0), n - 1)
            for f, n in zip(spot, grid, strict=True))
    return r, c


def query_spot(view: View | None) -> tuple[float, float] | None:
    """Where on the image the query picked on `view` stands (row, column as fractions of its
    side): the spot it was carried from while the query is still that spot's token (so that
    going through a coarser stage and back loses nothing), else the centre of its token. None
    when nothing was picked (the figures' default patch) or the run is gone."""
    exp = view.held.exp if isinstance(view, View) else None
    if exp is None or view.query is None:
        return None
    size, p = view.settings.img_size, exp.patch_size
    if view.spot is not None and token_at(view.spot, size, exp.grid, p) == tuple(view.query):
        return view.spot
    r, c = ((q + 0.5) * p / size for q in view.query)
    return r, c


def carry_query(view: View | None, img_size: int, grid: tuple[int, int],
                patch_px: int) -> tuple[int, int] | None:
    """The query picked on `view`, moved to another token grid of the same image (another
    stage, or another input size: the same square of the photo): the token that covers the same
    spot (`query_spot`). None when nothing was picked or the run is gone."""
    spot = query_spot(view)
    return None if spot is None else token_at(spot, img_size, grid, patch_px)


def click_to_token(view: View, x: float, y: float) -> tuple[int, int]:
    """Pixel (x, y) of the displayed (enlarged) image -> token (row, col)."""
    k = display_scale(view.exp.image)
    p = view.exp.patch_size * k
    H, W = view.grid
    r = min(max(int(y // p), 0), H - 1)
    c = min(max(int(x // p), 0), W - 1)
    return r, c


_CLICK_IMAGES: BoundedFolder | None = None


def click_images() -> BoundedFolder:
    """The folder of the clicks' images (in Gradio's cache, which Gradio serves as it is),
    bounded by bytes (SWINVIZ_CLICK_IMAGES_MB): a click writes a new file (a new name, so the
    browser never shows a cached older one) and the oldest go."""
    global _CLICK_IMAGES
    if _CLICK_IMAGES is None:
        from gradio.utils import get_upload_folder

        _CLICK_IMAGES = BoundedFolder(Path(get_upload_folder()) / "swinviz-query",
                                      CLICK_IMAGES_BYTES)
    return _CLICK_IMAGES


def query_image_file(view: View, block: int = 1) -> str:
    """`query_image` written as a PNG into `click_images()`. zlib level 1: a 448 px image is
    written in a few ms, against gr.Image's own PNG of a PIL image (level 6, then hashed)."""
    image = query_image(view, block)
    path = click_images().write(lambda p: image.save(p, format="PNG", compress_level=1))
    return str(path)
