"""What the whole model costs, and where the explored pair sits in it.

Top: a table of the whole model, part by part in forward order (patch embedding, each stage's
patch merge and blocks, final norm, head): token grid, width, heads, window and shift, learned
parameters and FLOPs (multiply-adds, counted as the reference's `flops()` counts them), from
`swinviz.cost.model_params` / `model_flops`; the explored stage is highlighted, and for the
published configs the totals are set against the paper's Table 1.
Middle: parameters and FLOPs per stage, and the attention FLOPs of one block of each stage with
windows (W-MSA) against global attention (MSA), the paper's Ω formulas (docs/concepts.md,
fact 10).
Bottom: the explored pair module by module: shapes, parameter formulas and counts
(docs/concepts.md, fact 9; the tests check them against the model's own nn.Parameters), and the
FLOPs of each module as fact 10 counts them. The measured forward times are in the note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import plotly.graph_objects as go

from ... import cost as _cost
from .._core import (
    OKABE_ITO,
    arch_label,
    axis_key,
    break_names,
    fast_figure,
    fit_columns,
    footnote,
    get_template,
    keep_columns,
    si,
    style_layout,
    subplots_layout,
    table_px,
    top_title,
    where,
    word_px,
    wrap_text,
)
from .._core.words import tr
from .counts import (
    ATTN_MATMULS,
    BLOCK_MODULES,
    FLOP_FORMULAS,
    PAPER,
    PAPER_V2,
    V2_BLOCK_MODULES,
    _groups,
    arch_label_of,
    block_flop_parts,
    block_modules,
    model_rows,
    module_flops,
    pair_order,
    paper_check,
    parameter_rows,
)

# the counts, for the lesson and the tests as before the figure became a package
__all__ = ["ATTN_MATMULS", "BLOCK_MODULES", "FLOP_FORMULAS", "PAPER", "PAPER_V2",
           "V2_BLOCK_MODULES", "arch_label_of", "block_flop_parts", "block_modules", "figure",
           "model_rows", "module_flops", "pair_order", "paper_check",
           "parameter_rows"]
HIGHLIGHT = "#fde7d6"  # table rows of the explored stage
EXPLORED = OKABE_ITO[5]  # bars of the explored stage (vermillion)
OTHER = OKABE_ITO[4]  # bars of the other parts (blue)


def _fmt(n: float) -> str:
    return f"{int(n):,}".replace(",", "\u00a0")  # no-break space: a number never wraps


def _si_short(n: float) -> str:
    return si(n).replace(" ", "")




def _model_cols(rows: list[dict], stage: int, total_p: int, total_f: int,
                lang: str = "en") -> list[list[str]]:
    """The cells of the whole-model table, column by column, with a total row."""
    labels = [f"<b>{r['label']}</b> ◀" if r["part"].endswith("blocks") and r["stage"] == stage
              else r["label"] for r in rows]
    return [
        labels + [tr(lang, "<b>total</b>")],
        [r["part"] for r in rows] + [""],
        [f"{r['grid'][0]}×{r['grid'][1]}" if r["grid"] else "—" for r in rows] + [""],
        [str(r["dim"]) for r in rows] + [""],
        [r["heads"] for r in rows] + [""],
        [r["window"] for r in rows] + [""],
        [_fmt(r["params"]) for r in rows] + [f"<b>{_fmt(total_p)}</b>"],
        [si(r["flops"]) for r in rows] + [f"<b>{si(total_f)}</b>"],
    ]


def _pair_table(exp, lang: str = "en") -> tuple[list[str], list[list[str]], dict]:
    """Header, cells (column by column) and meta of the explored pair's table."""
    prow = parameter_rows(exp)
    r0 = {r["module"]: r for r in prow if r["block"] == 0}
    r1 = {r["module"]: r for r in prow if r["block"] == 1}
    if any(r0[m]["count"] != r1[m]["count"] for m in r0):  # same stage, same window
        raise AssertionError("the two blocks of a pair should have the same parameters")
    f0, f1 = module_flops(exp, 0), module_flops(exp, 1)
    b0, b1 = exp.blocks
    stage_prefix = f"layers.{exp.stage - 1}.blocks.{{{b0},{b1}}}."
    order = pair_order(exp)
    per_block = sum(r["count"] for r in r0.values())
    pcols = [
        order + [tr(lang, "<b>one block ({b0} or {b1})</b>", b0=b0, b1=b1)],
        [r0[m]["shape"] if m in r0 else "—" for m in order] + [""],
        [r0[m]["formula"] if m in r0 else "" for m in order] + [""],
        [_fmt(r0[m]["count"]) if m in r0 else "0" for m in order]
        + [f"<b>{_fmt(per_block)}</b>"],
        [FLOP_FORMULAS[m] for m in order] + [""],
        [si(f0[m]) if f0[m] == f1[m] else f"{si(f0[m])} | {si(f1[m])}" for m in order]
        + [f"<b>{si(sum(f0.values()))}</b>" if sum(f0.values()) == sum(f1.values())
           else f"<b>{si(sum(f0.values()))} | {si(sum(f1.values()))}</b>"],
    ]
    header = [f"<b>{stage_prefix}</b>", tr(lang, "<b>shape (weight + bias)</b>"),
              tr(lang, "<b>formula</b>"), tr(lang, "<b>parameters, per block</b>"),
              tr(lang, "<b>FLOPs formula</b>"), tr(lang, "<b>FLOPs, per block</b>")]
    meta = dict(modules=order, params=[r0[m]["count"] if m in r0 else 0 for m in order],
                flops=[[f0[m] for m in order], [f1[m] for m in order]])
    return header, pcols, meta


def _fit_font(labels: list[str], room_px: float, size: int) -> int:
    """The largest font size up to `size` (at least 8) at which every line of every label fits
    `room_px`, so that the labels of neighbouring bars do not run together."""
    per_px = max(word_px(line, 1.0, "<b>" in lab) for lab in labels for line in lab.split("<br>"))
    return max(8, min(size, int(room_px / per_px)))


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values for a log axis over [lo, hi]: the powers of ten, and 2 and 5 times them
    when fewer than three powers fall inside (each labelled in full, never a bare "2")."""
    k0, k1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    powers = [10.0 ** k for k in range(k0, k1 + 1) if lo <= 10.0 ** k <= hi]
    steps = (1,) if len(powers) >= 3 else (1, 2, 5)
    return [m * 10.0 ** k for k in range(k0, k1 + 1) for m in steps if lo <= m * 10.0 ** k <= hi]


def _note(exp, t, template: str, lang: str = "en") -> tuple[dict, int]:
    """The footnote: how FLOPs are counted, the measured forward time, the paper's numbers, and
    why there is no shift when there is none; with the bottom margin it needs."""
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    tm = exp.timings_ms
    L = lang
    nice = {"before_pair": tr(L, "up to the pair"), "pair_traced": tr(L, "the pair, traced"),
            "pair_fast": tr(L, "the pair, fast path"),
            "after_pair": tr(L, "after the pair (to the logits)")}
    times = tr(L, ", ").join(f"{nice[k]} {tm[k]:.1f} ms" for k in nice if k in tm)
    lines = [tr(L, "FLOPs are multiply-adds, counted the way the reference's flops() counts "
                "them: the patch embedding, every block (norms, window attention, MLP), every "
                "patch merge, the final norm and the head. MSA / W-MSA count only the attention "
                "part of one block (the paper's Ω)."),
             tr(L, "Measured forward time on {device}, one run for this image (rough): {times}.",
                device=exp.device, times=times)]
    check = paper_check(exp.config, L)
    if check:
        lines.insert(2, check)
    if s == 0 and min(H, W) <= M:
        lines.append(tr(L, "<b>Why no shift in stage {stage}?</b> The window covers the whole "
                        "{H}×{W} grid: one window, every token already sees every other, nothing "
                        "to shift.", stage=exp.stage, H=H, W=W))
    elif s == 0:
        lines.append(tr(L, "<b>No shift:</b> shift 0 was chosen, so the second block uses the "
                        "same windows as the first and no information crosses a window border."))
    width = int((t.width - 130) / (0.56 * (t.font_size - 1)))
    text = "<br>".join(wrap_text(line, width) for line in lines)
    return footnote(text, template, lines=text.count("<br>") + 1, below=5.5)


@dataclass(frozen=True)
class _Tables:
    """The two tables' text and the pixel sizes measured from it (widths per column, height)."""

    row_px: int
    plot_w: int
    model_hdr: list
    model_cols: list
    model_sizes: tuple
    model_w: list
    model_px: int
    pair_hdr: list
    pair_cols: list
    pair_meta: dict
    pair_sizes: tuple
    pair_w: list
    pair_px: int
    model_align: list
    pair_align: list


def _tables(exp, rows: list[dict], t, lang: str = "en") -> _Tables:
    """Both tables' contents, their column widths fitted to the canvas and their heights."""
    total_p = sum(r["params"] for r in rows)
    total_f = sum(r["flops"] for r in rows)
    row_px = int(t.font_size * 1.9)
    plot_w = t.width - 80 - 30  # margins l and r below
    model_hdr = [tr(lang, x) for x in ("<b>part</b>", "<b>module</b>", "<b>tokens</b>")] + [
        "<b>C</b>"] + [tr(lang, x) for x in ("<b>heads</b>", "<b>window / shift</b>",
                                             "<b>parameters</b>")] + ["<b>FLOPs</b>"]
    model_cols = _model_cols(rows, exp.stage, total_p, total_f, lang)
    model_align = ["left"] * 6 + ["right", "right"]
    pair_hdr, pair_cols, pair_meta = _pair_table(exp, lang)
    pair_align = ["left", "left", "left", "right", "left", "right"]
    if t.name == "narrow":  # a phone's column: what each row is, its parameters and FLOPs
        model_hdr, model_cols, model_align = keep_columns((0, 6, 7), model_hdr, model_cols,
                                                          model_align)
        pair_hdr, pair_cols, pair_align = keep_columns((0, 3, 5), pair_hdr, pair_cols,
                                                       pair_align)
    model_sizes = (t.font_size - 1, t.font_size - 2)
    pair_sizes = (t.font_size - 2, t.font_size - 2)
    model_hdr, model_cols = break_names(model_hdr, model_cols, *model_sizes, plot_w)
    pair_hdr, pair_cols = break_names(pair_hdr, pair_cols, *pair_sizes, plot_w)
    model_w = fit_columns(model_hdr, model_cols, *model_sizes, plot_w)
    model_px = table_px(model_hdr, model_cols, model_w, *model_sizes, row_px, row_px) + 4
    pair_w = fit_columns(pair_hdr, pair_cols, *pair_sizes, plot_w, first=(1,))
    pair_px = table_px(pair_hdr, pair_cols, pair_w, *pair_sizes, row_px, row_px) + 4
    return _Tables(row_px, plot_w, model_hdr, model_cols, model_sizes, model_w, model_px,
                   pair_hdr, pair_cols, pair_meta, pair_sizes, pair_w, pair_px, model_align,
                   pair_align)


def _model_panel(exp, rows: list[dict], tb: _Tables, layout: dict, refs: dict, v: float,
                 data: list, lang: str = "en") -> None:
    """The whole model, one row per part, the explored stage highlighted."""
    cfg = exp.config
    total_p = sum(r["params"] for r in rows)
    total_f = sum(r["flops"] for r in rows)
    explored = [r["stage"] == exp.stage for r in rows]
    cols = tb.model_cols
    fill = [HIGHLIGHT if e else ("#f6f6f6" if i % 2 else "white")
            for i, e in enumerate(explored)] + ["#e3eef8"]
    dom = layout[axis_key(refs[(2, 1)][1])]["domain"][1] + v
    data.append(dict(
        type="table", domain=dict(x=[0, 1], y=[dom, 1]),
        columnwidth=[round(w, 1) for w in tb.model_w],
        header=dict(values=tb.model_hdr,
                    fill=dict(color="#dde6ee"), align="left", font=dict(size=tb.model_sizes[0]),
                    height=tb.row_px),
        cells=dict(values=cols, fill=dict(color=[fill] * len(cols)),
                   align=tb.model_align, font=dict(size=tb.model_sizes[1]),
                   height=tb.row_px),
        name="model", meta=dict(parts=[r["part"] for r in rows],
                                params=[r["params"] for r in rows],
                                flops=[r["flops"] for r in rows])))
    layout["annotations"][0]["text"] = tr(
        lang, "The whole model at {px} px: {p} parameters, {f} FLOPs (◀ the explored stage)",
        px=cfg.img_size, p=si(total_p), f=si(total_f))


def _stage_bars(exp, rows: list[dict], t, plot_w: int, layout: dict, refs: dict,
                data: list, lang: str = "en") -> None:
    """Parameters and FLOPs per stage, two bar charts, the explored stage in its colour."""
    total_p = sum(r["params"] for r in rows)
    total_f = sum(r["flops"] for r in rows)
    anns = layout["annotations"]
    groups = _groups(rows)
    names = [g[0].replace("stage ", "stage<br>").replace(" + ", "<br>+") for g in groups]
    if lang != "en":
        names = [tr(lang, "stage<br>{s}", s=g[1]) if g[1] else
                 tr(lang, "embed") if g[0] == "embed" else tr(lang, "norm<br>+ head")
                 for g in groups]
    colors = [EXPLORED if g[1] == exp.stage else OTHER for g in groups]
    panel_px = plot_w * (1 - 2 * 0.09) / 3
    bar_font = _fit_font(names + [_si_short(g[i]) for g in groups for i in (2, 3)],
                         panel_px / len(names) - 4, t.font_size - 3)
    for cell, idx, what in (((2, 1), 2, tr(lang, "parameters")), ((2, 2), 3, "FLOPs")):
        xr, yr = refs[cell]
        vals = [g[idx] for g in groups]
        data.append(dict(type="bar", x=names, y=vals, marker=dict(color=colors),
                         text=[_si_short(v) for v in vals], textposition="outside",
                         cliponaxis=False,
                         constraintext="none",
                         name=tr(lang, "{what} per stage", what=what), showlegend=False,
                         xaxis=xr, yaxis=yr,
                         hovertemplate=f"%{{x}}: %{{y:,}} {what}<extra></extra>",
                         textfont=dict(size=bar_font)))
        layout[axis_key(yr)].update(title=dict(text=what), exponentformat="SI",
                                    range=[0, max(vals) * 1.22])
        layout[axis_key(xr)].update(tickangle=0, tickfont=dict(size=bar_font))
    anns[1]["text"] = tr(lang, "Parameters per stage<br><sup>total {n}</sup>", n=si(total_p))
    anns[2]["text"] = tr(lang, "FLOPs per stage<br><sup>total {n}</sup>", n=si(total_f))


def _msa_panel(exp, t, plot_w: int, layout: dict, refs: dict, data: list,
               lang: str = "en") -> None:
    """W-MSA against global MSA (the paper's Ω), one block per stage, on a log axis."""
    anns = layout["annotations"]
    xr, yr = refs[(2, 3)]
    stages = exp.config.stages()
    xs = [tr(lang, "stage {s}<br>{H}×{W}", s=g.stage, H=g.grid[0], W=g.grid[1]) for g in stages]
    # W-MSA on the grid its windows cover: a side that does not split into whole windows is
    # padded, and the padding slots are computed too (the module table counts them; the
    # paper's Ω assumes whole windows)
    padded = [tuple(-(-n // g.window_size) * g.window_size for n in g.grid) for g in stages]
    w_msa = [_cost.wmsa_flops(*hw, g.dim, g.window_size) for hw, g in zip(padded, stages,
                                                                          strict=True)]
    msa = [_cost.msa_flops(*g.grid, g.dim) for g in stages]
    for ys, name, formula, color in ((msa, tr(lang, "global MSA"), "4hwC² + 2(hw)²C",
                                      OKABE_ITO[5]),
                                     (w_msa, "W-MSA", "4hwC² + 2M²hwC", OKABE_ITO[4])):
        data.append(dict(type="bar", x=xs, y=ys, name=f"{name}: {formula}", showlegend=False,
                         marker=dict(color=color,
                                     line=dict(color=["black" if g.stage == exp.stage else color
                                                      for g in stages], width=2)),
                         meta=name, xaxis=xr, yaxis=yr,
                         hovertemplate=tr(lang, "{name}<br>%{{x}}<br>%{{y:,}} multiply-adds"
                                          "<extra></extra>", name=name)))
    if any(hw != tuple(g.grid) for hw, g in zip(padded, stages, strict=True)):
        data[-1]["hovertemplate"] = tr(
            lang, "W-MSA<br>%{{x}}, padded to %{{customdata}}<br>%{{y:,}} multiply-adds"
            "<extra></extra>")
        data[-1]["customdata"] = [f"{h}×{w}" for h, w in padded]
    data.append(dict(type="scatter", x=xs, y=[m * 1.6 for m in msa], mode="text",
                     text=[f"×{m / w:.1f}" for m, w in zip(msa, w_msa, strict=True)],
                     textfont=dict(size=t.font_size - 2), hoverinfo="skip", showlegend=False,
                     name="MSA / W-MSA", xaxis=xr, yaxis=yr))
    lo, hi = min(w_msa) / 2, max(msa) * 2.2  # room for the "×" labels at 1.6 × MSA
    ticks = log_ticks(lo, hi)
    layout[axis_key(yr)].update(title=dict(text=tr(lang, "multiply-adds (log)")), type="log",
                                range=[math.log10(lo), math.log10(hi)],
                                tickvals=ticks, ticktext=[_si_short(v) for v in ticks])
    layout["barmode"] = "group"
    anns[3]["text"] = tr(lang, "<span style='color:{c4}'><b>W-MSA</b></span> vs <span "
                         "style='color:{c5}'><b>global MSA</b></span>, one block<br><sup>×: how "
                         "much more global attention would cost</sup>", c4=OKABE_ITO[4],
                         c5=OKABE_ITO[5])
    panel_px = plot_w * (1 - 2 * 0.09) / 3
    layout[axis_key(xr)].update(tickfont=dict(size=_fit_font(xs, panel_px / len(xs) - 4,
                                                             t.font_size - 3)))


def _pair_panel(exp, tb: _Tables, layout: dict, data: list, lang: str = "en") -> None:
    """The explored pair, module by module: parameters (fact 9) and FLOPs (fact 10)."""
    H, W = exp.grid
    C, M = exp.embed_dim, exp.window_size
    pair_cols = tb.pair_cols
    pfill = [["#f6f6f6" if i % 2 else "white" for i in range(len(pair_cols[0]) - 1)]
             + ["#e3eef8"]]
    yd = layout["annotations"][4]["y"]
    data.append(dict(
        type="table", domain=dict(x=[0, 1], y=[0, yd - 0.005]),
        columnwidth=[round(w, 1) for w in tb.pair_w],
        header=dict(values=tb.pair_hdr,
                    fill=dict(color="#dde6ee"), align="left", font=dict(size=tb.pair_sizes[0]),
                    height=tb.row_px),
        cells=dict(values=pair_cols, fill=dict(color=pfill * len(pair_cols)),
                   align=tb.pair_align,
                   font=dict(size=tb.pair_sizes[1]), height=tb.row_px),
        name="parameters", meta=tb.pair_meta))
    lead = where(exp, lang)[:1].upper() + where(exp, lang)[1:]
    fields = dict(lead=lead, C=C, nH=exp.num_heads, d=C // exp.num_heads, M=M, N=M * M,
                  nW=exp.num_windows, H=H, W=W, r=f"{exp.mlp_ratio:g}")
    if lang == "en":
        layout["annotations"][4]["text"] = (
            f"{lead}: parameters and "
            f"FLOPs (multiply-adds), module by module<br><sup>C = {C}, {exp.num_heads} heads "
            f"of d = {C // exp.num_heads}, M = {M} (N = {M * M}), nW = "
            f"{exp.num_windows} window{'s' if exp.num_windows > 1 else ''} on the "
            f"{H}×{W} grid, MLP ratio r = "
            f"{exp.mlp_ratio:g}</sup>")
    else:
        layout["annotations"][4]["text"] = tr(
            lang, "{lead}: parameters and FLOPs (multiply-adds), module by module<br><sup>C = "
            "{C}, {nH} heads of d = {d}, M = {M} (N = {N}), nW = {nW} windows on the {H}×{W} "
            "grid, MLP ratio r = {r}</sup>", **fields)


def figure(exp, sel) -> go.Figure:
    """The whole model's table, parameters and FLOPs per stage, W-MSA against global MSA, and
    the explored pair's table, stacked; every row's height measured from its text."""
    sel = sel.resolved(exp)
    t = get_template(sel.template)
    L = sel.lang
    rows = model_rows(exp.config, L)
    note, bottom = _note(exp, t, sel.template, L)
    tb = _tables(exp, rows, t, L)

    chart_px = int(t.height * 0.5)
    top = int(12 + 1.35 * t.title_size + 1.4 * t.font_size + 12)
    gap_px = int(5.5 * t.font_size)
    pair_room = tb.pair_px + int(0.4 * t.font_size)  # the pair's table starts a little below
    area = tb.model_px + chart_px + pair_room + 2 * gap_px
    v = round(gap_px / area, 4)
    h1, h3 = round(tb.model_px / area, 4), round(pair_room / area, 4)
    h2 = round(1 - h1 - h3 - 2 * v, 4)
    layout, refs = subplots_layout(
        rows=3, cols=3,
        specs=[[{"type": "table", "colspan": 3}, None, None], [{}, {}, {}],
               [{"type": "table", "colspan": 3}, None, None]],
        row_heights=[h1, h2, h3], vertical_spacing=v,
        horizontal_spacing=0.09,
        subplot_titles=["model", "params", "flops", "msa", "pair"],
    )
    data: list[dict] = []
    _model_panel(exp, rows, tb, layout, refs, v, data, L)
    _stage_bars(exp, rows, t, tb.plot_w, layout, refs, data, L)
    _msa_panel(exp, t, tb.plot_w, layout, refs, data, L)
    _pair_panel(exp, tb, layout, data, L)
    layout["annotations"].append(note)
    layout["uniformtext"] = dict(mode="hide", minsize=max(9, t.font_size - 4))
    style_layout(layout, sel.template, height=top + bottom + area,
                 title=tr(L, "Cost of {arch}, stage by stage (explored: {where})",
                          arch=arch_label(exp), where=where(exp, L)))
    layout["margin"].update(b=bottom, l=80)
    top_title(layout, sel.template, below=1, gap=12)
    layout["margin"]["t"] = max(top, layout["margin"]["t"])  # a wrapped title takes more
    layout["height"] = layout["margin"]["t"] + bottom + area  # the row heights are of `area`
    return fast_figure(data, layout)
