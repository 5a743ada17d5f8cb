"""The lesson: one walk through the Swin block in the design note's order, from the problem
(global attention is quadratic) through each fix to its cost. One list of steps
(`steps.STEPS`), their words in every language (`lang/<code>.py`), their pictures
(`visuals`), read by the page's tour and by the 16:9 deck alike.

    from swinviz.lesson import Lesson, write_lecture
    lesson = Lesson(exp, lang="zh")
    lesson.text(7).body, lesson.visual(7), lesson.slide(7)
    write_lecture(exp, "deck", lang="en", theme="dark")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# each name is imported from its module on first use (swinviz._lazy): the app's page
# imports parts of this package before torch is imported
__getattr__, __dir__ = lazy_exports(__name__, {
    "deck": ("GIF_NAME", "PDF_NAME", "PPTX_NAME", "deck_steps", "lecture_files", "write_lecture"),
    "i18n": ("check_lang", "languages", "step_text", "try_label", "ui"),
    "numbers": ("LessonNumbers", "boundary_query", "corner_query", "lesson_numbers"),
    "reading": ("Readings", "query_weights", "reach", "readings"),
    "slides": ("H_PX", "W_PX", "Lesson"),
    "steps": ("ACTIONS", "STEPS", "Step", "get_step", "slide_file", "step_names"),
    "theme": ("THEMES", "get_theme"),
})

if TYPE_CHECKING:
    from .deck import GIF_NAME, PDF_NAME, PPTX_NAME, deck_steps, lecture_files, write_lecture
    from .i18n import check_lang, languages, step_text, try_label, ui
    from .numbers import LessonNumbers, boundary_query, corner_query, lesson_numbers
    from .reading import Readings, query_weights, reach, readings
    from .slides import H_PX, W_PX, Lesson
    from .steps import ACTIONS, STEPS, Step, get_step, slide_file, step_names
    from .theme import THEMES, get_theme

__all__ = ["ACTIONS", "GIF_NAME", "H_PX", "PDF_NAME", "PPTX_NAME", "STEPS", "THEMES", "W_PX",
           "Lesson", "LessonNumbers", "Readings", "Step", "boundary_query", "check_lang",
           "corner_query", "deck_steps", "get_step", "get_theme", "languages", "lecture_files",
           "lesson_numbers", "query_weights", "reach", "readings", "slide_file", "step_names",
           "step_text", "try_label", "ui", "write_lecture"]
