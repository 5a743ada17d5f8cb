"""Breaking the lesson's text into lines by measured width: words at spaces, Chinese between any
two characters (a CJK character is one em wide), code before an operator. Some things are never
broken: a number from its unit ("145 M", "75 个"), a number's groups of digits, a letter from
its value ("(M = 7)"), a block, stage, pair or head from its number ("block 1"), closing
punctuation from what it follows, an opening bracket from what it opens."""

from __future__ import annotations

import re
import textwrap

from ..figures._core.text import text_px

CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")
TOKEN = re.compile(r"\d[\d.,]*\s(?:[KMGT]|px)(?![A-Za-z])"  # a number and its unit ...
                   r"|\d{1,3}(?: \d{3})+(?!\d)"  # ... a number in groups ("2 362 368")
                   r"|\(?\b[A-Za-z] = \d+\)?"  # ... a letter's value ("M = 7", "(M = 7)")
                   r"|\d[\d.,]*\s?[个倍对次项种张层]"  # ... or its Chinese measure word
                   r"|(?:block|stage|pair|head)\s\d+"  # a thing and its number
                   r"|[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]"
                   r"|(?:[^\s\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]|\u00a0)+"  # a no-break
                   r"|[^\S\u00a0]+")  # space joins, as in a table's cells


NO_BREAK_BEFORE = set("，。：；、！？）」』”’》】")  # stays with what it follows
NO_BREAK_AFTER = set("（「『“‘《【")  # an opening bracket goes to the line of what it opens


def width_px(text: str, size: float) -> float:
    """Estimated width of `text` at `size` px: a CJK character is one em, the rest as
    `text_px` measures it."""
    cjk = len(CJK.findall(text))
    return cjk * size + text_px(CJK.sub("", text), size)


PHRASE_END = set("，。：；、！？")  # a Chinese phrase ends after these


def _phrases(tokens: list[str]) -> list[str]:
    """Runs of Chinese characters between spaces and punctuation joined into one token each:
    for a title or a table's cell, where a break inside a word ("偏置 / 表", "网 / 格") reads
    badly and the room allows breaking between phrases."""
    out: list[str] = []
    for tok in tokens:
        if (out and len(tok) == 1 and CJK.match(tok) and tok not in NO_BREAK_AFTER
                and CJK.match(out[-1][-1]) and out[-1][-1] not in PHRASE_END):
            out[-1] += tok
        else:
            out.append(tok)
    return out


def wrap(text: str, size: float, max_px: float, phrases: bool = False) -> list[str]:
    """`text` in lines of at most `max_px`: broken at spaces, and between CJK characters
    (never inside the pieces the module's docstring names); with `phrases`, between Chinese
    phrases (`_phrases`) where each fits a line, inside one only where it does not."""
    tokens = TOKEN.findall(text)
    if phrases:
        tokens = [piece for tok in _phrases(tokens)
                  for piece in ([tok] if width_px(tok, size) <= max_px or not CJK.match(tok)
                                else TOKEN.findall(tok))]
    lines, cur = [], ""
    for tok in tokens:
        if (cur.strip(" " + "".join(NO_BREAK_AFTER)) and not tok.isspace()
                and tok not in NO_BREAK_BEFORE and width_px(cur + tok, size) > max_px):
            carry = cur[-1] if cur[-1] in NO_BREAK_AFTER and cur[:-1].strip() else ""
            lines.append(cur[:len(cur) - len(carry)].rstrip())
            cur = carry
        if not (tok.isspace() and not cur):
            cur += tok
    if cur.strip():
        lines.append(cur.rstrip())
    return lines


def wrap_even(text: str, size: float, max_px: float) -> list[str]:
    """`wrap`, in as few lines, each about as long as the others: a title that needs two
    lines gets two halves, not one full line and a word left alone under it. Chinese is
    broken between phrases where that takes no more lines (`wrap`'s `phrases`)."""
    lines = wrap(text, size, max_px)
    phrases = len(wrap(text, size, max_px, phrases=True)) == len(lines)
    if len(lines) < 2:
        return lines
    lo, hi = 0.0, max_px  # the narrowest width that keeps the same number of lines
    for _ in range(12):
        mid = (lo + hi) / 2
        if len(wrap(text, size, mid, phrases)) == len(lines):
            hi = mid
        else:
            lo = mid
    return wrap(text, size, hi, phrases)


CODE_BREAKS = (" = ", " - ", ", ", " + ", " * ")


def _depth(text: str) -> list[int]:
    """The bracket depth before each character of `text`."""
    out, d = [], 0
    for ch in text:
        out.append(d)
        d += (ch in "([{") - (ch in ")]}")
    return out


def wrap_code(line: str, max_chars: int) -> list[str]:
    """A code line longer than `max_chars` broken before its last " = ", " - ", ", ", " + " or
    " * " that fits, outside brackets where one does (inside them only where none does), the
    rest indented under it; a comment after the code goes on a line of its own above it,
    broken at spaces."""
    if len(line) <= max_chars:
        return [line]
    code, sep, comment = line.partition("  # ")
    indent = line[:len(line) - len(line.lstrip())]
    if sep and code.strip():
        return [*wrap_code(f"{indent}# {comment}", max_chars), *wrap_code(code, max_chars)]
    if line.lstrip().startswith("#"):
        return textwrap.wrap(line.lstrip()[1:].strip(), max_chars,
                             initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# ",
                             break_long_words=False, break_on_hyphens=False) or [line]
    out = []
    while len(line) > max_chars:
        depth = _depth(line)
        cuts = [i for b in CODE_BREAKS for i in range(8, max_chars - len(b) + 1)
                if line.startswith(b, i)]
        outside = [i for i in cuts if depth[i] == 0]
        if not cuts:
            break
        cut = max(outside or cuts)
        out.append(line[:cut + 1].rstrip())
        line = "        " + line[cut + 1:].lstrip()
    return out + [line]
