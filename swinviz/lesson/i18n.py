"""The lesson's words in every language: `swinviz/lesson/lang/<code>.py` is the one place a
language lives (its STEPS; NO_SHIFT_NOTES: the speaker notes of the steps about the shift, said
instead where the pair does not shift); this module finds them and says a step for an exploration.

    text = step_text("zh", "mask", n, r)   # .title, .body (lines), .notes
    ui("en", "step_of", k=3, n=16)         # "step 3 of 16"
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import lru_cache

from . import lang as _lang_pkg


@lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """The language codes, English first: every module of swinviz.lesson.lang."""
    found = sorted(m.name for m in pkgutil.iter_modules(_lang_pkg.__path__))
    return tuple(sorted(found, key=lambda c: c != "en"))


def check_lang(code: str) -> str:
    """`code` when it is a language of the lesson; else a ValueError naming them."""
    if code not in languages():
        raise ValueError(f"unknown language {code!r}; choose from {', '.join(languages())}")
    return code


def _module(code: str):
    return importlib.import_module(f"{_lang_pkg.__name__}.{check_lang(code)}")


def language_name(code: str) -> str:
    return _module(code).NAME


def ui(code: str, key: str, **values) -> str | tuple:
    """A label of the lesson in language `code`, its {fields} filled from `values`."""
    text = _module(code).UI[key]
    return text.format(**values) if values and isinstance(text, str) else text


def try_label(code: str, action: str) -> str:
    return _module(code).TRY[action]


@dataclass(frozen=True)
class StepText:
    title: str
    body: tuple[str, ...]  # the slide's lines
    notes: str  # the speaker notes


def step_text(code: str, name: str, n, r) -> StepText:
    """Step `name` said in language `code` for LessonNumbers `n` and Readings `r` (a title
    that depends on the exploration is a function of `n`)."""
    m = _module(code)
    words = m.STEPS[name]
    title = words["title"](n) if callable(words["title"]) else words["title"]
    notes = (m.NO_SHIFT_NOTES[name] if n.s == 0 and name in m.NO_SHIFT_NOTES
             else words["notes"])
    return StepText(title, tuple(words["body"](n, r)), notes(n, r))
