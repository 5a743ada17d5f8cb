"""Windows figure: outlines in original coordinates, hover data, titles, templates."""

import base64
import io

import numpy as np
import pytest
import torch
from figure_checks import hidden_legend_entries, legend_names
from PIL import Image

from swinviz.figures import Selection, make_figure
from swinviz.figures import windows as fw
from swinviz.figures._core import window_pieces
from swinviz.windows import window_of_token


def picture(size=96, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    img = np.stack([xx * 255 // size, yy * 255 // size, (xx + yy) * 127 // size], -1)
    img = img + rng.integers(0, 40, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def exp14(explored):  # 14x14 tokens, M = 7, s = 3: 4 windows, every kind of wrap
    return explored(picture(), dict(img_size=56, window_size=7, seed=0))


@pytest.fixture(scope="module")
def exp6(explored):  # the design note's toy grid: 6x6 tokens, M = 3, s = 1
    return explored(picture(), dict(img_size=24, window_size=3, seed=0))


@pytest.fixture(scope="module")
def exp_one(explored):  # 7x7 tokens with M = 7: one window, no shift (concepts fact 2)
    return explored(picture(), dict(img_size=28, window_size=7, seed=0))


def trace_named(fig, name):
    found = [t for t in fig.data if t.name == name]
    assert found, f"no trace named {name!r}"
    return found[0]


def rects_by_window(trace, p):
    """Rectangles of a NaN-separated outline trace grouped by the window index in customdata."""
    x, y, w = (np.asarray(v, dtype=float) for v in (trace.x, trace.y, trace.customdata))
    out = {}
    for k in range(0, len(x), 6):
        xs, ys = x[k:k + 5], y[k:k + 5]
        assert np.isnan(x[k + 5]) and np.isnan(w[k + 5])
        assert len(set(w[k:k + 5])) == 1
        out.setdefault(int(w[k]), []).append(
            (int(ys.min() / p), int(ys.max() / p), int(xs.min() / p), int(xs.max() / p)))
    return out


def covered(pieces, H, W):
    m = np.zeros((H, W), bool)
    for r0, r1, c0, c1 in pieces:
        assert not m[r0:r1, c0:c1].any(), "pieces overlap"
        m[r0:r1, c0:c1] = True
    return m


@pytest.mark.parametrize("H,W,M,s", [(6, 6, 3, 1), (14, 14, 7, 3), (56, 56, 7, 3), (8, 12, 4, 2),
                                     (12, 12, 4, 0), (7, 7, 7, 0), (12, 12, 6, 5)])
def test_pieces_cover_exactly_the_tokens_of_each_window(H, W, M, s):
    wot = window_of_token(H, W, M, s)[..., 0].numpy()
    pieces = window_pieces(H, W, M, s)
    assert len(pieces) == (H // M) * (W // M)
    for w, pcs in enumerate(pieces):
        assert 1 <= len(pcs) <= 4
        np.testing.assert_array_equal(covered(pcs, H, W), wot == w)
        assert sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in pcs) == M * M


def test_figure_outlines_match_window_of_token(exp14):
    H, W = exp14.grid
    p, M, s = exp14.patch_size, exp14.window_size, exp14.shift_size
    fig = fw.figure(exp14, Selection().resolved(exp14))
    for block, shift in ((0, 0), (1, s)):
        trace = next(t for t in fig.data if t.meta == f"windows block {block}")
        rects = rects_by_window(trace, p)
        wot = window_of_token(H, W, M, shift)[..., 0].numpy()
        assert sorted(rects) == list(range((H // M) * (W // M)))
        for w, pcs in rects.items():
            np.testing.assert_array_equal(covered(pcs, H, W), wot == w)
    # the corner window of block 1 wraps into 4 pieces, the two edge windows into 2
    rects = rects_by_window(next(t for t in fig.data if t.meta == "windows block 1"), p)
    assert [len(rects[w]) for w in range(4)] == [1, 2, 2, 4]


def test_labels_name_every_piece(exp6):
    fig = fw.figure(exp6, Selection().resolved(exp6))
    labels = trace_named(fig, "window numbers block 1")
    H, W = exp6.grid
    pieces = window_pieces(H, W, exp6.window_size, exp6.shift_size)
    assert sorted(labels.text) == sorted(str(w) for w, pcs in enumerate(pieces) for _ in pcs)
    assert list(trace_named(fig, "window numbers block 0").text) == ["0", "1", "2", "3"]


def test_hover_data_is_the_library_geometry(exp14):
    H, W = exp14.grid
    M, s = exp14.window_size, exp14.shift_size
    fig = fw.figure(exp14, Selection().resolved(exp14))
    for block in (0, 1):
        hm = trace_named(fig, f"patches block {block}")
        cd = np.asarray(hm.customdata).astype(int)
        assert cd.shape == (H, W, 5)
        rr, cc = np.indices((H, W))
        np.testing.assert_array_equal(cd[..., 0], rr)
        np.testing.assert_array_equal(cd[..., 1], cc)
        np.testing.assert_array_equal(cd[..., 2], window_of_token(H, W, M, 0)[..., 0].numpy())
        np.testing.assert_array_equal(cd[..., 3], window_of_token(H, W, M, s)[..., 0].numpy())
        # region id of original token (r, c) = trace id at its rolled position
        ids = exp14.traces[1].region_ids.numpy()
        np.testing.assert_array_equal(cd[..., 4], ids[(rr - s) % H, (cc - s) % W])
        np.testing.assert_array_equal(np.asarray(hm.z), cd[..., 2 + block])
        assert hm.x0 == exp14.patch_size / 2 and hm.dx == exp14.patch_size
        assert "%{text} (" in hm.hovertemplate and "region id" in hm.hovertemplate
        assert set(np.asarray(hm.text).ravel()) == {"token"}  # no padding at 14x14, M = 7


def test_image_is_placed_on_its_pixels(exp14):
    fig = fw.figure(exp14, Selection().resolved(exp14))
    img = next(t for t in fig.data if t.type == "image")
    # go.Image places pixel centres: pixel (0, 0) covers [0, 1) x [0, 1)
    assert (img.x0, img.y0, img.dx, img.dy) == (0.5, 0.5, 1, 1)
    data = base64.b64decode(img.source.split(",", 1)[1])
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")),
                                  np.asarray(exp14.image))


def test_query_and_its_windows(exp14):
    sel = Selection(query=(13, 1)).resolved(exp14)
    fig = fw.figure(exp14, sel)
    p = exp14.patch_size
    marks = [t for t in fig.data if t.name == "query patch (13, 1)"]
    assert len(marks) == 2
    assert all((m.x[0], m.y[0]) == (1.5 * p, 13.5 * p) for m in marks)
    qwin = [t for t in fig.data if t.name == "the query's window in each block"]
    # block 0: window 2 (bottom left); block 1: token (13, 1) sits in the corner window 3
    w1 = int(window_of_token(14, 14, 7, 3)[13, 1, 0])
    assert w1 == 3
    x = np.asarray(qwin[1].x, float)
    assert np.isnan(x).sum() == len(window_pieces(14, 14, 7, 3)[w1])


def test_titles_and_templates(exp14, exp_one):
    d = make_figure("windows", exp14)
    lec = make_figure("windows", exp14, template="lecture")
    title = d.layout.title.text
    assert "block 0 (W-MSA)" in title and "block 1 (SW-MSA)" in title
    assert "shift s = 3" in title
    assert lec.layout.font.size > d.layout.font.size
    assert lec.layout.title.font.size > d.layout.title.font.size
    assert lec.layout.meta["template"] == "lecture"
    one = make_figure("windows", exp_one)
    assert "no shift: one window covers the whole grid" in one.layout.title.text
    d.to_json()


def test_bad_selections(exp14):
    with pytest.raises(ValueError):
        make_figure("windows", exp14, query=(14, 0))
    with pytest.raises(ValueError):
        make_figure("windows", exp14, template="poster")
    with pytest.raises(ValueError):
        make_figure("windows", exp14, block=2)


def test_region_map_used_is_the_trace(exp14):
    # the figure reads the trace's ids: change them and the hover follows
    fig = fw.figure(exp14, Selection().resolved(exp14))
    ids = torch.roll(exp14.traces[1].region_ids, (3, 3), (0, 1)).numpy()
    cd = np.asarray(trace_named(fig, "patches block 1").customdata).astype(int)
    np.testing.assert_array_equal(cd[..., 4], ids)


def test_stage4_legend_lists_only_what_is_seen(exp_s4, exp14):
    assert exp_s4.grid == (7, 7) and exp_s4.shift_size == 0
    fig = make_figure("windows", exp_s4, query=(3, 3))
    assert hidden_legend_entries(fig) == []
    legend = legend_names(fig)
    assert "the one window (the whole grid), in both blocks" in legend
    assert not [n for n in legend if n.endswith(" windows")]  # no blue / orange entries
    # several windows: both blocks' outlines are seen and listed
    fig = make_figure("windows", exp14, query=(9, 4))
    assert hidden_legend_entries(fig) == []
    legend = legend_names(fig)
    assert {"block 0 (W-MSA) windows", "block 1 (SW-MSA) windows"} <= set(legend)


@pytest.mark.parametrize("shade", [(255, 255, 255), (0, 0, 0)])
def test_labels_on_the_image_keep_a_dark_halo_on_white_and_black(explored, shade):
    """Issue 25: window numbers and region ids are white with a dark halo (several black
    text-shadows), so they read on a white image as on a black one (the PNGs of both were
    looked at)."""
    from swinviz.figures._core import HALO

    exp = explored(Image.new("RGB", (112, 112), shade), dict(img_size=112), predict=False)
    texts = [t for kind in ("windows", "shift") for t in make_figure(kind, exp).data
             if getattr(t, "mode", None) == "text" and t.textfont.color == "white"]
    assert {t.name for t in texts} >= {"window numbers block 0", "window numbers block 1"}
    assert any(t.name.startswith("region ids") for t in texts)
    assert all(t.textfont.shadow == HALO for t in texts)
    assert HALO.count("#000000") >= 2


def test_every_legend_swatch_shows_on_the_legends_white(exp14):
    """A legend entry drawn in white (the patch grid's lines, white over the photograph) was an
    empty swatch on the legend's white ground: every line or marker entry of every kind's
    legend has a colour that is not white."""
    from swinviz.figures import KINDS

    def white(c) -> bool:
        c = str(c).replace(" ", "").lower()
        return c in ("white", "#fff", "#ffffff") or c.startswith(("rgba(255,255,255",
                                                                  "rgb(255,255,255"))

    for kind in KINDS:
        fig = make_figure(kind, exp14)
        for t in fig.data:
            if t.type != "scatter" or t.showlegend is False or not t.name:
                continue
            if fig.layout.showlegend is False:
                continue
            mode = t.mode or "lines"
            colour = t.line.color if "lines" in mode else t.marker.color
            assert not white(colour), (kind, t.name)
