"""Bias figure: the (2M-1)^2 image recovered from the trace's gathered
bias equals the model's relative_position_bias_table, and the gathered panel is trace.bias."""

import numpy as np
import pytest
from PIL import Image

from swinviz import relative_position_index
from swinviz.figures import Selection, make_figure
from swinviz.figures import bias as fb


def picture():
    rng = np.random.default_rng(7)
    return Image.fromarray(rng.integers(0, 256, (60, 60, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def model14(swin, explored):
    settings = dict(img_size=56, window_size=7, seed=1, device="cpu")
    return swin(**settings), explored(picture(), settings)


@pytest.fixture(scope="module")
def model6(swin, explored):
    settings = dict(img_size=24, window_size=3, num_heads=2, embed_dim=32, seed=2, device="cpu")
    return swin(**settings), explored(picture(), settings)


def named(fig, name):
    return next(t for t in fig.data if t.name == name)


@pytest.mark.parametrize("which", ["model14", "model6"])
@pytest.mark.parametrize("block", [0, 1])
def test_table_image_equals_the_model_parameter(which, block, request):
    model, exp = request.getfixturevalue(which)
    trace = exp.traces[block]
    M = trace.window_size
    img = fb.bias_table_image(trace)
    table = model.layers[0].blocks[block].attn.relative_position_bias_table.detach().cpu().numpy()
    assert img.shape == (trace.num_heads, 2 * M - 1, 2 * M - 1)
    assert not np.isnan(img).any()  # every offset occurs in the gathered matrix
    for h in range(trace.num_heads):
        np.testing.assert_array_equal(img[h].ravel(), table[:, h])
    # and the gathered bias is that table read through the index
    idx = relative_position_index(M).numpy()
    np.testing.assert_array_equal(trace.bias.numpy(), np.moveaxis(table[idx], -1, 0))


@pytest.mark.parametrize("head", [None, 0, 2])
@pytest.mark.parametrize("block", [0, 1])
def test_figure_data_is_the_trace(model14, head, block):
    model, exp = model14
    fig = fb.figure(exp, Selection(block=block, head=head).resolved(exp))
    heads = range(exp.num_heads) if head is None else [head]
    table = model.layers[0].blocks[block].attn.relative_position_bias_table.detach().cpu().numpy()
    for h in heads:
        z = np.asarray(named(fig, f"table head {h}").z)
        np.testing.assert_array_equal(z.ravel(), table[:, h])
        g = np.asarray(named(fig, f"gathered head {h}").z)
        np.testing.assert_array_equal(g, exp.traces[block].bias[h].numpy())
    names = {t.name for t in fig.data}
    assert sum(n.startswith("table head") for n in names) == len(heads)
    for t in fig.data:
        if t.type == "heatmap":
            assert t.zmid == 0 and t.zmin == -t.zmax  # diverging, centred on 0
    title = fig.layout.title.text
    assert f"block {block}" in title.lower()
    assert ("all heads" in title) if head is None else (f"head {head}" in title)


def test_table_axes_are_offsets(model6):
    _, exp = model6
    fig = fb.figure(exp, Selection(head=1).resolved(exp))
    t = named(fig, "table head 1")
    np.testing.assert_array_equal(np.asarray(t.x), [-2, -1, 0, 1, 2])
    np.testing.assert_array_equal(np.asarray(t.y), [-2, -1, 0, 1, 2])
    # centre cell = Δ (0, 0) = table row 12 for M = 3 (the diagonal of the gathered bias)
    z = np.asarray(t.z)
    assert z[2, 2] == exp.traces[1].bias[1, 0, 0].item()
    # hover names the table row of every cell
    cd = np.asarray(t.customdata)
    np.testing.assert_array_equal(cd[..., 2], np.arange(25).reshape(5, 5))
    assert t.texttemplate  # a 5x5 table gets its numbers written


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_templates(model6, template):
    _, exp = model6
    fig = make_figure("bias", exp, block=0, head=None, template=template)
    assert fig.layout.meta["template"] == template
    fig.to_json()


def test_bad_selections(model6):
    _, exp = model6
    with pytest.raises(ValueError):
        make_figure("bias", exp, head=2)  # 2 heads: 0 and 1
    with pytest.raises(ValueError):
        make_figure("bias", exp, block=-1)
    with pytest.raises(ValueError):
        make_figure("bias", exp, template="nope")
