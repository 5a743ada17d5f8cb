"""Region-id figure: the trace's id map, its flattened windows, and the toy grid."""

import numpy as np
import pytest
import torch
from PIL import Image
from seed_tables import SEED_FLAT, SEED_IDS

from swinviz import region_ids
from swinviz.figures import Selection, make_figure
from swinviz.figures import regions as fr
from swinviz.windows import window_region_ids


def picture():
    rng = np.random.default_rng(2)
    return Image.fromarray(rng.integers(0, 256, (80, 80, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def exp14(explored):
    return explored(picture(), dict(img_size=56, window_size=7, seed=0))


@pytest.fixture(scope="module")
def exp224(explored):
    return explored(picture(), dict(seed=0))


def maps(fig):
    ids = next(t for t in fig.data if t.name == "region ids")
    flat = next(t for t in fig.data if t.name == "flattened ids")
    return ids, flat


@pytest.mark.parametrize("which", ["exp14", "exp224"])
def test_heatmaps_are_the_trace_ids(which, request):
    exp = request.getfixturevalue(which)
    t1 = exp.traces[1]
    H, W = exp.grid
    fig = fr.figure(exp, Selection().resolved(exp))
    ids, flat = maps(fig)
    assert torch.equal(torch.as_tensor(np.asarray(ids.z).astype(np.int64)), t1.region_ids)
    expected = window_region_ids(H, W, t1.window_size, t1.shift_size)
    assert torch.equal(torch.as_tensor(np.asarray(flat.z).astype(np.int64)), expected)
    assert np.asarray(flat.z).shape == (exp.num_windows, exp.window_size**2)
    # colours are discrete: id k in REGION_COLORS[k]
    assert (ids.zmin, ids.zmax) == (-0.5, 8.5)
    title = fig.layout.title.text
    assert "block 1 (SW-MSA)" in title and f"shift s = {exp.shift_size}" in title


def test_toy_is_the_spec_tables():
    fig = fr.toy_figure(6, 6, 3, 1)
    ids, flat = maps(fig)
    np.testing.assert_array_equal(np.asarray(ids.z), SEED_IDS)
    np.testing.assert_array_equal(np.asarray(flat.z), SEED_FLAT)
    # small grids carry their numbers
    assert ids.texttemplate == "%{z}" and flat.texttemplate == "%{z}"
    assert "6×6" in fig.layout.title.text
    np.testing.assert_array_equal(np.asarray(ids.z), region_ids(6, 6, 3, 1).numpy())


def test_hover_maps_rolled_positions_to_tokens():
    fig = fr.toy_figure(6, 6, 3, 1)
    ids, flat = maps(fig)
    cd = np.asarray(ids.customdata).astype(int)
    # rolled position (0, 0) holds original token (1, 1), slot 0 of window 0
    assert cd[0, 0].tolist() == [1, 1, 0, 0]
    # rolled (5, 5) holds token (0, 0): window 3, slot 8
    assert cd[5, 5].tolist() == [0, 0, 3, 8]
    fcd = np.asarray(flat.customdata).astype(int)
    assert fcd[3, 8].tolist() == [0, 0] and fcd[0, 0].tolist() == [1, 1]


def test_boundaries_follow_the_ids():
    ids = np.array(SEED_IDS)
    bx, by = fr.boundary_xy(ids)
    # bands cut at column 3 and 5 and at row 3 and 5 -> 4 lines x 6 unit segments
    assert np.isnan(bx).sum() == 24
    assert set(np.round(bx[~np.isnan(bx)], 1)) >= {2.5, 4.5}


def test_big_grids_are_not_annotated(exp224):
    ids, flat = maps(fr.figure(exp224, Selection().resolved(exp224)))
    assert ids.texttemplate is None and flat.texttemplate is None


def test_no_shift_and_bad_settings():
    fig = fr.toy_figure(6, 6, 6, 3)  # window covers the grid: one window, no shift
    ids, _ = maps(fig)
    assert not np.asarray(ids.z).any()
    assert "no shift" in fig.layout.title.text
    assert "every id is 0" in fr.toy_figure(6, 6, 3, 0).layout.title.text
    with pytest.raises(ValueError):
        fr.toy_figure(6, 6, 3, 3)  # shift must be < window
    with pytest.raises(ValueError):
        fr.toy_figure(6, 6, 3, 1, template="poster")


def test_templates(exp14):
    d = make_figure("regions", exp14)
    lec = make_figure("regions", exp14, template="lecture")
    assert lec.layout.font.size > d.layout.font.size
    assert lec.layout.meta["template"] == "lecture"
    toy = fr.toy_figure(6, 6, 3, 1, template="lecture")
    assert toy.layout.font.size == lec.layout.font.size
    with pytest.raises(ValueError):
        make_figure("regions", exp14, head=7)


def test_toy_figure_with_padding_shows_the_padded_grid():
    # 7x7 tokens with 3x3 windows: padded to 9x9 before the roll, as the block does
    from swinviz.windows import padded_size, region_ids

    fig = fr.toy_figure(7, 7, 3, 1)
    assert padded_size(7, 7, 3) == (9, 9)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (9, 9)
    assert np.array_equal(z, region_ids(9, 9, 3, 1).numpy())
    pad = [t for t in fig.data if t.name == "zero padding"][0]
    # original rows/cols 7 and 8 are padding; rolled by -1 they sit at rows/cols 6 and 7
    cells = {(int(r), int(c)) for r, c in np.argwhere(~np.isnan(np.asarray(pad.z, float)))}
    assert (6, 0) in cells and (7, 7) in cells and (0, 6) in cells and (0, 0) not in cells
    assert len(cells) == 81 - 49
    labels = [t for t in fig.data if t.name == "zero padding labels"][0]
    rows = np.rint(np.asarray(labels.y) - 0.3).astype(int).tolist()  # the label sits 0.3 below
    assert set(zip(rows, np.asarray(labels.x).tolist(), strict=True)) == cells
    # the flattened table marks the same 32 slots
    flat = [t for t in fig.data if t.name == "zero padding (flattened)"][0]
    assert int((~np.isnan(np.asarray(flat.z, float))).sum()) == 81 - 49
    assert "pads" in fig.layout.title.text
