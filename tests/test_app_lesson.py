"""The page's Lesson tab as plain functions (app/lesson.py): the step's words, picture and
code for this session's exploration, the try buttons, the language from the address."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import lesson, runs
from swinviz.lesson import STEPS, Lesson

CAT = str(Path(__file__).resolve().parent.parent / "assets" / "cat.jpg")


@pytest.fixture(scope="module")
def view():
    return runs.run(CAT, img_size=56, window_size=7, shift_size=3)[-1]


def test_before_a_run_the_tab_says_what_to_do():
    label, text, picture, code, deeper, *tries = lesson.lesson_outputs(None, 0, "", "en")
    assert label == f"step 1 of {len(STEPS)}" and "Upload an image" in text and picture is None
    label, text, *_ = lesson.lesson_outputs(None, 0, "", "zh")
    assert label == f"第 1 步，共 {len(STEPS)} 步" and "上传" in text


def test_a_step_is_drawn_for_the_sessions_exploration(view):
    k = [s.name for s in STEPS].index("attention")
    label, text, picture, code, deeper, *tries = lesson.lesson_outputs(view, k, "", "en")
    expected = Lesson(view.exp).text(k)
    assert label == f"step {k + 1} of {len(STEPS)}"
    assert text.startswith(f"### {expected.title} `random weights`")
    assert all(line in text for line in expected.body)
    assert "attn.softmax(dim=-1)" in code["value"] and code["visible"]
    assert "5 · Attention" in deeper
    assert lesson.lesson_outputs(view, 0, "", "en")[3]["visible"] is False  # the title: none
    fig = json.loads(picture.plot) if hasattr(picture, "plot") else picture.to_dict()
    assert fig["data"]
    assert [t["visible"] for t in tries] == [True, True, True]
    # beyond the last step: the last; a query of the lesson's own ("r,c") moves the words
    assert lesson.lesson_outputs(view, 99, "", "en")[0] == f"step {len(STEPS)} of {len(STEPS)}"
    assert "(1, 2)" in lesson.lesson_outputs(view, k, "1,2", "en")[1]


def test_the_code_box_follows_the_block_the_run_shows(view):
    """The shift step's code: the roll where the block shifts (stage 1, s = 3); at stage 4
    (one 2x2 window, s = 0) the reference's branch the block runs, `shifted_x = x`."""
    k = [s.name for s in STEPS].index("shift")
    rolled = lesson.lesson_outputs(view, k, "", "en")[3]["value"]
    assert "shifted_x = torch.roll(x" in rolled and "shifted_x = x" not in rolled
    last = runs.run(CAT, img_size=56, window_size=7, shift_size=3, stage=4)[-1]
    code = lesson.lesson_outputs(last, k, "", "zh")[3]["value"]
    assert code == "\n".join(Lesson(last.exp).code(k)) and "    shifted_x = x" in code


def test_try_buttons_move_the_query_or_ask_the_page_for_a_stage(view):
    k = [s.name for s in STEPS].index("attention")
    assert STEPS[k].tries == ("boundary", "corner", "stage4")
    corner = Lesson(view.exp).numbers.corner
    assert lesson.on_try(view, k, 1, "en") == (f"{corner[0]},{corner[1]}", "")
    assert lesson.on_try(view, k, 2, "en")[1] == "stage:4"
    assert lesson.parse_spot("3,4") == (3, 4) and lesson.parse_spot("") is None
    assert lesson.parse_spot("a,b") is None


def test_the_language_comes_from_the_address():
    from app.address import read_address

    assert read_address({"lang": "zh"}).values["lang"] == "zh"
    assert read_address({"lang": "ZH "}).values["lang"] == "zh"
    assert "lang" not in read_address({"lang": "fr"}).values
    assert "lang" not in read_address({}).values
