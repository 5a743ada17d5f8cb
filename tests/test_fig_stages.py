"""Every figure for every stage and pair of the whole Swin-T: drawn at the stage's patch size,
titled with its stage and blocks; stage 4's single window says why; padded grids (200 px) show
their padding and the order pad -> roll; the seed's 6x6 example keeps its tables."""

import numpy as np
import pytest
from PIL import Image
from seed_tables import SEED_FLAT, SEED_IDS

from swinviz import load_model
from swinviz.figures import KINDS, Selection, make_figure
from swinviz.figures import attention as fa
from swinviz.figures import shapes as fs
from swinviz.windows import padded_size, window_order


def picture():
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:120, 0:150]
    img = np.stack([xx * 255 // 150, yy * 255 // 120, (xx + yy) % 256], -1)
    return Image.fromarray(np.clip(img + rng.integers(0, 30, img.shape), 0, 255).astype(np.uint8))


PAIRS = [(1, 0), (2, 0), (3, 2), (4, 0)]


@pytest.fixture(scope="module")
def swin224(explored):
    settings = dict(seed=0, device="cpu")
    return {sp: explored(picture(), settings, stage=sp[0], pair=sp[1]) for sp in PAIRS}


@pytest.fixture(scope="module")
def swin200(explored):
    settings = dict(img_size=200, seed=0, device="cpu")
    return {sp: explored(picture(), settings, stage=sp[0], pair=sp[1], predict=False)
            for sp in PAIRS}


def named(fig, name):
    found = [t for t in fig.data if t.name == name]
    assert found, f"no trace named {name!r}"
    return found[0]


def cells(trace) -> int:
    return int((~np.isnan(np.asarray(trace.z, dtype=float))).sum())


@pytest.mark.parametrize("sp", PAIRS)
def test_every_figure_for_every_stage(swin224, sp):
    exp = swin224[sp]
    s, p = sp
    assert exp.patch_size == 4 * 2 ** (s - 1)
    figs = {k: make_figure(k, exp) for k in KINDS}
    for kind, fig in figs.items():
        title = fig.layout.title.text
        if kind != "prediction":
            assert f"stage {s}" in title, (kind, title)
        fig.to_json()
    b0, b1 = 2 * p, 2 * p + 1
    assert f"block {b0} (W-MSA)" in figs["windows"].layout.title.text
    second = "SW-MSA" if exp.shift_size else "W-MSA, shift 0"  # stage 4: plain W-MSA
    assert f"block {b1} ({second})" in figs["windows"].layout.title.text
    assert f"blocks {b0} and {b1}" in figs["cost"].layout.title.text
    # the image figures draw tokens at the stage's pixels per token
    H, W = exp.grid
    ps = exp.patch_size
    hm = named(figs["windows"], "patches block 0")
    assert (hm.dx, hm.dy) == (ps, ps)
    assert tuple(figs["windows"].layout.xaxis.range) == (0, W * ps) == (0, 224)
    assert (named(figs["attention"], "attention block 1").dx) == ps
    # the rollout reaches the image at stage 1's 4 px patches, whatever the stage
    assert named(figs["flow"], "rollout").dx == 4


def test_stage4_is_one_window_and_says_why(swin224):
    exp = swin224[(4, 0)]
    assert exp.grid == (7, 7) and exp.window_size == 7 and exp.shift_size == 0
    assert exp.num_windows == 1
    why = "one 7×7 window covers the whole 7×7 grid"
    win = make_figure("windows", exp)
    assert "one window covers the whole grid" in win.layout.title.text
    assert why in win.layout.title.text and "nothing to shift" in win.layout.title.text
    outline = next(t for t in win.data if t.meta == "windows block 1")
    assert len(outline.x) == 6  # one rectangle
    shift = make_figure("shift", exp)
    assert why in shift.layout.title.text and "no mask is needed" in shift.layout.title.text
    assert not np.asarray(named(shift, "regions (b)").z).any()
    regions = make_figure("regions", exp)
    assert why in regions.layout.title.text
    assert np.asarray(named(regions, "flattened ids").z).shape == (1, 49)
    masks = make_figure("masks", exp)
    assert masks.layout.meta["mask"] == "none"
    assert "none" in masks.layout.title.text and why in masks.layout.title.text
    assert not [t for t in masks.data if (t.name or "").startswith("mask of window")]
    assert not [t for t in masks.data if "key ids" in (t.name or "")]
    assert "no key is masked" in masks.layout.annotations[0].text


@pytest.mark.parametrize("sp", PAIRS)
def test_padding_is_drawn_and_ordered(swin200, sp):
    exp = swin200[sp]
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    Hp, Wp = padded_size(H, W, M)
    n_pad = Hp * Wp - H * W
    assert (H, Hp) == {1: (50, 56), 2: (25, 28), 3: (13, 14), 4: (7, 7)}[sp[0]]
    win = make_figure("windows", exp)
    shift = make_figure("shift", exp)
    regions = make_figure("regions", exp)
    masks = make_figure("masks", exp)
    if not n_pad:
        for fig in (win, shift, regions, masks):
            assert not [t for t in fig.data if "zero padding" in (t.name or "")]
        return
    # every padding token is marked, once per panel
    assert cells(named(win, "zero padding")) == n_pad
    a, b = named(shift, "zero padding (a)"), named(shift, "zero padding (b)")
    za, zb = (~np.isnan(np.asarray(t.z, float)) for t in (a, b))
    assert za.sum() == zb.sum() == n_pad
    np.testing.assert_array_equal(np.roll(za, (-s, -s), axis=(0, 1)), zb)  # pad, then roll
    assert cells(named(regions, "zero padding")) == n_pad
    assert cells(named(regions, "zero padding (flattened)")) == n_pad
    # the block's order, in words: pad first, then roll
    for fig in (win, shift, regions):
        text = fig.layout.title.text
        assert f"pads them with zeros to {Hp}×{Wp}" in text
        assert text.index("pads them") < text.index(f"rolls by ({-s}, {-s})")
    # every window the mask figure draws, (a) the default query's and the four kinds of (b),
    # marks its padding slots on both id strips, as its title says ("marked × on the strips")
    assert "padding slots are marked ×" in masks.layout.title.text
    order = window_order(H, W, M, s).numpy().reshape(-1, M * M)
    drawn = {t.xaxis: int(t.name.split()[3]) for t in masks.data
             if (t.name or "").startswith("mask of window")}
    marks = {t.xaxis: t for t in masks.data if (t.name or "").startswith("zero padding slots")}
    assert len(drawn) == 5 and marks  # the edge and corner windows hold padding
    for axis, w in drawn.items():
        n_slots = int((order[w] == H * W).sum())
        if n_slots:
            assert marks[axis].name == f"zero padding slots ({n_slots})"
            assert len(marks[axis].x) == 2 * n_slots  # along the top and the left strip
        else:
            assert axis not in marks


@pytest.mark.parametrize("sp", [(1, 0), (2, 0), (3, 2)])
def test_padded_attention_and_shapes(swin200, sp):
    exp = swin200[sp]
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    Hp, Wp = padded_size(H, W, M)
    q = (H - 1, W - 1)
    order = window_order(H, W, M, s).numpy().reshape(-1, M * M)
    w = next(i for i, row in enumerate(order) if q[0] * W + q[1] in row)
    grid = fa.attention_on_grid(exp, 1, None, q)
    assert grid.shape == (Hp, Wp)
    # the query's keys: its window's real tokens, and as many padding keys as it has pad slots
    drawn = ~np.isnan(grid)
    assert drawn.sum() == M * M
    assert drawn[H:, :].sum() + drawn[:H, W:].sum() == int((order[w] == H * W).sum())
    assert np.nansum(grid) == pytest.approx(1.0, abs=1e-5)
    for fig in (make_figure(k, exp, query=q) for k in KINDS if k != "prediction"):
        fig.to_json()
    rows = {r.step: r for r in fs.steps(exp, 1)}
    C = exp.embed_dim
    assert rows["pad"].shape == (1, Hp, Wp, C)
    assert rows["crop"].shape == (1, H, W, C)
    assert rows["window_partition"].shape == ((Hp // M) * (Wp // M), M, M, C)
    assert rows["shortcut, norm1"].shape == tuple(exp.traces[1].x_in.shape)


def test_selection_any_stage_grid(swin224, swin200):
    """The default query is a token on a window border near the middle (the last row and column
    of a window, so the shifted window joins four), the middle when no border is inside or
    nothing shifts (stage 4)."""
    want = {(224, 1): (27, 27), (224, 2): (13, 13), (224, 3): (6, 6), (224, 4): (3, 3),
            (200, 1): (20, 20), (200, 2): (6, 6), (200, 3): (6, 6), (200, 4): (3, 3)}
    for size, exps in ((224, swin224), (200, swin200)):
        for (s, _), exp in exps.items():
            H, W = exp.grid
            q = Selection().resolved(exp).query
            assert q == want[(size, s)]
            if exp.shift_size:
                assert (q[0] + 1) % exp.window_size == 0 and (q[1] + 1) % exp.window_size == 0
            assert 0 <= q[0] < H and 0 <= q[1] < W
            Selection(query=(H - 1, W - 1)).resolved(exp)
            with pytest.raises(ValueError, match=f"outside the {H}x{W} token grid"):
                Selection(query=(H, 0)).resolved(exp)
    exp = swin200[(1, 0)]  # 50x50 padded to 56x56: 64 windows in both blocks
    for block in (0, 1):
        assert Selection(block=block, window=63).resolved(exp).window == 63
        with pytest.raises(ValueError, match="0..63"):
            Selection(block=block, window=64).resolved(exp)
    with pytest.raises(ValueError, match="whole numbers"):
        Selection(query=("a", 1)).resolved(exp)


def test_seed_example_keeps_its_tables():
    exp = load_model(img_size=24, window_size=3, seed=0, device="cpu").explore(picture())
    assert (exp.grid, exp.window_size, exp.shift_size) == ((6, 6), 3, 1)
    regions = make_figure("regions", exp)
    np.testing.assert_array_equal(np.asarray(named(regions, "region ids").z), SEED_IDS)
    np.testing.assert_array_equal(np.asarray(named(regions, "flattened ids").z), SEED_FLAT)
    assert not [t for t in regions.data if "zero padding" in (t.name or "")]
    shift = make_figure("shift", exp)
    np.testing.assert_array_equal(np.asarray(named(shift, "regions (b)").z), SEED_IDS)
    masks = make_figure("masks", exp, window=3)
    np.testing.assert_array_equal(np.asarray(named(masks, "key ids (window 3)").z)[0],
                                  SEED_FLAT[3])
