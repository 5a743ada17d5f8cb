"""The two looks of the lesson (slides, the page's tour): light for a lit room, dark for a dark
one. Latin text and digits in DejaVu Sans (the figures' font), Chinese in Noto Sans CJK
(fonts-noto-cjk): with the CJK font first, Chromium's PDFs lose the digits when their text is
copied or searched."""

from __future__ import annotations

from dataclasses import dataclass

FONT = "DejaVu Sans, Noto Sans CJK SC, Noto Sans SC, sans-serif"
MONO = "DejaVu Sans Mono, Noto Sans Mono CJK SC, monospace"
MIN_PX = 24  # no text on a 1920-px slide is smaller (cell numbers included)
PAGE_FONT_SCALE = 0.66  # the page's picture is about 2/3 of the slide's: its text too
LINE_HEIGHT = 1.3  # Plotly's line height (a title's lines, a table cell's), in font sizes


@dataclass(frozen=True)
class Theme:
    name: str
    bg: str
    ink: str
    muted: str
    panel: str  # code box and table ground
    line: str  # outlines on plain cells
    badge: str
    highlight: str  # the table row of the explored stage / this model


THEMES = {
    "light": Theme("light", "#ffffff", "#1f1f1f", "#5a5a5a", "#f2f2f2", "#333333", "#E69F00",
                   "#fde7d6"),
    "dark": Theme("dark", "#15181d", "#f0f0f0", "#b4b4b4", "#262b33", "#dddddd", "#E69F00",
                  "#6b4a12"),
}


def get_theme(name: str) -> Theme:
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"unknown theme {name!r}; choose from {', '.join(THEMES)}") from None
