"""A phone's figures drawn by plotly.js in Chromium (Debian's, never a download): plotly keeps
the margins `_core.room` planned (it widened them itself before, and the panels shrank under
what `_core.narrow.restack` had sized them for), and no two texts collide. The checks in
Python alone (`test_fig_narrow.py`) cannot see what plotly does with the room."""

from __future__ import annotations

import json
from pathlib import Path

import plotly
import pytest
from conftest import CHROMIUM

from swinviz.figures import KINDS, make_figure
from swinviz.figures._core.narrow import unwrap

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PHONE_PX = 320

pytestmark = [pytest.mark.browser, pytest.mark.requires_browser(CHROMIUM, what=CHROMIUM)]

# plotly's own margins and every text's box (tick labels turned by plotly are left out: their
# boxes are upright rectangles around slanted text)
DRAW_JS = """async (f) => {
  const gd = document.getElementById('g');
  await Plotly.newPlot(gd, f.data, f.layout, {staticPlot: true});
  const s = gd._fullLayout._size, at = gd.getBoundingClientRect(), boxes = [];
  for (const el of gd.querySelectorAll('text')) {
    const text = el.textContent.trim(), r = el.getBoundingClientRect();
    if (!text || r.width < 1 || r.height < 1) continue;
    if (/rotate\\((?!0[,)])/.test(el.getAttribute('transform') || '')) continue;
    boxes.push({text, x0: r.left - at.left, x1: r.right - at.left, y0: r.top - at.top,
                y1: r.bottom - at.top});
  }
  return {l: s.l, r: s.r, boxes};
}"""


def collisions(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of texts that collide: on one line with no gap between them, or overlapping by more
    than 3 px both ways."""
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            ox = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            oy = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            h = min(a["y1"] - a["y0"], b["y1"] - b["y0"])
            if (oy > 0.5 * h and ox > -0.5) or (oy > 3 and ox > 3):
                out.append((a["text"][:24], b["text"][:24]))
    return out


@pytest.fixture(scope="module")
def plotly_page(browser):
    page = browser.new_page(viewport={"width": 400, "height": 800})
    page.set_content(f"<html><body style='margin:0'><div id='g' "
                     f"style='width:{PHONE_PX}px'></div></body></html>")
    page.add_script_tag(path=str(PLOTLY_JS))
    yield page
    page.close()


def drawn(page, fig) -> dict:
    spec = json.loads(fig.to_json())
    spec["layout"]["width"] = PHONE_PX
    return page.evaluate(DRAW_JS, spec)


@pytest.mark.parametrize("case,langs", [("exp_s1", ("en", "zh")), ("exp_s4", ("en", "zh")),
                                        ("exp_6x6", ("en",)), ("exp_padded", ("en",))])
def test_plotly_keeps_a_phone_figures_margins_and_no_texts_collide(request, plotly_page, case,
                                                                    langs):
    exp = request.getfixturevalue(case)
    problems = []
    for lang in langs:
        for kind in KINDS:
            fig = make_figure(kind, exp, template="narrow", lang=lang)
            got = drawn(plotly_page, fig)
            planned = fig.layout.margin
            if got["l"] > planned.l + 1 or got["r"] > planned.r + 1:
                problems.append(f"{kind} ({lang}): margins {planned.l}/{planned.r} planned, "
                                f"plotly drew {got['l']:.0f}/{got['r']:.0f}")
            problems += [f"{kind} ({lang}): {a!r} collides with {b!r}"
                         for a, b in collisions(got["boxes"])[:3]]
            problems += [f"{kind} ({lang}): {b['text'][:24]!r} runs off the figure"
                         for b in got["boxes"] if b["x0"] < -1 or b["x1"] > PHONE_PX + 1]
    assert problems == []


def test_the_flow_figures_tiles_fill_the_width_plotly_gives_them(plotly_page, exp_s1):
    """The flow figure's column of tiles is as wide as the plots and exactly as tall as its
    cells (it came out a fifth narrower, with that much blank under it), and the picture's
    title has its room between the tiles' axis and the picture."""
    fig = make_figure("flow", exp_s1, template="narrow")
    spec = json.loads(fig.to_json())
    spec["layout"]["width"] = PHONE_PX
    axes = plotly_page.evaluate("""async (f) => {
      const gd = document.getElementById('g');
      await Plotly.newPlot(gd, f.data, f.layout, {staticPlot: true});
      const fl = gd._fullLayout, out = {w: fl._size.w};
      for (const k of ['xaxis', 'yaxis', 'xaxis2', 'yaxis2'])
        out[k] = [fl[k]._offset, fl[k]._length];
      return out; }""", spec)
    assert axes["xaxis"][1] == pytest.approx(axes["w"], abs=1)  # the tiles' full width
    rows = abs(fig.layout.yaxis.range[0] - fig.layout.yaxis.range[1])
    cols = abs(fig.layout.xaxis.range[1] - fig.layout.xaxis.range[0])
    assert axes["yaxis"][1] == pytest.approx(axes["w"] * rows / cols, abs=2)  # nothing spare
    title = next(a for a in fig.layout.annotations if a.yref == "y2 domain")
    lines = title.text.count("<br>") + 1
    gap = axes["yaxis2"][0] - (axes["yaxis"][0] + axes["yaxis"][1])
    title_px = 1.3 * 12 * lines
    assert title_px + 30 <= gap <= title_px + 100, gap  # the tiles' x axis and the title


def test_a_phone_note_keeps_its_sentences_and_joins_its_broken_lines():
    note = ("Reach: the input patches that can<br>influence the token, from window "
            "membership and<br>masks only (weights ignored).<br>Pairs 2–4 show what<br>"
            "repeating would do.<br>到达：输入中可以影响<br>该词元的块。<br>展开：一个行向量")
    assert unwrap(note, sentences=True).split("<br>") == [
        "Reach: the input patches that can influence the token, from window membership and "
        "masks only (weights ignored).",
        "Pairs 2–4 show what repeating would do.",
        "到达：输入中可以影响该词元的块。",
        "展开：一个行向量"]
    assert unwrap(note).count("<br>") == 0  # titles: every line joined, as before
