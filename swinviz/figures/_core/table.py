"""Sizing plotly tables from their text: column widths that keep words whole, and the height
plotly gives a table (a domain shorter than that hides its last rows)."""

from __future__ import annotations

import re

from .text import text_px

CELL_PAD = 8  # plotly's padding inside a table cell, px on each side (its constants.cellPad)
LINE_EM = 1.3  # plotly's line spacing, in em


def _plain(text: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", text))


def keep_columns(keep: tuple[int, ...], header: list, cols: list, *more: list) -> tuple:
    """Only the columns `keep` (indices) of a table's header, its columns and any per-column
    lists (alignments): a phone's table keeps the few that fit its column."""
    return tuple([seq[i] for i in keep] for seq in (header, cols, *more))


def word_px(word: str, size: float, bold: bool = False) -> float:
    """Width in px of one unbreakable piece of cell text (tags removed): `text_px`'s estimate,
    and never less than 0.6 em a character (bold 8 % more), so that a narrow-looking word is
    not under-counted."""
    plain = _plain(word)
    return max(text_px(plain, size), 0.6 * size * len(plain)) * (1.08 if bold else 1.0)


def cell_lines(text: str, size: float, col_px: float) -> int:
    """How many lines plotly sets `text` in, in a column `col_px` wide: its "<br>" lines, each
    broken at spaces where it runs wider than the column less the cell padding (as plotly's
    table does)."""
    room = col_px - 2 * CELL_PAD
    bold = "<b>" in text
    n = 0
    for line in text.split("<br>"):
        n += 1
        cur = 0.0
        for w in _plain(line).split(" "):
            wpx = word_px(w, size, bold)
            space = word_px(" ", size, bold) if cur else 0.0
            if cur and cur + space + wpx > room:
                n += 1
                cur = wpx
            else:
                cur += space + wpx
    return n


def break_names(header: list[str], cols: list[list[str]], header_size: float,
                cell_size: float, total_px: float) -> tuple[list[str], list[list[str]]]:
    """The header and columns, where their words do not fit `total_px` side by side, with
    every word wider than a fair share of it (1.4 times an even column) broken into lines after
    its "." or "_", as few as fit: plotly breaks cell text only at spaces, and a module's dotted
    name ("attn.relative_position_bias_table") as one word made `fit_columns` narrow every
    column of a phone's table, cutting its numbers."""
    if sum(_needs(header, cols, header_size, cell_size)[0]) < total_px:
        return header, cols
    room = 1.4 * total_px / max(len(header), 1) - 2 * CELL_PAD - 4

    def broken(text: str, size: float) -> str:
        bold = "<b>" in text
        out = []
        for word in text.split(" "):
            if word_px(word, size, bold) <= room or "<br>" in word:
                out.append(word)
                continue
            lines, cur = [], ""
            for piece in re.split(r"(?<=[._])", word):
                if cur and word_px(cur + piece, size, bold) > room:
                    lines.append(cur)
                    cur = piece
                else:
                    cur += piece
            out.append("<br>".join([*lines, cur]))
        return " ".join(out)

    return ([broken(h, header_size) for h in header],
            [[broken(c, cell_size) if isinstance(c, str) else c for c in col] for col in cols])


def _needs(header: list[str], cols: list[list[str]], header_size: float,
           cell_size: float) -> tuple[list[float], list[float]]:
    """Each column's least width (its longest word) and its width on one line, in px."""
    pad = 2 * CELL_PAD + 4
    need, natural = [], []
    for head, col in zip(header, cols, strict=True):
        texts = [(head, header_size)] + [(c, cell_size) for c in col]
        need.append(pad + max(word_px(w, size, "<b>" in c)  # (a line break is a space)
                              for c, size in texts for w in _plain(c.replace("<br>", " "))
                              .split(" ")))
        natural.append(pad + max(word_px(line, size, "<b>" in c)
                                 for c, size in texts for line in c.split("<br>")))
    return need, natural


def fit_columns(header: list[str], cols: list[list[str]], header_size: float,
                cell_size: float, total_px: float, first: tuple[int, ...] = ()) -> list[float]:
    """Column widths in px (summing to `total_px`) from the text: every column at least as wide
    as its longest word (plotly breaks cell text only at spaces and cuts what still does not
    fit), the room left shared out evenly, no column getting more than it needs to set its
    longest cell on one line; the columns in `first` get their one-line width before the others,
    as far as the room goes. When even the words do not fit, they are scaled down together."""
    need, natural = _needs(header, cols, header_size, cell_size)
    if sum(need) >= total_px:
        return [n * total_px / sum(need) for n in need]
    if sum(natural) <= total_px:
        return [n * total_px / sum(natural) for n in natural]
    # water-filling: each column gets up to the same extra `level`, a column that needs less
    # to set its cells on one line gets just that (short columns like shapes stay unbroken)
    room = total_px - sum(need)
    for j in first:
        extra = min(natural[j] - need[j], room)
        need[j] += extra
        room -= extra
    spare = sorted(n - m for n, m in zip(natural, need, strict=True))
    left = len(spare)
    level = 0.0
    for sp in spare:
        if sp * left > room:
            level = room / left
            break
        room -= sp
        left -= 1
    return [m + min(n - m, level) for n, m in zip(natural, need, strict=True)]


def table_px(header: list[str], cols: list[list[str]], widths: list[float], header_size: float,
             cell_size: float, header_h: float, cell_h: float) -> int:
    """Height in px plotly gives the table (header and every row): a row is `cell_h` or as tall
    as its longest cell's lines (1.3 em each, plus the cell padding); a table's domain shorter
    than this hides the last rows."""
    def row(texts, size, h):
        lines = max(cell_lines(c, size, w) for c, w in zip(texts, widths, strict=True))
        return max(h, lines * LINE_EM * size + 2 * CELL_PAD + 2)

    total = row(header, header_size, header_h)
    for i in range(len(cols[0])):
        total += row([c[i] for c in cols], cell_size, cell_h)
    return int(total + 1)
