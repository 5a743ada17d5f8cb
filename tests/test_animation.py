"""The cyclic-shift GIF: frames whose window grids and region layout are the model's own
geometry (read back from the pixels). The lecture deck itself: tests/test_lesson.py."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image, ImageSequence

from swinviz import animation
from swinviz.animation import GRID_RGB, PAD_RGB, cell_px, frame_layout, shift_animation, tinted
from swinviz.windows import padded_size, region_ids

GREY = (128, 128, 128)


def fake_exp(H, W, M, s, P=4, stage=1):
    """What shift_animation reads, with a one-colour image so that colours name the regions."""
    return SimpleNamespace(image=Image.new("RGB", (W * P, H * P), GREY), patch_size=P,
                           grid=(H, W), window_size=M, shift_size=s, stage=stage)


def panels(exp):
    """(c, Hp, Wp, left origin, right origin) of the exploration's frames."""
    H, W = exp.grid
    Hp, Wp = padded_size(H, W, exp.window_size)
    c = cell_px(max(Hp, Wp), exp.patch_size)
    lay = frame_layout(Hp, Wp, c)
    return c, Hp, Wp, lay["left"], lay["right"]


def cell_colours(frame, origin, Hp, Wp, c) -> np.ndarray:
    """(Hp, Wp, 3): each cell's colour, the most common of its four quarter points (a label
    near a grid vertex can cover one of them, never more; grid and token lines none)."""
    a = np.asarray(frame.convert("RGB")).astype(int)
    x0, y0 = origin
    out = np.zeros((Hp, Wp, 3), int)
    q = max(2, c // 4)
    for r in range(Hp):
        for col in range(Wp):
            pts = [tuple(a[y0 + r * c + dy, x0 + col * c + dx]) for dy in (q, c - q)
                   for dx in (q, c - q)]
            out[r, col] = max(set(pts), key=pts.count)
    return out


def expected_colours(ids: np.ndarray, pad: np.ndarray, tint: bool) -> np.ndarray:
    """The colour of every cell of a grey image (padding cells `pad`: PAD_RGB) tinted by `ids`
    (or not at all)."""
    Hp, Wp = ids.shape
    out = np.zeros((Hp, Wp, 3), int)
    for r in range(Hp):
        for c in range(Wp):
            out[r, c] = tinted(PAD_RGB if pad[r, c] else GREY, int(ids[r, c]) if tint else None)
    return out


def classify(colours: np.ndarray, H: int, W: int) -> np.ndarray:
    """Region id of every cell: the id whose tint is nearest (tolerates GIF palettes)."""
    Hp, Wp, _ = colours.shape
    ids = np.zeros((Hp, Wp), int)
    for r in range(Hp):
        for c in range(Wp):
            base = GREY if r < H and c < W else PAD_RGB
            cand = np.array([tinted(base, k) for k in range(9)])
            ids[r, c] = int(np.argmin(((cand - colours[r, c]) ** 2).sum(-1)))
    return ids


def is_line(frame, x, y) -> bool:
    return frame.getpixel((x, y)) == GRID_RGB


def line_positions(frame, origin, Hp, Wp, c):
    """Token boundaries (in tokens, 1..Wp-1) drawn as window lines, read on a row a quarter
    cell below the panel's top, and (1..Hp-1) read on a column a quarter cell right of its left."""
    x0, y0 = origin
    q = max(2, c // 4)
    cols = [k for k in range(1, Wp) if is_line(frame, x0 + k * c, y0 + q)]
    rows = [k for k in range(1, Hp) if is_line(frame, x0 + q, y0 + k * c)]
    return cols, rows


@pytest.mark.parametrize("H,M,s,P", [(6, 3, 1, 4), (8, 4, 2, 8), (7, 3, 1, 4), (12, 4, 3, 4)])
def test_frames_follow_the_shift_one_token_a_step(H, M, s, P):
    exp = fake_exp(H, H, M, s, P)
    frames = shift_animation(exp)
    assert len(frames) == s + 1
    assert len({f.size for f in frames}) == 1
    c, Hp, Wp, left, right = panels(exp)
    for t, frame in enumerate(frames):
        regular = [k for k in range(1, Wp) if k % M == 0]
        shifted = [k for k in range(1, Wp) if (k - t) % M == 0]
        # paper's view: the grid moved right and down by t; code's view: the grid stays put
        assert line_positions(frame, left, Hp, Wp, c) == (shifted, shifted), t
        assert line_positions(frame, right, Hp, Wp, c) == (regular, regular), t
        ids = region_ids(Hp, Wp, M, t).numpy()
        code = cell_colours(frame, right, Hp, Wp, c)
        paper = cell_colours(frame, left, Hp, Wp, c)
        # the code's view shows the rolled padded grid: its padding moved up and left by t
        pad = np.ones((Hp, Wp), bool)
        pad[:H, :H] = False
        np.testing.assert_array_equal(
            code, expected_colours(ids, np.roll(pad, (-t, -t), (0, 1)), t > 0),
            err_msg=f"code's view, step {t}")
        np.testing.assert_array_equal(
            paper, expected_colours(np.roll(ids, (t, t), (0, 1)), pad, t > 0),
            err_msg=f"paper's view, step {t}")
    assert frames[0].tobytes() != frames[-1].tobytes()


@pytest.fixture(scope="module")
def model56(swin):
    return swin(weights="random", img_size=56, embed_dim=12, num_heads=1, device="cpu")  # small


def test_first_frame_is_the_regular_grid_and_last_the_region_ids_of_the_model(model56):
    """A real exploration: the last frame's colours are the shifted block's own region ids
    (the trace's, from which the mask is built), the first frame untinted."""
    exp = model56.explore("assets/cat.jpg", predict=False)
    assert (exp.grid, exp.window_size, exp.shift_size) == ((14, 14), 7, 3)
    grey = replace(exp, image=Image.new("RGB", exp.image.size, GREY))
    frames = shift_animation(grey)
    assert len(frames) == exp.shift_size + 1
    c, Hp, Wp, left, right = panels(grey)
    first = cell_colours(frames[0], right, Hp, Wp, c)
    assert (first == np.array(GREY)).all()
    last = classify(cell_colours(frames[-1], right, Hp, Wp, c), 14, 14)
    np.testing.assert_array_equal(last, exp.traces[1].region_ids.numpy())
    paper = classify(cell_colours(frames[-1], left, Hp, Wp, c), 14, 14)
    np.testing.assert_array_equal(paper, np.roll(exp.traces[1].region_ids.numpy(), (3, 3),
                                                 (0, 1)))


def test_the_gif_file_holds_the_frames(tmp_path):
    exp = fake_exp(8, 8, 4, 2, P=8)
    frames = shift_animation(exp)
    path = animation.save_gif(frames, tmp_path / "sub" / "shift.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 3 and gif.info.get("loop") == 0
        read = [f.convert("RGB") for f in ImageSequence.Iterator(gif)]
        durations = [f.info["duration"] for f in ImageSequence.Iterator(gif)]
    assert durations == animation.frame_durations(3) == [1200, 700, 2500]
    c, Hp, Wp, left, right = panels(exp)
    got = classify(cell_colours(read[-1], right, Hp, Wp, c), 8, 8)
    np.testing.assert_array_equal(got, region_ids(8, 8, 4, 2).numpy())
    assert line_positions(read[0], left, Hp, Wp, c) == ([4], [4])
    assert line_positions(read[-1], left, Hp, Wp, c) == ([2, 6], [2, 6])


@pytest.mark.parametrize("H,M", [(7, 7), (6, 3)])
def test_no_shift_is_one_still_frame(H, M):
    """Stage 4 of Swin-T (one window covers the grid) and a shift of 0: one frame, the regular
    grid on the image, nothing rolled or tinted, the right half left for the words."""
    exp = fake_exp(H, H, M, 0, P=32 if H == 7 else 4, stage=4 if H == 7 else 1)
    frames = shift_animation(exp)
    assert len(frames) == 1
    assert animation.frame_durations(1) == [animation.LAST_MS]
    c, Hp, Wp, left, right = panels(exp)
    regular = [k for k in range(1, Wp) if k % M == 0]
    assert line_positions(frames[0], left, Hp, Wp, c) == (regular, regular)
    assert (cell_colours(frames[0], left, Hp, Wp, c) == np.array(GREY)).all()
    a = np.asarray(frames[0])
    x0, y0 = right
    panel = a[y0 + Hp * c // 2: y0 + Hp * c, x0: x0 + Wp * c]  # below the few lines of text
    assert (panel == 255).all()


def test_a_real_last_stage_is_one_still_frame(model56):
    exp = model56.explore("assets/cat.jpg", stage=3, predict=False)
    assert exp.grid == (4, 4) and exp.shift_size == 0  # fact 2: one window, no shift
    assert len(shift_animation(exp)) == 1


def test_frames_between_the_steps_slide_the_pieces_and_keep_the_steps():
    """between=3: the steps are the same frames as without, every 4th; the frames between them
    move the code's pixels and the paper's grid by quarter tokens; a frame is 1280 px or more
    wide (a slide's width), in DejaVu Sans."""
    exp = fake_exp(6, 6, 3, 1, P=4)  # the 6x6 example
    steps = shift_animation(exp)
    frames = shift_animation(exp, between=3)
    assert len(frames) == 1 * 4 + 1 and frames[0].width >= 1280
    for k, step in enumerate(steps):
        assert frames[4 * k].tobytes() == step.tobytes()
    c, Hp, Wp, left, right = panels(exp)
    x0, y0 = left
    q = max(2, c // 4)
    lines = [x for x in range(x0 + 1, x0 + Wp * c - 1) if frames[2].getpixel((x, y0 + q))
             == GRID_RGB]
    assert any(abs(x - (x0 + round((3 + 0.5) * c))) <= 2 for x in lines)  # half a token on
    assert animation._font(20).getname()[0] == "DejaVu Sans"
    assert animation.frame_durations(9, between=3)[:5] == [animation.FIRST_MS] + [
        animation.BETWEEN_MS] * 3 + [animation.FRAME_MS]


def test_the_gif_keeps_flat_colours_flat(tmp_path):
    """One palette and no dithering: the white ground, the padding grey and every region's
    tint come back exactly, with no specks of other colours in them."""
    exp = fake_exp(7, 7, 3, 1, P=4)  # padded to 9x9: padding cells, tinted by their regions
    frames = shift_animation(exp, between=3)
    path = animation.save_gif(frames, tmp_path / "s.gif", between=3)
    with Image.open(path) as gif:
        read = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    assert len(read) == len(frames)
    for a, f in zip(read, frames, strict=True):
        src = np.asarray(f)
        flat = (src == 255).all(-1)  # the white ground
        assert (a[flat] == 255).all()
        for k in range(9):
            t = np.array(tinted(PAD_RGB, k))
            where = (src == t).all(-1)
            assert (a[where] == t).all(), k
