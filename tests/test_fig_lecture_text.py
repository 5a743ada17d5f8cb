"""The lecture template goes on slides: no figure may tell the reader to hover, click or pick,
which paper cannot do; it states what the screen would show on hover instead."""

import re

import numpy as np
import pytest

from swinviz import load_model
from swinviz.figures import KINDS, make_figures

SCREEN_WORDS = re.compile(r"hover|click|pick a", re.IGNORECASE)


def texts(fig) -> list[str]:
    """Every text a reader sees on paper: the title, annotations, axis and colour bar titles,
    subplot titles, table headers and cells, and text drawn on traces."""
    out = [fig.layout.title.text or ""]
    out += [a.text or "" for a in fig.layout.annotations]
    lay = fig.layout.to_plotly_json()
    for key, axis in lay.items():
        if re.fullmatch(r"[xy]axis\d*", key) and isinstance(axis, dict):
            out.append(((axis.get("title") or {}).get("text")) or "")
    for t in fig.data:
        d = t.to_plotly_json()
        for field in ("text", "texttemplate", "name"):
            v = d.get(field)
            if isinstance(v, str):
                out.append(v)
            elif v is not None:
                out += [str(x) for x in np.ravel(np.asarray(v, dtype=object))]
        out.append(((d.get("colorbar") or {}).get("title") or {}).get("text") or "")
        for part in ("header", "cells"):
            vals = (d.get(part) or {}).get("values")
            if vals is not None:
                out += [str(x) for col in vals for x in np.ravel(np.asarray(col, dtype=object))]
    return out


@pytest.fixture(scope="module", params=[
    dict(settings=dict(img_size=56, window_size=7), stage=1,
         sel=dict(block=1, head=None, query=(13, 13))),
    dict(settings=dict(img_size=52, window_size=7), stage=1,  # padded 13x13 -> 14x14
         sel=dict(block=0, head=0, query=(0, 0))),
    dict(settings=dict(img_size=24, window_size=3, shift_size=1), stage=1,
         sel=dict(block=1, head=0, query=(2, 3))),
    dict(settings=dict(img_size=56, window_size=7), stage=4,  # 24 heads: compact panels
         sel=dict(block=0, head=None, query=(1, 1))),
], ids=["56-all-heads", "52-padded", "seed", "stage4-24-heads"])
def lecture_figures(request):
    p = request.param
    exp = load_model("random", device="cpu", **p["settings"]).explore(
        "assets/cat.jpg", stage=p["stage"])
    return (make_figures(exp, template="lecture", **p["sel"]),
            make_figures(exp, template="default", **p["sel"]))


@pytest.mark.parametrize("kind", KINDS)
def test_lecture_figures_do_not_ask_for_a_mouse(lecture_figures, kind):
    lecture, _ = lecture_figures
    said = [s for s in texts(lecture[kind]) if SCREEN_WORDS.search(s)]
    assert not said, f"{kind}: the lecture template says {said}"


def test_the_attention_note_states_what_hover_shows(lecture_figures):
    lecture, default = lecture_figures
    note = lecture["attention"].layout.annotations[-1].text.replace("<br>", " ")
    assert "Strongest key" in note and "slot k of window w" in note
    screen = default["attention"].layout.annotations[-1].text.replace("<br>", " ")
    assert "Hover a key" in screen  # the screen keeps its hover hint
