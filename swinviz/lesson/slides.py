"""One lesson over one exploration: each step's words, its picture at its focus, and its 16:9
slide (1920 x 1080 px: title, lines, the reference code, the picture, a badge when the picture
shows random weights).

    lesson = Lesson(exp, lang="zh", theme="dark")
    lesson.slide(5)        # a plotly figure, 1920 x 1080
    lesson.visual(5)       # the picture alone (the page's tour)
"""

from __future__ import annotations

import re

from ..figures._core import fast_figure
from . import i18n
from .canvas import Ctx
from .numbers import lesson_numbers
from .steps import STEPS, Step, get_step
from .text import wrap, wrap_code
from .theme import FONT, MIN_PX, MONO, get_theme
from .visuals import draw, visual_figure

W_PX, H_PX = 1920, 1080
MARGIN = 64
TEXT_W = 880  # the left column: title, lines, code
VISUAL_X = (982, 1872)  # the picture's box on the slide (px)
VISUAL_Y = (130, 980)  # from the top
VISUAL_BOX = (VISUAL_X[1] - VISUAL_X[0], VISUAL_Y[1] - VISUAL_Y[0])
TITLE_PX, BODY_PX, CODE_PX = 46, 30, MIN_PX
def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _remap(layout: dict, data: list, x: tuple[float, float], y: tuple[float, float]) -> None:
    """Move every panel of a visual from the paper's [0, 1] square into the box x, y."""
    def fx(v):
        return x[0] + v * (x[1] - x[0])

    def fy(v):
        return y[0] + v * (y[1] - y[0])

    for key, ax in layout.items():
        if re.fullmatch(r"[xy]axis\d*", key) and isinstance(ax, dict):
            lo, hi = ax.get("domain", (0, 1))
            ax["domain"] = [fx(lo), fx(hi)] if key[0] == "x" else [fy(lo), fy(hi)]
    for ann in layout.get("annotations", ()):
        if ann.get("xref") == "paper":
            ann["x"] = fx(ann["x"])
        if ann.get("yref") == "paper":
            ann["y"] = fy(ann["y"])
    if "legend" in layout:
        layout["legend"].update(x=fx(layout["legend"].get("x", 0)),
                                y=fy(layout["legend"].get("y", 1)))
    for tr in data:
        if "domain" in tr:
            tr["domain"] = dict(x=[fx(v) for v in tr["domain"]["x"]],
                                y=[fy(v) for v in tr["domain"]["y"]])
        bar = tr.get("colorbar")
        if bar is not None:
            bar["x"] = fx(bar.get("x", 1.02))
            bar["y"] = fy(bar.get("y", 0.5))
            across = x if bar.get("orientation") == "h" else y  # a bar's length runs along
            bar["len"] = bar.get("len", 1.0) * (across[1] - across[0])


class Lesson:
    """The steps of `swinviz.lesson.STEPS` said and drawn for one exploration."""

    def __init__(self, exp, lang: str = "en", theme: str = "light") -> None:
        self.exp = exp
        self.lang = i18n.check_lang(lang)
        self.theme = get_theme(theme)
        self.numbers = lesson_numbers(exp)
        self._readings: dict = {}

    def __len__(self) -> int:
        return len(STEPS)

    @property
    def steps(self) -> tuple[Step, ...]:
        return STEPS

    def query(self, step: Step, override: tuple[int, int] | None = None) -> tuple[int, int]:
        """The token a step looks at: `override` when given (and inside the grid), else its
        focus: on a window border, or in the wrapped-around corner."""
        n = self.numbers
        if override is not None:
            r, c = int(override[0]), int(override[1])
            if 0 <= r < n.H and 0 <= c < n.W:
                return r, c
        return n.corner if step.focus == "corner" else n.query

    def action_query(self, action: str) -> tuple[int, int] | None:
        """Where a "try this" action moves the query (None: the action is not a move)."""
        n = self.numbers
        return {"corner": n.corner, "boundary": n.query,
                "middle": (n.H // 2, n.W // 2)}.get(action)

    def readings(self, query: tuple[int, int]):
        if query not in self._readings:
            from .reading import readings  # torch: not when the app's page is built

            self._readings[query] = readings(self.exp, query)
        return self._readings[query]

    def ctx(self, k: int | str, query=None, box=VISUAL_BOX, page=False) -> tuple[Step, Ctx]:
        step = get_step(k)
        q = self.query(step, query)
        return step, Ctx(self.exp, self.numbers, self.readings(q), self.lang, self.theme, q,
                         step.block, step.head, box, page)

    def text(self, k: int | str, query=None) -> i18n.StepText:
        step, c = self.ctx(k, query)
        return i18n.step_text(self.lang, step.name, self.numbers, c.r)

    def code(self, k: int | str) -> tuple[str, ...]:
        """The reference code's lines step k explains, for this exploration: where the step's
        block does not shift (s = 0), the reference's branch that skips the roll and the mask."""
        step = get_step(k)
        return step.unshifted if step.unshifted and self.numbers.s == 0 else step.code

    def badge(self, k: int | str) -> str | None:
        """"random weights" where the step's picture shows learned numbers of random weights."""
        step = get_step(k)
        return i18n.ui(self.lang, "random") if step.weights and self.numbers.random else None

    def visual(self, k: int | str, query=None, box: tuple[int, int] = VISUAL_BOX,
               page: bool = False):
        """Step k's picture alone, `box` (width, height) px: the slide's by default. page=True:
        as wide as the page makes it (cells kept square by the axes)."""
        step, c = self.ctx(k, query, box, page)
        return visual_figure(step.visual, c)

    def slide(self, k: int, query=None):
        """Step k (0-based) as a 1920 x 1080 figure."""
        step, c = self.ctx(k, query)
        text = i18n.step_text(self.lang, step.name, self.numbers, c.r)
        t = self.theme
        data, layout = draw(step.visual, c)
        _remap(layout, data, (VISUAL_X[0] / W_PX, VISUAL_X[1] / W_PX),
               (1 - VISUAL_Y[1] / H_PX, 1 - VISUAL_Y[0] / H_PX))
        notes = layout.setdefault("annotations", [])
        shapes = layout.setdefault("shapes", [])

        def px(x, y, text_, size, **kw):
            font = dict(size=size, color=kw.pop("color", t.ink), family=kw.pop("family", FONT))
            notes.append(dict(text=text_, x=x / W_PX, y=1 - y / H_PX, xref="paper",
                              yref="paper", showarrow=False, align="left", xanchor="left",
                              yanchor="top", font=font, **kw))

        room = W_PX - 2 * MARGIN - 320
        title_lines = wrap(text.title, TITLE_PX, room)
        by_phrase = wrap(text.title, TITLE_PX, room, phrases=True)  # Chinese: between phrases
        title_lines = by_phrase if len(by_phrase) == len(title_lines) else title_lines
        px(MARGIN, 44, "<br>".join(f"<b>{_esc(s)}</b>" for s in title_lines), TITLE_PX)
        y = 44 + 1.3 * TITLE_PX * len(title_lines) + 40
        code = [w for line in self.code(k) for w in wrap_code(line, int(TEXT_W / (0.6 * CODE_PX)))]
        code_h = (len(code) * 1.35 * CODE_PX + 40) if code else 0
        code_top = H_PX - 100 - code_h
        size = BODY_PX
        while True:  # the lines at the largest size (not under MIN_PX) that leaves the code room
            body = []
            for i, line in enumerate(text.body):
                parts = wrap(line, size, TEXT_W - 36)
                body += [("• " if j == 0 else "   ") + _esc(p) for j, p in enumerate(parts)]
                if i < len(text.body) - 1:
                    body.append("")
            if y + len(body) * 1.3 * size <= code_top - 24 or size <= MIN_PX:
                break
            size -= 2
        px(MARGIN, y, "<br>".join(body), size)
        if code:
            shapes.append(dict(type="rect", xref="paper", yref="paper", x0=(MARGIN - 16) / W_PX,
                               x1=(MARGIN + TEXT_W + 16) / W_PX, y0=1 - (H_PX - 100) / H_PX,
                               y1=1 - code_top / H_PX, fillcolor=t.panel, line=dict(width=0),
                               layer="below"))
            px(MARGIN, code_top + 20, "<br>".join(_esc(s).replace(" ", "&nbsp;") for s in code),
               CODE_PX, family=MONO)
        badge = self.badge(k)
        if badge:
            notes.append(dict(text=f" {badge} ", x=(W_PX - MARGIN) / W_PX, y=1 - 48 / H_PX,
                              xref="paper", yref="paper", xanchor="right", yanchor="top",
                              showarrow=False, bgcolor=t.badge, borderpad=8,
                              font=dict(size=MIN_PX, color="#111111", family=FONT)))
        foot = i18n.ui(self.lang, "footer", arch=self.numbers.arch, stage=self.numbers.stage)
        px(MARGIN, H_PX - 64, _esc(foot), MIN_PX, color=t.muted)
        notes.append(dict(text=f"{k + 1} / {len(STEPS)}", x=(W_PX - MARGIN) / W_PX,
                          y=1 - (H_PX - 64) / H_PX, xref="paper", yref="paper",
                          xanchor="right", yanchor="top", showarrow=False,
                          font=dict(size=MIN_PX, color=t.muted, family=FONT)))
        layout.update(width=W_PX, height=H_PX, margin=dict(l=0, r=0, t=0, b=0),
                      paper_bgcolor=t.bg, plot_bgcolor=t.bg,
                      font=dict(family=FONT, size=MIN_PX, color=t.ink),
                      showlegend=layout.get("showlegend", False))
        return fast_figure(data, layout)
