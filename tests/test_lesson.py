"""The lesson (swinviz.lesson): one list of steps read by the page's tour and the 16:9 deck,
each step's words drawn from the exploration (stage 1, stage 4, the 6x6 example, a padded
grid), in every language; the deck as PPTX, PDF and 1920x1080 PNGs."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from conftest import random_picture

from swinviz.lesson import (
    ACTIONS,
    STEPS,
    Lesson,
    boundary_query,
    languages,
    lesson_numbers,
    reach,
    readings,
)
from swinviz.lesson.i18n import _module
from swinviz.lesson.theme import MIN_PX

CJK = re.compile(r"[\u2e80-\u9fff]")


@pytest.fixture(scope="module")
def explorations(exp_s1, exp_s4, exp_6x6, exp_padded):
    return {"stage 1": exp_s1, "stage 4": exp_s4, "6x6": exp_6x6, "padded": exp_padded}


# ------------------------------------------------------------------------- one source


def test_every_language_says_every_step_and_label():
    """A language file holds every step, every label of English and every "try this"."""
    en = _module("en")
    assert languages()[0] == "en" and "zh" in languages()
    for code in languages():
        m = _module(code)
        assert set(m.STEPS) == {s.name for s in STEPS}, code
        assert set(m.UI) == set(en.UI), code
        assert set(m.TRY) == set(ACTIONS), code
    for step in STEPS:
        assert set(step.tries) <= set(ACTIONS), step.name
        assert len(step.tries) <= 3, step.name  # the page's try buttons
    assert len({s.name for s in STEPS}) == len(STEPS) >= 12
    with pytest.raises(ValueError, match="choose from en, zh"):
        Lesson(None, lang="fr")


def test_the_steps_follow_the_notes_argument():
    """The problem first (patches, the cost of global attention), then each fix in the note's
    order, the cost against Table 1 last."""
    names = [s.name for s in STEPS]
    order = ["patches", "cost", "windows", "block", "shift", "regions", "mask", "relpos", "bias",
             "attention", "rollback", "flow", "merging", "last", "table"]
    assert [n for n in names if n in order] == order


# ------------------------------------------------------------------- numbers and readings


def test_the_query_sits_on_a_window_border_and_the_shift_joins_four_windows(explorations):
    """Stage 1 of Swin-T (56x56, M=7, s=3): token (27, 27) is the last row and column of a
    window; its shifted window draws from 4 of block 0's windows, so after the pair 4·49 tokens
    reach it. The note's 6x6 example (M=3, s=1): token (2, 2), 4 windows, all 36 tokens."""
    n = lesson_numbers(explorations["stage 1"])
    assert n.query == (27, 27) and (n.query[0] + 1) % n.M == 0
    r = readings(explorations["stage 1"], n.query)
    assert (r.reach0, r.reach1, r.windows_joined) == (49, 196, 4)
    n6 = lesson_numbers(explorations["6x6"])
    r6 = readings(explorations["6x6"], n6.query)
    assert n6.query == (2, 2) and (r6.reach0, r6.reach1, r6.windows_joined) == (9, 36, 4)
    # stage 4: one 7x7 window, no shift: the middle token, nothing joined
    n4 = lesson_numbers(explorations["stage 4"])
    assert (n4.M, n4.s, n4.query) == (7, 0, (3, 3))
    assert boundary_query(7, 7, 7, 0) == (3, 3)


def test_the_corner_gains_nothing_and_masked_weights_vanish_in_float32(explorations):
    """The corner query's shifted window only wraps: the mask keeps it in its own window. The
    largest weight the mask leaves is below what float32 can add to 1 (the slide's sentence)."""
    exp = explorations["stage 1"]
    n = lesson_numbers(exp)
    r = readings(exp, n.corner)
    assert (r.reach0, r.reach1, r.windows_joined) == (49, 49, 1)
    assert 0 < r.masked_max < 1e-40
    assert torch.tensor(1.0) + torch.tensor(r.masked_max) == torch.tensor(1.0)


@pytest.mark.parametrize("which", ["stage 1", "6x6", "padded"])
def test_reach_equals_what_the_gradient_of_the_real_pair_touches(explorations, swin, which):
    """Independent check of the flow step: the tokens whose input changes the query's output
    after the pair (autograd through the model's own two blocks) are the reach."""
    exp = explorations[which]
    settings = {"stage 1": dict(img_size=224), "6x6": dict(img_size=24, window_size=3,
                                                            shift_size=1),
                "padded": dict(img_size=200)}[which]
    model = swin(**settings)
    blocks = model.pair_blocks(exp.stage, exp.pair)
    x = exp.tokens.clone().requires_grad_(True)
    y = x
    for blk in blocks:
        y = blk(y)
    q = lesson_numbers(exp).query
    H, W = exp.grid
    y[0, q[0] * W + q[1]].sum().backward()
    touched = (x.grad[0].abs().sum(-1) > 1e-20).view(H, W).numpy()
    assert np.array_equal(touched, reach(exp, q)[1])


# -------------------------------------------------------------------- words that hold


def _slide_texts(fig) -> str:
    return " ".join(a.text or "" for a in fig.layout.annotations)


def test_words_say_what_this_stage_does(explorations):
    """Stage 4's second block is W-MSA (shift 0), never SW-MSA; the mask slide says the weights
    approach 0, never that -100 is exact; random weights are said to be noise."""
    s4 = Lesson(explorations["stage 4"])
    assert "W-MSA again" in " ".join(s4.text("block").body)
    for name in ("block", "shift", "mask", "attention", "rollback", "flow", "last"):
        assert "SW-MSA" not in " ".join(s4.text(name).body), name
    s1 = Lesson(explorations["stage 1"])
    mask = " ".join(s1.text("mask").body)
    assert "approaches 0" in mask and "exact" not in mask
    bias = " ".join(s1.text("bias").body)
    assert "random" in bias and "noise" in bias and "prefer" not in bias
    assert "SW-MSA" in " ".join(s1.text("block").body)
    # stage 4's speaker notes say nothing of a shift; its patches are still 4x4 pixels
    for code in languages():
        lesson = Lesson(explorations["stage 4"], lang=code)
        for name in ("windows", "block", "shift", "regions", "mask", "attention", "rollback",
                     "flow"):
            notes = lesson.text(name).notes
            assert not any(w in notes for w in ("−s", "-s", "SW-MSA", "九个区域", "nine",
                                                 "−100", "移位窗口")), (code, name, notes)
        assert "4×4" in lesson.text("patches").body[0] and "32×32" in lesson.text(
            "patches").body[1]


def test_the_code_box_shows_the_branch_the_block_takes(explorations):
    """Where the shown block does not shift (stage 4: one window, s = 0) the shift, regions,
    mask and roll-back steps show the reference's `if self.shift_size > 0:` with the else
    branch the block runs (`shifted_x = x`, `attn_mask = None`), not the roll and the mask
    alone; where it shifts, the roll and the mask."""
    s1, s4 = Lesson(explorations["stage 1"]), Lesson(explorations["stage 4"])
    ran = {"shift": "shifted_x = x", "regions": "attn_mask = None",
           "mask": "attn_mask = None", "rollback": "x = shifted_x"}
    for name, line in ran.items():
        step = next(s for s in STEPS if s.name == name)
        assert s1.code(name) == step.code and s4.code(name) == step.unshifted, name
        assert any(c.strip().startswith(line) for c in s4.code(name)), name
        assert not any(c.strip().startswith(line) for c in s1.code(name)), name
        assert any(c.startswith("if self.shift_size > 0:") for c in s4.code(name)), name
    for name in ("windows", "relpos", "bias", "attention"):  # the same at every stage
        assert s4.code(name) == s1.code(name), name


def test_the_evidence_step_says_why_it_cannot_measure_agreement(explored):
    """Where the class evidence (Grad-CAM, ReLU-ed) is 0 on every token of the query's window
    the correlation with the weights is undefined: the step says so in every language instead
    of leaving the line out; elsewhere it gives r. The cat at 200 px (padded grid) has such a
    window at the evidence step's query, at 224 px it has not."""
    from PIL import Image

    from swinviz.lesson.reading import window_ids

    cat = Image.open(__file__.rsplit("/", 2)[0] + "/assets/cat.jpg").convert("RGB")
    seen = set()
    for size in (200, 224):
        exp = explored(cat, dict(img_size=size), stage=1, evidence=True)
        k = [s.name for s in STEPS].index("evidence")
        query = Lesson(exp).query(STEPS[k])
        inside = window_ids(exp, 1) == window_ids(exp, 1)[query]
        flat = bool((exp.evidence.by_layer["norm1"].numpy()[inside] <= 0).all())
        seen.add(flat)
        en, zh = (" ".join(Lesson(exp, lang=c).text(k).body) for c in ("en", "zh"))
        assert ("0 on every token" in en) is flat and ("都是 0" in zh) is flat, size
        assert ("agree at r =" in en) is not flat and ("r =" in zh) is not flat, size
    assert seen == {True, False}


def test_sentences_hold_for_one_window_a_single_token_and_a_padded_grid(explorations):
    """Stage 4 at 224 px cuts its 7x7 grid into "1 window" (not "1 windows"), has no mask to
    leave out because it has no shift, and its notes do not promise a shift and a mask; the
    6x6 example's last stage is one token, not "every token attends to every other"; a padded
    grid is cut as its padded size (the windows counted are the padded grid's)."""
    s4 = Lesson(explorations["stage 4"])
    assert s4.text("windows").body[0].startswith("Block 0 cuts the 7×7 grid into 1 window of ")
    assert "with no shift there is no mask" in s4.text("whatif").body[0]
    assert "shift and mask" not in s4.text("v2").notes
    assert "shift and mask" in Lesson(explorations["stage 1"]).text("v2").notes
    for code, one, every in (("en", "a single token", "every other"),
                             ("zh", "只有一个 token", "所有其他")):
        last = " ".join(Lesson(explorations["6x6"], lang=code).text("last").body)
        assert one in last and every not in last, (code, last)
        last = " ".join(Lesson(explorations["stage 1"], lang=code).text("last").body)
        assert every in last and one not in last, (code, last)
    # the 6x6 example's window is M = 3: its index is the small example, drawn once
    six = Lesson(explorations["6x6"])
    k = [s.name for s in STEPS].index("relpos")
    assert not any(line.startswith(("Left", "Right")) for line in six.text("relpos").body)
    assert [t.type for t in six.visual(k).data] == ["heatmap"]
    assert [t.type for t in Lesson(explorations["stage 1"]).visual(k).data] == ["heatmap"] * 2
    # one sentence is one bullet (the shift slide's paper and code); a Chinese slide's labels
    # use the Chinese colon
    for code, second in (("en", "the code"), ("zh", "代码")):
        shift = Lesson(explorations["stage 1"], lang=code).text("shift").body
        assert not any(line.startswith(second) for line in shift), shift
    k = [s.name for s in STEPS].index("cost")
    zh = Lesson(explorations["stage 1"], lang="zh")
    notes = [a.text for a in zh.visual(k).layout.annotations]
    assert any("</b>：" in t for t in notes) and not any("</b>:" in t for t in notes), notes
    pad = Lesson(explorations["padded"])
    n = pad.numbers
    assert (n.H, n.Hp) == (50, 56) and n.nW == 64
    assert pad.text("windows").body[0].startswith("Block 0 cuts the 56×56 grid into 64 windows")
    assert "50×50 is not a multiple of 7" in " ".join(pad.text("windows").body)
    # the regions picture veils the padding's tokens where the roll took them (V1: padded,
    # then rolled by s = 3: rows and columns 50-55 land on 47-52)
    k = [s.name for s in STEPS].index("regions")
    veil = [t for t in pad.visual(k).data if t.name == "zero padding"]
    assert len(veil) == 1
    z = np.isfinite(np.asarray(veil[0].z, dtype=float))
    r0, c0 = int(veil[0].y0 - 0.5), int(veil[0].x0 - 0.5)  # the corner the picture shows
    assert [r0 + i for i in np.flatnonzero(z.all(1))] == list(range(47, 53))  # whole rows
    assert [c0 + j for j in np.flatnonzero(z.all(0))] == list(range(47, 53))  # whole columns
    assert not [t for t in Lesson(explorations["stage 1"]).visual(k).data
                if t.name == "zero padding"]
    zh = Lesson(explorations["padded"], lang="zh").text("windows").body[0]
    assert "56×56 网格划分成 64 个" in zh
    # the cost the blocks compute: W-MSA's formula on the padded grid, counted here
    C, M, hw = 96, 7, 56 * 56
    run = 4 * hw * C * C + 2 * M * M * hw * C  # 145 108 992
    cost = " ".join(pad.text("cost").body)
    assert "padded to 56×56, so W-MSA computes 145 M" in cost and "2500 tokens only" in cost
    assert n.wmsa_run == run
    # and the ratio on what the blocks compute: the cost figure's "×" (test_fig_cost.py)
    assert f"global costs {n.msa / run:.1f}× what the blocks compute" in cost
    assert "全局注意力是各 block 实际计算量的 8.9 倍" in " ".join(
        Lesson(explorations["padded"], lang="zh").text("cost").body)
    assert "padded" not in " ".join(Lesson(explorations["stage 1"]).text("cost").body)


def test_every_step_draws_at_every_stage_in_every_language(explorations):
    """Each step's slide: 1920x1080, every text at least MIN_PX (cell numbers too), the
    random-weights badge where the picture shows learned numbers; its picture alone too."""
    for which, exp in explorations.items():
        for code in languages():
            lesson = Lesson(exp, lang=code, theme="dark" if code == "zh" else "light")
            for k, step in enumerate(STEPS):
                fig = lesson.slide(k)
                assert (fig.layout.width, fig.layout.height) == (1920, 1080)
                for a in fig.layout.annotations:
                    assert a.font.size is None or a.font.size >= MIN_PX, (which, step.name, a.text)
                for tr in fig.data:
                    if getattr(tr, "texttemplate", None):
                        assert tr.textfont.size >= MIN_PX, (which, step.name)
                    if tr.type == "table":
                        assert tr.cells.font.size >= MIN_PX and tr.header.font.size >= MIN_PX
                        # the theme's ground under the theme's ink (not plotly's white)
                        assert tr.header.fill.color == lesson.theme.bg
                        assert lesson.theme.panel in tr.cells.fill.color[0]
                axes = {k: v for k, v in fig.layout.to_plotly_json().items()
                        if re.fullmatch(r"[xy]axis\d*", k)}
                for name, ax in axes.items():
                    if ax.get("showticklabels") is not False and ax.get("visible") is not False:
                        size = ax.get("tickfont", {}).get("size")
                        assert size and size >= MIN_PX, (step.name, name)
                badge = lesson.badge(k)
                assert (badge is not None) == (step.weights and not exp.pretrained)
                if badge:
                    assert badge in _slide_texts(fig)
                text = lesson.text(k)
                if code == "zh":
                    assert CJK.search(text.title + " ".join(text.body)), step.name
                assert text.notes and text.body
                assert lesson.visual(k, page=True).data is not None


def test_the_what_if_step_says_what_each_part_prevents_where_it_does(explorations):
    """Issue 24's step: its numbers are the readings of the parts figure, and each sentence
    holds where it is said (stage 4: nothing to mask or shift; a window of one region: no
    leak, said as such)."""
    from swinviz.figures.parts import mask_leak, reach_counts

    s1 = Lesson(explorations["stage 1"])
    r = s1.readings(s1.numbers.corner)
    body = s1.text("whatif").body
    assert r.leak > 0 and f"puts {r.leak:.0%} of its weight" in body[0]
    assert r.leak_max == pytest.approx(float(mask_leak(explorations["stage 1"]).per_window.max()))
    assert r.reach_flat == 49 and r.reach_shift == reach_counts(56, 56, 7, 3, s1.numbers.corner)[-1]
    assert f"only 49 tokens reach the query (its window); with it, {r.reach_shift}" in body[1]
    s4 = " ".join(Lesson(explorations["stage 4"]).text("whatif").body)
    assert "Without the mask: nothing changes here" in s4 and "nothing changes either" in s4
    middle = (28, 28)  # inside one window of one region: nothing leaks, and the step says so
    assert "holds one region, so nothing leaks" in s1.text("whatif", query=middle).body[0]


def test_a_query_given_moves_the_words_and_the_picture(exp_s1):
    lesson = Lesson(exp_s1)
    assert "(27, 27)" in " ".join(lesson.text("attention").body)
    assert "(10, 20)" in " ".join(lesson.text("attention", (10, 20)).body)
    assert lesson.action_query("corner") == lesson_numbers(exp_s1).corner
    assert lesson.action_query("stage4") is None
    assert lesson.query(STEPS[0], (99, 99)) == lesson.numbers.query  # outside: the step's own


def test_the_six_by_six_regions_are_the_notes_table(exp_6x6):
    """The regions step draws the whole rolled 6x6 map with its ids written in the cells
    (docs/concepts.md's worked example: bands [0,3), [3,5), [5,6))."""
    fig = Lesson(exp_6x6).slide([s.name for s in STEPS].index("regions"))
    heat = next(t for t in fig.data if t.type == "heatmap")
    expect = np.array([[0, 0, 0, 1, 1, 2]] * 3 + [[3, 3, 3, 4, 4, 5]] * 2 + [[6, 6, 6, 7, 7, 8]])
    assert np.array_equal(np.array(heat.z), expect)
    numbers = [[re.sub(r"<[^>]+>", "", str(t)) for t in row] for row in heat.text]  # its ink
    assert np.array_equal(np.array(numbers, dtype=float), expect)


def test_wrapping_keeps_chinese_punctuation_and_long_code():
    from swinviz.lesson.text import wrap, wrap_code

    lines = wrap("区域 id 相同的 token 在移位前是相邻的。" * 3, 30, 400)
    assert all(not line.startswith(("。", "，")) for line in lines) and len(lines) > 1
    # a number keeps its unit, a block its number, an opening bracket what it opens
    for text, max_px in (("全局注意力的代价是 2 G，窗口注意力是 145 M，少了 13.8 倍", 300),
                         ("温度（最大值为 100）在 softmax 之前（res-post-norm）乘上去", 170),
                         ("the score of block 1 is the one after the shift of block 0", 200),
                         ("一个小 MLP 代替表中的 75 个参数，并能为任何窗口给出偏置", 260)):
        lines = wrap(text, 24, max_px)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost
        assert len(lines) > 2, lines
        for line in lines:
            assert not line.endswith(("（", "block", " M", "75")) and not line.startswith(
                ("M", "G", "1 ", "0", "个")), lines
    # a letter keeps its value, brackets and all; a number its groups of digits
    for text in ("position bias: learned numbers (M = 7) in a table", "its 3 072 numbers replace "
                 "a table of 2 362 368 numbers in a block"):
        for max_px in range(120, 420, 20):
            lines = wrap(text, 24, max_px)
            assert " ".join(lines) == text
            assert not any(line.endswith(("(M", "=", " 3", " 2", " 362")) for line in lines), lines
    code = wrap_code("attn_mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2)", 58)
    assert code == ["attn_mask = mask_windows.unsqueeze(1)", "        - mask_windows.unsqueeze(2)"]
    # a title of two lines in two halves, not a word left alone under a full line
    from swinviz.lesson.text import wrap_even
    title = "mask of window 63 (-100 dark, 0 light)"
    assert wrap(title, 26, 420)[-1] == "0 light)"
    assert wrap_even(title, 26, 420) == ["mask of window 63", "(-100 dark, 0 light)"]
    # Chinese titles and table cells break between phrases where that takes no more lines
    # ("偏置 / 表，13×13" and "token 网 / 格" broke inside a word on the Chinese slides)
    zh = "注意力头 0 的偏置表，13×13 个偏移"
    assert wrap_even(zh, 22, 260) == ["注意力头 0 的偏置表，", "13×13 个偏移"]
    assert wrap("token 网格", 20, 80, phrases=True) == ["token", "网格"]
    assert wrap("网格网格网格网格", 20, 70, phrases=True) == ["网格网", "格网格", "网格"]  # a
    # phrase longer than a line is still broken between its characters
    # outside brackets where it can; a comment on a line of its own, above its code
    assert wrap_code("rel = coords.flatten(1)[:, :, None] - coords.flatten(1)[:, None, :]",
                     61) == ["rel = coords.flatten(1)[:, :, None]",
                             "        - coords.flatten(1)[:, None, :]"]
    assert wrap_code("rel = rel.permute(1, 2, 0) + (M - 1)  # offsets from 0 to 2M-2", 40) == [
        "# offsets from 0 to 2M-2", "rel = rel.permute(1, 2, 0) + (M - 1)"]
    assert wrap_code("    x = f(a)  # " + "word " * 12, 30) == [
        "    # word word word word word", "    # word word word word word", "    # word word",
        "    x = f(a)"]


# ------------------------------------------------------------------------------ the deck


@pytest.fixture(scope="module")
def decks(tmp_path_factory, explorations):
    """The deck of the 6x6 example in English (light) and of stage 1 in Chinese (dark)."""
    from conftest import require_browser

    from swinviz.export import Exporter, find_browser
    from swinviz.lesson import write_lecture

    require_browser(find_browser(), "Chrome or Chromium")
    out = tmp_path_factory.mktemp("decks")
    with Exporter() as ex:
        return {
            "en": write_lecture(explorations["6x6"], out / "en", lang="en", exporter=ex),
            "zh": write_lecture(explorations["stage 1"], out / "zh", lang="zh", theme="dark",
                                exporter=ex),
        }


@pytest.mark.browser
def test_the_pptx_is_16_9_with_notes_and_text_on_every_slide(decks):
    from pptx import Presentation

    for code, paths in decks.items():
        prs = Presentation(str(paths[-3]))
        assert paths[-3].name == "lecture.pptx"
        assert prs.slide_width * 9 == prs.slide_height * 16
        assert len(prs.slides) == len(STEPS) >= 12
        for slide, step in zip(prs.slides, STEPS, strict=True):
            assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip()
            texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
            assert any(t.strip() for t in texts), step.name
            assert any(s.shape_type == 13 for s in slide.shapes), step.name  # the picture
        numbers = [[t for s in slide.shapes if s.has_text_frame
                    for t in [s.text_frame.text] if re.fullmatch(r"\d+ / \d+", t)]
                   for slide in prs.slides]
        assert numbers == [[f"{k} / {len(STEPS)}"] for k in range(1, len(STEPS) + 1)]
        if code == "zh":
            titled = [s for s in prs.slides
                      if any(CJK.search(sh.text_frame.text) for sh in s.shapes
                             if sh.has_text_frame)]
            assert len(titled) >= 0.8 * len(STEPS)


@pytest.mark.browser
def test_the_pdf_has_one_16_9_page_size_and_text(decks):
    from pypdf import PdfReader

    for code, paths in decks.items():
        reader = PdfReader(str(paths[-2]))
        sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height)))
                 for p in reader.pages}
        assert len(sizes) == 1 and len(reader.pages) == len(STEPS)
        (w, h), = sizes
        assert w * 9 == h * 16
        texts = [p.extract_text() for p in reader.pages]
        assert all(t.strip() for t in texts)
        if code == "en":
            assert "The cyclic shift" in texts[[s.name for s in STEPS].index("shift")]
            assert "-100" in texts[[s.name for s in STEPS].index("mask")] or \
                "−100" in texts[[s.name for s in STEPS].index("mask")]
        else:
            assert sum(bool(CJK.search(t)) for t in texts) >= 0.8 * len(STEPS)


@pytest.mark.browser
def test_the_slide_pngs_are_1920x1080_with_no_ink_at_the_edges(decks):
    from PIL import Image

    for code, paths in decks.items():
        pngs = [p for p in paths if p.suffix == ".png"]
        assert [p.name for p in pngs] == [f"{k + 1:02d}-{s.name}.png" for k, s in
                                          enumerate(STEPS)]
        bg = (21, 24, 29) if code == "zh" else (255, 255, 255)
        for p in pngs:
            with Image.open(p) as im:
                a = np.asarray(im.convert("RGB")).astype(int)
            assert a.shape == (1080, 1920, 3), p.name
            edge = np.concatenate([a[:16].reshape(-1, 3), a[-16:].reshape(-1, 3),
                                   a[:, :16].reshape(-1, 3), a[:, -16:].reshape(-1, 3)])
            assert np.abs(edge - bg).max() <= 2, p.name
        frames = sorted((paths[0].parent / "shift-frames").glob("*.png"))
        assert len(frames) >= 2 and paths[-1].name == "cyclic-shift.gif"


@pytest.mark.parametrize("which", ["stage 1", "6x6", "padded"])
def test_the_mask_step_shows_the_window_where_pieces_wrap(explorations, which):
    """The mask step draws the rolled map's last window, whose mask has -100 entries, also on
    a padded grid (50x50 in 56x56: the image's corner token sits in an interior window)."""
    exp = explorations[which]
    fig = Lesson(exp).slide([s.name for s in STEPS].index("mask"))
    heats = [t for t in fig.data if t.type == "heatmap"]
    mask = np.array(heats[1].z)
    assert mask.min() == -100 and mask.max() == 0
    np.testing.assert_array_equal(mask, exp.traces[1].mask[-1].numpy())


def test_titles_hold_for_the_exploration(explorations, explored):
    """A title says only what holds: stage 4's query is on no window border; with windows of 3
    at 224 px the last stage (7x7) still shifts, so it is not "one window, no shift"."""
    s4 = Lesson(explorations["stage 4"])
    assert "border" not in s4.text("attention").title
    assert s4.text("last").title == "The last stage: one window, no shift"
    small = Lesson(explored(random_picture(), dict(img_size=224, window_size=3, shift_size=1),
                            stage=1, predict=False), lang="zh")
    assert small.text("last").title == "最后一个阶段"
    assert "移位 1" in " ".join(small.text("last").body)
    assert "边界" in small.text("attention").title


def test_the_v2_step_counts_the_blocks_of_real_v1_and_v2_models(explorations):
    """Issue 26, "what V2 changed": the step's numbers at the explored stage are the parameters
    of real blocks of that width, heads and window: V1's bias table and block, V2's bias MLP and
    block (built with swinviz.v2), and the table a window twice as large would need."""
    from swinviz import load_model
    from swinviz.lesson.numbers import grouped

    exp = explorations["stage 1"]  # Swin-T at 224 px: C = 96, 3 heads, M = 7
    v1 = load_model("random", img_size=224).layers[0].blocks[0]
    v2 = load_model("random", arch="swinv2-t", img_size=224, window_size=7).layers[0].blocks[0]
    v1_2m = load_model("random", img_size=224, window_size=14).layers[0].blocks[0]
    table = v1.attn.relative_position_bias_table.numel()
    mlp = sum(p.numel() for p in v2.attn.cpb_mlp.parameters())
    assert (table, mlp) == (507, 3072)
    for code in languages():
        lesson = Lesson(exp, lang=code)
        body = " ".join(lesson.text("v2").body)
        assert str(table) in body and str(mlp) in body, code
        assert str(v1_2m.attn.relative_position_bias_table.numel()) in body, code
        from swinviz.lesson import step_names

        k = step_names().index("v2")
        cells = [list(t.cells.values) for t in lesson.slide(k).data if t.type == "table"]
        written = " ".join(str(v) for col in cells[0] for v in col)
        for n in (table, mlp):  # the table writes a count as the words do ("3072", not "3 072")
            assert grouped(n) in written and grouped(n) in body, (code, n)
        flat = " ".join(str(v) for col in cells[0] for v in col).replace(" ", "")
        for n in (sum(p.numel() for p in v1.parameters()), sum(p.numel() for p in v2.parameters())):
            assert str(n) in flat, (code, n)


def test_the_readme_names_the_decks_first_and_last_slide():
    """README's lecture section names the files `lecture` writes: its first and last slide."""
    from pathlib import Path

    from swinviz.lesson import lecture_files

    slides = [f for f in lecture_files() if f.endswith(".png")]
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert f"`{slides[0]}` ... `{slides[-1]}`" in readme, (slides[0], slides[-1])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_phone_s_tables_fit_their_columns_and_the_picture_holds_them(explorations, lang):
    """Plotly wraps a table's cells at plain spaces only: a Chinese cell is broken (<br>) to fit
    its column, and the page's picture is as tall as its wrapped table (a phone's column)."""
    from swinviz.lesson.table import TABLE_DOMAIN, TABLE_PAD_PX, _table_px
    from swinviz.lesson.text import TOKEN, width_px
    from swinviz.lesson.theme import MIN_PX, PAGE_FONT_SCALE

    lesson = Lesson(explorations["stage 1"], lang=lang)
    box = (360, 560)
    for step in ("merging", "table", "v2"):
        fig = lesson.visual(step, box=box, page=True)
        table = next(t for t in fig.data if t.type == "table")
        columns = len(table.header.values)
        room = box[0] / columns - 2 * TABLE_PAD_PX
        size = (MIN_PX + 2) * PAGE_FONT_SCALE
        for value in [*table.header.values, *(v for col in table.cells.values for v in col)]:
            text = str(value).replace("<b>", "").replace("</b>", "")
            if CJK.search(text):
                for line in text.split("<br>"):  # a lone word may be wider: it cannot break
                    assert width_px(line, size) <= room + 1 or len(TOKEN.findall(line)) == 1, (
                        step, line)
        ctx = lesson.ctx(step, None, box, True)[1]
        header = [h.replace("<b>", "").replace("</b>", "") for h in table.header.values]
        rows = [list(r) for r in zip(*table.cells.values, strict=True)]
        assert fig.layout.height >= _table_px(ctx, header, rows) / TABLE_DOMAIN - 1, step
    assert lesson.visual("v2", box=box, page=True).layout.height > box[1]  # grown to hold it


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_s_picture_holds_every_panel_title(explorations, lang):
    """A panel's title sits above its cells; the page's picture has no top margin of its own,
    so a title of three lines over a top panel (leave one out, in English) ran out of it."""
    lesson = Lesson(explorations["stage 1"], lang=lang)
    for k, step in enumerate(STEPS):
        fig = lesson.visual(k, box=(720, 560), page=True)
        top = fig.layout.margin.t or 0
        paper = fig.layout.height - top
        for a in fig.layout.annotations:
            if a.yref == "paper" and a.yanchor == "bottom" and a.text:
                need = (a.text.count("<br>") + 1) * a.font.size * 1.3
                assert need <= (1 - a.y) * paper + top + 0.5, (step.name, a.text)


def test_a_colour_bar_under_a_panel_shows_its_ends_and_stands_upright_on_a_phone(explorations):
    """A bar laid under its panel (leave one out) keeps its end labels inside the page's
    picture; on a phone the panels are stacked and each colour bar moves beside its own panel,
    where it stands upright, its ticks level."""
    from swinviz.figures._core.narrow import narrow_figure

    lesson = Lesson(explorations["stage 1"], lang="en")
    wide = lesson.visual("whatif", box=(720, 560), page=True)
    def bars(fig):
        return [t.colorbar for t in fig.data if "colorbar" in t.to_plotly_json()]

    assert [b.orientation for b in bars(wide)] == ["h"]
    for b in bars(wide):  # its end labels ("0%") inside the picture, which has no margin
        assert (b.x - b.len / 2) * 720 >= 12 and (b.x + b.len / 2) * 720 <= 720 - 12
    phone = narrow_figure(lesson.visual("whatif", box=(360, 560), page=True),
                          only_side_by_side=True)
    assert bars(phone) and all(b.orientation in (None, "v") and b.x == 1.0 for b in bars(phone))


def _wcag(rgb) -> float:
    """WCAG relative luminance of an (r, g, b) in 0-255."""
    c = np.asarray(rgb, dtype=float) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(c @ [0.2126, 0.7152, 0.0722])


def test_every_number_on_a_slides_cells_stands_out_from_its_cell(explorations):
    """Numbers written on a slide's heatmap cells contrast 4.5:1 or more with their cell's
    colour (WCAG AA; plotly blends a scale's stops linearly): plotly's choice by brightness
    wrote white on the relative position index's middle greys, 3.3:1."""
    from plotly.colors import get_colorscale, hex_to_rgb, unlabel_rgb

    checked = 0
    for which in ("stage 1", "6x6"):
        for theme in ("light", "dark"):
            lesson = Lesson(explorations[which], theme=theme)
            for k, step in enumerate(STEPS):
                for tr in lesson.visual(k).data:
                    if tr.type != "heatmap" or not getattr(tr, "texttemplate", None) \
                            or (tr.opacity or 1) < 1:
                        continue
                    scale = tr.colorscale
                    stops = get_colorscale(scale) if isinstance(scale, str) else scale
                    pos = [float(p) for p, _ in stops]
                    rgbs = np.array([hex_to_rgb(c) if c.startswith("#") else unlabel_rgb(c)
                                     for _, c in stops], dtype=float)
                    z = np.asarray(tr.z, dtype=float)
                    frac = np.clip((z - tr.zmin) / ((tr.zmax - tr.zmin) or 1), 0, 1)
                    for f, text in zip(frac.ravel(), np.asarray(tr.text).ravel(), strict=True):
                        ink = re.fullmatch(r"<span style='color:(#[0-9a-f]{6})'>.*</span>",
                                           str(text))
                        assert ink, (which, step.name, text)
                        cell = _wcag([np.interp(f, pos, rgbs[:, i]) for i in range(3)])
                        lum = _wcag(hex_to_rgb(ink.group(1)))
                        ratio = (max(cell, lum) + 0.05) / (min(cell, lum) + 0.05)
                        assert ratio >= 4.5, (which, step.name, text, round(ratio, 2))
                        checked += 1
    assert checked > 100
