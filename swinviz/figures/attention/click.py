"""The attention figure's contract with the page's in-place redraw (app/instant.js), written
into `layout.meta["click"]` so that no script reads a trace's name or a sentence:

    {"v": 1, "window": the window (c) shows,
     "traces": {role: [trace index, ...]},
     "texts": [{"path": {"annotation": i} | {"title": 1} | {"trace": i, "key": k[, "item": j]},
                "template": the text with {placeholders}, "values": [placeholder names]}]}

Roles (by block b or head h where the list is indexed so): "attention" [b], "outline" [b],
"keys" [b], "query" [b], "masked" (any order), "head" [h] ((b) with all heads, a panel each),
"heads" ((b) tiled), "query_slots", "scores", "bias", "mask", "attn", "query_slot" (one per
(b) panel), "window_head" [h], "window_heads" ((c) tiled), "query_row".
Placeholders (`values`): row, col (the query token), window, slot (its window and slot in the
selected block), window0, slot0, window1, slot1 (in each block), scores_mean, bias_mean (the
(b) titles' mean |·|, 3 decimals). Filling a template with the figure's own query gives its
text exactly (checked here, as the figure is made).
"""

from __future__ import annotations

import re

import numpy as np

from .._core.words import tr

VERSION = 1
PLACEHOLDERS = ("row", "col", "window", "slot", "window0", "slot0", "window1", "slot1",
                "scores_mean", "bias_mean")


def query_text(lang: str, b: int) -> str:
    """The template of the query star's hover text in block b (its {row}, {col}, {window<b>},
    {slot<b>})."""
    return tr(lang, "query token ({{row}}, {{col}}), window {{window{b}}}, slot {{slot{b}}}", b=b)


def values(sel, g, parts) -> dict[str, str]:
    """The placeholders' values for the figure's own query (plan `g`, (b)'s `parts`)."""
    out = {"row": str(g.r), "col": str(g.c), "window": str(g.wq), "slot": str(g.kq),
           "scores_mean": f"{np.abs(parts['scores']).mean():.3f}",
           "bias_mean": f"{np.abs(parts['bias']).mean():.3f}"}
    for b in (0, 1):
        w, k = (int(v) for v in g.geo[b][1][g.r, g.c])
        out[f"window{b}"], out[f"slot{b}"] = str(w), str(k)
    return out


def fill(template: str, vals: dict[str, str]) -> str:
    """The template with every {placeholder} in `vals` replaced by its value."""
    for name, value in vals.items():
        template = template.replace("{" + name + "}", value)
    return template


def used(template: str) -> list[str]:
    return [n for n in PLACEHOLDERS if "{" + n + "}" in template]


def templated(layout: dict, g) -> dict:
    """A copy of the layout with each registered text in its place with its values marked by
    tags (`_MARK`: tags take no room when a text is measured), so that the figure lays both out
    alike (subtitles restyled, long lines wrapped) and `click_meta` reads the templates laid
    out; `g.paths` gets the texts' paths."""
    import copy

    out = copy.deepcopy({k: v for k, v in layout.items() if k != "meta"})
    g.paths = []
    marked = {k: _MARK.format(k=k, v=v) for k, v in g.vals.items()}
    for template, where in g.texts:
        text = fill(template, g.vals)
        if where == "title":
            g.paths.append({"title": 1})
            out["title"]["text"] = fill(template, marked)
            continue
        i = where if isinstance(where, int) else next(
            i for i, a in enumerate(layout["annotations"]) if a.get("text") == text)
        g.paths.append({"annotation": i})
        out["annotations"][i]["text"] = fill(template, marked)
    return out


_MARK = "<z-{k}>{v}</z-{k}>"
_MARKED = re.compile(r"<z-(\w+)>[^<]*</z-\1>")


def _unmark(text: str) -> str:
    """A text laid out with marked values (`templated`) as its template."""
    return _MARKED.sub(lambda m: "{" + m.group(1) + "}", text)


def _text(layout: dict, path: dict) -> str:
    return layout["title"]["text"] if "title" in path else \
        layout["annotations"][path["annotation"]]["text"]


def click_meta(data: list, layout: dict, scratch: dict, g) -> dict | None:
    """layout.meta["click"] for the built figure (`scratch`: `templated`, laid out as the
    layout), or None where a template laid out does not give the text shown (the page's clicks
    then go to the server)."""
    vals = g.vals
    names = {}
    for i, t in enumerate(data):
        names.setdefault(t.get("name"), []).append(i)

    def one(name):
        return (names.get(name) or [None])[0]

    wins = [vals["window0"], vals["window1"]]
    nH, win = g.nH, g.win
    traces = {
        "attention": [one(f"attention block {b}") for b in (0, 1)],
        "outline": [one(f"window {wins[b]} of block {b}") for b in (0, 1)],
        "keys": [one(f"keys block {b}") for b in (0, 1)],
        "query": names.get("query", []),  # block 0's, then block 1's
        "masked": names.get("masked keys", []),
        "head": [one(f"attn head {h}") for h in range(nH)] if g.all_b and not g.tiled_b else [],
        "heads": names.get("attn heads", []),
        "query_slots": names.get("query slots", []),
        **{part: names.get(part, []) for part in ("scores", "bias", "mask", "attn")},
        "query_slot": names.get("query slot", []),
        "window_head": [] if g.tiled else [one(f"window {win} head {h}") for h in range(nH)],
        "window_heads": names.get(f"window {win} heads", []) if g.tiled else [],
        "query_row": names.get("query row", []),
    }
    texts = []
    for path in g.paths:
        template = _unmark(_text(scratch, path))
        texts.append({"path": path, "template": template, "values": used(template)})
        if _text(layout, path) != fill(template, vals) and g.win == g.wq:
            return None  # ((c) of another window than the query's: shown with that one)
    for b in (0, 1):
        i = traces["outline"][b]
        texts.append({"path": {"trace": i, "key": "name"},
                      "template": f"window {{window{b}}} of block {b}",
                      "values": [f"window{b}"]})
        i = traces["query"][b]
        tpl = query_text(g.L, b)
        texts.append({"path": {"trace": i, "key": "hovertext", "item": 0}, "template": tpl,
                      "values": used(tpl)})
        if data[i]["hovertext"][0] != fill(tpl, vals):
            return None
    for h, i in enumerate(traces["window_head"]):
        texts.append({"path": {"trace": i, "key": "name"},
                      "template": f"window {{window}} head {h}", "values": ["window"]})
    for i in traces["window_heads"]:
        texts.append({"path": {"trace": i, "key": "name"}, "template": "window {window} heads",
                      "values": ["window"]})
    if any(None in idx for idx in traces.values()):
        return None
    return {"v": VERSION, "window": int(win), "traces": traces, "texts": texts}
