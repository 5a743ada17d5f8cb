"""The prediction figure: the top-5 classes as bars equal to exp.top5, a clear note with random
weights (and how to get pretrained ones), and a sentence instead of bars without a head."""

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from swinviz import load_model
from swinviz.figures import make_figure
from swinviz.figures import prediction as fp
from swinviz.model import imagenet_classes


def picture():
    rng = np.random.default_rng(23)
    return Image.fromarray(rng.integers(0, 256, (64, 80, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def exp(explored):
    return explored(picture(), dict(img_size=56, window_size=7, seed=0, device="cpu"))


def bars(fig):
    return next(t for t in fig.data if t.type == "bar")


def test_bars_are_the_top5(exp):
    assert exp.top5 is not None and not exp.pretrained
    fig = make_figure("prediction", exp)
    bar = bars(fig)
    assert list(bar.x) == [p for _, _, p in exp.top5]
    assert list(bar.y) == [f"{name} ({i})" for i, name, _ in exp.top5]
    assert list(bar.customdata) == [i for i, _, _ in exp.top5]
    names = imagenet_classes()
    assert [names[i] for i in bar.customdata] == [n for _, n, _ in exp.top5]
    # the same numbers as the logits say, best first
    probs = exp.logits.softmax(-1)[0]
    assert list(bar.customdata) == probs.topk(5).indices.tolist()
    assert bar.x[0] == pytest.approx(float(probs.max()))
    assert fig.layout.yaxis.autorange == "reversed"  # best at the top
    assert fig.layout.shapes[0].x0 == pytest.approx(1 / 1000)  # chance level


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_random_weights_say_so(exp, template):
    fig = make_figure("prediction", exp, template=template)
    text = fig.layout.title.text
    assert "Random weights: this prediction is meaningless" in text
    assert "hub" in text and "checkpoint" in text
    assert fig.layout.meta["prediction"] == "random"
    assert fig.layout.meta["template"] == template
    trained = dataclasses.replace(exp, pretrained=True, weights="a checkpoint")
    fig = make_figure("prediction", trained)
    assert "meaningless" not in fig.layout.title.text
    assert fig.layout.meta["prediction"] == "pretrained"


def test_no_head_and_other_heads(exp):
    none = dataclasses.replace(exp, logits=None, top5=None)
    fig = make_figure("prediction", none)
    assert not [t for t in fig.data if t.type == "bar"]
    assert "no classifier head" in fig.layout.title.text
    assert fig.layout.meta["prediction"] == "no head"
    ten = dataclasses.replace(exp, logits=torch.arange(10.0)[None], top5=None)
    bar = bars(make_figure("prediction", ten))
    assert list(bar.y) == [f"class {i} ({i})" for i in (9, 8, 7, 6, 5)]
    assert bar.x[0] == pytest.approx(float(torch.arange(10.0).softmax(0)[9]))


def test_a_model_without_head():
    m = load_model(img_size=56, window_size=7, num_classes=0, seed=0, device="cpu")
    exp = m.explore(picture())
    assert exp.logits is None
    assert fp.top_classes(exp) == []
    assert "no classifier head" in make_figure("prediction", exp).layout.title.text


@pytest.mark.parametrize("template", ["default", "narrow"])
def test_the_chance_line_stays_inside_its_plot(exp, template):
    """The dashed "chance: 1/1000" line spans the bars' plot, top to bottom, and no more: on a
    phone the figure has more below the plot than the plot (a note), and a line drawn over the
    whole figure ran through the tick labels."""
    fig = make_figure("prediction", exp, template=template)
    (line,) = [s for s in fig.layout.shapes if s.type == "line"]
    domain = list(fig.layout.yaxis.domain or (0, 1))
    y0, y1 = line.y0, line.y1
    if line.yref == "y domain":  # fractions of the plot's own height
        y0, y1 = (domain[0] + v * (domain[1] - domain[0]) for v in (y0, y1))
    assert line.yref in ("paper", "y domain") and (y0, y1) == pytest.approx(domain)
