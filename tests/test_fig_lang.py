"""Figures in Chinese: every kind draws its words from swinviz/figures/lang/zh.py when asked
(`make_figure(kind, exp, lang="zh")`), with nothing left in English but numbers, symbols, code
names and the model's names; zh.WORDS holds exactly the msgids the code asks for, each with the
same {fields}; text measuring and wrapping treat a CJK character as one em; the CLI's
`figures --lang` is checked like the lecture's. (English stays byte for byte: tests/test_golden.)
"""

from __future__ import annotations

import ast
import html
import re
import string
from pathlib import Path

import pytest
from conftest import random_picture

from swinviz import cli, export, factory, model
from swinviz.figures import KINDS, make_figure
from swinviz.figures import masks as fm
from swinviz.figures import regions as fr
from swinviz.figures import relpos as frp
from swinviz.figures._core.text import text_px, wrap_px, wrap_text
from swinviz.figures._core.words import recording, tr
from swinviz.figures.lang.zh import WORDS
from swinviz.figures.registry import tab_text, tabs

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "swinviz" / "figures"
CAT = ROOT / "assets" / "cat.jpg"
CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")
# what may stay in English inside a Chinese figure: code names, formulas, the model's names
ALLOWED = re.compile(r"Swin(?:-[A-Z]\w*)?(?: V2)?|W-MSA|SW-MSA|LayerNorm|MLP|Grad-CAM|softmax|"
                     r"Hugging Face Hub|ImageNet(?:-1k)?|img_mask|roll|what if|Abnar & Zuidema|"
                     r"q·k\S*|\w+\.\w[\w.]*|\w+\([^)]*\)")
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){3,}\b")


@pytest.fixture(scope="module")
def drawn_zh(exp_s1, exp_s4, exp_6x6, exp_padded):
    """Every kind in Chinese for stage 1 and stage 4 of Swin-T at 224 px, the 6x6 example and
    the padded 200 px grid, in both templates: {(case, kind, template): figure} and the
    msgids asked for (and any missing from zh.WORDS)."""
    figs = {}
    with recording() as rec:
        for case, exp in (("stage1", exp_s1), ("stage4", exp_s4), ("6x6", exp_6x6),
                          ("padded", exp_padded)):
            for kind in KINDS:
                figs[(case, kind, "default")] = make_figure(kind, exp, lang="zh")
            for kind in KINDS:  # all heads, block 0, the slides' look: other sentences
                figs[(case, kind, "lecture")] = make_figure(kind, exp, lang="zh", head=None,
                                                            block=0, template="lecture")
            for tab, _ in tabs():
                tab_text(tab, exp, "zh")
        for tab, _ in tabs():
            tab_text(tab, None, "zh")
        tab_text("a tab nobody described", None, "zh")
    return figs, rec


def visible_texts(fig) -> list[str]:
    """The texts a reader sees: title, annotations, axis and colour-bar titles, legend names
    (traces shown in the legend), table headers; tags and entities removed."""
    d = fig.to_plotly_json()
    lay, out = d["layout"], []
    out.append(((lay.get("title") or {}).get("text")) or "")
    out += [a.get("text") or "" for a in lay.get("annotations", ())]
    for k, v in lay.items():
        if re.fullmatch(r"[xy]axis\d*", k) and isinstance(v, dict):
            out.append(((v.get("title") or {}).get("text")) or "")
    legend = lay.get("showlegend", True) is not False
    for t in d["data"]:
        if t.get("type") == "table":
            out += [str(h) for h in t["header"]["values"]]
        bar = t.get("colorbar") or {}
        if t.get("showscale", True) is not False and bar:
            out.append(((bar.get("title") or {}).get("text")) or "")
        if legend and t.get("showlegend") and t.get("name"):
            out.append(t["name"])
    return [html.unescape(re.sub(r"<[^>]+>", " ", s)) for s in out if s]


def test_every_kind_speaks_chinese(drawn_zh):
    figs, rec = drawn_zh
    assert not rec["missing"], sorted(rec["missing"])[:5]
    for key, fig in figs.items():
        texts = visible_texts(fig)
        assert CJK.search(texts[0]), (key, texts[0])  # the title
        for text in texts:
            left = ALLOWED.sub(" ", text)
            run = ENGLISH_RUN.search(left)
            assert run is None, (key, run.group(0), text)
        assert "Noto Sans CJK SC" in fig.layout.font.family, key
    for case in ("stage1", "stage4", "6x6", "padded"):  # the page's instant redraw: its
        click = figs[(case, "attention", "default")].layout.meta["click"]  # templates, in zh
        assert all(CJK.search(t["template"]) for t in click["texts"][:2]), case


def test_tab_texts_speak_chinese(exp_s1, exp_s4, exp_padded):
    for exp in (None, exp_s1, exp_s4, exp_padded):
        for tab, _ in tabs():
            text = tab_text(tab, exp, "zh")
            assert text.startswith("**") and CJK.search(text), (tab, text[:60])
            assert text != tab_text(tab, exp)


def _static_msgids() -> set[str]:
    """The msgids written in the code: the literal second argument of every tr(...) / say(...)
    call (both branches of a conditional expression) under swinviz/figures."""
    found: set[str] = set()

    def literal(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            a, b = literal(node.body), literal(node.orelse)
            return None if a is None or b is None else a + b
        return None

    for path in FIGURES.rglob("*.py"):
        if "lang" in path.relative_to(FIGURES).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("tr", "say") and len(node.args) >= 2):
                found.update(literal(node.args[1]) or ())
    return found


def test_the_words_are_exactly_the_msgids_used(drawn_zh, explored):
    """zh.WORDS has no stale entry: every key is a msgid written in the code (a literal) or
    asked for while drawing (msgids made at run time: the tab descriptions, table headers,
    the kinds of window, the parts a model leaves out ...), and every msgid written in the
    code has its sentence (branches the explorations above do not reach included)."""
    _, rec = drawn_zh
    with recording() as more:  # evidence, prediction, a model without parts, the toy figures
        ev = explored(random_picture(), dict(img_size=24, window_size=3, shift_size=1),
                      evidence=True)
        without = explored(random_picture(), dict(img_size=24, window_size=3, shift_size=1),
                           without=("mask", "shift", "bias"))
        for exp in (ev, without):
            for kind in KINDS:
                make_figure(kind, exp, lang="zh")
        fm.toy_figure(6, 6, 3, 1, lang="zh")
        fr.toy_figure(7, 7, 3, 1, lang="zh")
        frp.toy_figure(3, lang="zh")
    static = _static_msgids()
    seen = rec["seen"] | more["seen"]
    assert not more["missing"], sorted(more["missing"])[:5]
    assert not static - set(WORDS), sorted(static - set(WORDS))[:5]
    assert not set(WORDS) - (static | seen), sorted(set(WORDS) - (static | seen))[:5]


def _fields(text: str) -> list[str]:
    return sorted({f for _, f, _, _ in string.Formatter().parse(text) if f is not None})


def test_every_sentence_keeps_its_fields():
    bad = [k for k, v in WORDS.items() if _fields(k) != _fields(v)]
    assert not bad, bad[:5]
    for k, v in WORDS.items():  # tags too: a <sup> or <br> lost breaks a title's layout
        assert sorted(re.findall(r"<[^>]+>", k)) == sorted(re.findall(r"<[^>]+>", v)), k


def test_tr_is_english_by_default_and_falls_back():
    assert tr("en", "block {n} (W-MSA)", n=4) == "block 4 (W-MSA)"
    assert tr("zh", "block {n} (W-MSA)", n=4) == "block 4（W-MSA）"
    with recording() as rec:
        assert tr("zh", "not a msgid {x}", x=1) == "not a msgid 1"
    assert rec["missing"] == {("zh", "not a msgid {x}")}


def test_an_unknown_language_is_refused(exp_6x6):
    with pytest.raises(ValueError, match="unknown language 'xx'"):
        make_figure("windows", exp_6x6, lang="xx")


def test_cjk_is_measured_and_wrapped():
    """A CJK character is about one em (twice a Latin letter); Chinese breaks between its
    characters (not before closing punctuation) when it runs too wide."""
    assert text_px("窗口", 10) == pytest.approx(20.0)
    assert text_px("窗口", 10) > 1.5 * text_px("ab", 10)
    line = ("一个 7×7 窗口覆盖整个 7×7 网格（min(H, W) ≤ M），所以每个 token 已经能看到所有"
            "其他 token")
    wrapped = wrap_px(line, 13, 200)
    assert "<br>" in wrapped
    for piece in wrapped.split("<br>"):
        assert text_px(piece, 13) <= 200 + 13
        assert not piece.startswith(("，", "）", "。", "："))
    assert "".join(wrapped.split("<br>")).replace(" ", "") == line.replace(" ", "")
    short = wrap_text("第 1 阶段的窗口，block 0（W-MSA）和 block 1（SW-MSA）", 20)
    assert short.count("<br>") >= 2
    assert wrap_text("a b c", 80) == "a b c" and wrap_text("", 5) == ""
    assert wrap_px("<b>为什么？</b> 一个窗口", 13, 1000) == "<b>为什么？</b> 一个窗口"


class _FakeExporter:
    def __init__(self, figs):
        self.figs = figs

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def export(self, figs, out_dir, formats, width=1600, progress=None):
        self.figs.update(figs)
        return []


def test_cli_figures_in_chinese(tmp_path, monkeypatch, capsys):
    figs: dict = {}
    monkeypatch.setattr(export, "Exporter", lambda: _FakeExporter(figs))
    code = cli.main(["figures", str(CAT), "--out", str(tmp_path / "zh"), "--size", "56",
                     "--weights", "random", "--device", "cpu", "--kinds", "windows,masks",
                     "--lang", "zh"])
    assert code == 0, capsys.readouterr().err
    assert sorted(figs) == ["masks", "windows"]
    for fig in figs.values():
        assert CJK.search(fig.layout.title.text)
        assert CJK.search(fig.to_json())


def test_cli_unknown_language_is_one_sentence(tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("work started before --lang was checked")

    monkeypatch.setattr(factory, "load_model", refuse)
    monkeypatch.setattr(model.SwinTransformer, "explore", refuse)
    monkeypatch.setattr(export, "Exporter", refuse)
    monkeypatch.setattr(export, "find_browser", lambda: "/usr/bin/true")
    code = cli.main(["figures", str(CAT), "--out", str(tmp_path / "o"), "--lang", "xx"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--lang: unknown language 'xx'; choose from en, zh." in err
    assert err.strip().count("\n") == 0
    assert not (tmp_path / "o").exists()
