"""The cyclic shift as an animated GIF, drawn with Pillow from an exploration's own geometry.

    frames = shift_animation(exp)       # s + 1 frames (one still frame when s = 0)
    frames = shift_animation(exp, between=3)   # 3 more between each step: the pieces slide
    save_gif(frames, "shift.gif", between=3)

Frame t (t = 0 .. s) has two panels over the stage's token grid (padded to whole windows):

* the paper's view: the image stays put and the window grid moves right and down by t tokens;
* the code's view: the tokens are rolled by (-t, -t) (`torch.roll`), so the patches move up
  and left under a window grid that stays put, and the rows and columns pushed out at the top
  and left come back in at the bottom and right.

Frame 0 is untinted; from t = 1 on, every token is tinted by the region id it has after the
roll (`swinviz.windows.region_ids(Hp, Wp, M, t)`, in REGION_COLORS[id] as in the figures) in
both views: the pieces that wrap get their own colours, and the last frame's layout is the
region ids the shifted block's mask is built from (docs/concepts.md, facts 4 and 5); from
t = 1 on, both panels carry the ids. Frames between step t and t + 1 slide the pixels (code's
view) and the grid (paper's view) by a fraction of a token, in step t + 1's colours, so the
pieces are seen wrapping around. Text is DejaVu Sans, the figures' and the slides' font; a GIF
is written with one palette and no dithering (no colour specks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .windows import padded_size, region_ids

PANEL_PX = 640  # about how wide one panel is drawn: a frame is 1280 px or more
MARGIN, GAP = 24, 48
TINT_ALPHA = 0.45  # how strongly a region's colour covers the image
GRID_RGB = (0, 114, 178)  # window outlines (the figures' block-0 blue)
PAD_RGB = (208, 208, 208)  # padding tokens (no image under them)
BACKGROUND = (255, 255, 255)
INK = (34, 34, 34)
FRAME_MS, FIRST_MS, LAST_MS, BETWEEN_MS = 700, 1200, 2500, 90
GIF_BETWEEN = 3  # frames between two steps in the GIFs the deck and the page show
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
    pixels: PANEL_PX / grid_p, and never fewer than the patch's own pixels (at least 2)."""
    return max(2, PANEL_PX // grid_p, min(patch_px, 2 * PANEL_PX // grid_p))


FONT_FILES = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _font(size: int) -> ImageFont.ImageFont:
    """DejaVu Sans (the slides' Latin font) at `size` px; Pillow's own font without it."""
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _token_image(exp, H: int, W: int, Hp: int, Wp: int, c: int) -> np.ndarray:
    """The image as tokens: (Hp*c, Wp*c, 3) uint8, token (r, c) of the stage covering cell
    (r, c); the padding tokens (r >= H or c >= W) in PAD_RGB."""
    P = exp.patch_size
    img = exp.image.convert("RGB")
    canvas = Image.new("RGB", (W * P, H * P), PAD_RGB)  # a stage grid may overhang the image
    canvas.paste(img.crop((0, 0, min(img.width, W * P), min(img.height, H * P))), (0, 0))
    up = c >= P
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
          offset: float, width: int) -> None:
    """Window outlines every M tokens, shifted by `offset` tokens (a fraction between steps),
    plus the panel's border."""
    for k in range(-1, max(Hp, Wp) // M + 2):
        p = round((offset + k * M) * c)
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


def shift_animation(exp, between: int = 0) -> list[Image.Image]:
    """The frames (RGB PIL images, all the same size) of the cyclic shift of `exp`'s shifted
    block: steps t = 0 .. s, with `between` frames between two steps (so s·(between + 1) + 1
    frames; the steps are every (between + 1)-th); one still frame when the block has no shift.

    `exp` needs: image (PIL), patch_size (image pixels per token of the stage), grid (H, W),
    window_size M, shift_size s, and optionally stage (for the title).
    """
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    Hp, Wp = padded_size(H, W, M)
    c = cell_px(max(Hp, Wp), exp.patch_size)
    base = _token_image(exp, H, W, Hp, Wp, c)
    lay = frame_layout(Hp, Wp, c)
    label_size = max(16, min(30, c // 3 if c >= 48 else 20))
    fonts = dict(title=_font(26), text=_font(20), label=_font(label_size), size=label_size)
    line = max(2, min(4, c // 6))
    stage = getattr(exp, "stage", None)
    where = f"stage {stage}, " if stage else ""
    grid_text = f"{H}x{W} tokens" + (f" padded to {Hp}x{Wp}" if (Hp, Wp) != (H, W) else "")
    if s == 0:
        return [_still_frame(base, lay, fonts, Hp, Wp, c, M, line, where, grid_text)]
    frames = []
    for t in range(s + 1):
        for f in range(between + 1 if t < s else 1):
            frames.append(_frame(base, lay, fonts, (H, W, Hp, Wp, c, M, s), line, t,
                                 f / (between + 1), f"{where}{grid_text}"))
    return frames


def _still_frame(base, lay, fonts, Hp, Wp, c, M, line, where, grid_text) -> Image.Image:
    frame = Image.new("RGB", (lay["width"], lay["height"]), BACKGROUND)
    frame.paste(Image.fromarray(_tint(base, None, c)), lay["left"])
    draw = ImageDraw.Draw(frame)
    _grid(draw, *lay["left"], Hp, Wp, c, M, 0, line)
    why = ("no shift: one window covers the grid" if Hp == Wp == M
           else "no shift (s = 0): the shifted block keeps the same windows")
    draw.text((MARGIN, 12), f"Cyclic shift ({where}{grid_text}, window M = {M})",
              font=fonts["title"], fill=INK)
    draw.text((MARGIN, 46), why, font=fonts["text"], fill=INK)
    rx, ry = lay["right"]
    draw.multiline_text((rx, ry + 10), "\n".join([
        "Both blocks of this pair attend", "inside the same windows:",
        "there is nothing to roll", "and no mask."]), font=fonts["text"], fill=INK, spacing=6)
    return frame


def _frame(base, lay, fonts, dims, line, t: int, frac: float, where: str) -> Image.Image:
    """Step t (frac = 0), or frac of the way from step t to t + 1 in step t + 1's colours."""
    H, W, Hp, Wp, c, M, s = dims
    key = frac == 0
    shown = t if key else t + 1  # whose region ids colour the tokens
    ids = region_ids(Hp, Wp, M, shown).numpy()
    paper_ids = np.roll(ids, (shown, shown), axis=(0, 1))  # each token's id, where it starts
    tinted_base = _tint(base, paper_ids if shown else None, c)
    at = t + frac  # tokens rolled so far
    code = np.roll(tinted_base, (-round(at * c), -round(at * c)), axis=(0, 1))
    if key and shown:  # exactly the rolled map's cells (token lines where they belong)
        code = _tint(np.roll(base, (-t * c, -t * c), axis=(0, 1)), ids, c)
    frame = Image.new("RGB", (lay["width"], lay["height"]), BACKGROUND)
    frame.paste(Image.fromarray(tinted_base), lay["left"])
    frame.paste(Image.fromarray(code), lay["right"])
    draw = ImageDraw.Draw(frame)
    _grid(draw, *lay["left"], Hp, Wp, c, M, at, line)
    _grid(draw, *lay["right"], Hp, Wp, c, M, 0, line)
    if key and t:
        _label_regions(draw, *lay["right"], ids, c, fonts["label"], fonts["size"] + 4)
        _label_regions(draw, *lay["left"], paper_ids, c, fonts["label"], fonts["size"] + 4)
    draw.text((MARGIN, 12), f"Cyclic shift, step {t} of {s} ({where}, window M = {M}, "
                            f"shift s = {s})", font=fonts["title"], fill=INK)
    status = ("before the shift: the regular windows (W-MSA block)" if t == 0 and key else
              f"shifting by {t + 1}: the pieces that leave at the top and left come back at "
              f"the bottom and right" if not key else
              f"shifted by {t}: the pieces that wrap get their own region ids"
              + (" (the mask keeps them apart)" if t == s else ""))
    draw.text((MARGIN, 46), status, font=fonts["text"], fill=INK)
    lx, rx, cy = lay["left"][0], lay["right"][0], lay["caption_y"]
    if t == 0 and key:
        paper, code_text = "paper: the regular window grid", "code: nothing rolled yet"
    else:
        k = t if key else t + 1
        paper = f"paper: the window grid moves\nright and down by {k}"
        code_text = f"code: torch.roll(x, ({-k}, {-k})) moves\nthe patches up and left"
    draw.multiline_text((lx, cy), paper, font=fonts["text"], fill=INK, spacing=4)
    draw.multiline_text((rx, cy), code_text, font=fonts["text"], fill=INK, spacing=4)
    return frame


def frame_durations(n: int, between: int = 0) -> list[int]:
    """Milliseconds per frame: the steps FRAME_MS (the first and last held longer), the frames
    between them BETWEEN_MS."""
    if n == 1:
        return [LAST_MS]
    out = [FRAME_MS if i % (between + 1) == 0 else BETWEEN_MS for i in range(n)]
    out[0], out[-1] = FIRST_MS, LAST_MS
    return out


def save_gif(frames: list[Image.Image], path: str | Path, between: int = 0) -> Path:
    """Write the frames as a looping GIF with one palette for all of them and no dithering
    (flat colours stay flat: no specks); returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    strip = Image.new("RGB", (frames[0].width, frames[0].height * len(frames)))
    for i, f in enumerate(frames):
        strip.paste(f, (0, i * f.height))
    keep = [*GRID_COLOURS, PAD_RGB, BACKGROUND, INK]
    palette = _palette(strip, keep)
    quantized = _indexed(frames, palette)
    quantized[0].save(path, format="GIF", save_all=True, append_images=quantized[1:],
                      duration=frame_durations(len(frames), between), loop=0, disposal=1,
                      optimize=False)
    return path


GRID_COLOURS = (GRID_RGB, (255, 255, 255), (0, 0, 0))  # outlines, label ink and its stroke


def _indexed(frames: list[Image.Image], palette: Image.Image) -> list[Image.Image]:
    """The frames in the palette's colours, each pixel the nearest (exact where the palette holds
    its colour; Pillow's own mapping rounds colours first and turns white into off-white). The
    colours of all frames are matched once."""
    pal = np.asarray(palette.getpalette()[:768], np.int32).reshape(256, 3)
    a = np.stack([np.asarray(f.convert("RGB")) for f in frames]).astype(np.int32)
    packed = ((a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]).reshape(-1)
    present = np.zeros(1 << 24, bool)  # a table over every RGB colour: no sort
    present[packed] = True
    uniq = np.flatnonzero(present)
    rgb = np.stack([uniq >> 16, (uniq >> 8) & 255, uniq & 255], -1)
    lut = np.zeros(1 << 24, np.uint8)
    for i in range(0, len(uniq), 8192):
        d = ((rgb[i:i + 8192, None, :] - pal[None]) ** 2).sum(-1)
        lut[uniq[i:i + 8192]] = d.argmin(1)
    out = []
    for plane in lut[packed].reshape(a.shape[:3]):
        im = Image.fromarray(plane, "P")
        im.putpalette(palette.getpalette()[:768])
        out.append(im)
    return out


def _palette(strip: Image.Image, keep: list) -> Image.Image:
    """A 256-colour palette image for all frames: the flat colours of the drawing exactly
    (`keep`, the regions' tints over grey and padding), the rest from the pictures."""
    fixed = list(dict.fromkeys([tuple(k) for k in keep]
                               + [tinted(PAD_RGB, r) for r in range(9)]
                               + region_palette()))
    sample = strip.resize((max(1, strip.width // 4), max(1, strip.height // 4)))
    rest = sample.quantize(colors=256 - len(fixed), method=Image.Quantize.MEDIANCUT,
                           dither=Image.Dither.NONE).getpalette()[:3 * (256 - len(fixed))]
    pal = [v for rgb in fixed for v in rgb] + rest
    pal += [0] * (768 - len(pal))
    img = Image.new("P", (1, 1))
    img.putpalette(pal)
    return img
