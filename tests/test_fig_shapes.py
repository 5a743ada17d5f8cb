"""Shapes table: trace shapes read from the tensors, the rest consistent with running
the library's own functions, titles and templates."""

import numpy as np
import pytest
import torch
from figure_checks import assert_table_fits
from PIL import Image

from swinviz import load_model, window_partition, window_reverse
from swinviz.figures import make_figure
from swinviz.figures import shapes as fs


def picture():
    rng = np.random.default_rng(4)
    return Image.fromarray(rng.integers(0, 256, (64, 64, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def model14(swin):
    return swin(img_size=56, window_size=7, seed=0)


@pytest.fixture(scope="module")
def exp14(model14):
    return model14.explore(picture())


def by_step(rows):
    out = {}
    for r in rows:
        out.setdefault(r.step, r)
    return out


@pytest.mark.parametrize("block", [0, 1])
def test_trace_rows_are_the_tensor_shapes(exp14, block):
    t = exp14.traces[block]
    rows = by_step(fs.steps(exp14, block))
    assert rows["image"].shape == tuple(exp14.pixels.shape)
    assert rows["tokens"].shape == tuple(exp14.tokens.shape)
    assert rows["shortcut, norm1"].shape == tuple(t.x_in.shape)
    assert rows["scores"].shape == tuple(t.scores.shape)
    assert rows["+ bias"].shape == tuple(t.bias.shape)
    assert rows["softmax"].shape == tuple(t.attn.shape)
    assert rows["mlp.fc2, + residual"].shape == tuple(t.x_out.shape)
    if block == 1:
        assert rows["+ mask"].shape == tuple(t.mask.shape)
        assert rows["roll"].shape is not None
        assert rows["block 0 (W-MSA)"].shape == tuple(exp14.traces[0].x_out.shape)
        assert rows["mlp.fc2, + residual"].shape == tuple(exp14.output.shape)
    else:
        assert rows["+ mask"].shape is None and rows["roll"].shape is None
        assert rows["roll back"].shape is None
    for r in rows.values():
        assert r.source in ("trace", "settings")


def test_settings_rows_agree_with_running_the_steps(exp14, model14):
    """Rows computed from the settings match what the library's functions really produce."""
    t = exp14.traces[1]
    H, W = t.input_resolution
    M, C = t.window_size, exp14.embed_dim
    blk = model14.layers[0].blocks[1]
    rows = fs.steps(exp14, 1)
    shape = {r.step + r.code: r.shape for r in rows}
    with torch.no_grad():
        pe = model14.patch_embed.proj(exp14.pixels)
        x = blk.norm1(t.x_in).view(1, H, W, C)
        xr = torch.roll(x, (-t.shift_size, -t.shift_size), (1, 2))
        win = window_partition(xr, M)
        xw = win.view(-1, M * M, C)
        qkv = blk.attn.qkv(xw)
        q, k, v = blk.attn._split_heads(xw)
        out = t.attn @ v
        back = window_reverse(xw.view(-1, M, M, C), M, H, W)
        hidden = blk.mlp.fc1(blk.norm2(t.x_in))
    got = [r.shape for r in rows]
    for tensor in (pe, x, xr, win, xw, qkv, out, back, hidden):
        assert tuple(tensor.shape) in got, tuple(tensor.shape)
    assert (3, *q.shape) in got
    assert shape["proj" + f"attn.proj: Linear({C}, {C})"] == tuple(xw.shape)


def test_table_cells_show_the_rows(exp14):
    fig = make_figure("shapes", exp14, block=1)
    table = fig.data[0]
    assert table.type == "table"
    rows = fs.steps(exp14, 1)
    shapes = [c.replace("<b>", "").replace("</b>", "") for c in table.cells.values[2]]
    assert shapes == [fs.fmt(r.shape) for r in rows]
    assert "(4, 3, 49, 49)" in shapes  # scores / attn: 4 windows, 3 heads, 49 x 49
    assert "(4, 49, 49)" in shapes  # mask
    assert list(table.meta["shapes"]) == shapes
    assert len(table.cells.values) == len(table.header.values) == 6
    assert "Tensor shapes through block 1 (SW-MSA)" in fig.layout.title.text
    steps = [s.replace("<b>", "").replace("</b>", "") for s in table.cells.values[0]]
    assert steps.index("roll") < steps.index("window_partition") < steps.index("scores")
    assert steps.index("softmax") < steps.index("window_reverse") < steps.index("roll back")


def test_block0_and_templates(exp14):
    d = make_figure("shapes", exp14, block=0)
    assert "block 0 (W-MSA)" in d.layout.title.text
    shapes = list(d.data[0].cells.values[2])
    steps = [s.replace("<b>", "").replace("</b>", "") for s in d.data[0].cells.values[0]]
    assert shapes[steps.index("roll")] == "—" and shapes[steps.index("+ mask")] == "—"
    lec = make_figure("shapes", exp14, block=0, template="lecture")
    assert lec.layout.font.size > d.layout.font.size
    assert lec.data[0].cells.font.size > d.data[0].cells.font.size
    with pytest.raises(ValueError):
        make_figure("shapes", exp14, block=3)
    with pytest.raises(ValueError):
        fs.steps(exp14, 2)


def test_default_224_numbers():
    exp = load_model(seed=0).explore(picture())
    rows = by_step(fs.steps(exp, 1))
    assert rows["patch_embed.proj"].shape == (1, 96, 56, 56)
    assert rows["window_partition"].shape == (64, 7, 7, 96)
    assert rows["qkv"].shape == (64, 49, 288)
    assert rows["reshape, permute"].shape == (3, 64, 3, 49, 32)
    assert rows["scores"].shape == (64, 3, 49, 49)
    assert rows["+ mask"].shape == (64, 49, 49)
    assert rows["norm2, mlp.fc1, GELU"].shape == (1, 3136, 384)
    assert rows["mlp.fc2, + residual"].shape == (1, 3136, 96)


@pytest.mark.parametrize("template", ["default", "lecture"])
@pytest.mark.parametrize("block", [0, 1])
def test_table_cuts_nothing(exp14, template, block):
    fig = make_figure("shapes", exp14, block=block, template=template)
    assert_table_fits(fig, fig.data[0])


def test_table_cuts_nothing_224():
    exp = load_model(seed=0).explore(picture(), stage=3, pair=2)
    for template in ("default", "lecture"):
        fig = make_figure("shapes", exp, block=1, template=template)
        assert_table_fits(fig, fig.data[0])
