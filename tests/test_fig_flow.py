"""Information flow: reach sets from window membership and masks (hand-checked on the
spec's 6x6 toy grid), attention rollout from the real weights, and the figure's data."""

import numpy as np
import pytest
from PIL import Image

from swinviz import load_model
from swinviz.figures import Selection, make_figure
from swinviz.figures import flow as ff
from swinviz.windows import window_of_token, window_order


def picture():
    rng = np.random.default_rng(13)
    return Image.fromarray(rng.integers(0, 256, (50, 50, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def exp6(explored):
    return explored(picture(), dict(img_size=24, window_size=3, seed=0, device="cpu"))


@pytest.fixture(scope="module")
def exp14(explored):
    return explored(picture(), dict(img_size=56, window_size=7, seed=0, device="cpu"))


def box(rows, cols, H=6, W=6):
    m = np.zeros((H, W), bool)
    for r in rows:
        for c in cols:
            m[r, c] = True
    return m


ALL = box(range(6), range(6))


# Hand-checked on the toy grid (H = W = 6, M = 3, s = 1; region ids of concepts fact 4, which live
# in the rolled frame: original token (r, c) sits at rolled ((r - 1) % 6, (c - 1) % 6)).
@pytest.mark.parametrize("query, expected", [
    # (1, 1): block 0 window 0 = rows 0-2, cols 0-2. In block 1 it sits at rolled (0, 0), in
    # window 0 whose ids are all 0: it sees rolled (0..2, 0..2) = original (1..3, 1..3), whose
    # block-0 windows cover the whole grid.
    ((1, 1), [box(range(3), range(3)), ALL, ALL]),
    # (0, 0): rolled (5, 5), region 8 = that one cell: block 1 shows it only itself, so pair 1
    # adds nothing; pair 2 starts from window 0, whose token (1, 1) reaches everything.
    ((0, 0), [box(range(3), range(3)), box(range(3), range(3)), ALL]),
    # (3, 0): block 0 window 2 = rows 3-5, cols 0-2. Rolled (2, 5): window 1, region 2 =
    # rolled rows 0-2, col 5 = original rows 1-3, col 0, whose block-0 windows are 0 and 2:
    # the whole left half. Pair 2: token (1, 1) of window 0 reaches everything.
    ((3, 0), [box(range(3, 6), range(3)), box(range(6), range(3)), ALL]),
    # (5, 5): rolled (4, 4), window 3, region 4 = rolled (3..4, 3..4) = original (4..5, 4..5),
    # all inside block-0 window 3.
    ((5, 5), [box(range(3, 6), range(3, 6)), box(range(3, 6), range(3, 6)), ALL]),
])
def test_reach_sets_by_hand(query, expected):
    sets = ff.reach_sets(6, 6, 3, 1, query, 2)
    assert len(sets) == 3
    for got, want in zip(sets, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_reach_without_shift_never_leaves_the_window():
    sets = ff.reach_sets(6, 6, 3, 0, (4, 1), 4)
    for s in sets:
        np.testing.assert_array_equal(s, box(range(3, 6), range(3)))


def test_reach_matrix_is_the_trace_mask(exp14, exp6):
    for exp in (exp14, exp6):
        H, W = exp.grid
        for tr in exp.traces:
            M, s = tr.window_size, tr.shift_size
            R = ff.reach_matrix(H, W, M, s)
            order = window_order(H, W, M, s).numpy().reshape(-1, M * M)
            mask = tr.mask.numpy() if tr.mask is not None else np.zeros((len(order), M * M,
                                                                          M * M))
            for w in range(len(order)):
                np.testing.assert_array_equal(R[np.ix_(order[w], order[w])], mask[w] == 0)
            assert R.sum() == sum((mask[w] == 0).sum() for w in range(len(order)))
            assert (R == R.T).all()


@pytest.mark.parametrize("geometry", [(6, 6, 3, 1), (14, 14, 7, 3), (12, 18, 3, 2), (8, 8, 4, 0)])
def test_reach_sets_are_boolean_matrix_products(geometry):
    H, W, M, s = geometry
    R0 = ff.reach_matrix(H, W, M, 0).astype(np.int64)
    R1 = ff.reach_matrix(H, W, M, s).astype(np.int64)
    g = ff.visibility_groups(H, W, M, s)
    np.testing.assert_array_equal(R1 > 0, g[:, None] == g[None, :])
    for q in [(0, 0), (H - 1, W - 1), (H // 2, W // 3), (1, W - 2)]:
        v = np.zeros(H * W, np.int64)
        v[q[0] * W + q[1]] = 1
        want = [(v @ R0) > 0]
        for _ in range(3):
            v = ((v @ R1 > 0).astype(np.int64) @ R0 > 0).astype(np.int64)
            want.append(v > 0)
        got = ff.reach_sets(H, W, M, s, q, 3)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a.ravel(), b)


def test_reach_sets_grow_and_use_both_geometries(exp14):
    H, W = exp14.grid
    sets = ff.reach_sets(H, W, 7, 3, (6, 6), 4)
    assert len(sets) == 5
    assert sets[0].sum() == 49
    for a, b in zip(sets, sets[1:], strict=False):
        assert (b >= a).all()  # monotone
    assert sets[1].sum() == 196  # an interior window touches four shifted windows
    with pytest.raises(ValueError):
        ff.reach_sets(H, W, 7, 7, (0, 0), 1)
    with pytest.raises(ValueError):
        ff.reach_sets(H, W, 7, 3, (14, 0), 1)
    with pytest.raises(ValueError):
        ff.reach_sets(H, W, 7, 3, (0, 0), -1)


def dense_attention(exp, block):
    """A_b (L, L) from the trace by the brief's formula, independent of window_order."""
    H, W = exp.grid
    tr = exp.traces[block]
    M, s = tr.window_size, tr.shift_size
    a = tr.attn.double().mean(1).numpy()
    A = np.zeros((H * W, H * W))
    for w in range(a.shape[0]):
        wr, wc = divmod(w, W // M)
        pos = [((wr * M + k // M + s) % H) * W + (wc * M + k % M + s) % W for k in range(M * M)]
        A[np.ix_(pos, pos)] = a[w]
    return A


@pytest.mark.parametrize("which", ["exp6", "exp14"])
def test_rollout(which, request):
    exp = request.getfixturevalue(which)
    H, W = exp.grid
    L = H * W
    R = ff.rollout(exp)
    assert R.shape == (L, L)
    np.testing.assert_allclose(R.sum(axis=1), 1.0, atol=1e-9)
    eye = np.eye(L)
    want = (0.5 * dense_attention(exp, 1) + 0.5 * eye) @ (0.5 * dense_attention(exp, 0)
                                                          + 0.5 * eye)
    np.testing.assert_allclose(R, want, atol=1e-12)
    for q in [(0, 0), (H - 1, W - 1), (H // 2, 1)]:
        row = ff.rollout_row(exp, q)
        np.testing.assert_allclose(row, R[q[0] * W + q[1]], atol=1e-12)
        # weight only where the pair can carry information (paths via masked keys are ~0)
        reach = ff.reach_sets(H, W, exp.window_size, exp.shift_size, q, 1)[1].ravel()
        assert not (row[~reach] > 1e-20).any()


def drawn(trace):
    """The token cells a cropped heatmap of the grid's tiles draws (non-NaN), as a set: its
    place in the subplot less its tile's top-left cell (meta["tile"]); the hover names the
    same token in every cell."""
    z = np.asarray(trace.z, dtype=float)
    y0, x0 = trace.meta["tile"]
    cd = np.asarray(trace.customdata).astype(int)
    rr, cc = np.nonzero(~np.isnan(z))
    cells = {(int(r + trace.y0 - y0), int(c + trace.x0 - x0)) for r, c in zip(rr, cc, strict=True)}
    assert cells == {(int(cd[r, c, 0]), int(cd[r, c, 1])) for r, c in zip(rr, cc, strict=True)}
    return cells


def drawn_map(trace):
    """{(row, col): value} of a rollout heatmap drawn in pixels: cells named by customdata."""
    z = np.asarray(trace.z, dtype=float)
    cd = np.asarray(trace.customdata).astype(int)
    return {(int(cd[i, j, 0]), int(cd[i, j, 1])): z[i, j] for i, j in np.argwhere(~np.isnan(z))}


@pytest.mark.parametrize("k", [1, 2, 4])
def test_figure_data(exp14, k):
    q = (9, 4)
    fig = ff.figure(exp14, Selection(query=q, k_pairs=k).resolved(exp14))
    H, W = exp14.grid
    sets = ff.reach_sets(H, W, 7, 3, q, k)
    names = ["block 0"] + [f"pair {i}" for i in range(1, k + 1)]
    for name, s in zip(names, sets, strict=True):
        hm = next(t for t in fig.data if t.name == f"reach {name}")
        assert drawn(hm) == {tuple(map(int, t)) for t in np.argwhere(s)}
    # stage 1: the rollout to the image is the pair's rollout, drawn at 4 px per patch
    hm = next(t for t in fig.data if t.name == "rollout")
    assert (hm.dx, hm.dy) == (4, 4)
    row = ff.rollout_row(exp14, q).reshape(H, W)
    cells = drawn_map(hm)
    for (r, c), v in cells.items():
        assert v == pytest.approx(row[r, c], rel=1e-6)
        assert hm.x0 + 4 * (c - int(np.asarray(hm.customdata)[0, 0, 1])) == 4 * c + 2
    assert set(cells) == {tuple(map(int, t)) for t in np.argwhere(row > ff.ROLLOUT_FLOOR)}
    assert not [t for t in fig.data if (t.name or "").startswith("rollout stage")]
    assert f"({q[0]}, {q[1]})" in fig.layout.title.text
    text = " ".join(a.text for a in fig.layout.annotations)
    assert "0.5·vA + 0.5·v" in text and "2×2 children" in text
    if k > 1:
        assert "same pair repeated" in text and "patch merging" in text


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_templates(exp6, template):
    fig = make_figure("flow", exp6, template=template, k_pairs=3)
    assert fig.layout.meta["template"] == template
    fig.to_json()


def test_bad_selections(exp6):
    for k in (0, 5):
        with pytest.raises(ValueError):
            make_figure("flow", exp6, k_pairs=k)
    with pytest.raises(ValueError):
        make_figure("flow", exp6, query=(6, 6))
    with pytest.raises(ValueError):
        ff.rollout_row(exp6, (0, 6))


# ---- padded grids and the rollout across stages ------------------------------------------------

def dense_block(blk):
    """A block's (L, L) head-mean attention in original positions, built from its window form
    through `window_of_token` alone: A[i, j] = attn[w_i, k_i, k_j] when tokens i and j share a
    window, else 0 (padding slots are no token, so they get no row or column)."""
    H, W = blk.grid
    wot = window_of_token(H, W, blk.window_size, blk.shift_size).numpy().reshape(-1, 2)
    w, k = wot[:, 0], wot[:, 1]
    a = blk.attn.double().numpy()
    same = w[:, None] == w[None, :]
    return np.where(same, a[w[:, None], k[:, None], k[None, :]], 0.0)


def spread_matrix(grid, child_grid):
    """(L_s, L_{s-1}): merged token p's weight split equally over its real 2x2 children."""
    Ho, Wo = grid
    H, W = child_grid
    S = np.zeros((Ho * Wo, H * W))
    for r in range(H):
        for c in range(W):
            S[(r // 2) * Wo + c // 2, r * W + c] = 1.0
    return S / S.sum(axis=1, keepdims=True)


def dense_rollout(chain, query):
    """The query's rollout by explicit matrix products: e_q (0.5·A + 0.5·I) per block, back to
    stage 1, times the spread matrix at every patch merge."""
    H, W = chain[-1].grid
    v = np.zeros(H * W)
    v[query[0] * W + query[1]] = 1.0
    for i in range(len(chain) - 1, -1, -1):
        blk = chain[i]
        if (H, W) != blk.grid:
            v = v @ spread_matrix((H, W), blk.grid)
            H, W = blk.grid
        v = v @ (0.5 * dense_block(blk) + 0.5 * np.eye(H * W))
    return v.reshape(H, W)


@pytest.fixture(scope="module")
def swin200(explored):
    """Swin-T at 200 px: 50x50, 25x25, 13x13 tokens padded to 56, 28, 14; stage 4 7x7."""
    settings = dict(img_size=200, seed=0, device="cpu")
    return {sp: explored(picture(), settings, stage=sp[0], pair=sp[1], predict=False)
            for sp in ((1, 0), (3, 2), (4, 0))}


@pytest.mark.parametrize("sp, query", [((3, 2), (12, 12)), ((3, 2), (0, 5)), ((4, 0), (3, 6)),
                                       ((1, 0), (49, 48))])
def test_rollout_across_stages_is_the_dense_product(swin200, sp, query):
    exp = swin200[sp]
    assert [b.stage for b in exp.chain].count(1) == 2 and exp.chain[0].block == 0
    want = dense_rollout(exp.chain, query)
    assert want.shape == (50, 50)
    maps, stages = ff.stage_maps(exp, query)
    assert stages[-1] == 1 and stages[0] == sp[0]
    np.testing.assert_allclose(maps[-1], want, atol=1e-12)
    fig = ff.figure(exp, Selection(query=query).resolved(exp))
    hm = next(t for t in fig.data if t.name == "rollout")
    assert (hm.dx, hm.dy) == (4, 4)  # stage 1's patches on the image
    cells = drawn_map(hm)
    assert set(cells) == {tuple(map(int, t)) for t in np.argwhere(want > ff.ROLLOUT_FLOOR)}
    for (r, c), v in cells.items():
        assert v == pytest.approx(want[r, c], rel=1e-5)
    # weight given to zero padding leaves the picture: the map sums to less than 1
    assert 0 < want.sum() < 1
    if sp[0] > 1:  # the explored stage's own map: back through its blocks only
        own = next(t for t in fig.data if t.name == f"rollout stage {sp[0]}")
        z = np.asarray(own.z, float)
        r0, c0 = int(own.y0) - own.meta["tile"][0], int(own.x0) - own.meta["tile"][1]
        cd = np.asarray(own.customdata).astype(int)
        for r, c in np.argwhere(~np.isnan(z)):
            assert z[r, c] == pytest.approx(maps[0][r + r0, c + c0], rel=1e-5)
            assert tuple(cd[r, c]) == (r + r0, c + c0)  # the hover names that token


@pytest.mark.parametrize("which", ["exp6", "exp14", "swin200"])
def test_stage1_rollout_is_the_pairs_rollout(which, request):
    exp = request.getfixturevalue(which)
    exp = exp[(1, 0)] if isinstance(exp, dict) else exp
    H, W = exp.grid
    R = ff.rollout(exp)
    for q in [(0, 0), (H - 1, W - 1), (H // 2, 1), (1, W - 2)]:
        maps, stages = ff.stage_maps(exp, q)
        assert stages == [1]
        # the core keeps the head mean in float32, the pair's rollout takes it in float64
        np.testing.assert_allclose(maps[-1].ravel(), ff.rollout_row(exp, q), rtol=1e-6,
                                   atol=1e-9)
        np.testing.assert_allclose(R[q[0] * W + q[1]], ff.rollout_row(exp, q), atol=1e-12)


def test_padded_reach_and_rollout(swin200):
    exp = swin200[(1, 0)]
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    assert (H, W, M, s) == (50, 50, 7, 3)
    # reach: the boolean products of the dense matrices, on the real 50x50 tokens
    R0 = ff.reach_matrix(H, W, M, 0).astype(np.int64)
    R1 = ff.reach_matrix(H, W, M, s).astype(np.int64)
    for tr, R in zip(exp.traces, (R0, R1), strict=True):
        wot = window_of_token(H, W, M, tr.shift_size).numpy().reshape(-1, 2)
        mask = tr.mask.numpy() if tr.mask is not None else None
        w, k = wot[:, 0], wot[:, 1]
        want = w[:, None] == w[None, :]
        if mask is not None:
            want &= mask[w[:, None], k[:, None], k[None, :]] == 0
        np.testing.assert_array_equal(R > 0, want)
    for q in [(49, 49), (0, 0), (48, 2), (25, 49)]:
        v = np.zeros(H * W, np.int64)
        v[q[0] * W + q[1]] = 1
        sets = ff.reach_sets(H, W, M, s, q, 2)
        got = [(v @ R0) > 0]
        for _ in range(2):
            v = ((v @ R1 > 0).astype(np.int64) @ R0 > 0).astype(np.int64)
            got.append(v > 0)
        for a, b in zip(sets, got, strict=True):
            np.testing.assert_array_equal(a.ravel(), b)
    # rollout within the pair: the dense products of the blocks' matrices, padding dropped
    A0, A1 = (dense_block(b) for b in exp.chain)
    eye = np.eye(H * W)
    np.testing.assert_allclose(ff.rollout(exp), (0.5 * A1 + 0.5 * eye) @ (0.5 * A0 + 0.5 * eye),
                               rtol=1e-6, atol=1e-9)  # chain: head mean in float32
    # the figure draws the whole real grid and says why padding is left out
    fig = ff.figure(exp, Selection(query=(49, 49)).resolved(exp))
    text = " ".join(a.text for a in fig.layout.annotations)
    assert "padded to 56×56" in text and "carry nothing" in text


def test_rollout_without_padding_keeps_all_the_weight():
    # 112 px: 28x28, 14x14, 7x7 tokens, all whole 7x7 windows: nothing leaves the picture
    m = load_model(img_size=112, seed=0, device="cpu")
    exp = m.explore(picture(), stage=3, pair=2, predict=False)
    for q in [(0, 0), (6, 6), (3, 5)]:
        maps, stages = ff.stage_maps(exp, q)
        assert stages == [3, 2, 1] and maps[-1].shape == (28, 28)
        np.testing.assert_allclose(maps[-1], dense_rollout(exp.chain, q), atol=1e-12)
        assert maps[-1].sum() == pytest.approx(1.0, abs=1e-6)  # float32 softmax rows
        assert maps[0].sum() == pytest.approx(1.0, abs=1e-6)


# What the figure's text says must hold for the exploration it draws.

def all_text(fig):
    return " ".join(a.text for a in fig.layout.annotations)


def test_rollout_title_names_the_weights(exp14):
    import dataclasses

    assert not exp14.pretrained
    text = all_text(ff.figure(exp14, Selection(query=(3, 3)).resolved(exp14)))
    assert "random weights" in text and "real weights" not in text
    trained = dataclasses.replace(exp14, pretrained=True)  # the flag a checkpoint load sets
    text = all_text(ff.figure(trained, Selection(query=(3, 3)).resolved(trained)))
    assert "pretrained weights" in text and "random weights" not in text


def test_stage4_footnote_states_only_what_holds_there(exp_s4):
    assert exp_s4.grid == (7, 7) and exp_s4.window_size == 7 and exp_s4.shift_size == 0
    text = all_text(make_figure("flow", exp_s4, query=(3, 3), k_pairs=4))
    for false in ("wrapped", "are masked", "next stage", "after patch merging",
                  "patch merging leads", "real weights"):
        assert false not in text, false
    assert "with no shift (s = 0)" in text and "no mask" in text
    assert "last pair of the last stage (stage 4)" in text


def test_footnote_on_masks_and_later_stages_where_they_hold(exp6, exp14):
    # exp6 (6x6, M = 3, s = 1): query (0, 0) gains nothing in block 1 (hand-checked above) and
    # its block-1 window mixes 4 regions, so keys there are masked
    text = all_text(make_figure("flow", exp6, query=(0, 0), k_pairs=2))
    assert "the keys that wrapped around the edge are masked" in text
    # exp14 is stage 1 of a 4-stage model, one pair per stage: stage 2 follows a patch merge
    assert exp14.config.num_stages == 4 and exp14.geometry.pairs - exp14.pair == 1
    text = all_text(make_figure("flow", exp14, query=(9, 4), k_pairs=2))
    assert "later pairs run after patch merging, in stage 2" in text
    assert "last stage" not in text


def test_every_coloured_panel_has_its_own_colour_bar(exp_s4):
    fig = make_figure("flow", exp_s4, query=(3, 3), k_pairs=4)
    scaled = {t.name: t for t in fig.data if t.type == "heatmap" and t.showscale}
    assert set(scaled) == {"reach block 0", "rollout stage 4", "rollout"}
    assert "stage-4" in scaled["rollout stage 4"].colorbar.title.text
    # the reach legend and the stage map's bar do not overlap (both at the grid rows' right)
    reach, own = scaled["reach block 0"].colorbar, scaled["rollout stage 4"].colorbar
    assert (reach.yanchor, own.yanchor) == ("top", "top")
    assert own.y <= reach.y - reach.len


def test_the_rollout_cache_keeps_the_latest_query_only(swin200):
    """A session's exploration must not grow with its clicks: the per-query rollout maps are
    kept for the latest query only, and alternating queries still get their own maps."""
    exp = swin200[(3, 2)]
    queries = [(0, 0), (5, 7), (0, 0), (12, 12), (5, 7)]
    for q in queries:
        maps, _ = ff.stage_maps(exp, q)
        np.testing.assert_allclose(maps[-1], dense_rollout(exp.chain, q), atol=1e-12)
    for r in range(13):
        ff.figure(exp, Selection(query=(r, r)).resolved(exp))
    store = exp.__dict__["_figure_cache"]
    assert [k for k in store if "flow_stage_maps" in str(k)] == ["flow_stage_maps"]


def test_the_room_under_the_panels_is_the_same_for_every_patch(exp6):
    """A click on another patch must not move the panels (the page would lay the whole figure
    out again): the bottom margin is the same whether or not the patch gets the sentence that
    the pair's second block adds nothing."""
    said = {}
    for q in [(r, c) for r in range(6) for c in range(6)]:
        for template in ("default", "lecture"):
            fig = make_figure("flow", exp6, query=q, k_pairs=2, template=template)
            text = all_text(fig)
            said.setdefault(template, {}).setdefault(
                "adds nothing for this patch" in text, set()).add(fig.layout.margin.b)
    for template, margins in said.items():
        assert set(margins) == {True, False}, template  # both kinds of patch occur on 6x6
        assert len(margins[True] | margins[False]) == 1, (template, margins)


@pytest.mark.parametrize("k", [1, 4])
def test_the_grid_is_tiles_of_one_subplot(exp14, exp_s4, k):
    """The reach steps and the stage's own map are tiles of one subplot, the picture a second
    (a click redraws the figure in the page: plotly's time grows with the subplots): the
    tiles do not overlap and lie inside the axes, each has its title right above it and the
    query's star on the query."""
    for exp, q in ((exp14, (9, 4)), (exp_s4, (1, 2))):
        fig = ff.figure(exp, Selection(query=q, k_pairs=k).resolved(exp))
        layout = fig.layout.to_plotly_json()
        assert sorted(key for key in layout if key.startswith("xaxis")) == ["xaxis", "xaxis2"]
        H, W = exp.grid
        tiles = [tuple(t.meta["tile"]) for t in fig.data if t.type == "heatmap" and t.meta]
        assert len(tiles) == k + 1 + (exp.stage > 1)  # the stage's own map past stage 1
        assert all(t.xaxis in (None, "x") for t in fig.data if t.type == "heatmap" and t.meta)
        for i, (y0, x0) in enumerate(tiles):
            for y1, x1 in tiles[i + 1:]:
                assert y0 + H <= y1 or y1 + H <= y0 or x0 + W <= x1 or x1 + W <= x0
        (xl, xh), (yh, yl) = layout["xaxis"]["range"], layout["yaxis"]["range"]
        assert all(xl <= x0 - 0.5 and x0 + W - 0.5 <= xh and yl <= y0 - 0.5
                   and y0 + H - 0.5 <= yh for y0, x0 in tiles)
        titles = [a for a in layout["annotations"] if a.get("xref") == "x"]
        assert sorted((a["y"] + 0.5, a["x"] - (W - 1) / 2) for a in titles) == sorted(tiles)
        assert all(a["yanchor"] == "bottom" for a in titles)
        star = next(t for t in fig.data if t.name == "query")
        assert sorted(zip(star.y, star.x, strict=True)) == sorted(
            (y0 + q[0], x0 + q[1]) for y0, x0 in tiles)
