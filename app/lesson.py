"""The Lesson tab: the tour of `swinviz.lesson` over this session's exploration, one step at a
time (previous / next, also the arrow keys), in the page's language (the switch, or
`?lang=zh`). Plain functions (`lesson_outputs`, `on_try`) under a thin wiring (`lesson_tab`,
`wire_lesson`)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import gradio as gr

from swinviz.figures._core.narrow import narrow_figure
from swinviz.lesson import STEPS, Lesson, languages, try_label, ui
from swinviz.lesson.i18n import language_name

from .events import TABS

TRY_SLOTS = 3  # "try this" buttons (a step offers at most this many)
LESSON_TAB = "lesson"
PICTURE_BOX = (720, 560)  # the step's picture in the page (px): about its column's width
PHONE_BOX = (360, 560)  # ... on a phone (the "narrow" template), before its panels are stacked

# The arrow keys turn the page of the tour while the Lesson tab is shown and no text field
# has the focus.
KEYS_JS = """
document.addEventListener('keydown', (e) => {
  const tab = document.querySelector('#lesson');
  if (!tab || tab.offsetParent === null || e.altKey || e.ctrlKey || e.metaKey) return;
  const t = e.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  const id = e.key === 'ArrowLeft' ? '#lesson-prev'
    : e.key === 'ArrowRight' ? '#lesson-next' : null;
  const b = id && document.querySelector(id);
  if (b) { e.preventDefault(); b.click(); }
});
"""


def _deeper(lang: str, kind: str | None) -> str:
    for title, kinds, _ in TABS:
        if kind in kinds:
            return ui(lang, "deeper", tab=title)
    return ""


def _code(lines):
    """The code box: the step's reference lines, hidden for a step without code."""
    return gr.update(value="\n".join(lines), visible=bool(lines))


def parse_spot(text) -> tuple[int, int] | None:
    """The lesson's query as the page keeps it ("r,c"; "" for the step's own)."""
    try:
        r, c = (int(v) for v in str(text or "").split(","))
    except ValueError:
        return None
    return r, c


def lesson_outputs(view, k, query, lang, template="default"):
    """What the tab shows for step k (clamped to the steps) of this session's exploration:
    ("step k of n", the step's words, its picture, its code, the deeper-tab line, and
    TRY_SLOTS button updates). `query`: "r,c" to look at, "" for the step's own focus.
    template "narrow" (a phone): the picture's panels one above the other."""
    lang = lang if lang in languages() else "en"
    k = max(0, min(int(k or 0), len(STEPS) - 1))
    step = STEPS[k]
    label = ui(lang, "step_of", k=k + 1, n=len(STEPS))
    tries = [gr.update(visible=i < len(step.tries),
                       value=try_label(lang, step.tries[i]) if i < len(step.tries) else "")
             for i in range(TRY_SLOTS)]
    if view is None:
        words = {"en": "Upload an image (or click an example) and the lesson walks through "
                       "what Swin does to it, one step at a time.",
                 "zh": "上传一张图像（或点击一个示例），课程会一步一步地讲解 Swin 对它做了什么。"}
        return (label, words.get(lang, words["en"]), None, _code(step.code), "", *tries)
    lesson = Lesson(view.exp, lang=lang)
    spot = parse_spot(query)
    text = lesson.text(k, spot)
    badge = f" `{lesson.badge(k)}`" if lesson.badge(k) else ""
    md = (f"### {text.title}{badge}\n\n" + "\n".join(f"- {line}" for line in text.body))
    if template == "narrow":
        picture = narrow_figure(lesson.visual(k, spot, box=PHONE_BOX, page=True),
                                only_side_by_side=True)
    else:
        picture = lesson.visual(k, spot, box=PICTURE_BOX, page=True)
    return (label, md, picture, _code(lesson.code(k)), _deeper(lang, step.kind), *tries)


def on_try(view, k, slot, lang):
    """A "try this" button: (the lesson's query "r,c", a page action for the browser:
    "stage:4" or "")."""
    step = STEPS[max(0, min(int(k or 0), len(STEPS) - 1))]
    if slot >= len(step.tries):
        return gr.update(), ""
    action = step.tries[slot]
    if action.startswith("stage"):
        return gr.update(), f"stage:{action[5:]}"
    if view is None:
        return gr.update(), ""
    spot = Lesson(view.exp, lang=lang if lang in languages() else "en").action_query(action)
    return f"{spot[0]},{spot[1]}", ""


# Runs in the browser after a "try this" that changes a setting: the page's own control does
# it (so the run, the budget line and the tabs follow as after a click there).
ACTION_JS = """(action) => {
  if (!action) return;
  const [what, value] = action.split(':');
  if (what === 'stage') {
    const i = document.querySelector('#stage input[value="' + value + '"]');
    if (i) i.click();
  }
}"""


def language_switch() -> gr.Radio:
    """The page's language (`#lang`): the lesson, the figures and the tabs' texts."""
    return gr.Radio([(language_name(code), code) for code in languages()], value="en",
                    label="Language / 语言", elem_id="lang")


def language_changed(lang: gr.Radio):
    """The one listener of the language switch's change event (in the browser, no server call):
    the language's listeners follow it with `.then`, each one its own event. Gradio 6 sends an
    event again to *all* its listeners when one of them that waits for the last answer
    (trigger_mode "always_last", the default of .change) was held back. With seven such
    listeners on the switch, each one's answer sent the event to the others again: a loop that
    redrew the lesson, the figures and the page's words twice a second for as long as the page
    stayed open (about one page in ten opened with ?lang=zh on a loaded machine).
    tests/test_app_callbacks.py holds each event of the page to one listener of that kind."""
    return lang.change(None, None, None, js="() => {}", api_visibility="private", queue=False,
                       show_progress="hidden")


def lesson_tab(c: SimpleNamespace) -> None:
    """The tab's components (inside the page's gr.Tabs); `c.lang` is the page's language."""
    with gr.Tab(ui("en", "lesson"), id=LESSON_TAB, elem_id="lesson") as tab:
        with gr.Row(equal_height=False):
            prev = gr.Button(ui("en", "prev"), elem_id="lesson-prev", size="sm", scale=0,
                             min_width=120)
            step_md = gr.Markdown(ui("en", "step_of", k=1, n=len(STEPS)),
                                  elem_id="lesson-step")
            nxt = gr.Button(ui("en", "next"), elem_id="lesson-next", size="sm", scale=0,
                            min_width=120)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=300):
                text = gr.Markdown("", elem_id="lesson-text")
                with gr.Row():
                    tries = [gr.Button("", visible=False, size="sm", elem_id=f"lesson-try-{i}")
                             for i in range(TRY_SLOTS)]
                code = gr.Code("", language="python", label="The reference code",
                               elem_id="lesson-code",
                               interactive=False)
                deeper = gr.Markdown("", elem_id="lesson-deeper", elem_classes="explain")
            with gr.Column(scale=3, min_width=320):
                picture = gr.Plot(elem_id="lesson-figure", show_label=False, label="lesson")
        action = gr.Textbox("", visible=False, label="lesson action")
        # the page's step (0-based), the lesson's own query ("r,c"; "": the step's), and a
        # number that changes after each run: hidden, so that the page can set them itself
        k = gr.Number(0, visible=False, precision=0, label="lesson step")
        query = gr.Textbox("", visible=False, label="lesson query")
        drawn = gr.Number(0, visible=False, precision=0, label="lesson drawn")
    vars(c).update(lesson=SimpleNamespace(
        tab=tab, prev=prev, next=nxt, step=step_md, lang=c.lang, text=text, tries=tries,
        code=code, deeper=deeper, picture=picture, action=action, k=k, query=query,
        drawn=drawn))


def wire_lesson(c: SimpleNamespace, demo: gr.Blocks) -> None:
    """Previous / next (in the page: they only move the step number), the language (through
    `drawn`), the try buttons, the tab opening, a new run and the address all go through one
    drawing event (`gr.on`, always the last request): a slow answer cannot overwrite a newer
    step."""
    le, view = c.lesson, c.view
    kw = dict(api_visibility="private", show_progress="hidden", queue=False)
    outs = [le.step, le.text, le.picture, le.code, le.deeper, *le.tries]
    last = len(STEPS) - 1
    le.prev.click(None, [le.k], [le.k, le.query], js="(k) => [Math.max(0, (k || 0) - 1), '']",
                  **kw)
    le.next.click(None, [le.k], [le.k, le.query],
                  js=f"(k) => [Math.min({last}, (k || 0) + 1), '']", **kw)
    gr.on([le.k.change, le.query.change, le.drawn.change, le.tab.select, c.template.change],
          lesson_outputs, [view, le.k, le.query, le.lang, c.template], outs,
          trigger_mode="always_last", **kw)
    # a new language: a new number in `drawn` (language_changed says why not the switch's event)
    c.lang_changed.then(None, [le.drawn], [le.drawn], js="(n) => (n || 0) + 1", **kw)
    for slot, button in enumerate(le.tries):
        button.click(lambda v, k, lang, s=slot: on_try(v, k, s, lang), [view, le.k, le.lang],
                     [le.query, le.action], **kw).success(
            None, [le.action], None, js=ACTION_JS, **kw)
    # after a page run: a new number in `drawn` draws the step again, for the new exploration
    c.after_run_lesson = (lambda: time.monotonic_ns() % 1_000_000_007, None, [le.drawn])
