"""Why each part exists: what the explored pair computes without its mask, its shift or its
relative position bias, for the same input and the clicked query (docs/concepts.md, facts 3-7).

    (a) without the mask: the weight each window of block 2p+1 puts on keys from another region
        (the softmax of q·kᵀ·scale + bias alone, over the whole rolled window), per window;
    (b) the clicked query's weights without the mask on the token grid, the keys from another
        region (the far side of the image, brought in by the roll) outlined;
    (c) without the shift: how many input tokens can reach the query after block 2p and after
        1..k pairs (`_core.reach`), with the pair's shift and with shift 0;
    (d), (e) the query's attention in the chosen block and head with and without the bias, and
        the bias's share of its logits.

These are the block's own tensors with one term left out: the pair's input is the same, so the
panels isolate one part. The whole model without a part is `SwinTransformer.without` (the
page's "What if" boxes; its prediction is compared in the prediction figure). Where the explored
model already leaves a part out (`exp.without`), its panel reads the model's own attention.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from ..windows import attention_mask, padded_size
from ._core import (
    BLOCK_COLORS,
    QUERY_COLOR,
    SEQUENTIAL,
    block_name,
    cached,
    canvas,
    cells_outline,
    fast_figure,
    footnote,
    get_template,
    panel_axes,
    set_titles,
    style_layout,
    subplots_layout,
    sup_lines,
    title_height,
    title_slots,
    token_geometry,
    token_windows,
    top_title,
    wrap_text,
)
from ._core.labels import PAIRS
from ._core.reach import reach_sets
from ._core.words import tr

OTHER_REGION = "#D55E00"  # keys from another region: vermillion, apart from the query's yellow


@dataclass(frozen=True)
class Leak:
    """Block 2p+1 without its mask, for one image.

    probs: (nW, nH, N, N) the attention without the mask (softmax of q·kᵀ·scale + bias over the
        whole rolled window; the model's own attention when it left the mask out);
    blocked: (nW, N, N) True where Swin's mask adds −100 (query and key from other regions);
    per_window: (nW,) weight on blocked keys, mean over the window's queries and the heads.
    """

    probs: np.ndarray
    blocked: np.ndarray
    per_window: np.ndarray
    removed: bool  # the model itself left the mask out (its attention is read)

    def of_query(self, w: int, n: int, head: int | None) -> np.ndarray:
        """(N,) the weights of window w's query slot n over its keys, one head or the mean."""
        p = self.probs[w, :, n]
        return p.mean(0) if head is None else p[head]


def mask_leak(exp) -> Leak | None:
    """What the pair's second block attends to without its mask (None without a shift: nothing
    to mask). Memoised on the exploration."""
    t = exp.traces[1]
    if t.shift_size == 0:
        return None
    return cached(exp, ("parts", "leak"), lambda: _mask_leak(t))


def _mask_leak(t) -> Leak:
    M, s = t.window_size, t.shift_size
    Hp, Wp = padded_size(*t.input_resolution, M)
    blocked = (attention_mask(Hp, Wp, M, s) != 0).numpy()  # nW, N, N
    nW, N = blocked.shape[0], M * M
    if t.mask is None:  # the model left the mask out: its attention is the answer
        probs = t.attn.numpy().astype(np.float64)
    else:
        logits = t.scores.double() + t.bias.double().unsqueeze(0)  # B*nW, nH, N, N
        probs = torch.softmax(logits, -1).numpy()
    probs = probs.reshape(-1, nW, probs.shape[1], N, N)[0]  # the first image
    leak = (probs * blocked[:, None]).sum(-1)  # nW, nH, N: each query's weight on other regions
    return Leak(probs, blocked, leak.mean(axis=(1, 2)), t.mask is None)


def reach_counts(H: int, W: int, M: int, s: int, query, pairs: int = PAIRS,
                 roll_first: bool = False) -> list[int]:
    """Input tokens that can reach `query` after block 2p, then after 1..pairs pairs (the same
    pair repeated), with window M and shift s (`_core.reach.reach_sets`; `roll_first`: the
    block rolls, then pads, as timm's Swin V2 does)."""
    return [int(v.sum()) for v in reach_sets(H, W, M, s, query, pairs, roll_first)]


def bias_effect(exp, block: int, query, head: int | None) -> dict:
    """The query's attention in `block` with the bias (the trace's) and without it (softmax of
    q·kᵀ·scale + mask alone), (N,) each, one head or the mean of the heads; `share`: mean |bias|
    over mean |q·kᵀ·scale| + mean |bias| on the query's row, `per_key` (N,) the same for each
    key's logit; `slot`: the query's slot, `window` its window."""
    t = exp.traces[block]
    H, W = t.input_resolution
    M, s = t.window_size, t.shift_size
    _, wot = token_geometry(H, W, M, s, getattr(t, "roll_first", False))
    w, n = (int(v) for v in wot[query[0], query[1]])
    Hp, Wp = padded_size(H, W, M)
    nW = (Hp // M) * (Wp // M)
    scores = t.scores.double().view(-1, nW, *t.scores.shape[1:])[0, w]  # nH, N, N
    bias = t.bias.double()  # nH, N, N
    mask = (t.mask[w].double() if t.mask is not None else torch.zeros_like(bias[0]))
    heads = range(scores.shape[0]) if head is None else [head]
    with_b = torch.softmax(scores + bias + mask, -1)[:, n]  # nH, N
    without = torch.softmax(scores + mask, -1)[:, n]
    sc, bi = scores[list(heads), n].abs().mean(), bias[list(heads), n].abs().mean()
    pick = (lambda p: p.mean(0)) if head is None else (lambda p: p[head])
    sk = scores[list(heads), n].abs().mean(0)
    bk = bias[list(heads), n].abs().mean(0)
    per_key = torch.where(sk + bk > 0, bk / (sk + bk), torch.zeros_like(bk))
    return dict(with_bias=pick(with_b).numpy(), without_bias=pick(without).numpy(), slot=n,
                window=w, share=float(bi / (sc + bi)) if float(sc + bi) > 0 else 0.0,
                per_key=per_key.numpy())


def _tokens(n: int, lang: str = "en") -> str:
    if lang != "en":
        return tr(lang, "{n} tokens", n=n)
    return f"{n} token" if n == 1 else f"{n} tokens"


def _pct(p: float) -> str:
    return f"{p:.1%}" if p >= 0.001 else f"{p:.2g}"


def _no_mask(exp, L: str) -> str:
    """(a) and (b) where the pair has no mask to leave out: one sentence (the figure's title
    says it, in place of two empty panels)."""
    t = exp.traces[1]
    H, W = t.input_resolution
    why = tr(L, "one window covers the grid" if t.window_size >= min(H, W) else
             "this model has no shift" if "shift" in exp.without else
             "the pair's second block does not shift")
    return tr(L, "(a), (b) without the mask: nothing changes, since {why}: nothing is rolled "
                 "round and there is no mask to leave out.", why=why)


def _leak_panels(exp, sel, leak: Leak, refs, tpl) -> tuple[list[dict], list[str]]:
    """(a) per window and (b) the query's keys, without the mask; their subplot titles."""
    t = exp.traces[1]
    H, W = t.input_resolution
    M, s = t.window_size, t.shift_size
    (xa, ya), (xb, yb) = refs
    L = sel.lang
    wins = token_windows(H, W, M, s)[:H, :W]
    z = leak.per_window[wins]
    data = [dict(type="heatmap", z=z, colorscale=SEQUENTIAL, zmin=0,
                 zmax=max(1e-6, float(leak.per_window.max())), xaxis=xa, yaxis=ya,
                 colorbar=dict(title=dict(text=tr(L, "weight on<br>other regions"), side="top"),
                               x=0.40, len=0.3, y=1, yanchor="top", thickness=12),
                 customdata=wins, name="weight on other regions, per window",
                 hovertemplate=tr(L, "token (%{{y}}, %{{x}}) in window %{{customdata}}: its "
                                     "queries put %{{z:.1%}} of their weight on other "
                                     "regions<extra></extra>"))]
    r, c = sel.query
    order, wot = token_geometry(H, W, M, s, getattr(t, "roll_first", False))
    w, n = (int(v) for v in wot[r, c])
    p = leak.of_query(w, n, sel.head)
    keys = order[w]
    real = keys < H * W
    grid = np.full(H * W, np.nan)
    grid[keys[real]] = p[real]
    other = np.zeros(H * W, bool)
    other[keys[real & leak.blocked[w, n]]] = True
    px = exp.patch_size  # the image under the keys: pixel i sits at token (i + 0.5) / px - 0.5
    data.append(dict(type="image", source=canvas(exp, H, W), x0=0.5 / px - 0.5,
                     y0=0.5 / px - 0.5, dx=1 / px, dy=1 / px, xaxis=xb, yaxis=yb,
                     hoverinfo="skip", opacity=0.7))
    data.append(dict(type="heatmap", z=grid.reshape(H, W), colorscale=SEQUENTIAL, zmin=0,
                     showscale=False, xaxis=xb, yaxis=yb, name="the query's weights",
                     opacity=0.9,
                     hovertemplate=tr(L, "key (%{{y}}, %{{x}}): weight %{{z:.3f}}<extra></extra>")))
    if other.any():
        xs, ys = cells_outline(other.reshape(H, W))
        data.append(dict(type="scatter", x=np.array(xs, float) - 0.5,
                         y=np.array(ys, float) - 0.5, mode="lines", hoverinfo="skip",
                         line=dict(color=OTHER_REGION, width=2), xaxis=xb, yaxis=yb,
                         name="keys from another region", showlegend=False))
    data.append(dict(type="scatter", x=[c], y=[r], mode="markers", hoverinfo="skip",
                     marker=dict(symbol="star", size=tpl.font_size + 4, color=QUERY_COLOR,
                                 line=dict(color="black", width=1.5)), xaxis=xb, yaxis=yb,
                     name=f"query ({r}, {c})", showlegend=False))
    worst = int(leak.per_window.argmax())
    who = tr(L, "head mean") if sel.head is None else tr(L, "head {h}", h=sel.head)
    q_leak = float(p[leak.blocked[w, n]].sum())
    if other.any():
        b = tr(L, "(b) query ({r}, {c}), {who}: {pct} of its weight on keys from the far "
                  "side<br><sup>outlined: keys rolled in from another region, no neighbours of "
                  "it in the image: Swin masks them</sup>", r=r, c=c, who=who, pct=_pct(q_leak))
    else:
        b = tr(L, "(b) query ({r}, {c}), {who}: nothing leaks<br><sup>its window holds one "
                  "region; a query in the last row or column of windows reads the far "
                  "side</sup>", r=r, c=c, who=who)
    lead = tr(L, "this model, without its mask" if leak.removed else "without the mask")
    a = tr(L, "(a) {lead}: weight on other regions per window<br><sup>{b1}; most in window "
              "{w}: {pct}; windows of one region: 0</sup>", lead=lead,
           b1=block_name(1, exp, L), w=worst, pct=_pct(float(leak.per_window[worst])))
    return data, [a, b]


def stage_shift(exp) -> int:
    """The shift of the explored stage's shifted blocks in Swin as configured: the model's own,
    or, for a model that left the shift out (`exp.without`), the one it left out."""
    if "shift" in exp.without and exp.geometry is not None:
        return exp.geometry.shift_size
    return exp.shift_size


def _reach_panel(exp, sel, ref) -> tuple[list[dict], str]:
    """(c) reach after each pair with the shift and without it."""
    H, W = exp.grid
    M = exp.window_size
    s = stage_shift(exp)
    L = sel.lang
    x = [f"block {exp.blocks[0]}"] + [f"{k} pair{'s' if k > 1 else ''}" if L == "en" else
                                       tr(L, "{k} pairs", k=k) for k in range(1, PAIRS + 1)]
    shifted = reach_counts(H, W, M, s, sel.query,
                           roll_first=bool(getattr(exp.traces[1], "roll_first", False))) \
        if s else None
    flat = reach_counts(H, W, M, 0, sel.query)
    xr, yr = ref
    # on a phone the bars are a few px wide: counts written upright, one above each bar (side
    # by side, "49" and "49" ran together into "4949")
    text = dict(textposition="outside", cliponaxis=False,
                **({"textangle": -90} if sel.template == "narrow" else {}))
    data = [dict(type="bar", x=x, y=flat, name=tr(L, "without the shift (W-MSA only)"),
                 marker=dict(color=BLOCK_COLORS[0]), xaxis=xr, yaxis=yr, text=flat, **text)]
    if shifted is not None:
        data.insert(0, dict(type="bar", x=x, y=shifted, name=tr(L, "with the shift (s = {s})", s=s),
                            marker=dict(color=BLOCK_COLORS[1]), xaxis=xr, yaxis=yr,
                            text=shifted, **text))
        title = tr(L, "(c) without the shift the reach stays at {tokens}: the query's "
                      "window<br><sup>with s = {s} it grows to {n} of {total} after {pairs} "
                      "pairs (the same pair repeated; weights play no part)</sup>",
                   tokens=_tokens(flat[-1], L), s=s, n=shifted[-1], total=H * W, pairs=PAIRS)
    else:
        title = (tr(L, "(c) reach: {tokens} however many pairs<br><sup>one {M}×{M} window "
                       "covers the {H}×{W} grid: no shift is needed to reach every token</sup>",
                    tokens=_tokens(flat[-1], L), M=M, H=H, W=W) if M >= min(H, W) else
                 tr(L, "(c) reach: {tokens} however many pairs<br><sup>no shift here: "
                       "information never leaves the query's window</sup>",
                    tokens=_tokens(flat[-1], L)))
    return data, title


def _bias_panels(exp, sel, refs, tpl) -> tuple[list[dict], list[str]]:
    """(d) the query's attention with the bias, (e) without it, as the window's M×M slots."""
    block = sel.block
    t = exp.traces[block]
    M = t.window_size
    L = sel.lang
    eff = bias_effect(exp, block, sel.query, sel.head)
    hi, wi = divmod(eff["slot"], M)
    zmax = float(max(eff["with_bias"].max(), eff["without_bias"].max()))
    data = []
    share = eff["per_key"].reshape(M, M)
    for (xr, yr), p in zip(refs, (eff["with_bias"], eff["without_bias"]), strict=True):
        data.append(dict(type="heatmap", z=p.reshape(M, M), colorscale=SEQUENTIAL, zmin=0,
                         zmax=zmax, showscale=False, xaxis=xr, yaxis=yr, customdata=share,
                         hovertemplate=tr(L, "key slot (%{{y}}, %{{x}}): weight %{{z:.3f}}; "
                                             "the bias is %{{customdata:.0%}} of this logit's "
                                             "size<extra></extra>")))
        data.append(dict(type="scatter", x=[wi], y=[hi], mode="markers", hoverinfo="skip",
                         marker=dict(symbol="star", size=tpl.font_size + 2, color=QUERY_COLOR,
                                     line=dict(color="black", width=1.5)), xaxis=xr, yaxis=yr,
                         showlegend=False))
    who = tr(L, "head mean") if sel.head is None else tr(L, "head {h}", h=sel.head)
    moved = 0.5 * float(np.abs(eff["with_bias"] - eff["without_bias"]).sum())
    bn = block_name(block, exp, L)
    if "bias" in exp.without:
        d = tr(L, "(d) {b}, {who}: this model adds no bias<br><sup>so (d) = (e)</sup>", b=bn,
               who=who)
    else:
        d = tr(L, "(d) {b}, {who}, with the bias<br><sup>the bias is {share} of the logits' "
                  "size on this row</sup>", b=bn, who=who, share=f"{eff['share']:.0%}")
    e = tr(L, "(e) without the bias<br><sup>{pct} of the weight moves to other keys: content "
              "alone, no notion of where a key sits</sup>", pct=_pct(moved))
    return data, [d, e]


def figure(exp, sel) -> go.Figure:
    """(a)-(e) of the module docstring for the explored pair and the selection's query."""
    sel = sel.resolved(exp)
    tpl = get_template(sel.template)
    L = sel.lang
    leak = mask_leak(exp)
    # no mask to leave out (one window covers the grid, no shift): (a) and (b) are a sentence
    # under the figure's title, not two empty panels
    ab_row = int(leak is not None)
    layout, refs = subplots_layout(
        rows=2 + ab_row, cols=2, specs=[[{}, {}]] * ab_row + [[{"colspan": 2}, None], [{}, {}]],
        subplot_titles=title_slots([""] * (3 + 2 * ab_row)),
        vertical_spacing=0.13 if ab_row else 0.16, horizontal_spacing=0.22,
        row_heights=[0.42, 0.2, 0.38] if ab_row else [0.36, 0.64])
    data, ab = (_leak_panels(exp, sel, leak, (refs[(1, 1)], refs[(1, 2)]), tpl) if ab_row
                else ([], []))
    c_data, c_title = _reach_panel(exp, sel, refs[(1 + ab_row, 1)])
    de_data, de = _bias_panels(exp, sel, (refs[(2 + ab_row, 1)], refs[(2 + ab_row, 2)]), tpl)
    data += c_data + de_data
    set_titles(layout, [*ab, c_title, *de])
    H, W = exp.grid
    for rc in ((1, 1), (1, 2))[:2 * ab_row]:
        panel_axes(layout, refs[rc], title_x=tr(L, "column (token)"),
                   title_y=tr(L, "row (token)"))
        layout[f"xaxis{refs[rc][0][1:]}"].update(range=[-0.5, W - 0.5], autorange=False)
        layout[f"yaxis{refs[rc][1][1:]}"].update(range=[H - 0.5, -0.5], autorange=False)
    for rc in ((2 + ab_row, 1), (2 + ab_row, 2)):
        panel_axes(layout, refs[rc], title_x=tr(L, "key slot column"),
                   title_y=tr(L, "key slot row"))
    xr, yr = refs[(1 + ab_row, 1)]
    y_c = layout[f"yaxis{yr[1:]}"]
    y_c.update(title=dict(text=tr(L, "tokens reaching<br>the query")), rangemode="tozero")
    top = max(max(tr["y"]) for tr in c_data)
    y_c["range"] = [0, top * 1.3 + 1]  # room for the numbers over the bars
    random = not getattr(exp, "pretrained", False)
    lines = tr(L, "Each panel is the pair's own tensors with one term left out (same input): "
                  "(a), (b) the mask, (c) the shift, (d), (e) the bias.")
    if random:
        lines += tr(L, " Random weights: how much weight moves means nothing here; that it "
                       "moves, and where, is the mechanics.")
    lines = wrap_text(lines, int((tpl.width - 140) / (0.56 * (tpl.font_size - 1))))
    note, bottom = footnote(lines, sel.template, lines=lines.count("<br>") + 1)
    layout["annotations"].append(note)
    title = tr(L, "Why each part: stage {stage}, pair {pair} without its mask, its shift and its "
                  "bias", stage=exp.stage, pair=exp.pair)
    if not ab_row:
        title += sup_lines(_no_mask(exp, L), tpl)
    style_layout(layout, sel.template, title=title,
                 height=int(tpl.height * (2.1 if ab_row else 1.5)) + title_height(title, tpl))
    layout["barmode"] = "group"
    # the legend of (c), inside its plot at the top left (the bars grow to the right)
    layout["legend"] = dict(orientation="v", x=0.01, y=y_c["domain"][1], xanchor="left",
                            yanchor="top", bgcolor="rgba(255,255,255,0.7)")
    top_title(layout, tpl, below=3)
    # one kind of bar (no shift to compare with): its title says what it is, and a legend
    # would cover the numbers over the first bars
    if len(c_data) == 1:
        layout["showlegend"] = False
    layout["margin"]["b"] = max(layout["margin"].get("b", 0), bottom)
    layout["meta"]["parts"] = dict(
        leak=None if leak is None else float(leak.per_window.max()),
        reach=c_data[0]["y"] if c_data else None)
    return fast_figure(data, layout)
