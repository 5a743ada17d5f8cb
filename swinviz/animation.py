"""The cyclic shift as an animated GIF, drawn with Pillow from an exploration's own geometry.

    frames = shift_animation(exp)       # s + 1 frames (one still frame when s = 0)
    save_gif(frames, "shift.gif")

Frame t (t = 0 .. s) has two panels over the stage's token grid (padded to whole windows):

* the paper's view: the image stays put and the window grid moves right and down by t tokens;
* the code's view: the tokens are rolled by (-t, -t) (`torch.roll`), so the patches move up
  and left under a window grid that stays put, and the rows and columns pushed out at the top
  and left come back in at the bottom and right.

Frame 0 is untinted; from t = 1 on, every token is tinted by the region id it has after the
roll (`swinviz.windows.region_ids(Hp, Wp, M, t)`, in REGION_COLORS[id] as in the figures) in
both views: the pieces that wrap get their own colours, and the last frame's layout is the
region ids the shifted block's mask is built from (docs/concepts.md, facts 4 and 5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .windows import padded_size, region_ids

PANEL_PX = 480  # about how wide one panel is drawn
MARGIN, GAP = 24, 48
TINT_ALPHA = 0.45  # how strongly a region's colour covers the image
GRID_RGB = (0, 114, 178)  # window outlines (the figures' block-0 blue)
PAD_RGB = (208, 208, 208)  # padding tokens (no image under them)
BACKGROUND = (255, 255, 255)
INK = (34, 34, 34)
FRAME_MS, FIRST_MS, LAST_MS = 700, 1200, 2500
TOKEN_LINES_MIN = 12  # cells of at least this many pixels get faint token borders


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def region_palette() -> list[tuple[int, int, int]]:
    """RGB of region ids 0..8, the colours of the figures (swinviz.figures._core.palette)."""
    from .figures._core.palette import REGION_COLORS

    return [_rgb(c) for c in REGION_COLORS]


def tinted(rgb, region: int | None) -> tuple[int, int, int]:
    """The colour a pixel `rgb` shows under region id `region`'s tint (None: unchanged)."""
    if region is None:
        return tuple(int(v) for v in rgb)
    tint = region_palette()[region]
    return tuple(int(round((1 - TINT_ALPHA) * a + TINT_ALPHA * b)) for a, b in zip(rgb, tint,
                                                                                   strict=True))


def cell_px(grid_p: int, patch_px: int) -> int:
    """Pixels per token in a panel for a padded grid side of `grid_p` tokens of `patch_px` image
    pixels: a whole multiple of the patch's pixels when the panel is at least the image's own
    size (sharp pixels), else about PANEL_PX / grid_p (at least 2)."""
    if grid_p * patch_px <= PANEL_PX:
        return patch_px * (PANEL_PX // (grid_p * patch_px))
    return max(2, PANEL_PX // grid_p)


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _token_image(exp, H: int, W: int, Hp: int, Wp: int, c: int) -> np.ndarray:
    """The image as tokens: (Hp*c, Wp*c, 3) uint8, token (r, c) of the stage covering cell
    (r, c); the padding tokens (r >= H or c >= W) in PAD_RGB."""
    P = exp.patch_size
    img = exp.image.convert("RGB")
    canvas = Image.new("RGB", (W * P, H * P), PAD_RGB)  # a stage grid may overhang the image
    canvas.paste(img.crop((0, 0, min(img.width, W * P), min(img.height, H * P))), (0, 0))
    up = c >= P and c % P == 0
    small = canvas.resize((W * c, H * c), Image.Resampling.NEAREST if up
                          else Image.Resampling.LANCZOS)
    out = np.empty((Hp * c, Wp * c, 3), np.uint8)
    out[:] = PAD_RGB
    out[: H * c, : W * c] = np.asarray(small)
    return out


def _tint(pixels: np.ndarray, ids: np.ndarray | None, c: int) -> np.ndarray:
    """Blend every c x c cell of `pixels` with its region's colour (ids None: no tint), and
    draw faint token borders (every c pixels) when cells are big enough to show them."""
    out = pixels.astype(np.float32)
    cells = None if ids is None else np.kron(ids, np.ones((c, c), dtype=ids.dtype))
    for k, rgb in enumerate(region_palette() if ids is not None else ()):
        sel = cells == k
        out[sel] = (1 - TINT_ALPHA) * out[sel] + TINT_ALPHA * np.asarray(rgb, np.float32)
    if c >= TOKEN_LINES_MIN:
        for lines in (out[::c], out[:, ::c]):
            lines[:] = 0.6 * lines + 0.4 * 255.0
    return np.rint(out).astype(np.uint8)


def _grid(draw: ImageDraw.ImageDraw, x0: int, y0: int, Hp: int, Wp: int, c: int, M: int,
          offset: int, width: int) -> None:
    """Window outlines every M tokens, shifted by `offset` tokens, plus the panel's border."""
    for k in range(-1, max(Hp, Wp) // M + 2):
        p = (offset + k * M) * c
        if 0 < p < Wp * c:
            draw.line([(x0 + p, y0), (x0 + p, y0 + Hp * c - 1)], fill=GRID_RGB, width=width)
        if 0 < p < Hp * c:
            draw.line([(x0, y0 + p), (x0 + Wp * c - 1, y0 + p)], fill=GRID_RGB, width=width)
    draw.rectangle([x0, y0, x0 + Wp * c - 1, y0 + Hp * c - 1], outline=GRID_RGB, width=width)


def _label_regions(draw: ImageDraw.ImageDraw, x0: int, y0: int, ids: np.ndarray, c: int,
                   font, size: int) -> None:
    """Write each region's id in the middle of its box (bands are boxes), where the box is at
    least `size` pixels both ways. The label sits on a grid vertex or a cell centre; it is
    smaller than half a cell on big cells, so points a quarter cell from a corner stay clear."""
    for k in range(int(ids.max()) + 1):
        rr, cc = np.nonzero(ids == k)
        if len(rr) == 0:
            continue
        r0, r1, c0, c1 = rr.min(), rr.max() + 1, cc.min(), cc.max() + 1
        if min(r1 - r0, c1 - c0) * c < size:
            continue
        draw.text((x0 + (c0 + c1) * c / 2, y0 + (r0 + r1) * c / 2), str(k), font=font,
                  fill=(255, 255, 255), anchor="mm", stroke_width=2, stroke_fill=(0, 0, 0))


def frame_layout(Hp: int, Wp: int, c: int) -> dict:
    """Pixel positions of one frame's parts: width, height, left and right (x, y) of the
    paper's and the code's panel (each Wp*c x Hp*c), caption_y, pw (a panel's width)."""
    title_h, caption_h = 74, 58
    pw, ph = Wp * c, Hp * c
    width = 2 * MARGIN + 2 * pw + GAP
    return dict(width=width, height=title_h + ph + caption_h + MARGIN, left=(MARGIN, title_h),
                right=(MARGIN + pw + GAP, title_h), caption_y=title_h + ph + 10, pw=pw)


def shift_animation(exp) -> list[Image.Image]:
    """The frames (RGB PIL images, all the same size) of the cyclic shift of `exp`'s shifted
    block: s + 1 frames for steps t = 0 .. s; one still frame when the block has no shift.

    `exp` needs: image (PIL), patch_size (image pixels per token of the stage), grid (H, W),
    window_size M, shift_size s, and optionally stage (for the title).
    """
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    Hp, Wp = padded_size(H, W, M)
    c = cell_px(max(Hp, Wp), exp.patch_size)
    base = _token_image(exp, H, W, Hp, Wp, c)
    lay = frame_layout(Hp, Wp, c)
    label_size = max(12, min(22, c // 3 if c >= 36 else 16))
    title_font, text_font, label_font = _font(22), _font(16), _font(label_size)
    line = max(2, min(4, c // 6))
    stage = getattr(exp, "stage", None)
    where = f"stage {stage}, " if stage else ""
    grid_text = f"{H}x{W} tokens" + (f" padded to {Hp}x{Wp}" if (Hp, Wp) != (H, W) else "")

    if s == 0:
        frame = Image.new("RGB", (lay["width"], lay["height"]), BACKGROUND)
        frame.paste(Image.fromarray(_tint(base, None, c)), lay["left"])
        draw = ImageDraw.Draw(frame)
        _grid(draw, *lay["left"], Hp, Wp, c, M, 0, line)
        why = ("no shift: one window covers the grid" if Hp == Wp == M
               else "no shift (s = 0): the shifted block keeps the same windows")
        draw.text((MARGIN, 14), f"Cyclic shift ({where}{grid_text}, window M = {M})",
                  font=title_font, fill=INK)
        draw.text((MARGIN, 44), why, font=text_font, fill=INK)
        rx, ry = lay["right"]
        draw.multiline_text((rx, ry + 10), "\n".join([
            "Both blocks of this pair attend", "inside the same windows:",
            "there is nothing to roll and", "no mask (docs/concepts.md, fact 2)."]),
            font=text_font, fill=INK, spacing=6)
        return [frame]

    frames = []
    for t in range(s + 1):
        ids = region_ids(Hp, Wp, M, t).numpy()
        paper_ids = np.roll(ids, (t, t), axis=(0, 1))  # each token's id, where it starts
        code = np.roll(base, (-t * c, -t * c), axis=(0, 1))  # torch.roll(x, (-t, -t))
        frame = Image.new("RGB", (lay["width"], lay["height"]), BACKGROUND)
        tint = t > 0  # frame 0: the image as it is, the regular windows
        frame.paste(Image.fromarray(_tint(base, paper_ids if tint else None, c)), lay["left"])
        frame.paste(Image.fromarray(_tint(code, ids if tint else None, c)), lay["right"])
        draw = ImageDraw.Draw(frame)
        _grid(draw, *lay["left"], Hp, Wp, c, M, t, line)
        _grid(draw, *lay["right"], Hp, Wp, c, M, 0, line)
        if t:
            _label_regions(draw, *lay["right"], ids, c, label_font, label_size + 4)
        draw.text((MARGIN, 14), f"Cyclic shift, step {t} of {s} ({where}{grid_text}, "
                                f"window M = {M}, shift s = {s})", font=title_font, fill=INK)
        status = ("before the shift: the regular windows (W-MSA block)" if t == 0 else
                  f"shifted by {t}: the pieces that wrap get their own region ids"
                  + (" (the mask keeps them apart)" if t == s else ""))
        draw.text((MARGIN, 44), status, font=text_font, fill=INK)
        lx, rx, cy = lay["left"][0], lay["right"][0], lay["caption_y"]
        if t == 0:
            paper, code_text = "paper: the regular window grid", "code: nothing rolled yet"
        else:
            paper = f"paper: the window grid moves\nright and down by {t}"
            code_text = f"code: torch.roll(x, ({-t}, {-t})) moves\nthe patches up and left"
        draw.multiline_text((lx, cy), paper, font=text_font, fill=INK, spacing=4)
        draw.multiline_text((rx, cy), code_text, font=text_font, fill=INK, spacing=4)
        frames.append(frame)
    return frames


def frame_durations(n: int) -> list[int]:
    """Milliseconds per frame: the first and last held longer."""
    if n == 1:
        return [LAST_MS]
    return [FIRST_MS] + [FRAME_MS] * (n - 2) + [LAST_MS]


def save_gif(frames: list[Image.Image], path: str | Path) -> Path:
    """Write the frames as a looping GIF; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:],
                   duration=frame_durations(len(frames)), loop=0, disposal=1, optimize=False)
    return path
