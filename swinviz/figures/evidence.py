"""Class evidence: where the model finds evidence for one class, against where the query reads.

    (a) Grad-CAM of the class at the last block of every stage (norm1), each on the image at its
        stage's own token size: stage 4's grid is coarse because each of its cells covers
        32×32 pixels (at 224 px), not because the model is vague;
    (b) at the explored pair's second block: norm1, norm2 and the block's output, the three
        places people hook and mix up, with how far each agrees with norm1;
    (c) the clicked query's attention in that block, for comparison: it depends on the query,
        never on the class (attention is not explanation).

The maps come from `exp.evidence` (`swinviz.evidence.gather`, `explore(evidence=True)`), each
scaled to its own largest value; the figure never runs the model. Without evidence (an
exploration made without it, or a model with no classifier head) the figure says so.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go

from ._core import (
    QUERY_COLOR,
    SEQUENTIAL,
    arch_label,
    block_name,
    cached,
    fast_figure,
    footnote,
    get_template,
    image_dict,
    set_titles,
    style_layout,
    subplots_layout,
    sup_lines,
    title_height,
    title_slots,
    token_geometry,
    top_title,
    where,
    wrap_text,
)
from ._core.words import tr

PLACES = ("norm1", "norm2", "output")


def agreement(a, b) -> float:
    """Pearson correlation of two maps of one grid (nan when either is flat): how far two
    places agree once each is ReLU-ed and scaled, as the panels show them."""
    x, y = np.ravel(np.asarray(a, np.float64)), np.ravel(np.asarray(b, np.float64))
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def query_row(exp, head: int | None, query) -> np.ndarray:
    """(H, W) the query's attention in the pair's second block on the stage's token grid
    (NaN outside its window), heads averaged when head is None."""
    t = exp.traces[1]
    H, W = t.input_resolution
    order, wot = token_geometry(H, W, t.window_size, t.shift_size,
                                getattr(t, "roll_first", False))
    w, k = wot[query]
    row = t.attn[w, :, k].numpy()
    row = row.mean(0) if head is None else row[head]
    grid = np.full(H * W + 1, np.nan, np.float32)  # the last entry takes the padding slots
    grid[order[w]] = row
    return grid[:H * W].reshape(H, W)


def _scaled(grid) -> np.ndarray:
    g = np.maximum(np.asarray(grid, np.float64), 0)
    top = g.max()
    return g / top if top > 0 else g


def _photo(exp) -> str:
    """The image as a JPEG data URI, made once per exploration: the figure draws it eight
    times, and a click redraws the figure (PNG would send about 1 MB a click)."""
    def make() -> str:
        buf = io.BytesIO()
        exp.image.convert("RGB").save(buf, format="JPEG", quality=85)
        return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return cached(exp, "evidence-jpeg", make)


def _on_image(exp, z: np.ndarray, px: int, refs, bar: dict | None, hover: str) -> list[dict]:
    """The image, and z (H, W) over it, one cell per token of `px` pixels."""
    xr, yr = refs
    return [
        dict(image_dict(_photo(exp), xr, yr), opacity=0.9),
        dict(type="heatmap", z=z, x0=px / 2, dx=px, y0=px / 2, dy=px, zmin=0, zmax=1,
             colorscale=SEQUENTIAL, opacity=0.6, showscale=bar is not None,
             colorbar=bar or {}, xaxis=xr, yaxis=yr, hovertemplate=hover),
    ]


def _axes(layout: dict, refs, exp, *, first: bool, box=None, bottom: bool = True,
          lang: str = "en") -> None:
    """Pixel axes over the image (or over `box` = (x0, x1, y0, y1) pixels); the y title on
    the first column only and the x title on the bottom row only, so that neither runs into
    a neighbour's title."""
    W, H = exp.image.size
    x0, x1, y0, y1 = box or (0, W, 0, H)
    xk, yk = "xaxis" + refs[0][1:], "yaxis" + refs[1][1:]
    layout.setdefault(xk, {}).update(range=[x0, x1], showgrid=False, zeroline=False,
                                     constrain="domain",
                                     title=dict(text=tr(lang, "x (pixels)") if bottom else ""))
    layout.setdefault(yk, {}).update(range=[y1, y0], showgrid=False, zeroline=False,
                                     constrain="domain", scaleanchor=refs[0],
                                     title=dict(text=tr(lang, "y (pixels)") if first else ""))


def _around(exp, q) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) pixels: the query's neighbourhood, a window's width on each side, so
    that a stage-1 window (28 px of a 224 px image) is not a speck."""
    W, H = exp.image.size
    px, M = exp.patch_size, exp.window_size
    half = min(max(W, H) / 2, (M + 0.5) * px)
    cx, cy = (q[1] + 0.5) * px, (q[0] + 0.5) * px
    x0 = min(max(cx - half, 0), max(W - 2 * half, 0))
    y0 = min(max(cy - half, 0), max(H - 2 * half, 0))
    return x0, x0 + 2 * half, y0, y0 + 2 * half


def _places_text(exp, lang: str = "en") -> str:
    """What norm1, norm2 and output are in this model's blocks (V2 moved the norms)."""
    if getattr(exp.config, "version", 1) == 2:
        return tr(lang, "In Swin V2 norm1 normalises the attention's output before it is added "
                  "to the residual stream, norm2 the MLP's output; output is the block's result.")
    return tr(lang, "norm1 is the block's input after its first LayerNorm (what attention "
              "reads), norm2 the stream after attention, normalised (what the MLP reads), output "
              "the block's result after the MLP.")


def _no_evidence(exp, sel, tpl) -> go.Figure:
    L = sel.lang
    why = (tr(L, "the model has no classifier head, so there is no class to explain")
           if exp.config is not None and exp.config.num_classes <= 0 else
           getattr(exp, "evidence_note", None) or
           tr(L, "this exploration was made without it: explore(image, evidence=True) computes "
                 "Grad-CAM of the top class (or evidence=CLASS) with one more forward and "
                 "backward pass"))
    title = (tr(L, "Class evidence: none for {where}", where=where(exp, L))
             + sup_lines(tr(L, "Because {why}.", why=why), tpl))
    layout = {"annotations": [dict(text=tr(L, "no class evidence"), xref="paper", yref="paper",
                                   x=0.5,
                                   y=0.5, showarrow=False,
                                   font=dict(size=tpl.title_size, color="#666"))],
              "xaxis": dict(visible=False), "yaxis": dict(visible=False)}
    style_layout(layout, sel.template, title=title,
                 height=int(tpl.height * 0.5) + title_height(title, tpl))
    top_title(layout, tpl, below=0)
    layout["meta"]["evidence"] = None
    return fast_figure([], layout)


def figure(exp, sel) -> go.Figure:
    """(a)-(c) of the module docstring for `exp.evidence` and the selection's query."""
    sel = sel.resolved(exp)
    tpl = get_template(sel.template)
    ev = getattr(exp, "evidence", None)
    if ev is None:
        return _no_evidence(exp, sel, tpl)
    cfg = exp.config
    L = sel.lang
    n = len(ev.by_stage)
    cols = max(n, 4)
    layout, refs = subplots_layout(rows=2, cols=cols, subplot_titles=title_slots([""] * 2 * cols),
                                   vertical_spacing=0.24, horizontal_spacing=0.05)
    bar = dict(title=dict(text=tr(L, "share of<br>the map's<br>largest value"), side="top"),
               len=0.35, y=1, yanchor="top", thickness=12)
    data: list[dict] = []
    titles = [""] * (2 * cols)
    for i, (s, grid) in enumerate(sorted(ev.by_stage.items())):
        geo = cfg.stage(s)
        H, W = geo.grid
        data += _on_image(exp, _scaled(grid), geo.patch_px, refs[(1, i + 1)],
                          bar if i == 0 else None,
                          tr(L, "stage-{s} token (%{{y:.0f}}, %{{x:.0f}}) px<br>%{{z:.2f}} of this "
                                "map's largest value<extra></extra>", s=s))
        titles[i] = tr(L, "(a) stage {s}: {H}×{W}<br><sup>tokens of {px} px, block {b}, "
                          "norm1</sup>", s=s, H=H, W=W, px=geo.patch_px, b=geo.depth - 1)
        _axes(layout, refs[(1, i + 1)], exp, first=i == 0, bottom=False, lang=L)
    px = exp.patch_size
    H, W = exp.grid
    base = ev.by_layer["norm1"]
    for j, at in enumerate(PLACES):
        grid = ev.by_layer[at]
        data += _on_image(exp, _scaled(grid), px, refs[(2, j + 1)], None,
                          tr(L, "{at}: %{{z:.2f}} of this map's largest value<extra></extra>",
                             at=at))
        r = agreement(_scaled(grid), _scaled(base))
        agree = (tr(L, "stage {s}, block {b}", s=ev.stage, b=ev.block) if at == "norm1" else
                 tr(L, "r = {r} with norm1", r=f"{r:.2f}") if np.isfinite(r)
                 else tr(L, "a flat map"))
        titles[cols + j] = f"(b) {at}<br><sup>{agree}</sup>"
        _axes(layout, refs[(2, j + 1)], exp, first=j == 0, lang=L)
    q = sel.query
    attn = query_row(exp, sel.head, q)
    top = np.nanmax(attn)
    rows, cols_ = np.nonzero(np.isfinite(attn))  # the query's window: the rest is NaN
    r0, c0 = rows.min(), cols_.min()
    window = attn[r0:rows.max() + 1, c0:cols_.max() + 1]
    cells = _on_image(exp, window / top if top > 0 else window, px, refs[(2, 4)], None,
                      tr(L, "attention %{{z:.2f}} of the row's largest weight<extra></extra>"))
    cells[1].update(x0=(c0 + 0.5) * px, y0=(r0 + 0.5) * px)
    data += cells
    data.append(dict(type="scatter", x=[(q[1] + 0.5) * px], y=[(q[0] + 0.5) * px],
                     mode="markers", hoverinfo="skip", showlegend=False,
                     marker=dict(symbol="star", size=tpl.font_size + 4, color=QUERY_COLOR,
                                 line=dict(color="black", width=1.5)),
                     xaxis=refs[(2, 4)][0], yaxis=refs[(2, 4)][1]))
    who = tr(L, "head mean") if sel.head is None else tr(L, "head {h}", h=sel.head)
    titles[cols + 3] = tr(L, "(c) query {q} reads<br><sup>{b1}, {who}</sup>", q=q,
                          b1=block_name(1, exp, L), who=who)
    _axes(layout, refs[(2, 4)], exp, first=False, box=_around(exp, q), lang=L)
    for k in range(n, cols):  # a model with fewer stages than columns: empty cells stay blank
        for ref in refs[(1, k + 1)]:
            layout.setdefault(ref[0] + "axis" + ref[1:], {}).update(visible=False)
    set_titles(layout, titles)

    name = ev.target_name or tr(L, "class {n}", n=ev.target)
    last = cfg.stage(cfg.num_stages)
    first = cfg.stage(1)
    lines = [
        tr(L, "Grad-CAM: ReLU(Σc αc·Ac) per token, A the activation, αc the mean over tokens of "
              "∂ logit[{name}] / ∂Ac; each map is scaled to its own largest value.", name=name),
        tr(L, "Stage {s}'s map has {H}×{W} cells of {p}×{p} pixels, so it cannot be finer than "
              "that; stage 1's has {H1}×{W1} cells of {p1} px.", s=last.stage, H=last.grid[0],
           W=last.grid[1], p=last.patch_px, H1=first.grid[0], W1=first.grid[1],
           p1=first.patch_px),
        _places_text(exp, L),
        tr(L, "(c) is the query's attention row: it says where token {q} reads in this block, "
              "for any class; attention is not explanation.", q=q),
    ]
    if not getattr(exp, "pretrained", False):
        lines.append(tr(L, "Random weights: these maps show how an untrained model's gradient "
                           "spreads, not evidence it learned."))
        zero = [place for place, g in ev.by_layer.items() if not float(g.abs().max())]
        if getattr(exp.config, "version", 1) == 2 and zero:
            # timm's res-post-norm initialisation (swinviz/v2/block.py, concepts fact 18)
            lines.append(tr(L, "Blank maps ({places}): an untrained Swin V2 starts its norms "
                               "after attention and MLP at weight 0 and bias 0, so each block "
                               "starts as the identity and these norms give 0 for every token "
                               "(the stage maps above are taken at norm1).",
                            places=", ".join(zero)))
    width = int((tpl.width - 80) / (0.56 * (tpl.font_size - 1)))
    text = "<br>".join(wrap_text(line, width) for line in lines)
    note, bottom = footnote(text, sel.template, lines=text.count("<br>") + 1)
    layout["annotations"].append(note)
    title = tr(L, "Class evidence for “{name}” ({p}), {arch}: Grad-CAM at every stage and "
                  "inside block {b} of stage {s}", name=name, p=f"{ev.probability:.1%}",
               arch=arch_label(exp), b=ev.block, s=ev.stage)
    title += sup_lines(tr(L, "Weights: {w}.", w=exp.weights), tpl)
    style_layout(layout, sel.template, title=title, height=int(tpl.height * 1.5))
    top_title(layout, tpl, below=1)
    layout["margin"]["b"] = max(layout["margin"].get("b", 0), bottom)
    layout["meta"]["evidence"] = dict(target=ev.target, name=ev.target_name,
                                      stages=sorted(ev.by_stage))
    return fast_figure(data, layout)
