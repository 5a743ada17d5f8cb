"""The "why each part" figure (issue 24): each panel is the pair's own tensors with one term left
out, checked against the whole model without that part where the input is the same (stage 1's
first pair reads the patch embedding, so its blocks see the same tokens either way), against
dense reach matrices on the note's 6x6 example, and in its words at stages 1 and 4."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from conftest import random_picture

from swinviz.figures import make_figure
from swinviz.figures import parts as fp
from swinviz.figures.flow import reach_matrix
from swinviz.windows import attention_mask


def text_of(fig) -> str:
    """The title's and every annotation's words, without markup and line breaks (titles are
    wrapped to fit)."""
    text = " ".join([fig.layout.title.text or ""] + [a.text for a in fig.layout.annotations
                                                     if a.text])
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def test_the_leak_without_the_mask_is_what_swin_without_its_mask_attends(explored):
    """Stage 1, pair 0: block 1's input is the same with or without the mask (block 0 has
    none), so the panel's softmax without the mask is the counterfactual model's attention."""
    pic = random_picture()
    whole = explored(pic, dict(img_size=112), stage=1, predict=False)
    no_mask = explored(pic, dict(img_size=112), stage=1, predict=False, without="mask")
    leak = fp.mask_leak(whole)
    nW = leak.blocked.shape[0]
    theirs = no_mask.traces[1].attn.numpy().reshape(-1, nW, *leak.probs.shape[1:])[0]
    np.testing.assert_allclose(leak.probs, theirs, atol=1e-5)
    # read from the model that left the mask out: the same numbers
    np.testing.assert_allclose(fp.mask_leak(no_mask).probs, theirs, atol=1e-7)
    assert fp.mask_leak(no_mask).removed and not leak.removed
    # with the mask the same keys get (almost) nothing: the −100 does the job
    M = whole.window_size
    with_mask = whole.traces[1].attn.numpy().reshape(-1, nW, *leak.probs.shape[1:])[0]
    assert (with_mask * leak.blocked[:, None]).sum(-1).max() < 1e-30
    assert leak.per_window.max() > 0.01
    blocked = (attention_mask(*whole.grid, M, whole.shift_size) != 0).numpy()
    assert np.array_equal(leak.blocked, blocked)


def test_the_notes_6x6_example_leaks_in_every_window_but_the_first(exp_6x6):
    """M = 3, s = 1 on 6x6: window 0 holds one region, windows 1-3 hold several (fact 5)."""
    leak = fp.mask_leak(exp_6x6)
    assert leak.per_window[0] == 0
    assert (leak.per_window[1:] > 0).all()
    fig = make_figure("parts", exp_6x6, query=(5, 5))
    words = text_of(fig)
    assert "(b) query (5, 5), head 0:" in words
    assert "of its weight on keys from the far side" in words
    q = make_figure("parts", exp_6x6, query=(1, 1))  # window 0 after the roll back: one region
    assert "nothing leaks" in text_of(q)


def _dense_counts(H, W, M, s, query, pairs):
    """e_q R_0, then e_q (R_1 R_0)^k with dense boolean matrices (the flow module's R)."""
    R0, R1 = reach_matrix(H, W, M, 0), reach_matrix(H, W, M, s)
    v = np.zeros(H * W, bool)
    v[query[0] * W + query[1]] = True
    out = [int(R0[v].any(0).sum())]
    for _ in range(pairs):
        v = R0[R1[v].any(0)].any(0)
        out.append(int(v.sum()))
    return out


@pytest.mark.parametrize("query", [(4, 1), (0, 0), (2, 3), (5, 5)])
def test_reach_with_and_without_the_shift_equals_dense_reach_matrices(query):
    assert fp.reach_counts(6, 6, 3, 1, query, 4) == _dense_counts(6, 6, 3, 1, query, 4)
    assert fp.reach_counts(6, 6, 3, 0, query, 4) == [9] * 5  # never leaves the window
    assert fp.reach_counts(6, 6, 3, 1, (4, 1), 4)[-1] > 9


def test_the_bias_panel_equals_swin_without_its_bias_in_the_first_block(explored):
    """Block 0 of stage 1 reads the patch embedding either way: without its bias the block's
    attention is the panel's softmax of the scores alone."""
    pic = random_picture()
    whole = explored(pic, dict(img_size=112), stage=1, predict=False)
    no_bias = explored(pic, dict(img_size=112), stage=1, predict=False, without="bias")
    q = (9, 12)
    eff = fp.bias_effect(whole, 0, q, 1)
    w, n = eff["window"], eff["slot"]
    np.testing.assert_allclose(eff["with_bias"], whole.traces[0].attn[w, 1, n].numpy(),
                               atol=1e-6)
    np.testing.assert_allclose(eff["without_bias"], no_bias.traces[0].attn[w, 1, n].numpy(),
                               atol=1e-5)
    assert 0 < eff["share"] < 1
    mean = fp.bias_effect(whole, 0, q, None)
    np.testing.assert_allclose(mean["with_bias"], whole.traces[0].attn[w, :, n].mean(0).numpy(),
                               atol=1e-6)
    # the model without the bias: both the same (its bias is zero)
    eff0 = fp.bias_effect(no_bias, 0, q, 1)
    np.testing.assert_allclose(eff0["with_bias"], eff0["without_bias"], atol=1e-7)
    assert eff0["share"] == 0
    assert "this model adds no bias" in text_of(make_figure("parts", no_bias, block=0))


def test_stage_4_says_nothing_changes_without_mask_or_shift(exp_s4):
    fig = make_figure("parts", exp_s4)
    words = text_of(fig)
    assert "(a), (b) without the mask: nothing changes, since one window covers the grid" in words
    assert "one 7×7 window covers the 7×7 grid" in words
    assert fig.layout.meta["parts"]["leak"] is None
    assert fig.layout.meta["parts"]["reach"] == [49] * 5
    # a sentence under the title, not two empty panels; one kind of bar needs no legend (it
    # would cover the numbers over the bars)
    assert len([k for k in fig.layout.to_plotly_json() if k.startswith("xaxis")]) == 3
    assert fig.layout.showlegend is False


def test_without_the_shift_the_reach_panel_still_compares_with_the_shift(explored):
    pic = random_picture()
    no_shift = explored(pic, dict(img_size=112), stage=1, predict=False, without="shift")
    fig = make_figure("parts", no_shift, query=(13, 13))
    words = text_of(fig)
    assert "this model has no shift" in words  # (a): nothing to mask
    bars = {t.name: list(t.y) for t in fig.data if t.type == "bar"}
    assert bars["without the shift (W-MSA only)"] == [49] * 5
    assert bars["with the shift (s = 3)"] == fp.reach_counts(28, 28, 7, 3, (13, 13))
    assert torch.equal(no_shift.traces[1].region_ids, torch.zeros_like(
        no_shift.traces[1].region_ids))
