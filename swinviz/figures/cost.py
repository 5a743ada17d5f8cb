"""SPEC 3.8: what the configuration costs.

Top: the learned parameters of stage 1 (SPEC fact 9), module by module, with shapes and formulas;
numbers from `swinviz.cost` (the tests check them against a direct count of the model's
nn.Parameters).
Bottom: (left) attention FLOPs of W-MSA against global MSA as the token grid grows (the paper's
Ω formulas, log scale, this input marked); (middle) the FLOPs of each block of this pair, split
as SPEC fact 10 counts them; (right) the forward time measured on this device for this image.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .. import cost as _cost
from .style import (
    BLOCK_COLORS,
    OKABE_ITO,
    axis_key,
    fast_figure,
    footnote,
    get_template,
    style_layout,
    subplots_layout,
    top_title,
)

IN_CHANS = 3
GRID_SIDES = np.arange(7, 113)  # token grids h = w = 7 .. 112 (input 28 .. 448 px)
BLOCK_MODULES = ("norm1", "attn.qkv", "attn.proj", "attn.relative_position_bias_table", "norm2",
                 "mlp.fc1", "mlp.fc2")


def _fmt(n: float) -> str:
    return f"{int(n):,}".replace(",", " ")


def _flops(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.3g}"


def parameter_rows(exp) -> list[dict]:
    """One dict per learned module of stage 1: name (as in the model: `patch_embed.proj`,
    `pair.blocks.{b}.attn.qkv`, ...), shape text, formula text and count (from swinviz.cost)."""
    C, p, r = exp.embed_dim, exp.patch_size, exp.mlp_ratio
    nH = exp.num_heads
    hid = int(C * r)
    pe = _cost.patch_embed_params(C, p, IN_CHANS)
    rows = [
        dict(name="patch_embed.proj", shape=f"[{C}, {IN_CHANS}, {p}, {p}] + [{C}]",
             formula=f"C·{IN_CHANS}·p² + C", count=pe["proj"]),
        dict(name="patch_embed.norm", shape=f"[{C}] + [{C}]", formula="2C", count=pe["norm"]),
    ]
    for b, tr in enumerate(exp.traces):
        M = tr.window_size
        G = 2 * M - 1
        bp = _cost.block_params(C, nH, M, r)
        shapes = {
            "norm1": (f"[{C}] + [{C}]", "2C"),
            "attn.qkv": (f"[{3 * C}, {C}] + [{3 * C}]", "C·3C + 3C"),
            "attn.proj": (f"[{C}, {C}] + [{C}]", "C·C + C"),
            "attn.relative_position_bias_table": (f"[{G * G}, {nH}]", "(2M−1)²·nH"),
            "norm2": (f"[{C}] + [{C}]", "2C"),
            "mlp.fc1": (f"[{hid}, {C}] + [{hid}]", "C·rC + rC"),
            "mlp.fc2": (f"[{C}, {hid}] + [{C}]", "rC·C + C"),
        }
        for m in BLOCK_MODULES:
            rows.append(dict(name=f"pair.blocks.{b}.{m}", shape=shapes[m][0],
                             formula=shapes[m][1], count=bp[m]))
    return rows


def block_flop_parts(exp, block: int) -> dict[str, int]:
    """SPEC fact 10 for one block of this exploration, split: norm1, attention (nW windows),
    MLP, norm2. The parts sum to `swinviz.cost.block_flops`."""
    tr = exp.traces[block]
    H, W = tr.input_resolution
    C, nH, M = exp.embed_dim, exp.num_heads, tr.window_size
    nW = (H // M) * (W // M)
    parts = {
        "norm1": C * H * W,
        "attention": nW * _cost.attention_flops(C, nH, M * M),
        "MLP": int(2 * H * W * C * C * exp.mlp_ratio),
        "norm2": C * H * W,
    }
    total = _cost.block_flops(C, (H, W), nH, M, exp.mlp_ratio)
    if sum(parts.values()) != total:  # the split must be the library's count, nothing else
        raise AssertionError(f"FLOP parts {parts} do not add up to block_flops = {total}")
    return parts


def figure(exp, sel) -> go.Figure:
    t = get_template(sel.template)
    H, W = exp.grid
    C, M, s = exp.embed_dim, exp.window_size, exp.shift_size
    rows = parameter_rows(exp)

    lines = ["FLOPs are multiply-adds, counted the way the reference counts them. MSA / W-MSA "
             "count only the attention part (the paper's Ω);",
             "the block bars add the norms and the MLP (hover the thin segments for the norms).",
             "Traced = the reference's steps one by one, keeping every tensor; fast = one gather "
             "for roll + partition and fused attention.",
             "Times are one forward pass (no warm-up), so treat them as rough."]
    if s == 0:
        if min(H, W) <= M:
            lines += [
                f"<b>Why no shift?</b> The window covers the whole {H}×{W} grid (SPEC fact 2): "
                f"there is one window and every patch already sees every other,",
                "so a shift would only roll the tokens round inside it. The window becomes the "
                "grid and the shift 0",
                "(as in Swin-T's stage 4 at 224 px: 7×7 tokens, one 7×7 window)."]
        else:
            lines.append("<b>No shift:</b> shift 0 was chosen, so block 1 uses the same windows "
                         "as block 0 and no information crosses a window border.")
    note, bottom = footnote("<br>".join(lines), sel.template, lines=len(lines), below=6.5)

    height = int(t.height * 1.9) + 20 * len(lines)
    top = int(12 + 1.35 * t.title_size + 1.4 * t.font_size + 12)
    area = height - top - bottom
    table_px = (len(BLOCK_MODULES) + 3) * (t.font_size + 9) + t.font_size + 24
    v = round(5 * t.font_size / area, 3)  # room for the charts' two-line titles
    f = round(table_px / area, 3)
    layout, refs = subplots_layout(
        rows=2, cols=3, specs=[[{"type": "table", "colspan": 3}, None, None], [{}, {}, {}]],
        row_heights=[f, 1 - v - f], vertical_spacing=v, horizontal_spacing=0.1,
        subplot_titles=["table", "flops", "blocks", "time"],
    )
    data: list[dict] = []

    # ---- parameter table: patch embedding, then one block's modules with both blocks' counts
    r0 = {m: rows[2 + i] for i, m in enumerate(BLOCK_MODULES)}
    r1 = {m: rows[2 + len(BLOCK_MODULES) + i] for i, m in enumerate(BLOCK_MODULES)}
    total = sum(r["count"] for r in rows)
    names = [rows[0]["name"], rows[1]["name"]] + [f"blocks.{{0,1}}.{m}" for m in BLOCK_MODULES]
    names += ["<b>stage 1 total</b>"]
    shapes = [rows[0]["shape"], rows[1]["shape"]] + [r0[m]["shape"] for m in BLOCK_MODULES] + [""]
    formulas = [rows[0]["formula"], rows[1]["formula"]] + [r0[m]["formula"]
                                                            for m in BLOCK_MODULES] + [""]
    b0 = ["—", "—"] + [_fmt(r0[m]["count"]) for m in BLOCK_MODULES]
    b0 += [f"<b>{_fmt(sum(r0[m]['count'] for m in BLOCK_MODULES))}</b>"]
    b1 = ["—", "—"] + [_fmt(r1[m]["count"]) for m in BLOCK_MODULES]
    b1 += [f"<b>{_fmt(sum(r1[m]['count'] for m in BLOCK_MODULES))}</b>"]
    allc = [_fmt(rows[0]["count"]), _fmt(rows[1]["count"])]
    allc += [_fmt(r0[m]["count"] + r1[m]["count"]) for m in BLOCK_MODULES]
    allc += [f"<b>{_fmt(total)}</b>"]
    top_dom = layout[axis_key(refs[(2, 1)][1])]["domain"][1] + v
    fill = [["#f2f2f2" if i % 2 else "white" for i in range(len(names) - 1)] + ["#e3eef8"]]
    data.append(dict(
        type="table", domain=dict(x=[0, 1], y=[top_dom, 1]), columnwidth=[3.2, 2.2, 1.6, 1, 1, 1],
        header=dict(values=["<b>module</b>", "<b>shape (weight + bias)</b>", "<b>formula</b>",
                            "<b>block 0</b>", "<b>block 1</b>", "<b>parameters</b>"],
                    fill=dict(color="#dde6ee"), align="left",
                    font=dict(size=t.font_size - 1), height=t.font_size + 12),
        cells=dict(values=[names, shapes, formulas, b0, b1, allc], fill=dict(color=fill * 6),
                   align=["left", "left", "left", "right", "right", "right"],
                   font=dict(size=t.font_size - 2), height=t.font_size + 8),
        name="parameters"))
    layout["annotations"][0]["text"] = (
        f"Learned parameters (SPEC fact 9): C = {C}, {exp.num_heads} heads, M = {M}, MLP ratio "
        f"{exp.mlp_ratio:g}, patch {exp.patch_size}")

    # ---- W-MSA against global MSA as the grid grows ----------------------------------------
    xr, yr = refs[(2, 1)]
    ax = dict(xaxis=xr, yaxis=yr)
    h = GRID_SIDES
    w_msa = np.array([_cost.wmsa_flops(int(v), int(v), C, M) for v in h], dtype=float)
    msa = np.array([_cost.msa_flops(int(v), int(v), C) for v in h], dtype=float)
    for y, name, formula, color in (
            (msa, "global MSA", "4hwC² + 2(hw)²C", OKABE_ITO[5]),
            (w_msa, "W-MSA", f"4hwC² + 2M²hwC, M = {M}", OKABE_ITO[4])):
        data.append(dict(type="scatter", x=h, y=y, mode="lines", name=name,
                         line=dict(color=color, width=t.line_width),
                         customdata=h * exp.patch_size, showlegend=False,
                         hovertemplate=f"{name}<br>grid %{{x}}×%{{x}} tokens "
                                       f"(%{{customdata}} px)<br>%{{y:.3s}} multiply-adds"
                                       f"<extra></extra>", **ax))
        layout["annotations"].append(dict(
            x=float(h[-1]), y=float(np.log10(y[-1])), xref=xr, yref=yr, xanchor="right",
            yanchor="bottom" if name == "W-MSA" else "top", showarrow=False,
            text=f"<b>{name}</b><br>{formula}", align="right", font=dict(color=color)))
    cur_w, cur_m = _cost.wmsa_flops(H, W, C, M), _cost.msa_flops(H, W, C)
    data.append(dict(type="scatter", x=[H, H], y=[cur_w, cur_m], mode="markers+text",
                     marker=dict(size=11, color="black", symbol="diamond"),
                     text=[_flops(cur_w), _flops(cur_m)], textposition=["bottom right", "top left"],
                     cliponaxis=False,
                     textfont=dict(size=t.font_size - 2), name="this input",
                     showlegend=False,
                     hovertemplate="this input: %{x}×" + str(W) + " tokens<br>%{y:.3s}"
                                   "<extra></extra>", **ax))
    layout["annotations"][1]["text"] = (
        f"Attention FLOPs vs grid size<br><sup>this input {H}×{W}: global MSA would cost "
        f"{cur_m / cur_w:.1f}× W-MSA</sup>")
    layout[axis_key(xr)].update(title=dict(text="token grid side h = w"), type="linear",
                                range=[0, int(h[-1]) + 4])
    layout[axis_key(yr)].update(title=dict(text="multiply-adds (log)"), type="log",
                                exponentformat="SI")
    layout.setdefault("shapes", []).append(dict(
        type="line", xref=xr, yref=f"{yr} domain", x0=H, x1=H, y0=0, y1=1,
        line=dict(color="#666", width=1, dash="dot")))

    # ---- the FLOPs of each block of this pair ----------------------------------------------
    xr, yr = refs[(2, 2)]
    ax = dict(xaxis=xr, yaxis=yr)
    parts = [block_flop_parts(exp, b) for b in (0, 1)]
    labels = [f"block 0 (W-MSA)<br>M = {exp.traces[0].window_size}",
              f"block 1 (SW-MSA)<br>M = {M}, s = {s}"]
    colors = {"norm1": "#999999", "attention": BLOCK_COLORS[0], "MLP": OKABE_ITO[0],
              "norm2": "#cccccc"}
    for part in ("norm1", "attention", "MLP", "norm2"):
        vals = [p[part] for p in parts]
        data.append(dict(type="bar", x=labels, y=vals, name=part, showlegend=False,
                         marker=dict(color=colors[part]), textposition="inside",
                         text=[f"{part}<br>{_flops(x)}" for x in vals], insidetextanchor="middle",
                         textangle=0,
                         textfont=dict(color="white" if part == "attention" else "black"),
                         hovertemplate=f"%{{x}}<br>{part}: %{{y:.4s}} multiply-adds"
                                       f"<extra></extra>", **ax))
    totals = [_cost.block_flops(C, (H, W), exp.num_heads, exp.traces[b].window_size,
                                exp.mlp_ratio) for b in (0, 1)]
    data.append(dict(type="scatter", x=labels, y=totals, mode="text",
                     text=[_flops(v) for v in totals], textposition="top center",
                     showlegend=False, hoverinfo="skip", name="block totals",
                     textfont=dict(size=t.font_size - 1), **ax))
    layout["barmode"] = "stack"
    layout["annotations"][2]["text"] = (
        f"FLOPs of this pair (SPEC fact 10)<br><sup>{H}×{W} tokens, pair total "
        f"{_flops(sum(totals))} multiply-adds</sup>")
    layout[axis_key(yr)].update(title=dict(text="multiply-adds"), exponentformat="SI",
                                range=[0, max(totals) * 1.18])

    # ---- measured time -----------------------------------------------------------------------
    xr, yr = refs[(2, 3)]
    ax = dict(xaxis=xr, yaxis=yr)
    tm = exp.timings_ms
    keys = [k for k in ("patch_embed", "pair_traced", "pair_fast") if k in tm]
    nice = {"patch_embed": "patch<br>embedding", "pair_traced": "pair,<br>traced",
            "pair_fast": "pair,<br>fast path"}
    data.append(dict(type="bar", x=[nice[k] for k in keys], y=[tm[k] for k in keys],
                     marker=dict(color=[OKABE_ITO[2], OKABE_ITO[5], OKABE_ITO[4]][:len(keys)]),
                     text=[f"{tm[k]:.1f} ms" for k in keys], textposition="outside",
                     cliponaxis=False, showlegend=False, name="forward time",
                     hovertemplate="%{x}: %{y:.2f} ms<extra></extra>", **ax))
    layout["annotations"][3]["text"] = (
        f"Measured forward time on {exp.device}<br><sup>one run for this image, "
        f"milliseconds</sup>")
    layout[axis_key(xr)].update(tickangle=0)
    layout[axis_key(yr)].update(title=dict(text="ms"),
                                range=[0, max([tm[k] for k in keys] or [1]) * 1.25])

    layout["annotations"].append(note)
    layout["uniformtext"] = dict(mode="hide", minsize=max(9, t.font_size - 4))
    style_layout(layout, sel.template, height=height,
                 title=f"Cost of this configuration: {H}×{W} tokens, C = {C}, M = {M}, "
                       f"shift {s}, {exp.num_heads} heads ({exp.weights})")
    layout["margin"].update(b=bottom, l=80)
    layout["showlegend"] = False
    top_title(layout, sel.template, below=1, gap=12)
    layout["margin"]["t"] = top
    return fast_figure(data, layout)
