"""The figures' words in every language, gettext style: the English sentence is the key (a
msgid, `{field}` placeholders filled by `str.format`), `swinviz/figures/lang/<code>.py` holds
WORDS = {msgid: the sentence in that language, with the same fields}.

    tr(sel.lang, "stage {stage}'s {H}×{W} tokens", stage=2, H=28, W=28)

English is the msgid itself, so English output is exactly what the code says. Every msgid goes
through `str.format`, so a literal brace is doubled (plotly's "%{{x}}" in a hover template). A
msgid a language lacks is said in English (and recorded: `recording()` lets a test collect the
msgids asked for and the missing ones).
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from functools import lru_cache

_RECORDS: list[dict[str, set]] = []


@lru_cache
def _words(lang: str) -> dict[str, str]:
    return importlib.import_module(f"swinviz.figures.lang.{lang}").WORDS


def tr(lang: str, msgid: str, /, **fields) -> str:
    """`msgid` said in language `lang` with its `{fields}` filled (English: the msgid)."""
    if lang == "en":
        text = msgid
    else:
        text = _words(lang).get(msgid)
        for rec in _RECORDS:
            rec["seen"].add(msgid)
            if text is None:
                rec["missing"].add((lang, msgid))
        if text is None:
            text = msgid
    return text.format(**fields)


@contextmanager
def recording():
    """Collect the msgids asked for in another language than English (`seen`) and those the
    language lacks (`missing`, (lang, msgid) pairs) while the block runs."""
    rec: dict[str, set] = {"seen": set(), "missing": set()}
    _RECORDS.append(rec)
    try:
        yield rec
    finally:
        _RECORDS.remove(rec)
