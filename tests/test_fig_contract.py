"""The contract every figure kind keeps, checked over the whole registry
(`swinviz.figures.REGISTRY`) at stage 1 and stage 4 of Swin-T at 224 px, on the 6x6 example, and
at every stage of Swin V2-T at 256 px and at a padded 200 px (issue 26), in every template: a
title; axis titles where a figure has axes; text boxes (the title, subplot titles, headings,
notes) that do not run into each other; and the layout.meta the app and the exporter read (the
template's name, and what a kind adds for the page)."""

import pytest
from figure_checks import overlapping_text, text_boxes

from swinviz.figures import REGISTRY, TEMPLATES, make_figure

KINDS = sorted(REGISTRY)
PLACES = ("exp_s1", "exp_s4", "exp_6x6", "v2_s1", "v2_s2", "v2_s3", "v2_s4", "v2_padded")


@pytest.fixture(scope="module")
def figures(request):
    """{(kind, place, template): figure}, drawn once for the module."""
    cache = {}

    def get(kind, place, template):
        key = (kind, place, template)
        if key not in cache:
            cache[key] = make_figure(kind, request.getfixturevalue(place), template=template)
        return cache[key]
    return get


def _axes(fig):
    """{"x": [...], "y": [...]}: the cartesian axes some visible trace draws numbers on (an axis
    of category names, like the cost figure's stages, is labelled by its ticks)."""
    used = {"x": set(), "y": set()}
    named = {"x": set(), "y": set()}
    for trace in fig.data:
        if trace.type in ("table", "pie", "sankey", "indicator"):
            continue
        if getattr(trace, "visible", True) is False:
            continue
        for letter in ("x", "y"):
            ref = getattr(trace, f"{letter}axis", None) or letter
            values = getattr(trace, letter, None)
            if values is not None and len(values) and all(isinstance(v, str) for v in values):
                named[letter].add(ref)
            else:
                used[letter].add(ref)
    return {k: sorted(used[k] - named[k]) for k in used}


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_keeps_the_contract(figures, kind, place, template):
    fig = figures(kind, place, template)
    lay = fig.layout

    assert lay.title.text and lay.title.text.strip(), f"{kind}: no title"

    axes = _axes(fig)
    for letter in ("x", "y"):
        if not axes[letter]:
            continue
        titles = [(lay[f"{letter}axis{ref[1:]}"].title.text or "").strip()
                  for ref in axes[letter]]
        assert any(titles), f"{kind} at {place}: none of its {letter} axes has a title"

    clashes = overlapping_text(fig)
    assert not clashes, f"{kind} at {place} ({template}): text boxes overlap: {clashes}"

    meta = lay.meta
    assert isinstance(meta, dict) and meta.get("template") == template, meta


def test_the_kinds_meta_for_the_page(figures):
    """What a kind adds to layout.meta: the masks figure says when there is no mask (stage 4,
    one window), the prediction figure which weights its classes come from."""
    assert figures("masks", "exp_s4", "default").layout.meta.get("mask") == "none"
    assert "mask" not in figures("masks", "exp_s1", "default").layout.meta
    assert figures("prediction", "exp_s1", "default").layout.meta.get("prediction") in (
        "no head", "random", "pretrained")


def test_the_contract_covers_every_registered_kind():
    assert set(KINDS) == set(REGISTRY) and len(KINDS) == 13


def test_the_overlap_check_sees_an_overlap(exp_6x6):
    """The text-box check is not vacuous: every figure has several boxes, and a note moved onto
    the title is caught."""
    fig = make_figure("regions", exp_6x6)
    assert len(text_boxes(fig)) >= 3 and not overlapping_text(fig)
    fig.add_annotation(text="a note over the title", xref="paper", yref="paper", x=0,
                       y=1, yanchor="bottom", xanchor="left", showarrow=False,
                       yshift=fig.layout.margin.t - 30)
    assert overlapping_text(fig)
