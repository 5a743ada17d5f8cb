"""Relative position index figure: the (N, N) table is the model's own
buffer, the spec's 9x9 table for M = 3 is written out, and the companion panel lights exactly the
offsets the query's keys read."""

import numpy as np
import pytest
import torch
from PIL import Image
from seed_tables import SEED_INDEX

from swinviz import relative_position_index
from swinviz.figures import Selection, make_figure
from swinviz.figures import relpos as fr
from swinviz.windows import window_of_token

SEED_M3 = np.array(SEED_INDEX)


def picture():
    rng = np.random.default_rng(5)
    return Image.fromarray(rng.integers(0, 256, (64, 80, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def model6(swin, explored):
    settings = dict(img_size=24, window_size=3, seed=0, device="cpu")
    return swin(**settings), explored(picture(), settings)


@pytest.fixture(scope="module")
def model14(swin, explored):
    settings = dict(img_size=56, window_size=7, seed=0, device="cpu")
    return swin(**settings), explored(picture(), settings)


def named(fig, name):
    return next(t for t in fig.data if t.name == name)


def lit_cells(fig):
    """Flat offsets (row-major over the (2M-1)^2 grid) the figure shows as read by the query."""
    dim = np.asarray(named(fig, "not read by this query").z, dtype=float)
    return set(np.flatnonzero(np.isnan(dim)).tolist())


@pytest.mark.parametrize("block", [0, 1])
def test_table_is_the_models_buffer_and_the_spec_table(model6, block):
    model, exp = model6
    fig = fr.figure(exp, Selection(block=block).resolved(exp))
    z = np.asarray(named(fig, "relative_position_index").z)
    buf = model.layers[0].blocks[block].attn.relative_position_index.cpu().numpy()
    np.testing.assert_array_equal(z, buf)
    np.testing.assert_array_equal(z, SEED_M3)
    # M = 3: every one of the 81 numbers is written in its cell
    text = named(fig, "index numbers")
    xs, ys = np.asarray(text.x), np.asarray(text.y)
    np.testing.assert_array_equal(np.asarray(text.text, dtype=int), SEED_M3[ys, xs])
    assert len(text.text) == 81
    assert f"block {block}" in fig.layout.title.text


def test_no_numbers_on_the_49x49_table(model14):
    _, exp = model14
    fig = fr.figure(exp, Selection().resolved(exp))
    z = np.asarray(named(fig, "relative_position_index").z)
    np.testing.assert_array_equal(z, relative_position_index(7).numpy())
    assert not any(t.name == "index numbers" for t in fig.data)
    assert not getattr(named(fig, "relative_position_index"), "texttemplate", None)


@pytest.mark.parametrize("query", [(0, 0), (5, 5), (2, 4), (4, 1)])
@pytest.mark.parametrize("block", [0, 1])
def test_companion_lights_the_query_row(model6, query, block):
    _, exp = model6
    H, W = exp.grid
    tr = exp.traces[block]
    M, s = tr.window_size, tr.shift_size
    slot = int(window_of_token(H, W, M, s)[query][1])
    fig = fr.figure(exp, Selection(block=block, query=query).resolved(exp))
    grid = np.asarray(named(fig, "offset grid").z)
    np.testing.assert_array_equal(grid, np.arange((2 * M - 1) ** 2).reshape(2 * M - 1, -1))
    assert lit_cells(fig) == set(relative_position_index(M)[slot].tolist())
    # the lit cells are the offsets (hi - hj, wi - wj) of the query slot to every key slot
    hi, wi = divmod(slot, M)
    offsets = {(hi - hj + M - 1) * (2 * M - 1) + (wi - wj + M - 1)
               for hj in range(M) for wj in range(M)}
    assert lit_cells(fig) == offsets
    # hover: which key reads each lit cell
    cd = np.asarray(named(fig, "offset grid").customdata)
    for j in range(M * M):
        cell = int(relative_position_index(M)[slot, j])
        assert tuple(cd.reshape(-1, 4)[cell, 2:]) == divmod(j, M)


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_templates_and_make_figure(model14, template):
    _, exp = model14
    fig = make_figure("relpos", exp, block=0, head=None, query=(3, 4), template=template)
    assert fig.layout.meta["template"] == template
    assert "block 0" in fig.layout.title.text
    assert "token (3, 4)" in fig.layout.annotations[1].text
    fig.to_json()


def test_toy_figure():
    for M in (1, 2, 3, 7):
        fig = fr.toy_figure(M)
        np.testing.assert_array_equal(np.asarray(named(fig, "relative_position_index").z),
                                      relative_position_index(M).numpy())
        assert lit_cells(fig) == set(relative_position_index(M)[M * M // 2].tolist())
    fig = fr.toy_figure(3, template="lecture", query_slot=0)
    assert lit_cells(fig) == set(SEED_M3[0].tolist())
    assert fig.layout.meta["template"] == "lecture"


def test_bad_selections(model6):
    _, exp = model6
    with pytest.raises(ValueError):
        make_figure("relpos", exp, block=2)
    with pytest.raises(ValueError):
        make_figure("relpos", exp, query=(6, 0))
    with pytest.raises(ValueError):
        make_figure("relpos", exp, template="poster")
    with pytest.raises(ValueError):
        fr.toy_figure(3, query_slot=9)
    with pytest.raises(ValueError):
        fr.toy_figure(0)
    with pytest.raises(ValueError):
        fr.toy_figure(3, template="poster")


def test_index_buffer_matches_between_blocks(model14):
    model, _ = model14
    for blk in model.layers[0].blocks:
        assert torch.equal(blk.attn.relative_position_index.cpu(), relative_position_index(7))
