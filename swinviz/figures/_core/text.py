"""Text measuring and wrapping: an estimate of a line's width in pixels (DejaVu Sans), so that
titles, notes and table cells are broken before they run into each other or off the canvas."""

from __future__ import annotations

from .template import Template, get_template

_NARROW = frozenset("fijlrt .,:;()[]'\"-/|·ᵀ!")
_WIDE = frozenset("mwMW%×−≤≥→←=+≈")


def text_px(text: str, size: float) -> float:
    """Estimated width in pixels of one line of (HTML-marked) text set in DejaVu Sans at `size`
    px: per character its rough advance (DejaVu's lower case is ~0.6 em, capitals ~0.7, a few
    symbols and m / w ~0.85); bold text counts 8% wider. Tags take no room."""
    import html
    import re

    bold = "<b>" in text
    plain = html.unescape(re.sub(r"<[^>]+>", "", text))
    em = sum(0.36 if ch in _NARROW else 0.86 if ch in _WIDE else 0.72 if ch.isupper()
             else 0.64 if ch.isdigit() else 0.62 for ch in plain)
    return em * size * (1.08 if bold else 1.0)


def wrap_px(text: str, size: float, max_px: float) -> str:
    """`text` (one line, HTML-marked) broken at spaces into lines of at most `max_px` pixels
    (estimated by `text_px`), joined by "<br>"; a single word longer than that stays whole."""
    words = text.split(" ")
    lines: list[str] = []
    cur: list[str] = []
    for w in words:
        if cur and text_px(" ".join([*cur, w]), size) > max_px:
            lines.append(" ".join(cur))
            cur = []
        cur.append(w)
    if cur:
        lines.append(" ".join(cur))
    return "<br>".join(lines)


def rewrap_lines(text: str, size: float, max_px: float) -> str:
    """Each "<br>"-separated line of `text` wrapped to `max_px`: plain lines at `size`,
    "<sup>...</sup>" lines (plotly sets them at 70 %) and "<span style='font-size:Npx'>...</span>"
    lines at their own size, the pieces wrapped in the same tag again."""
    import re

    out = []
    for line in text.split("<br>"):
        m = re.fullmatch(r"(<sup>|<span style='font-size:(\d+)px'>)(.*)(</sup>|</span>)", line)
        if m:
            s = 0.7 * size if m.group(1) == "<sup>" else float(m.group(2))
            out += [m.group(1) + piece + m.group(4)
                    for piece in wrap_px(m.group(3), s, max_px).split("<br>")]
        else:
            out += wrap_px(line, size, max_px).split("<br>")
    return "<br>".join(out)


def lines_px(text: str, size: float) -> float:
    """Height in px of a multi-line annotation: 1.3 em a line, <sup> lines at 70 %."""
    return sum(1.3 * size * (0.7 if line.startswith("<sup>") else 1.0)
               for line in text.split("<br>"))


def wrap_text(text: str, width: int) -> str:
    """Break a line of (HTML-marked) text into lines of about `width` visible characters, joined
    by "<br>"; tags are kept whole and count as zero width."""
    import re

    words = text.split(" ")
    lines: list[str] = []
    cur: list[str] = []
    n = 0
    for w in words:
        k = len(re.sub(r"<[^>]+>", "", w))
        if cur and n + 1 + k > width:
            lines.append(" ".join(cur))
            cur, n = [], 0
        cur.append(w)
        n += k + (1 if n else 0)
    if cur:
        lines.append(" ".join(cur))
    return "<br>".join(lines)


def sup_lines(text: str, template: str | Template) -> str:
    """A note for a figure title: wrapped to the template's width, each line as
    "<br><sup>...</sup>" (what `top_title` sets in the body font). Wrapped by the same pixel
    measure and room as `top_title`, so that it does not wrap the lines a second time."""
    t = get_template(template) if isinstance(template, str) else template
    lines = wrap_px(text, t.font_size, t.width * 0.98 - 24).split("<br>")
    return "".join(f"<br><sup>{line}</sup>" for line in lines)


def title_height(title: str, template: str | Template) -> int:
    """Pixels the title's lines after the first take (to grow a figure by, so the plots keep
    their size when a note is added to the title)."""
    t = get_template(template) if isinstance(template, str) else template
    return int(title.count("<br>") * t.title_size * 1.3)


def si(n: float, unit: str = "") -> str:
    """A count with an SI prefix, 3 significant digits: 4.49e9 -> "4.49 G", 28288354 ->
    "28.3 M" (the cost figure's tables, the lesson's formulas)."""
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {suffix}{unit}"
    return f"{n:.3g} {unit}".rstrip()
