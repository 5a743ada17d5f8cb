"""Cyclic-shift figure: the region maps before / after the roll, the rolled picture, the
two window grids, titles and templates."""

import base64
import io

import numpy as np
import pytest
import torch
from figure_checks import hidden_legend_entries, legend_names
from PIL import Image
from seed_tables import SEED_IDS

from swinviz import load_model
from swinviz.figures import Selection, make_figure
from swinviz.figures import shift as fs
from swinviz.figures._core import window_pieces
from swinviz.windows import window_of_token


def picture(size=96, seed=1):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size, size, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def exp14(explored):
    return explored(picture(), dict(img_size=56, window_size=7, seed=0))


@pytest.fixture(scope="module")
def exp6(explored):
    return explored(picture(), dict(img_size=24, window_size=3, seed=0))


def named(fig, name):
    return next(t for t in fig.data if t.name == name)


def decode(source):
    data = base64.b64decode(source.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.parametrize("which", ["exp14", "exp6"])
def test_region_maps_before_and_after_the_roll(which, request):
    exp = request.getfixturevalue(which)
    s = exp.shift_size
    ids = exp.traces[1].region_ids
    fig = fs.figure(exp, Selection().resolved(exp))
    before = torch.as_tensor(np.asarray(named(fig, "regions (a)").z).astype(np.int64))
    after = torch.as_tensor(np.asarray(named(fig, "regions (b)").z).astype(np.int64))
    # the code's map (after the roll) is the trace's img_mask; rolling the original-position map
    # by (-s, -s) gives it, i.e. every patch keeps its region id while it moves
    assert torch.equal(after, ids)
    assert torch.equal(torch.roll(before, (-s, -s), (0, 1)), after)
    assert torch.equal(before, torch.roll(ids, (s, s), (0, 1)))


def test_toy_rolled_map_is_the_spec_table(exp6):
    fig = fs.figure(exp6, Selection().resolved(exp6))
    np.testing.assert_array_equal(np.asarray(named(fig, "regions (b)").z), SEED_IDS)
    # in original position region 8 is the top-left s x s corner
    assert int(np.asarray(named(fig, "regions (a)").z)[0, 0]) == 8


def test_rolled_picture_is_the_image_rolled_by_s_patches(exp14):
    s, p = exp14.shift_size, exp14.patch_size
    fig = fs.figure(exp14, Selection().resolved(exp14))
    orig = np.asarray(exp14.image)
    np.testing.assert_array_equal(decode(named(fig, "image (a)").source), orig)
    np.testing.assert_array_equal(decode(named(fig, "image (b)").source),
                                  np.roll(orig, (-s * p, -s * p), axis=(0, 1)))


def test_hover_of_the_rolled_map_names_the_original_token(exp14):
    H, W = exp14.grid
    s, M = exp14.shift_size, exp14.window_size
    fig = fs.figure(exp14, Selection().resolved(exp14))
    cd = np.asarray(named(fig, "regions (b)").customdata).astype(int)
    ii, jj = np.indices((H, W))
    np.testing.assert_array_equal(cd[..., 2], (ii + s) % H)
    np.testing.assert_array_equal(cd[..., 3], (jj + s) % W)
    # the window named at rolled position (i, j) is the block-1 window of that original token
    wot = window_of_token(H, W, M, s)[..., 0].numpy()
    np.testing.assert_array_equal(cd[..., 5], wot[cd[..., 2], cd[..., 3]])
    # and the region id is the same before and after
    before = np.asarray(named(fig, "regions (a)").z)
    np.testing.assert_array_equal(cd[..., 4], before[cd[..., 2], cd[..., 3]])
    cda = np.asarray(named(fig, "regions (a)").customdata).astype(int)
    np.testing.assert_array_equal(cda[..., 3], wot)


def test_window_grids_and_query_window(exp14):
    H, W = exp14.grid
    M, s, p = exp14.window_size, exp14.shift_size, exp14.patch_size
    fig = fs.figure(exp14, Selection(query=(13, 13)).resolved(exp14))
    grids = [t for t in fig.data if (t.name or "").startswith("block 1 (SW-MSA) window grid")]
    assert len(grids) == 2
    ys = [set(np.asarray(g.y, float)[~np.isnan(np.asarray(g.y, float))].tolist()) for g in grids]
    # (a) the paper's grid: lines at s + kM (and the border); (b) the code's: at kM
    assert {s * p, (s + M) * p} <= ys[0] and M * p not in ys[0]
    assert ys[1] == {0.0, M * p, H * p}
    qwin = [t for t in fig.data if (t.name or "").startswith("the query's window")]
    w = int(window_of_token(H, W, M, s)[13, 13, 0])
    assert w == 3 and "window 3" in qwin[0].name
    assert np.isnan(np.asarray(qwin[0].x, float)).sum() == len(window_pieces(H, W, M, s)[w])


def test_titles_templates_and_no_shift(exp14):
    d = make_figure("shift", exp14)
    lec = make_figure("shift", exp14, template="lecture")
    assert "block 1 (SW-MSA)" in d.layout.title.text
    assert "torch.roll(x, (-3, -3))" in d.layout.annotations[1].text
    assert lec.layout.font.size > d.layout.font.size
    one = load_model(img_size=28, window_size=7, seed=0).explore(picture())
    fig = make_figure("shift", one)
    assert "no shift: one window covers the whole grid" in fig.layout.title.text
    assert not np.asarray(named(fig, "regions (b)").z).any()
    zero = load_model(img_size=56, window_size=7, shift_size=0, seed=0).explore(picture())
    assert "no shift (s = 0)" in make_figure("shift", zero).layout.title.text


def test_bad_selections(exp14):
    with pytest.raises(ValueError):
        make_figure("shift", exp14, query=(-1, 0))
    with pytest.raises(ValueError):
        make_figure("shift", exp14, template="")


def test_stage4_legend_lists_only_what_is_seen(exp_s4, exp14):
    assert exp_s4.grid == (7, 7) and exp_s4.shift_size == 0
    fig = make_figure("shift", exp_s4, query=(3, 3))
    assert hidden_legend_entries(fig) == []
    legend = legend_names(fig)
    assert "the one window of block 1 (W-MSA, shift 0) (the whole grid)" in legend
    assert not [n for n in legend if "window grid" in n]  # the orange grid is not drawn apart
    fig = make_figure("shift", exp14, query=(9, 4))
    assert hidden_legend_entries(fig) == []
    legend = legend_names(fig)
    assert any("window grid (paper: moved by s" in n for n in legend)
