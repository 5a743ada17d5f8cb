"""The attention figure's words that frame its rows: the row headings (a), (b), (c), each
placed above its row's subplot titles, (b) and (c) also kept as templates for the page's
in-place redraw of a click (`click.fill`)."""

from __future__ import annotations

from .._core import axis_key, block_name, content_term
from .._core.words import tr as say
from . import click


def capital(name: str) -> str:
    """"block 5 (SW-MSA)" -> "Block 5 (SW-MSA)" (a title's first word)."""
    return name[:1].upper() + name[1:]


def headings(exp, sel, g, layout, refs) -> None:
    """The row headings (a), (b), (c), placed above each row's subplot titles."""
    t, N, win, all_b, b_rows, tiled = g.t, g.N, g.win, g.all_b, g.b_rows, g.tiled
    tiled_b = g.tiled_b
    # row headings, placed above each row's subplot titles (lift: font sizes above the row's
    # top; tiled (c) has its labels inside its plot, so its heading sits just above it)
    L = g.L
    hb = say(L, "head {h}", h=0 if sel.head is None else sel.head)
    bn = block_name(sel.block, exp, L)
    headings = [  # (b), (c): templates, {row} ... filled by click.fill below
        (refs[(1, 1)][1], 4.2,
         say(L, "(a) A set of {n} patches' attention, summed, in both blocks, on the image (the "
                "shift undone)", n=len(sel.added) + 1) if sel.added else
         say(L, "(a) One patch's attention in both blocks, on the image (the shift undone)")),
        (refs[(2, 1)][1], 0.6 if tiled_b else 2.9,
         say(L, "(b) Every head's attention row (softmax of {content} + bias + mask), {b}, "
                "token ({{row}}, {{col}}) = window {{window}}, slot {{slot}}", b=bn,
                content=content_term(exp)) if all_b else
         say(L, "(b) Taken apart: {b}, {head}, token ({{row}}, {{col}}) = window {{window}}, "
                "slot {{slot}}", b=bn, head=hb)),
        (refs[(2 + b_rows, 1)][1], 0.6 if tiled else 2.9,
         say(L, "(c) Every head, window {{window}} of {b}: {N}×{N} attention (rows: queries), "
                "one colour scale", b=bn, N=N)),
    ]
    for i, (yref, lift, text) in enumerate(headings):
        if i:  # (b), (c): templates for the page (click.py)
            g.texts.append((f"<b>{text}</b>", len(layout["annotations"])))
        text = click.fill(text, dict(g.vals, window=str(win)))
        row_top = layout[axis_key(yref)]["domain"][1]
        layout["annotations"].append(dict(
            text=f"<b>{text}</b>", xref="paper", yref="paper", x=0, y=row_top, xanchor="left",
            align="left", yanchor="bottom", yshift=int(lift * t.font_size), showarrow=False,
            font=dict(size=t.font_size)))
