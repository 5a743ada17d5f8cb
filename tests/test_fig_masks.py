"""Mask figure: the chosen window's mask and id strips, the four kinds of window, the
toy grid, and mask_check: the -100 trick equals attention inside the paper's irregular windows."""

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from swinviz import attention_mask, load_model
from swinviz.figures import Selection, make_figure
from swinviz.figures import masks as fm
from swinviz.windows import window_of_token, window_region_ids


def picture():
    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(0, 256, (70, 70, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def exp14(explored):
    return explored(picture(), dict(img_size=56, window_size=7, seed=0))


@pytest.fixture(scope="module")
def exp6(explored):
    return explored(picture(), dict(img_size=24, window_size=3, seed=0))


@pytest.fixture(scope="module")
def exp224(explored):
    return explored(picture(), dict(seed=0))


def named(fig, name):
    return next(t for t in fig.data if t.name == name)


@pytest.mark.parametrize("which", ["exp14", "exp6", "exp224"])
def test_mask_of_the_query_window(which, request):
    exp = request.getfixturevalue(which)
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    sel = Selection().resolved(exp)
    w = int(window_of_token(H, W, M, s)[sel.query][0])
    fig = fm.figure(exp, sel)
    z = torch.as_tensor(np.asarray(named(fig, f"mask of window {w}").z, dtype=np.float32))
    assert torch.equal(z, attention_mask(H, W, M, s)[w])
    assert torch.equal(z, exp.traces[1].mask[w])
    ids = window_region_ids(H, W, M, s)[w].numpy()
    np.testing.assert_array_equal(np.asarray(named(fig, f"key ids (window {w})").z)[0], ids)
    np.testing.assert_array_equal(np.asarray(named(fig, f"query ids (window {w})").z)[:, 0], ids)
    assert fig.layout.title.text.startswith(f"Attention mask of window {w} (")
    assert "in block 1 (SW-MSA)" in fig.layout.title.text


def test_chosen_window_and_the_four_kinds(exp14):
    H, W = exp14.grid
    M, s = exp14.window_size, exp14.shift_size
    fig = make_figure("masks", exp14, window=1)
    mask = attention_mask(H, W, M, s)
    z = np.asarray(named(fig, "mask of window 1").z, dtype=np.float32)
    np.testing.assert_array_equal(z, mask[1].numpy())
    assert "Attention mask of window 1 (right edge) in block 1 (SW-MSA)" in fig.layout.title.text
    for label, w in (("interior", 0), ("right edge", 1), ("bottom edge", 2), ("corner", 3)):
        small = named(fig, f"mask of window {w} ({label})")
        np.testing.assert_array_equal(np.asarray(small.z, dtype=np.float32), mask[w].numpy())
    assert not mask[0].any()  # the interior window masks nothing


def test_query_row_is_marked(exp6):
    fig = make_figure("masks", exp6, query=(0, 0))
    # original token (0, 0) is slot 8 of the corner window 3 (the design note's 6x6 example)
    assert fig.layout.title.text.startswith("Attention mask of window 3 (corner)")
    rows = [t for t in fig.data if (t.name or "").startswith("the query's row")]
    assert rows and rows[0].name == "the query's row (slot 8)"
    other = make_figure("masks", exp6, query=(0, 0), window=0)
    assert not [t for t in other.data if (t.name or "").startswith("the query's row")]


def test_window_kind():
    assert [fm.window_kind(w, 2, 2) for w in range(4)] == list(fm.KINDS)
    assert fm.window_kind(5, 8, 8) == "interior" and fm.window_kind(63, 8, 8) == "corner"
    assert fm.window_kind(15, 8, 8) == "right edge" and fm.window_kind(57, 8, 8) == "bottom edge"
    assert fm.kind_windows(8, 8) == [("interior", 0), ("right edge", 7), ("bottom edge", 56),
                                     ("corner", 63)]
    assert fm.kind_windows(1, 1) == [("interior = right edge = bottom edge = corner", 0)]


@pytest.mark.parametrize("which", ["exp14", "exp6", "exp224"])
def test_mask_check_the_trick_is_exact(which, request):
    exp = request.getfixturevalue(which)
    H, W = exp.grid
    M = exp.window_size
    r = fm.mask_check(exp)
    assert r["max_abs_diff"] < 1e-6
    assert 0 < r["max_leak"] < 1e-20  # e^-100 ~ 3.7e-44: something leaks, but nothing you see
    assert r["mask_mismatch"] == 0
    assert r["groups"] == (H // M + 1) * (W // M + 1)  # the paper's irregular windows
    fig = fm.figure(exp, Selection().resolved(exp))
    text = fig.layout.annotations[-1].text
    assert "below anything float32 can add" in text and "not 0" in text
    assert f"{r['max_leak']:.1e}" in text and f"{r['max_abs_diff']:.1e}" in text
    assert "exact" not in text  # the weights approach 0 (issue 23): never "the trick is exact"


def test_mask_check_catches_a_missing_mask(exp14):
    t1 = exp14.traces[1]
    nW, nH, N, _ = t1.attn.shape
    unmasked = (t1.scores + t1.bias.unsqueeze(0)).softmax(-1)  # as if the mask were forgotten
    bad = dataclasses.replace(
        exp14, traces=[exp14.traces[0], dataclasses.replace(t1, attn=unmasked)])
    r = fm.mask_check(bad)
    assert r["max_leak"] > 1e-3 and r["max_abs_diff"] > 1e-3
    wrong = dataclasses.replace(exp14, traces=[
        exp14.traces[0], dataclasses.replace(t1, mask=torch.zeros(nW, N, N))])
    assert fm.mask_check(wrong)["mask_mismatch"] > 0


def test_paper_groups_toy():
    g = fm.paper_groups(6, 6, 3, 1)
    assert g.shape == (4, 9)
    assert torch.unique(g).numel() == 9
    # inside each window the groups coincide with the region ids (same partition)
    ids = window_region_ids(6, 6, 3, 1)
    for w in range(4):
        same_g = g[w][:, None] == g[w][None, :]
        same_i = ids[w][:, None] == ids[w][None, :]
        assert torch.equal(same_g, same_i)


def test_toy_figure():
    fig = fm.toy_figure(6, 6, 3, 1)
    mask = attention_mask(6, 6, 3, 1)
    np.testing.assert_array_equal(np.asarray(named(fig, "mask of window 3").z, np.float32),
                                  mask[3].numpy())
    main = named(fig, "mask of window 3")
    assert main.texttemplate == "%{z}"  # 9x9 is annotated
    assert "window 3 (corner)" in fig.layout.title.text
    np.testing.assert_array_equal(np.asarray(named(fig, "key ids (window 3)").z)[0],
                                  [4, 4, 5, 4, 4, 5, 7, 7, 8])
    fig0 = fm.toy_figure(6, 6, 3, 1, window=0)
    assert not np.asarray(named(fig0, "mask of window 0").z).any()
    with pytest.raises(ValueError):
        fm.toy_figure(6, 6, 3, 1, window=4)
    with pytest.raises(ValueError):
        fm.toy_figure(6, 6, 3, 5)


def test_no_shift_says_so():
    one = load_model(img_size=28, window_size=7, seed=0).explore(picture())
    fig = make_figure("masks", one)
    text = fig.layout.title.text
    assert "no shift" in text and "all zeros" in text and "one window covers" in text
    # no mask: no (N, N) mask panel with made-up zeros, the windows on the grid instead
    assert not [t for t in fig.data if (t.name or "").startswith("mask of window")]
    assert fig.layout.meta["mask"] == "none"
    grid = named(fig, "windows of block 1 (W-MSA, shift 0) (no mask)")
    assert np.asarray(grid.customdata)[..., 2].max() == 0  # one window
    r = fm.mask_check(one)
    assert r["max_leak"] == 0.0 and r["max_abs_diff"] < 1e-6 and r["masked_pairs"] == 0
    assert "no key is masked" in fig.layout.annotations[0].text
    zero = load_model(img_size=56, window_size=7, shift_size=0, seed=0).explore(picture())
    fig = make_figure("masks", zero, window=3)
    assert "no shift (shift_size = 0" in fig.layout.title.text
    assert "window 3" in fig.layout.title.text
    assert not [t for t in fig.data if (t.name or "").startswith("mask of window")]
    outline = named(fig, "window 3")
    assert np.nanmin(np.asarray(outline.x, float)) == 6.5  # window 3: columns 7..13
    toy = fm.toy_figure(6, 6, 3, 0)
    assert "no shift" in toy.layout.title.text


def test_templates_and_bad_selections(exp14):
    d = make_figure("masks", exp14)
    lec = make_figure("masks", exp14, template="lecture")
    assert lec.layout.font.size > d.layout.font.size
    assert lec.layout.meta["template"] == "lecture"
    with pytest.raises(ValueError):
        make_figure("masks", exp14, window=4)
    with pytest.raises(ValueError):
        make_figure("masks", exp14, window=-1)
    with pytest.raises(ValueError):
        make_figure("masks", exp14, template="dark")
