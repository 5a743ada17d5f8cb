"""What the whole model predicts for the image: the top-5 ImageNet classes and their
probabilities (softmax of the head's logits), as horizontal bars, from `exp.top5`.

With random weights the head has learned nothing, so the figure says, on the figure, that the
prediction is meaningless and how to get pretrained weights. A model without a classifier head
(num_classes = 0) has nothing to predict: the figure says so instead of drawing bars.
"""

from __future__ import annotations

import plotly.graph_objects as go

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


def figure(exp, sel) -> go.Figure:
    """Horizontal bars of the top-5 classes (best at the top), probabilities in percent; a note
    when the weights are random or the model has no head."""
    sel = sel.resolved(exp)
    tpl = get_template(sel.template)
    top = top_classes(exp)
    layout: dict = {}
    data: list[dict] = []
    pretrained = bool(getattr(exp, "pretrained", False))

    if not top:
        title = (f"Prediction: none — {arch_label(exp)} has no classifier head"
                 + sup_lines("This model was built without a classifier (num_classes = 0): it "
                             "ends with the final norm and gives features, not classes, so "
                             "there is nothing to predict.", tpl))
        layout["annotations"] = [dict(
            text="no classifier head: no prediction", xref="paper", yref="paper", x=0.5, y=0.5,
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
        type="bar", orientation="h", x=probs, y=names, name="top-5 classes",
        marker=dict(color=color), text=[f"{p:.2%}" if p < 0.1 else f"{p:.1%}" for p in probs],
        textposition="outside",
        cliponaxis=False, customdata=[i for i, _, _ in top],
        hovertemplate="%{y}<br>class index %{customdata}<br>probability %{x:.4f}"
                      "<extra></extra>"))
    title = f"Prediction: the top-5 ImageNet classes of {arch_label(exp)}"
    title += sup_lines(f"Weights: {exp.weights}.", tpl)
    if pretrained:
        title += sup_lines("Softmax of the classifier's logits after the last stage, the final "
                           "norm and the average over tokens; the bars are the probabilities.",
                           tpl)
    else:
        title += sup_lines(f"<b>Random weights: this prediction is meaningless.</b> The "
                           f"classifier has learned nothing, so the classes and their "
                           f"probabilities are noise. {HOW_TO_PRETRAIN}", tpl)
    n_classes = int(exp.logits.shape[-1]) if exp.logits is not None else 0
    chance = 1 / n_classes if n_classes else 0.0
    xmax = max(1e-9, max(probs), chance) * 1.25
    layout["xaxis"] = dict(title=dict(text="probability"), range=[0, xmax],
                           tickformat=".2~%" if xmax < 0.05 else ".0%", showgrid=True,
                           zeroline=True)
    if chance:
        layout["shapes"] = [dict(type="line", xref="x", yref="paper", x0=chance, x1=chance, y0=0,
                                 y1=1, line=dict(color="#D55E00", width=1.5, dash="dash"))]
        layout["annotations"] = [dict(
            x=chance, xref="x", y=1, yref="paper", yanchor="bottom", showarrow=False,
            text=f"chance: 1/{n_classes}", font=dict(color="#D55E00"))]
    layout["yaxis"] = dict(autorange="reversed", automargin=True, ticks="")
    style_layout(layout, sel.template, title=title,
                 height=int(tpl.height * 0.75) + title_height(title, tpl))
    top_title(layout, tpl, below=0)
    layout["margin"].update(l=20)
    layout["showlegend"] = False
    layout["meta"]["prediction"] = "pretrained" if pretrained else "random"
    return fast_figure(data, layout)
