"""The page in Chinese (issue 23, Deliver 4): every label, note, button, tab and static text the
page is built with has its Chinese (app/lang/zh.py, `app.words`), with the same {fields}; the
badge and the query's caption are said in either language from the same numbers; switching back
gives the English the page was built with."""

from __future__ import annotations

import re
import string

import gradio as gr
import pytest
from conftest import language_followers, language_switch

from app import panel, runs, words
from app.lang.zh import WORDS
from app.ui import build_demo

# texts that are the same in every language, or not for people (hidden inputs' names)
SAME = {"Language / 语言", "badge", "lesson", "Swin-T", "Swin V2-T"}  # the models' names
# texts the page writes for a run (the badge, the caption, the lesson's step, notes)
DYNAMIC = {"badge", "status", "link-note", "query-caption", "weights-notice", "budget",
           "lesson-step", "lesson-text", "lesson-deeper",
           "compare-head-swin-t", "compare-head-swinv2-t"}  # (app.compare.heading)
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def demo():
    return build_demo(warm=False)


def _texts(demo):
    """(component, field, text) of every visible text a person reads as the page is built."""
    for comp in demo.blocks.values():
        if getattr(comp, "visible", True) is False or isinstance(comp, (gr.State, gr.Plot)):
            continue
        for field in ("label", "info"):
            text = getattr(comp, field, None)
            if isinstance(text, str) and text and not (
                    field == "label" and getattr(comp, "show_label", True) is False):
                yield comp, field, text
        if isinstance(comp, (gr.Button, gr.DownloadButton)) and comp.value:
            yield comp, "value", comp.value
        if isinstance(comp, gr.Markdown) and comp.value and comp.elem_id not in DYNAMIC \
                and not comp.value.startswith("**What you see:**"):  # the tabs' own (figures)
            yield comp, "value", comp.value
        if isinstance(comp, (gr.Radio, gr.CheckboxGroup, gr.Dropdown)):
            for name, _ in comp.choices:
                yield comp, "choice", name


def test_every_text_the_page_is_built_with_has_its_chinese(demo):
    dynamic = {"Upload an image (or click an example) to run the model."}  # the badge's own
    templates = [k for k in WORDS if "{" in k]  # a choice built from a template ("head {h}")

    def said(text):
        return text in WORDS or any(re.fullmatch(
            re.sub(r"\\\{\w+\\\}", r"\\d+", re.escape(k)), text) for k in templates)

    missing = sorted({text for comp, field, text in _texts(demo)
                      if not said(text) and text not in SAME and text not in dynamic
                      and not text.isdigit() and text not in ("English", "中文",
                                                              "(choose a file)")})
    assert missing == [], missing


def test_each_chinese_text_keeps_the_fields_of_its_english():
    def fields(text):
        return sorted(f for _, f, _, _ in string.Formatter().parse(text) if f)

    for english, chinese in WORDS.items():
        assert fields(english) == fields(chinese), english
        assert CJK.search(chinese), english


def test_the_language_switch_says_the_page_in_chinese_and_back(demo):
    said = words.said(list(demo.blocks.values()))
    assert len(said) >= 40
    zh = words.in_language(said, "zh")
    en = words.in_language(said, "en")
    for (_, texts), to_zh, to_en in zip(said, zh, en, strict=True):
        for field, english in texts.items():
            if field == "choices":
                assert [n for n, _ in to_en["choices"]] == [n for n, _ in english]
                assert all(CJK.search(n) for n, _ in to_zh["choices"]), english
            else:
                assert to_en[field] == english
                assert to_zh[field] == WORDS[english]
    tabs = [texts["label"] for comp, texts in said if isinstance(comp, gr.Tab)]
    assert "5 · Attention" in tabs and "Lesson" in tabs


@pytest.fixture(scope="module")
def view():
    return runs.run(str(runs.Path(__file__).resolve().parent.parent / "assets" / "cat.jpg"),
                    img_size=112, weights="random", stage=2)[-1]


def test_the_badge_and_the_caption_in_chinese_carry_the_same_numbers(view):
    exp = view.exp
    en, zh = panel.badge(view, "en"), panel.badge(view, "zh")
    assert "Stage 2, pair 0" in en and "第 2 阶段，第 0 对" in zh
    numbers = lambda s: re.findall(r"\d+", s)  # noqa: E731
    assert numbers(en.split("**Model run:**")[0]) == numbers(zh.split("**模型运行：**")[0])
    assert "meaningless with random weights" in en and "随机权重下没有意义" in zh
    assert exp.weights == "random (seed 0)"
    assert "**Weights:** random (seed 0)" in en and "**权重：** 随机（种子 0）" in zh
    r, c = runs.resolved_query(view) if hasattr(runs, "resolved_query") else (None, None)
    cap = panel.query_caption(view, 1, "zh")
    m = re.search(r"(\d+)x(\d+) 个 token 中第 (\d+) 行、第 (\d+) 列", cap)  # app/access.py's
    H, W = exp.grid
    assert m and (int(m[1]), int(m[2])) == (H, W)
    en_cap = panel.query_caption(view, 1, "en")
    e = re.search(r"row (\d+), column (\d+) of stage \d+'s (\d+)x(\d+) tokens", en_cap)
    assert (m[3], m[4]) == (e[1], e[2])
    assert panel.badge(None, "zh") == WORDS["Upload an image (or click an example) to run "
                                            "the model."]


def test_the_language_switch_says_the_weights_notice_again(demo):
    from app import events

    lang = language_switch(demo)
    said = [f for f in language_followers(demo) if f.fn is events.model_notice]
    assert len(said) == 1
    assert [o.elem_id for o in said[0].outputs] == ["weights-notice"]
    assert lang in said[0].inputs


def test_the_weights_notice_is_said_in_chinese_for_every_reason(monkeypatch, tmp_path):
    """The random-weights notice (#weights-notice) follows the page's language: its frame, each
    reason it gives and how to get the weights have their Chinese; only names (the variable,
    the command, the error's own words) stay as they are."""
    from app import events
    from swinviz.weights import policy

    def choice(**env):
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        return policy.default_weights("swin_tiny_patch4_window7_224", probe=False)

    monkeypatch.setattr(policy, "cached_hub_file", lambda *a, **k: None)
    monkeypatch.setattr(policy, "probe_hub", lambda **k: OSError("no route"))
    monkeypatch.setattr(policy, "reason", lambda e: str(e))
    cases = [choice(HF_HUB_OFFLINE="1", SWINVIZ_WEIGHTS=str(tmp_path / "none.pth"))]
    monkeypatch.delenv("HF_HUB_OFFLINE")
    cases.append(choice())  # not probed: not in the cache
    cases.append(policy.default_weights("swin_tiny_patch4_window7_224", probe=True))
    templates = {policy.NOTICE}
    for c in cases:
        assert not c.pretrained and c.notice == c.notice_in()
        templates |= {t for t, _ in c.reasons + c.how}
        zh = c.notice_in(lambda text, **fields: words.say("zh", text, **fields))
        assert zh.startswith("随机权重") and "Random weights" not in zh
        english_words = re.sub(r"`[^`]*`|SWINVIZ_WEIGHTS|HF_HUB_OFFLINE|Hugging Face|Hub|Swin|"
                               r"checkpoint|timm|torchvision|transformers|[\w./-]*none\.pth|"
                               r"no route", "", zh)
        assert not re.search(r"[A-Za-z]{3,}", english_words), english_words
    assert templates - {"{text}"} <= set(WORDS)  # every sentence of it has its Chinese
    assert len(templates) == 7  # the frame, four reasons, two ways to get them
    monkeypatch.setattr(events, "default_weights_choice", lambda arch: cases[0])
    assert events.model_notice("swin-t", "zh")["value"].startswith("**随机权重")
    assert events.model_notice("swin-t")["value"].startswith("**Random weights")


def test_the_budget_line_is_said_in_chinese_with_the_same_numbers():
    """The settings panel's budget line follows the page's language (the language switch
    says it again): the same sizes; a refusal's reason keeps the library's words."""
    en, zh = (panel.budget_line(224, 7, 3, "random", lang=L) for L in ("en", "zh"))
    assert en.startswith("This run needs about") and zh.startswith("这次运行大约需要")
    sizes = re.findall(r"[\d.]+ [KMG]?B", en)
    assert len(sizes) == 3 and sizes == re.findall(r"[\d.]+ [KMG]?B", zh)
    bad = panel.budget_line("inf", lang="zh")
    assert bad.startswith("**这些设置无法运行：**") and bad.split("**")[2].strip() == \
        panel.budget_line("inf").split("**")[2].strip()


def test_the_language_switch_says_the_budget_line_again(demo):
    from app import events

    lang = language_switch(demo)
    said = [f for f in language_followers(demo) if f.fn is events.on_budget]
    assert len(said) == 1 and lang in said[0].inputs
    assert [o.elem_id for o in said[0].outputs] == ["budget"]


def test_before_a_run_the_page_says_the_badge_again_not_the_server(demo):
    """Before a run the language switch's server answer leaves the badge alone: an answer
    made before a link's run had answered could arrive after the run's and put "Upload an
    image" over the run's badge (`?example=cat&lang=zh` did, 1 in 8 under 4 CPU hogs). The
    page's own event says the badge before a run in the new language (`panel.pre_run_badge_js`;
    its effect on the page: test_app_browser.py)."""
    from app import events

    lang = language_switch(demo)
    badge = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "badge")
    on_lang = [f for f in demo.fns.values() if f.fn is events.on_language]
    assert len(on_lang) == 1 and on_lang[0] in language_followers(demo)
    values = {comp: getattr(comp, "value", None) for comp in on_lang[0].inputs}  # as built
    values.update({comp: "zh" for comp in on_lang[0].inputs if comp is lang})
    assert [v for c, v in values.items() if isinstance(c, gr.State)] == [None]  # no run yet
    out = events.on_language(values)
    assert out[[o._id for o in on_lang[0].outputs].index(badge._id)] == gr.skip()
    page = [f for f in demo.fns.values() if f.fn is None and f.js == panel.pre_run_badge_js()]
    assert len(page) == 1 and [o._id for o in page[0].outputs] == [badge._id]
    assert [i._id for i in page[0].inputs] == [lang._id, badge._id]
    assert page[0] in language_followers(demo)
    js = panel.pre_run_badge_js()
    assert panel.badge(None, "zh") in js and panel.badge(None, "en") in js
