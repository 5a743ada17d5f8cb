"""Text measuring and wrapping: an estimate of a line's width in pixels (DejaVu Sans), so that
titles, notes and table cells are broken before they run into each other or off the canvas."""

from __future__ import annotations

from .template import Template, get_template

_NARROW = frozenset("fijlrt .,:;()[]'\"-/|·ᵀ!")
_WIDE = frozenset("mwMW%×−≤≥→←=+≈")
# Chinese punctuation that may not start a line, and that may not end one
_NO_START = frozenset("，。：；、）！？」』》…·％")
_NO_END = frozenset("（「『《")


def is_cjk(ch: str) -> bool:
    """A CJK character or full-width form, about one em wide (twice a Latin letter): CJK
    radicals to unified ideographs (U+2E80–U+9FFF), CJK punctuation (U+3000–U+303F) and the
    half / full-width forms (U+FF00–U+FFEF)."""
    o = ord(ch)
    return 0x2E80 <= o <= 0x9FFF or 0xFF00 <= o <= 0xFFEF or 0x3000 <= o <= 0x303F


def _em(ch: str) -> float:
    """A character's rough advance in em (see `text_px`)."""
    if ch in _NARROW:
        return 0.36
    if ch in _WIDE:
        return 0.86
    if ch.isupper():
        return 0.72
    if ch.isdigit():
        return 0.64
    return 1.0 if is_cjk(ch) else 0.62


def _units(text: str) -> list[tuple[str, str]]:
    """`text` (one line, HTML-marked) cut where a line may break: [(separator, piece)], the
    separator " " at a space (dropped where the line breaks) and "" between CJK characters
    (Chinese has no spaces; not before closing or after opening punctuation). Tags stay with
    their text (an opening tag with the character after it, a closing one with the one before)
    and entities whole. Text without CJK characters is cut at its spaces only."""
    import re

    out: list[tuple[str, str]] = []
    for k, word in enumerate(text.split(" ")):
        sep = " " if k else ""
        if not any(is_cjk(ch) for ch in word):
            out.append((sep, word))
            continue
        atoms: list[list[str]] = []  # [text, its visible character]
        lead = ""
        for tok in re.findall(r"<[^>]*>|&#?\w+;|.", word, re.S):
            if tok.startswith("<") and len(tok) > 1 and not tok.startswith("</"):
                lead += tok
            elif tok.startswith("</") and atoms and not lead:
                atoms[-1][0] += tok
            else:
                atoms.append([lead + tok, tok])
                lead = ""
        if lead:
            if atoms:
                atoms[-1][0] += lead
            else:
                atoms.append([lead, ""])
        piece = ""
        prev = ""
        for text_a, ch in atoms:
            if piece and (is_cjk(ch[:1] or " ") or is_cjk(prev[:1] or " ")) \
                    and ch not in _NO_START and prev not in _NO_END:
                out.append((sep, piece))
                sep, piece = "", ""
            piece += text_a
            prev = ch
        out.append((sep, piece))
    return out


def text_px(text: str, size: float) -> float:
    """Estimated width in pixels of one line of (HTML-marked) text set in DejaVu Sans at `size`
    px: per character its rough advance (DejaVu's lower case is ~0.6 em, capitals ~0.7, a few
    symbols and m / w ~0.85, a CJK character 1 em); bold text counts 8% wider. Tags take no
    room."""
    import html
    import re

    bold = "<b>" in text
    plain = html.unescape(re.sub(r"<[^>]+>", "", text))
    em = sum(_em(ch) for ch in plain)
    return em * size * (1.08 if bold else 1.0)


def wrap_px(text: str, size: float, max_px: float) -> str:
    """`text` (one line, HTML-marked) broken at spaces into lines of at most `max_px` pixels
    (estimated by `text_px`), joined by "<br>"; a single word longer than that stays whole.
    Chinese (CJK) text is broken between its characters too (`_units`)."""
    lines: list[str] = []
    cur: str | None = None
    for sep, w in _units(text):
        if cur is not None and text_px(cur + sep + w, size) > max_px:
            lines.append(cur)
            cur = w
        else:
            cur = w if cur is None else cur + sep + w
    if cur is not None:
        lines.append(cur)
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
    by "<br>"; tags are kept whole and count as zero width, a CJK character counts as two and
    Chinese text may break between its characters (`_units`)."""
    import re

    lines: list[str] = []
    cur: str | None = None
    n = 0
    for sep, w in _units(text):
        k = sum(2 if is_cjk(ch) else 1 for ch in re.sub(r"<[^>]+>", "", w))
        gap = len(sep)
        if cur is not None and n + gap + k > width:
            lines.append(cur)
            cur, n = w, k
        else:
            cur = w if cur is None else cur + sep + w
            n += k + (gap if n else 0)
    if cur is not None:
        lines.append(cur)
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
