"""The page's own words in the page's language, gettext style like the figures'
(swinviz.figures._core.words): the English text a component is built with, or a template the
page fills (the badge, the query's caption), is the key; `app/lang/<code>.py` holds WORDS =
{that text: the text in the language, with the same {fields}}. Adding a language to the page is
one file there (the lesson's and the figures' words have theirs in the library).

    say("zh", "Stage")                        # "阶段"
    said(demo.blocks.values())                # [(component, {"label": "Stage", ...}), ...]
    in_language(said_list, "zh")              # their gr.update()s, in that order
"""

from __future__ import annotations

import importlib
from functools import lru_cache

import gradio as gr

FIELDS = ("label", "info")  # a component's texts the page's language changes (and a button's
# or a static text's value, and the names of a radio's or checkboxes' choices)
VALUE_TYPES = (gr.Button, gr.DownloadButton, gr.Markdown)
CHOICE_TYPES = (gr.Radio, gr.CheckboxGroup, gr.Dropdown)


@lru_cache
def _words(lang: str) -> dict[str, str]:
    return importlib.import_module(f"{__package__}.lang.{lang}").WORDS


def say(lang: str, text: str, /, **fields) -> str:
    """`text` (the page's English, with {fields}) in language `lang`: the same text where the
    language has none."""
    if lang and lang != "en":
        text = _words(lang).get(text, text)
    return text.format(**fields) if fields else text


def said(components, lang: str = "zh") -> list[tuple[object, dict]]:
    """Every component whose English label, info, value (a button, a static text) or choice
    names `lang` translates, with those English texts: what the page's language changes."""
    words = _words(lang)
    out = []
    for comp in components:
        texts = {f: getattr(comp, f) for f in FIELDS
                 if isinstance(getattr(comp, f, None), str) and getattr(comp, f) in words}
        value = getattr(comp, "value", None)
        if isinstance(comp, VALUE_TYPES) and isinstance(value, str) and value in words:
            texts["value"] = value
        choices = getattr(comp, "choices", None)
        if isinstance(comp, CHOICE_TYPES) and choices and all(
                isinstance(c, tuple) and c[0] in words for c in choices):
            texts["choices"] = list(choices)
        if isinstance(comp, gr.Tab) and isinstance(comp.label, str) and comp.label in words:
            texts = {"label": comp.label}
        if texts:
            out.append((comp, texts))
    return out


def every_language_json(text: str) -> str:
    """`text` said in each of the page's languages, as JSON {code: words}: for the page's own
    scripts, which say it in the language picked without asking the server."""
    import json

    from swinviz.lesson import languages

    return json.dumps({code: say(code, text) for code in languages()}, ensure_ascii=False)


def in_language(said_list: list[tuple[object, dict]], lang: str) -> list:
    """The updates that put `said` components' texts into `lang` (English: back)."""
    out = []
    for _, texts in said_list:
        update = {f: say(lang, v) for f, v in texts.items() if f != "choices"}
        if "choices" in texts:
            update["choices"] = [(say(lang, name), value) for name, value in texts["choices"]]
        out.append(gr.update(**update))
    return out


def wire_words(demo: gr.Blocks, lang: gr.components.Component, changed, skip=(),
               **event) -> None:
    """The page's own words (labels, notes, buttons, tabs, the introduction) follow its
    language switch `lang` (the figures, tab texts, badge and caption follow in
    `app.ui.wire_view`; `changed`: what follows a new language, `app.lesson.language_changed`;
    `skip`: components with their own event, such as the badge)."""
    said_list = said([b for b in demo.blocks.values() if all(b is not k for k in skip)])
    changed(lambda value: in_language(said_list, value), [lang],
            [comp for comp, _ in said_list], **event)
