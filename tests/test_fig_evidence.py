"""The class-evidence figure (kind "evidence"): drawn from `exp.evidence` (explore(evidence=True)),
its maps equal `model.explain` at each place, its panel (c) is the query's own attention row, its
sentences carry this exploration's numbers (grids, pixels per token, the class), it keeps the
figure contract at stage 1, stage 4, the 6x6 example and a padded size in both templates, and an
exploration without evidence gets one sentence saying why."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import random_picture
from figure_checks import overlapping_text

from swinviz.figures import make_figure
from swinviz.figures.evidence import query_row

PLACES = {
    "stage1": (dict(img_size=224), dict(stage=1)),
    "stage4": (dict(img_size=224), dict(stage=4)),
    "6x6": (dict(img_size=24, window_size=3, shift_size=1), dict(stage=1)),
    "padded": (dict(img_size=200), dict(stage=1)),
}


@pytest.fixture(scope="module", params=list(PLACES))
def case(request, swin, explored):
    settings, how = PLACES[request.param]
    exp = explored(random_picture(), settings, evidence=True, **how)
    return swin(**settings), exp


def test_the_maps_are_explain_at_each_place(case):
    model, exp = case
    ev = exp.evidence
    img = exp.image
    for s, grid in ev.by_stage.items():
        want = model.explain(img, stage=s, block=-1, at="norm1").grid
        torch.testing.assert_close(grid, want, rtol=1e-4, atol=1e-6 * float(want.abs().max()))
    for at, grid in ev.by_layer.items():
        want = model.explain(img, stage=exp.stage, block=exp.blocks[1], at=at)
        assert want.target == ev.target
        torch.testing.assert_close(grid, want.grid, rtol=1e-4,
                                   atol=1e-6 * float(want.grid.abs().max()))
    assert ev.target == int(exp.logits[0].argmax())
    assert ev.probability == pytest.approx(float(exp.logits.softmax(-1)[0, ev.target]), abs=1e-6)


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_the_figure_draws_its_evidence_and_keeps_the_contract(case, template):
    model, exp = case
    H, W = exp.grid
    q = (H // 2, max(W // 2 - 1, 0))
    fig = make_figure("evidence", exp, template=template, head=None, query=q)
    ev = exp.evidence
    heat = [t for t in fig.data if t.type == "heatmap"]
    cfg = exp.config
    assert len(heat) == cfg.num_stages + 3 + 1  # (a) per stage, (b) three places, (c)
    for t, (s, grid) in zip(heat, sorted(ev.by_stage.items()), strict=False):
        g = np.maximum(grid.numpy(), 0)
        np.testing.assert_allclose(np.asarray(t.z), g / g.max() if g.max() > 0 else g,
                                   rtol=1e-6)  # a map with nothing above 0 stays 0
        assert t.dx == cfg.stage(s).patch_px
    cell = heat[-1]  # (c): the query's window only, placed where its tokens are
    row = np.asarray(cell.z, np.float64)
    want = query_row(exp, None, q)
    r0, c0 = int(cell.y0 // exp.patch_size), int(cell.x0 // exp.patch_size)
    part = want[r0:r0 + row.shape[0], c0:c0 + row.shape[1]]
    assert np.isfinite(part).sum() == np.isfinite(want).sum()  # every weight of the row is in
    np.testing.assert_allclose(row, part / np.nanmax(want), rtol=1e-6)
    star = fig.data[-1]
    assert (star.y[0], star.x[0]) == ((q[0] + 0.5) * exp.patch_size, (q[1] + 0.5) * exp.patch_size)
    last, first = cfg.stage(cfg.num_stages), cfg.stage(1)
    note = fig.layout.annotations[-1].text.replace("<br>", " ")
    assert (f"Stage {last.stage}'s map has {last.grid[0]}×{last.grid[1]} cells of "
            f"{last.patch_px}×{last.patch_px} pixels") in note
    assert f"stage 1's has {first.grid[0]}×{first.grid[1]} cells of {first.patch_px} px" in note
    assert ("Random weights" in note) != bool(exp.pretrained)
    assert f"“{ev.target_name}”" in fig.layout.title.text
    assert not overlapping_text(fig), overlapping_text(fig)
    assert fig.layout.meta["evidence"]["target"] == ev.target


def test_without_evidence_the_figure_says_why(exp_s1, swin):
    fig = make_figure("evidence", exp_s1)
    assert "explore(image, evidence=True)" in fig.layout.title.text
    assert not [t for t in fig.data if t.type == "heatmap"]
    headless = swin(img_size=64, num_classes=0).explore(random_picture(), evidence=True)
    assert headless.evidence is None
    assert "no classifier head" in make_figure("evidence", headless).layout.title.text


def test_a_chosen_class_by_name(swin):
    exp = swin(img_size=224).explore(random_picture(), stage=3, evidence="tabby")
    assert exp.evidence.target == 281 and exp.evidence.target_name == "tabby"
    assert "“tabby”" in make_figure("evidence", exp).layout.title.text


def test_an_untrained_swin_v2_says_why_its_maps_are_blank(explored, case):
    """Issue 26: a random Swin V2 starts its post-norms at zero (timm's res-post-norm
    initialisation), so its maps at norm1 and norm2 are zero; the figure names the blank places
    and says why, where a random Swin V1 (whose maps are not blank) says nothing of it."""
    exp = explored(random_picture(), dict(arch="swinv2-t"), evidence=True, stage=1)
    blank = [p for p, g in exp.evidence.by_layer.items() if not float(g.abs().max())]
    assert blank == ["norm1", "norm2"] and float(exp.evidence.by_layer["output"].abs().max()) > 0
    note = " ".join(a.text for a in make_figure("evidence", exp).layout.annotations)
    assert "Blank maps (norm1, norm2): an untrained Swin V2" in note.replace("<br>", " ")
    assert "空白的图（norm1, norm2）" in " ".join(
        a.text for a in make_figure("evidence", exp, lang="zh").layout.annotations)
    _, v1 = case
    assert "Blank maps" not in " ".join(a.text for a in make_figure("evidence", v1).layout
                                        .annotations)
