"""SPEC 3.8 cost figure: parameter counts equal a direct count of the model's nn.Parameters,
FLOPs are swinviz.cost's, the measured times are the exploration's, and the no-shift note."""

import numpy as np
import pytest
from PIL import Image

from swinviz import cost, load_model
from swinviz.figures import Selection, make_figure
from swinviz.figures import cost as fc


def picture():
    rng = np.random.default_rng(17)
    return Image.fromarray(rng.integers(0, 256, (40, 48, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def model14():
    m = load_model(img_size=56, window_size=7, seed=0, device="cpu")
    return m, m.explore(picture())


@pytest.fixture(scope="module")
def model6():
    m = load_model(img_size=24, window_size=3, embed_dim=48, num_heads=4, seed=0, device="cpu")
    return m, m.explore(picture())


@pytest.fixture(scope="module")
def model_noshift():
    m = load_model(img_size=28, window_size=7, seed=0, device="cpu")  # 7x7 tokens: one window
    return m, m.explore(picture())


def number(cell: str) -> int:
    return int(cell.replace("<b>", "").replace("</b>", "").replace(" ", ""))


@pytest.mark.parametrize("which", ["model14", "model6", "model_noshift"])
def test_parameter_counts_are_the_models(which, request):
    model, exp = request.getfixturevalue(which)
    direct = cost.count_parameters(model)
    rows = fc.parameter_rows(exp)
    assert {r["name"]: r["count"] for r in rows} == direct
    fig = fc.figure(exp, Selection().resolved(exp))
    table = next(t for t in fig.data if t.type == "table")
    names, _, _, b0, b1, both = table.cells.values
    for i, name in enumerate(names[:-1]):
        if name.startswith("patch_embed"):
            assert number(both[i]) == direct[name]
        else:
            m = name.removeprefix("blocks.{0,1}.")
            assert number(b0[i]) == direct[f"pair.blocks.0.{m}"]
            assert number(b1[i]) == direct[f"pair.blocks.1.{m}"]
            assert number(both[i]) == direct[f"pair.blocks.0.{m}"] + direct[f"pair.blocks.1.{m}"]
    assert number(both[-1]) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("which", ["model14", "model6", "model_noshift"])
def test_flops_are_swinviz_cost(which, request):
    model, exp = request.getfixturevalue(which)
    H, W = exp.grid
    fig = fc.figure(exp, Selection().resolved(exp))
    for b, blk in enumerate(model.layers[0].blocks):
        parts = fc.block_flop_parts(exp, b)
        assert sum(parts.values()) == blk.flops()
        bars = [t for t in fig.data if t.type == "bar" and t.name in parts]
        assert sum(t.y[b] for t in bars) == blk.flops()
    msa = next(t for t in fig.data if t.name == "global MSA")
    wmsa = next(t for t in fig.data if t.name == "W-MSA")
    for x, y in zip(msa.x, msa.y, strict=True):
        assert y == cost.msa_flops(int(x), int(x), exp.embed_dim)
    for x, y in zip(wmsa.x, wmsa.y, strict=True):
        assert y == cost.wmsa_flops(int(x), int(x), exp.embed_dim, exp.window_size)
    mark = next(t for t in fig.data if t.name == "this input")
    assert list(mark.x) == [H, H]
    assert list(mark.y) == [cost.wmsa_flops(H, W, exp.embed_dim, exp.window_size),
                            cost.msa_flops(H, W, exp.embed_dim)]


def test_measured_times(model14):
    _, exp = model14
    fig = fc.figure(exp, Selection().resolved(exp))
    bar = next(t for t in fig.data if t.name == "forward time")
    assert list(bar.y) == [exp.timings_ms[k] for k in ("patch_embed", "pair_traced",
                                                       "pair_fast")]
    assert exp.device in " ".join(a.text for a in fig.layout.annotations)


def test_no_shift_note(model14, model_noshift):
    _, exp = model_noshift
    assert exp.shift_size == 0 and exp.window_size == 7
    text = " ".join(a.text for a in make_figure("cost", exp).layout.annotations)
    assert "Why no shift?" in text and "covers the whole 7×7 grid" in text
    _, exp = model14
    text = " ".join(a.text for a in make_figure("cost", exp).layout.annotations)
    assert "Why no shift?" not in text


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_templates(model6, template):
    _, exp = model6
    fig = make_figure("cost", exp, template=template)
    assert fig.layout.meta["template"] == template
    assert "Cost" in fig.layout.title.text
    fig.to_json()


def test_bad_selections(model6):
    _, exp = model6
    with pytest.raises(ValueError):
        make_figure("cost", exp, template="slides")
    with pytest.raises(ValueError):
        make_figure("cost", exp, head=4)
