"""Breaking the lesson's text into lines by measured width: words at spaces, Chinese between any
two characters (a CJK character is one em wide), code before an operator."""

from __future__ import annotations

import re

from ..figures._core.text import text_px

CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")
TOKEN = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]|[^\s\u2e80-\u9fff\u3000-\u303f"
                   r"\uff00-\uffef]+|\s+")


NO_BREAK_BEFORE = set("，。：；、！？）」』")  # Chinese punctuation stays with what it follows


def width_px(text: str, size: float) -> float:
    """Estimated width of `text` at `size` px: a CJK character is one em, the rest as
    `text_px` measures it."""
    cjk = len(CJK.findall(text))
    return cjk * size + text_px(CJK.sub("", text), size)


def wrap(text: str, size: float, max_px: float) -> list[str]:
    """`text` in lines of at most `max_px`: broken at spaces, and between CJK characters."""
    lines, cur = [], ""
    for tok in TOKEN.findall(text):
        if (cur and not tok.isspace() and tok not in NO_BREAK_BEFORE
                and width_px(cur + tok, size) > max_px):
            lines.append(cur.rstrip())
            cur = ""
        if not (tok.isspace() and not cur):
            cur += tok
    if cur.strip():
        lines.append(cur.rstrip())
    return lines


def wrap_code(line: str, max_chars: int) -> list[str]:
    """A code line longer than `max_chars` broken before its last " = ", " - ", ", " or " + "
    that fits, the rest indented under it."""
    out = []
    while len(line) > max_chars:
        cut = max(line.rfind(sep, 0, max_chars) for sep in (" = ", " - ", ", ", " + ", " * "))
        if cut <= 8:
            break
        out.append(line[:cut + 1].rstrip())
        line = "        " + line[cut + 1:].lstrip()
    return out + [line]



