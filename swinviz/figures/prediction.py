"""What the whole model predicts for the image: the top-5 ImageNet classes and their
probabilities (softmax of the head's logits), as horizontal bars, from `exp.top5`.

With random weights the head has learned nothing, so the figure says, on the figure, that the
prediction is meaningless and how to get pretrained weights. A model without a classifier head
(num_classes = 0) has nothing to predict: the figure says so instead of drawing bars.
"""

from __future__ import annotations

import plotly.graph_objects as go

from ..settings import removed_text
from ._core import (
    BLOCK_COLORS,
    arch_label,
    fast_figure,
    get_template,
    style_layout,
    sup_lines,
    title_height,
    top_title,
)
from ._core.words import tr

HOW_TO_PRETRAIN = (
    "For a real prediction load pretrained weights: weights \"hub\" (timm's ImageNet-1k weights "
    "for this architecture from the Hugging Face Hub: load_model(\"hub\"), --weights hub on the "
    "command line, \"pretrained\" in the app) or a checkpoint file you have "
    "(load_model(\"path/to/checkpoint.pth\"), --weights FILE)."
)


def top_classes(exp, k: int = 5) -> list[tuple[int, str, float]]:
    """[(class index, name, probability)] best first: `exp.top5` when the model named the
    classes (1000 ImageNet classes), else the softmax of `exp.logits` with "class i" names;
    [] without logits (no classifier head)."""
    if exp.top5:
        return [(int(i), str(n), float(p)) for i, n, p in exp.top5][:k]
    if exp.logits is None:
        return []
    probs = exp.logits.float().softmax(-1)[0]
    top = probs.topk(min(k, probs.numel()))
    return [(int(i), f"class {int(i)}", float(v))
            for v, i in zip(top.values, top.indices, strict=True)]


def _pct(p: float) -> str:
    """A probability as the bars label it: 0.43%, 12.5%."""
    return f"{p:.2%}" if p < 0.1 else f"{p:.1%}"


def what_if(exp) -> dict | None:
    """Swin with every part against this model without some (`exp.without`), from both
    logits: KL(intact ‖ without) in nats, both top-1 classes and whether it changed, and the
    intact probability of each of this model's top-5 classes; None for Swin as it is."""
    if not exp.without or exp.intact_logits is None or exp.logits is None:
        return None
    p = exp.intact_logits.double().log_softmax(-1)[0]
    q = exp.logits.double().log_softmax(-1)[0]
    kl = float((p.exp() * (p - q)).sum())
    ours = top_classes(exp)
    intact = [(int(i), str(n), float(v)) for i, n, v in (exp.intact_top5 or [])]
    if not intact:
        top = p.exp().topk(1)
        intact = [(int(top.indices[0]), f"class {int(top.indices[0])}", float(top.values[0]))]
    return dict(kl=kl, top1=ours[0], intact_top1=intact[0],
                changed=ours[0][0] != intact[0][0],
                intact_probs=[float(p[i].exp()) for i, _, _ in ours])


def _removed(parts, lang: str) -> str:
    """`removed_text(parts)` said in `lang`: "the mask and the relative position bias"."""
    if lang == "en":
        return removed_text(parts)
    from ..settings import PART_NAMES, PARTS

    names = [tr(lang, PART_NAMES[p]) for p in PARTS if p in parts]
    return names[0] if len(names) == 1 else tr(lang, "{some} and {last}",
                                               some=tr(lang, ", ").join(names[:-1]),
                                               last=names[-1])


def figure(exp, sel) -> go.Figure:
    """Horizontal bars of the top-5 classes (best at the top), probabilities in percent; a note
    when the weights are random or the model has no head. For a model without some of its parts
    (`exp.without`), Swin's own probabilities of the same classes beside them, the KL divergence
    and whether the top-1 class changed."""
    sel = sel.resolved(exp)
    tpl = get_template(sel.template)
    top = top_classes(exp)
    layout: dict = {}
    data: list[dict] = []
    pretrained = bool(getattr(exp, "pretrained", False))
    L = sel.lang

    if not top:
        title = (tr(L, "Prediction: none — {arch} has no classifier head", arch=arch_label(exp))
                 + sup_lines(tr(L, "This model was built without a classifier (num_classes = "
                                   "0): it ends with the final norm and gives features, not "
                                   "classes, so there is nothing to predict."), tpl))
        layout["annotations"] = [dict(
            text=tr(L, "no classifier head: no prediction"), xref="paper", yref="paper", x=0.5,
            y=0.5,
            showarrow=False, font=dict(size=tpl.title_size, color="#666"))]
        layout["xaxis"] = dict(visible=False)
        layout["yaxis"] = dict(visible=False)
        style_layout(layout, sel.template, title=title,
                     height=int(tpl.height * 0.6) + title_height(title, tpl))
        top_title(layout, tpl, below=0)
        layout["meta"]["prediction"] = "no head"
        return fast_figure(data, layout)

    names = [f"{name} ({i})" for i, name, _ in top]
    probs = [p for _, _, p in top]
    color = BLOCK_COLORS[0] if pretrained else "#9a9a9a"
    data.append(dict(
        type="bar", orientation="h", x=probs, y=names, name=tr(L, "top-5 classes"),
        marker=dict(color=color), text=[_pct(p) for p in probs],
        textposition="outside",
        cliponaxis=False, customdata=[i for i, _, _ in top],
        hovertemplate=tr(L, "%{{y}}<br>class index %{{customdata}}<br>probability %{{x:.4f}}"
                            "<extra></extra>")))
    title = tr(L, "Prediction: the top-5 ImageNet classes of {arch}", arch=arch_label(exp))
    title += sup_lines(tr(L, "Weights: {w}.", w=exp.weights), tpl)
    cmp = what_if(exp)
    if cmp is not None:
        gone = _removed(exp.without, L)
        data[0]["name"] = tr(L, "without {gone}", gone=gone)
        data.append(dict(
            type="bar", orientation="h", x=cmp["intact_probs"], y=names,
            name=tr(L, "Swin as it is"),
            marker=dict(color=BLOCK_COLORS[1] if pretrained else "#cfcfcf"),
            hovertemplate=tr(L, "%{{y}}<br>Swin as it is: probability %{{x:.4f}}"
                                "<extra></extra>")))
        (_, n0, p0), (_, n1, p1) = cmp["intact_top1"], cmp["top1"]
        verdict = (tr(L, "the top-1 class changes from {n0} ({p0}) to {n1} ({p1})", n0=n0,
                      p0=_pct(p0), n1=n1, p1=_pct(p1))
                   if cmp["changed"] else
                   tr(L, "the top-1 class stays {n1} ({p0} → {p1})", n1=n1, p0=_pct(p0),
                      p1=_pct(p1)))
        title = (tr(L, "Prediction without {gone} (what if) against Swin as it is, {arch}",
                    gone=gone, arch=arch_label(exp)) + sup_lines(tr(
                     L, "Weights: {w}. Every block leaves out {gone}: {verdict}; KL(Swin ‖ "
                     "without) = {kl} nats over all {n} classes.", w=exp.weights, gone=gone,
                     verdict=verdict, kl=f"{cmp['kl']:.3g}", n=int(exp.logits.shape[-1])), tpl))
    if pretrained:
        title += sup_lines(tr(L, "Softmax of the classifier's logits after the last stage, the "
                                 "final norm and the average over tokens; the bars are the "
                                 "probabilities."), tpl)
    else:
        title += sup_lines(tr(L, "<b>Random weights: this prediction is meaningless.</b> The "
                                 "classifier has learned nothing, so the classes and their "
                                 "probabilities are noise. {how}",
                              how=tr(L, HOW_TO_PRETRAIN)), tpl)
    n_classes = int(exp.logits.shape[-1]) if exp.logits is not None else 0
    chance = 1 / n_classes if n_classes else 0.0
    xmax = max(1e-9, max(probs), chance) * 1.25
    layout["xaxis"] = dict(title=dict(text=tr(L, "probability")), range=[0, xmax],
                           tickformat=".2~%" if xmax < 0.05 else ".0%", showgrid=True,
                           zeroline=True)
    if chance:  # along the plot's own height ("y domain": a phone's figure has more below it)
        layout["shapes"] = [dict(type="line", xref="x", yref="y domain", x0=chance, x1=chance,
                                 y0=0, y1=1, line=dict(color="#D55E00", width=1.5, dash="dash"))]
        layout["annotations"] = [dict(
            x=chance, xref="x", y=1, yref="y domain", yanchor="bottom", showarrow=False,
            text=tr(L, "chance: 1/{n}", n=n_classes), font=dict(color="#D55E00"))]
    layout["yaxis"] = dict(autorange="reversed", automargin=True, ticks="")
    style_layout(layout, sel.template, title=title,
                 height=int(tpl.height * 0.75) + title_height(title, tpl))
    top_title(layout, tpl, below=0)
    layout["margin"].update(l=20)
    layout["showlegend"] = cmp is not None
    if cmp is not None:
        layout["barmode"] = "group"
        layout["legend"] = dict(orientation="h", x=0, y=-0.12 - 0.02 * tpl.font_size / 12,
                                xanchor="left", yanchor="top", traceorder="reversed")
        layout["margin"]["b"] = layout["margin"].get("b", 60) + 2 * tpl.font_size
        layout["meta"]["what_if"] = dict(without=list(exp.without), kl=cmp["kl"],
                                         top1_changed=cmp["changed"])
        for bar in data:
            bar["text"] = [_pct(p) for p in bar["x"]]
            bar["textposition"] = "outside"
            bar["cliponaxis"] = False
        xmax = max(xmax, max(cmp["intact_probs"]) * 1.25)
        layout["xaxis"]["range"] = [0, xmax]
    layout["meta"]["prediction"] = "pretrained" if pretrained else "random"
    return fast_figure(data, layout)
