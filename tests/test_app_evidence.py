"""The class-evidence tab (issue 27): a run brings Grad-CAM of its top class (the figure is drawn
with it), the picker offers the run's top-5 classes, a class chosen or typed runs one evidence
pass whose maps equal the library's, and a bad class, no run, or a pass over the memory limit
is one sentence, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest
import torch

from app import evidence, runs
from swinviz import load_model

ROOT = Path(__file__).resolve().parent.parent
PHOTO = str(ROOT / "assets" / "cat.jpg")
SMALL = dict(img_size=112, weights="random", stage=2)


@pytest.fixture(scope="module")
def view():
    return runs.run(PHOTO, **SMALL)[-1]


def figure_json(plot) -> dict:
    return json.loads(plot.plot)


def test_a_run_brings_the_top_class_and_the_picker_offers_the_top_five(view):
    exp = view.exp
    assert exp.evidence is not None and exp.evidence.target == exp.top5[0][0]
    update = evidence.picker(view)
    assert update["choices"] == [f"{n} ({i})" for i, n, _ in exp.top5]
    assert update["value"] == f"{exp.top5[0][1]} ({exp.top5[0][0]})"
    assert update["interactive"] is True
    assert evidence.picker(None)["interactive"] is False


@pytest.mark.parametrize("text,index", [("tabby", 281), ("Persian cat (283)", 283),
                                        ("7", 7)])
def test_a_chosen_class_runs_one_evidence_pass(view, text, index):
    plot = evidence.explain_class(view, "1", "0", "default", text)
    fig = figure_json(plot)
    assert fig["layout"]["meta"]["evidence"]["target"] == index
    ev = view.exp.evidence
    model = load_model("random", img_size=112)  # the library, on the run's own input image
    want = model.explain(view.exp.image, target=index, stage=2, block=-1, at="norm1")
    torch.testing.assert_close(ev.by_stage[2], want.grid, rtol=1e-4,
                               atol=1e-6 * float(want.grid.abs().max()))


@pytest.mark.parametrize("text,words", [
    ("cat", "'cat' names 8 classes"),
    ("1000", "target must be a class index from 0 to 999, got 1000"),
    ("x" * 5000, "no ImageNet class is named 'xxxxxxxx"),
])
def test_a_bad_class_is_one_sentence(view, text, words):
    with pytest.raises(gr.Error) as err:
        evidence.explain_class(view, "1", "0", "default", text)
    text = str(err.value.message)  # the page capitalises the sentence
    assert words.lower() in text.lower() and len(text) < 300


def test_no_run_and_no_room_are_sentences(view, monkeypatch):
    with pytest.raises(gr.Error, match="Run the model on an image first"):
        evidence.explain_class(None, "1", "0", "default", "tabby")
    monkeypatch.setattr(evidence, "evidence_fits", lambda *a: "it would need 9 GB")
    called = []
    monkeypatch.setattr(evidence, "_evidence_call", lambda *a: called.append(a))
    with pytest.raises(gr.Error, match="No class evidence here: it would need 9 GB"):
        evidence.explain_class(view, "1", "0", "default", "tabby")
    assert called == []


def test_a_run_over_the_evidence_budget_says_why_in_the_figure(monkeypatch):
    monkeypatch.setattr(runs, "evidence_fits", lambda *a: "its backward pass would need 9 GB")
    view = runs.run(PHOTO, **SMALL)[-1]
    assert view.exp.evidence is None
    from swinviz.figures import make_figure

    title = make_figure("evidence", view.exp).layout.title.text
    assert "its backward pass would need 9 GB" in title


def _explore(**kw):
    """/explore's own function, every parameter by name as gradio_client sends them."""
    from app.events import on_explore

    args = dict(image=PHOTO, img_size="112", window_size=7, shift_size=3, weights="random",
                checkpoint=None, block="1", head="0", template="default", seed=0, embed_dim=96,
                num_heads=3, stage=2, pair=0, query="", without="")
    return on_explore(**{**args, **kw}, progress=None)


@pytest.mark.parametrize("text,index", [("tabby", 281), ("Persian cat (283)", 283), ("7", 7)])
def test_the_api_target_names_the_class_the_evidence_explains(view, text, index):
    out = _explore(target=text)
    exp = out[-1].exp
    assert exp.evidence.target == index
    fig = figure_json(out[list(runs.KINDS).index("evidence")])
    assert fig["layout"]["meta"]["evidence"]["target"] == index
    # the same maps the page's picker gives for that class on the same run's input
    model = load_model("random", img_size=112)
    want = model.explain(exp.image, target=index, stage=2, block=-1, at="norm1")
    torch.testing.assert_close(exp.evidence.by_stage[2], want.grid, rtol=1e-4,
                               atol=1e-6 * float(want.grid.abs().max()))
    assert _explore(target="")[-1].exp.evidence.target == exp.top5[0][0]  # empty: top class


@pytest.mark.parametrize("text,words", [
    ("cat", "'cat' names 8 classes"),
    ("1000", "target must be a class index from 0 to 999, got 1000"),
])
def test_a_bad_api_target_is_one_sentence_before_the_run(monkeypatch, text, words):
    called = []
    monkeypatch.setattr(runs, "_run_model", lambda *a: called.append(a))
    with pytest.raises(gr.Error) as err:
        _explore(target=text)
    assert words.lower() in str(err.value.message).lower()
    assert called == []  # refused before any model work


def test_a_page_run_leaves_the_evidence_pass_for_after_its_first_figure():
    """Issue 28: with another tab open, the page's run draws the open tab's figures without the
    evidence pass (a backward pass through the model); the other tabs' figures (`on_rest`) bring
    it, with the same maps a run that made it at once has, and the class asked for in a link
    too. With the class-evidence tab open, or through the API, it comes with the run."""
    from app import events
    from swinviz.figures import KINDS

    page = runs.page_settings(SMALL)
    at_once = runs.run_settings(PHOTO, page)[-1].exp.evidence  # the API's run
    assert at_once is not None
    out = runs.run_settings(PHOTO, page, pack=True, first=("windows",))
    later = out[-1]
    assert later.exp.evidence is None and later.evidence_due == (None,)
    rest = events.on_rest(dict(view=later, block="1", head="0", template="default",
                               open_tab="windows", status=""))
    assert later.evidence_due is None and later.exp.evidence is not None
    fig = figure_json(rest[KINDS.index("evidence")])
    assert fig["layout"]["meta"]["evidence"]["target"] == at_once.target
    for s, grid in at_once.by_stage.items():
        torch.testing.assert_close(later.exp.evidence.by_stage[s], grid)
    asked = runs.run_settings(PHOTO, page, pack=True, first=("windows",), target=281)[-1]
    assert asked.evidence_due == (281,)
    evidence.complete(asked)
    assert asked.exp.evidence.target == 281
    now = runs.run_settings(PHOTO, page, pack=True, first=("evidence",))[-1]
    assert now.evidence_due is None and now.exp.evidence is not None


def test_a_failing_evidence_pass_leaves_the_other_figures_to_come(monkeypatch):
    """The evidence pass left for after the first figure runs before the other tabs' figures
    (`on_rest`): a bug in it must not keep them away; the evidence figure says it failed."""
    from app import events
    from swinviz.figures import KINDS

    def broken(*a, **k):
        raise RuntimeError("a bug")

    page = runs.page_settings(SMALL)
    view = runs.run_settings(PHOTO, page, pack=True, first=("windows",))[-1]
    monkeypatch.setattr(evidence, "_evidence_call", broken)
    rest = events.on_rest(dict(view=view, block="1", head="0", template="default",
                               open_tab="windows", status=""))
    assert all(p != gr.skip() for k, p in zip(KINDS, rest, strict=True) if k != "windows")
    assert "the evidence pass failed (RuntimeError)" in figure_json(
        rest[KINDS.index("evidence")])["layout"]["title"]["text"]
