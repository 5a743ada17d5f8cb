"""SPEC 3.7 information flow: reach sets from window membership and masks (hand-checked on the
spec's 6x6 toy grid), attention rollout from the real weights, and the figure's data."""

import numpy as np
import pytest
from PIL import Image

from swinviz import load_model
from swinviz.figures import Selection, make_figure
from swinviz.figures import flow as ff
from swinviz.windows import window_order


def picture():
    rng = np.random.default_rng(13)
    return Image.fromarray(rng.integers(0, 256, (50, 50, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def exp6():
    return load_model(img_size=24, window_size=3, seed=0, device="cpu").explore(picture())


@pytest.fixture(scope="module")
def exp14():
    return load_model(img_size=56, window_size=7, seed=0, device="cpu").explore(picture())


def box(rows, cols, H=6, W=6):
    m = np.zeros((H, W), bool)
    for r in rows:
        for c in cols:
            m[r, c] = True
    return m


ALL = box(range(6), range(6))


# Hand-checked on the toy grid (H = W = 6, M = 3, s = 1; region ids of SPEC fact 4, which live
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
    """The token cells a cropped heatmap draws (non-NaN), as a bool (H, W)-free set."""
    z = np.asarray(trace.z, dtype=float)
    rr, cc = np.nonzero(~np.isnan(z))
    return {(int(r + trace.y0), int(c + trace.x0)) for r, c in zip(rr, cc, strict=True)}


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
    hm = next(t for t in fig.data if t.name == "rollout")
    row = ff.rollout_row(exp14, q).reshape(H, W)
    z = np.asarray(hm.z, dtype=float)
    for r, c in drawn(hm):
        assert z[r - int(hm.y0), c - int(hm.x0)] == pytest.approx(row[r, c], rel=1e-6)
    assert drawn(hm) == {tuple(map(int, t)) for t in np.argwhere(row > ff.ROLLOUT_FLOOR)}
    assert f"({q[0]}, {q[1]})" in fig.layout.title.text
    text = " ".join(a.text for a in fig.layout.annotations)
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
