"""Attention figure: the query's attention row placed at every key's REAL token position
(the shift undone), masked keys ~0, the logit taken apart, and every head of one window."""

import numpy as np
import pytest
import torch
from PIL import Image

from swinviz import load_model
from swinviz.figures import Selection, make_figure
from swinviz.figures import attention as fa


def picture():
    rng = np.random.default_rng(11)
    return Image.fromarray(rng.integers(0, 256, (90, 70, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def exp14():
    return load_model(img_size=56, window_size=7, seed=0, device="cpu").explore(picture())


@pytest.fixture(scope="module")
def exp6():
    return load_model(img_size=24, window_size=3, seed=0, device="cpu").explore(picture())


def named(fig, name):
    return next(t for t in fig.data if t.name == name)


def keys_of(exp, block, query):
    """Independent of the library's gathers: the brief's formula. Returns (window, slot of the
    query, {original token: slot}) for the query's window in `block`."""
    H, W = exp.grid
    tr = exp.traces[block]
    M, s = tr.window_size, tr.shift_size
    nWc = W // M
    for w in range((H // M) * nWc):
        wr, wc = divmod(w, nWc)
        tokens = {((wr * M + k // M + s) % H, (wc * M + k % M + s) % W): k for k in range(M * M)}
        if tuple(query) in tokens:
            return w, tokens[tuple(query)], tokens
    raise AssertionError("query in no window")


QUERIES = [(0, 0), (13, 13), (12, 1), (5, 9), (13, 6), (2, 12)]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("block", [0, 1])
@pytest.mark.parametrize("head", [0, 2, None])
def test_attention_on_grid_undoes_the_shift(exp14, query, block, head):
    grid = fa.attention_on_grid(exp14, block, head, query)
    H, W = exp14.grid
    assert grid.shape == (H, W)
    w, k, tokens = keys_of(exp14, block, query)
    attn = exp14.traces[block].attn[w, :, k]  # nH, N
    row = attn.mean(0) if head is None else attn[head]
    inside = ~np.isnan(grid)
    assert {tuple(map(int, t)) for t in np.argwhere(inside)} == set(tokens)
    for (r, c), j in tokens.items():
        assert grid[r, c] == pytest.approx(float(row[j]), abs=1e-7)
    assert np.nansum(grid) == pytest.approx(1.0, abs=1e-5)


def test_corner_query_wraps_in_original_coordinates(exp14):
    # token (13, 13) sits in block 1's corner window (M = 7, s = 3): rows and columns
    # (7 + k + 3) % 14 for k = 0..6, i.e. 10..13 and, wrapped around, 0..2
    grid = fa.attention_on_grid(exp14, 1, 0, (13, 13))
    rows, cols = np.nonzero(~np.isnan(grid))
    assert set(rows.tolist()) == {10, 11, 12, 13, 0, 1, 2}
    assert set(cols.tolist()) == {10, 11, 12, 13, 0, 1, 2}
    # the wrapped-around keys (another region before the roll) get ~0, the rest all the weight
    region = exp14.traces[1].region_ids
    s = exp14.shift_size
    orig = torch.roll(region, shifts=(s, s), dims=(0, 1))  # region id of every original token
    same = (orig == orig[13, 13]).numpy() & ~np.isnan(grid)
    masked = ~np.isnan(grid) & ~same
    assert masked.sum() > 0
    assert np.all(grid[masked] < 1e-20)
    assert grid[same].sum() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("head", [0, 1, None])
def test_figure_heatmaps_are_the_trace(exp14, head):
    q = (13, 12)
    sel = Selection(block=1, head=head, query=q).resolved(exp14)
    fig = fa.figure(exp14, sel)
    p = exp14.patch_size
    for b in (0, 1):
        hm = named(fig, f"attention block {b}")
        z = np.asarray(hm.z, dtype=np.float32)
        np.testing.assert_array_equal(z, fa.attention_on_grid(exp14, b, head, q))
        # token (r, c) covers pixels [c*p, (c+1)*p): its cell centre is at (c + 0.5) * p
        assert (hm.x0, hm.dx, hm.y0, hm.dy) == (p / 2, p, p / 2, p)
        # hover points: token, window, slot, region, probability, mask
        cd = np.asarray(named(fig, f"keys block {b}").customdata)
        s = exp14.traces[b].shift_size
        region = torch.roll(exp14.traces[b].region_ids, shifts=(s, s), dims=(0, 1)).numpy()
        assert len(cd) == exp14.window_size ** 2
        for r, c, w, k, g, prob, m in cd.astype(np.float64):
            r, c = int(r), int(c)
            assert z[r, c] == pytest.approx(prob, rel=1e-6, abs=1e-30)
            wk, _, tokens = keys_of(exp14, b, (r, c))
            assert (wk, tokens[(r, c)]) == (int(w), int(k))
            assert g == region[r, c]
            assert m == (-100 if region[r, c] != region[q] else 0)
    # masked keys are crossed out in block 1 and each has weight < 1e-20
    xs = named(fig, "masked keys")
    z1 = np.asarray(named(fig, "attention block 1").z)
    for x, y in zip(xs.x, xs.y, strict=True):
        assert z1[int(y // p), int(x // p)] < 1e-20
    title = fig.layout.title.text
    assert "block 0" in title and "block 1" in title
    assert ("mean over heads" in title) if head is None else (f"head {head}" in title)


@pytest.mark.parametrize("block", [0, 1])
@pytest.mark.parametrize("query", [(13, 12), (0, 3), (6, 6)])
def test_logit_taken_apart_sums_to_the_softmax(exp14, block, query):
    sel = Selection(block=block, head=1, query=query).resolved(exp14)
    fig = fa.figure(exp14, sel)
    parts = {n: np.asarray(named(fig, n).z, dtype=np.float64)
             for n in ("scores", "bias", "mask", "attn")}
    logits = parts["scores"] + parts["bias"] + parts["mask"]
    soft = np.exp(logits - logits.max())
    soft /= soft.sum()
    np.testing.assert_allclose(soft, parts["attn"], atol=1e-6)
    # each panel is the trace's own tensor for the query's row
    w, k, _ = keys_of(exp14, block, query)
    tr = exp14.traces[block]
    M = tr.window_size
    np.testing.assert_array_equal(parts["scores"], tr.scores[w, 1, k].numpy().reshape(M, M))
    np.testing.assert_array_equal(parts["bias"], tr.bias[1, k].numpy().reshape(M, M))
    np.testing.assert_array_equal(parts["attn"], tr.attn[w, 1, k].numpy().reshape(M, M))
    if tr.mask is None:
        assert not parts["mask"].any()
    else:
        np.testing.assert_array_equal(parts["mask"], tr.mask[w, k].numpy().reshape(M, M))
    for n in ("scores", "bias", "mask"):
        assert named(fig, n).zmid == 0


@pytest.mark.parametrize("window", [None, 0, 3])
def test_all_heads_of_one_window(exp14, window):
    q = (13, 12)
    sel = Selection(block=1, head=None, query=q, window=window).resolved(exp14)
    fig = fa.figure(exp14, sel)
    w = keys_of(exp14, 1, q)[0] if window is None else window
    assert not [t for t in fig.data if (t.name or "").startswith(f"window {w} head ")]
    hm = named(fig, f"window {w} heads")  # 3 heads: one tiled heatmap, one colour scale
    N = exp14.traces[1].window_size ** 2
    z, _, tiles = tiled(hm, N)
    assert len(tiles) == exp14.num_heads == 3
    for h, (y0, x0) in enumerate(tiles):
        np.testing.assert_array_equal(z[y0:y0 + N, x0:x0 + N], exp14.traces[1].attn[w, h].numpy())
    assert hm.zmax == pytest.approx(float(exp14.traces[1].attn[w].max()))


@pytest.mark.parametrize("head", [0, None])
def test_part_b_names_the_window_row_once_per_row_of_panels(exp14, head):
    """(b)'s y axes: "window row" on the first panel of each row of panels only (3 heads with
    head 0 chosen: the logit's 4 parts in one row; all heads: one tiled heatmap)."""
    fig = make_figure("attention", exp14, block=1, head=head, query=(2, 3))
    names = ["scores", "bias", "mask", "attn"] if head == 0 else ["attn heads"]
    titles = []
    for n in names:
        axis = fig.layout["yaxis" + named(fig, n).yaxis[1:]]
        titles.append(axis.title.text or "")
    assert titles == ["window row"] + [""] * (len(names) - 1)


@pytest.fixture(scope="module")
def exp_many_heads():
    """Stage 3 of a 56 px Swin-T: a 4x4 grid (7 padded by the merge), one 4x4 window, 12
    heads: part (c) is one tiled heatmap."""
    return load_model(img_size=56, window_size=7, seed=0, device="cpu").explore(
        picture(), stage=3)


def tiled(hm, n):
    """A tiled heatmap's values, hover data and tile origins, once checked that no two n x n
    tiles overlap and that NaN (hover data 0) fills everything between them."""
    z, cd = np.asarray(hm.z, dtype=np.float32), np.asarray(hm.customdata)
    tiles = [tuple(o) for o in hm.meta["tiles"]]
    inside = np.zeros(z.shape, bool)
    for y0, x0 in tiles:
        assert not inside[y0:y0 + n, x0:x0 + n].any()  # no two tiles overlap
        inside[y0:y0 + n, x0:x0 + n] = True
    assert np.isnan(z[~inside]).all() and (cd[~inside] == 0).all()
    return z, cd, tiles


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_many_heads_are_tiled_into_one_heatmap(exp_many_heads, template):
    """12 heads: (c) is one heatmap holding every head's matrix in its own tile, NaN between
    tiles; the hover data names the head, both slots and their real tokens; each tile is
    labelled and has the query's row outlined."""
    exp, q = exp_many_heads, (2, 3)
    tr = exp.traces[1]
    nH, N = exp.num_heads, tr.window_size ** 2
    assert nH == 12
    fig = make_figure("attention", exp, block=1, head=0, query=q, template=template)
    assert not [t for t in fig.data if (t.name or "").startswith("window 0 head ")]
    hm = named(fig, "window 0 heads")
    z, cd, tiles = tiled(hm, N)
    assert len(tiles) == nH and hm.meta["N"] == N
    w, k, tokens = keys_of(exp, 1, q)
    assert w == 0
    by_slot = {slot: tok for tok, slot in tokens.items()}
    for h, (y0, x0) in enumerate(tiles):
        np.testing.assert_array_equal(z[y0:y0 + N, x0:x0 + N], tr.attn[0, h].numpy())
        for i, j in ((0, 0), (k, N - 1), (N - 1, 3)):
            assert list(cd[y0 + i, x0 + j]) == [h, i, *by_slot[i], j, *by_slot[j]]
    assert hm.zmax == pytest.approx(float(tr.attn[0].max()))
    labels = [a.text for a in fig.layout.annotations if a.xref == hm.xaxis]
    assert labels == [f"head {h}" for h in range(nH)]
    # the query's row marked left and right of every tile, at the row's height
    row = named(fig, "query row")
    xs, ys = (np.array(v, dtype=float).reshape(-1, 3) for v in (row.x + (None,), row.y + (None,)))
    assert len(xs) == 2 * nH and np.isnan(xs[:, 2]).all() and np.isnan(ys[:, 2]).all()
    for h, (y0, x0) in enumerate(tiles):
        left, right = xs[2 * h, :2], xs[2 * h + 1, :2]
        assert left.max() == x0 - 0.5 and right.min() == x0 + N - 0.5
        assert (ys[2 * h:2 * h + 2, :2] == y0 + k).all()


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_all_heads_part_b_is_tiled_too(exp_many_heads, template):
    """12 heads, all chosen: (b) is one heatmap holding each head's attention row of the query
    as an M x M tile (not 12 panels: a redraw in the page lays out every subplot), NaN between
    tiles, hover data naming the head, the slot and its real token, a label per tile and the
    query's slot outlined in every tile."""
    exp, q = exp_many_heads, (2, 3)
    tr = exp.traces[0]
    nH, M = exp.num_heads, tr.window_size
    fig = make_figure("attention", exp, block=0, head=None, query=q, template=template)
    assert not [t for t in fig.data if (t.name or "").startswith("attn head ")]
    hm = named(fig, "attn heads")
    z, cd, tiles = tiled(hm, M)
    assert len(tiles) == nH and hm.meta["M"] == M
    w, k, tokens = keys_of(exp, 0, q)
    by_slot = {slot: tok for tok, slot in tokens.items()}
    for h, (y0, x0) in enumerate(tiles):
        np.testing.assert_array_equal(z[y0:y0 + M, x0:x0 + M],
                                      tr.attn[w, h, k].numpy().reshape(M, M))
        for i, j in ((0, 0), divmod(k, M), (M - 1, M - 2)):
            assert list(cd[y0 + i, x0 + j, :5]) == [h, i, j, *by_slot[i * M + j]]
    assert hm.zmax == pytest.approx(float(tr.attn[w, :, k].max()))
    labels = [a.text for a in fig.layout.annotations if a.xref == hm.xaxis]
    assert labels == [f"head {h}" for h in range(nH)]
    qy, qx = divmod(k, M)
    box = named(fig, "query slots")
    xs, ys = (np.array(v + (None,), dtype=float).reshape(-1, 6) for v in (box.x, box.y))
    assert len(xs) == nH
    for h, (y0, x0) in enumerate(tiles):
        assert (xs[h, :5].min(), xs[h, :5].max()) == (x0 + qx - 0.5, x0 + qx + 0.5)
        assert (ys[h, :5].min(), ys[h, :5].max()) == (y0 + qy - 0.5, y0 + qy + 0.5)


def test_toy_grid_exact_keys(exp6):
    # The design note's toy grid: 6x6 tokens, M = 3, s = 1. Token (5, 5) sits in block 1's
    # window 3 whose slots hold rows 4, 5, 0 and columns 4, 5, 0; only (4..5, 4..5) share its
    # region (id 4).
    grid = fa.attention_on_grid(exp6, 1, 0, (5, 5))
    inside = {tuple(map(int, t)) for t in np.argwhere(~np.isnan(grid))}
    assert inside == {(r, c) for r in (4, 5, 0) for c in (4, 5, 0)}
    kept = {(4, 4), (4, 5), (5, 4), (5, 5)}
    for r, c in inside:
        assert (grid[r, c] > 0.01) == ((r, c) in kept)
        if (r, c) not in kept:
            assert grid[r, c] < 1e-20


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_templates(exp6, template):
    fig = make_figure("attention", exp6, block=0, head=None, template=template)
    assert fig.layout.meta["template"] == template
    fig.to_json()


def test_bad_selections(exp6):
    with pytest.raises(ValueError):
        make_figure("attention", exp6, head=3)
    with pytest.raises(ValueError):
        make_figure("attention", exp6, query=(0, 6))
    with pytest.raises(ValueError):
        make_figure("attention", exp6, window=4)
    with pytest.raises(ValueError):
        fa.attention_on_grid(exp6, 2, 0, (0, 0))
    with pytest.raises(ValueError):
        fa.attention_on_grid(exp6, 1, 5, (0, 0))
    with pytest.raises(ValueError):
        fa.attention_on_grid(exp6, 1, 0, (-1, 0))


@pytest.mark.parametrize("block", [0, 1])
@pytest.mark.parametrize("query", [(0, 0), (13, 13), (6, 8)])
def test_all_heads_part_b_shows_every_heads_row_not_head_0(exp14, block, query):
    """head=None (--head all): part (b) holds, in one M x M tile per head, exactly that head's
    attention row of the query (from the trace), and its heading says so; no head-0
    decomposition is passed off as "all heads"."""
    fig = make_figure("attention", exp14, block=block, head=None, query=query)
    w, k, _ = keys_of(exp14, block, query)
    tr = exp14.traces[block]
    M = tr.window_size
    z, _, tiles = tiled(named(fig, "attn heads"), M)
    assert len(tiles) == exp14.num_heads
    for h, (y0, x0) in enumerate(tiles):
        np.testing.assert_array_equal(z[y0:y0 + M, x0:x0 + M],
                                      tr.attn[w, h, k].numpy().reshape(M, M))
    names = {t.name for t in fig.data}
    assert not names & {"scores", "bias", "mask", "attn"}  # no single head's decomposition
    heading = next(a.text for a in fig.layout.annotations if a.text.startswith("<b>(b)"))
    assert "Every head's attention row" in heading and f"token ({query[0]}, {query[1]})" \
        in heading and "head 0" not in heading
    one = make_figure("attention", exp14, block=block, head=2, query=query)
    heading = next(a.text for a in one.layout.annotations if a.text.startswith("<b>(b)"))
    assert "Taken apart" in heading and "head 2" in heading
    np.testing.assert_array_equal(np.asarray(named(one, "attn").z, dtype=np.float32),
                                  tr.attn[w, 2, k].numpy().reshape(M, M))


@pytest.mark.parametrize("head", [0, None])
def test_the_colour_bars_are_as_wide_for_every_query(exp14, exp_many_heads, head):
    """A click that changes the top of an attention scale must not change how wide its colour
    bar is (the right margin follows it, and the page would lay out every panel again): the
    bars are the same for every query, and their tick labels all have the same width for any
    probability."""
    for exp in (exp14, exp_many_heads):
        H, W = exp.grid
        bars, tops = [], set()
        for q in ((0, 0), (H // 2, W // 3), (H - 1, W - 1), (1, W - 2)):
            fig = make_figure("attention", exp, query=q, head=head)
            shown = [t for t in fig.data if t.type == "heatmap" and t.showscale]
            assert shown and all(t.colorbar.title.text == "attention" for t in shown)
            bars.append([t.colorbar.to_plotly_json() for t in shown])
            tops |= {round(float(t.zmax), 6) for t in shown}
        assert len(tops) > 1  # the scales' tops do change from query to query
        assert all(b == bars[0] for b in bars)
        fmt = bars[0][0]["tickformat"]
        assert len({len(format(v, fmt)) for v in np.linspace(0, 1, 1001)}) == 1



@pytest.mark.parametrize("head", [0, None])
def test_the_figure_carries_its_redraw_contract_for_the_page(exp14, head):
    """layout.meta["click"] (swinviz.figures.attention.click, read by app/instant.js): every
    role's traces are where it says, and every template filled with the figure's own query gives
    the text shown, so the page rewrites no sentence and reads no trace's name."""
    r, c = q = (2, 3)
    fig = make_figure("attention", exp14, block=1, head=head, query=q).to_plotly_json()
    meta = fig["layout"]["meta"]
    click = meta["click"]
    assert meta["template"] == "default" and click["v"] == 1
    names = [t.get("name") for t in fig["data"]]
    for b in (0, 1):
        assert names[click["traces"]["attention"][b]] == f"attention block {b}"
        assert names[click["traces"]["keys"][b]] == f"keys block {b}"
    for h, i in enumerate(click["traces"]["head"]):
        assert names[i] == f"attn head {h}"
    assert (not click["traces"]["scores"]) == (head is None)
    parts = fa.decomposition(exp14, 1, 0 if head is None else head, q)
    vals = {"row": str(r), "col": str(c),
            "scores_mean": f"{np.abs(parts['scores']).mean():.3f}",
            "bias_mean": f"{np.abs(parts['bias']).mean():.3f}"}
    for b in (0, 1):
        w, k = (int(v) for v in fa.maths._geometry(exp14.traces[b])[1][r, c])
        vals.update({f"window{b}": str(w), f"slot{b}": str(k)})
    vals.update(window=vals["window1"], slot=vals["slot1"])
    assert click["window"] == int(vals["window"])
    for text in click["texts"]:
        path, tpl = text["path"], text["template"]
        shown = (fig["layout"]["title"]["text"] if "title" in path else
                 fig["layout"]["annotations"][path["annotation"]]["text"] if "annotation" in path
                 else fig["data"][path["trace"]][path["key"]])
        if "item" in path:
            shown = shown[path["item"]]
        assert text["values"] and set(text["values"]) <= set(fa.click.PLACEHOLDERS)
        assert fa.click.fill(tpl, {v: vals[v] for v in text["values"]}) == shown, tpl
    assert any("title" in t["path"] for t in click["texts"])


def test_a_few_heads_are_tiles_too_with_their_slots_labelled(exp6):
    """3 heads (the note's 6x6 example, 9 slots a window): (c) is one tiled heatmap too (a redraw
    in the page lays out one subplot, not three), each tile's 9 slots labelled under it and
    left of the row; on a phone, where three tiles would be too small, a panel a head."""
    fig = make_figure("attention", exp6, block=1, head=0, query=(2, 2))
    hm = next(t for t in fig.data if (t.name or "").endswith(" heads"))
    z, _, tiles = tiled(hm, 9)
    assert len(tiles) == 3
    x, y = fig.layout["xaxis" + hm.xaxis[1:]], fig.layout["yaxis" + hm.yaxis[1:]]
    assert x.showticklabels and list(x.ticktext) == [str(k) for k in range(9)] * 3
    assert list(x.tickvals) == [x0 + k for _, x0 in tiles for k in range(9)]
    assert list(y.ticktext) == [str(k) for k in range(9)]  # one row of tiles
    assert [a.text for a in fig.layout.annotations if a.xref == hm.xaxis] == [
        "head 0", "head 1", "head 2"]
    phone = make_figure("attention", exp6, block=1, head=0, query=(2, 2), template="narrow")
    assert not [t for t in phone.data if (t.name or "").endswith(" heads")]
    w = keys_of(exp6, 1, (2, 2))[0]
    assert [t.name for t in phone.data if (t.name or "").startswith(f"window {w} head")] == [
        f"window {w} head {h}" for h in range(3)]
