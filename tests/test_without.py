"""Swin without its shift, its mask or its bias (`SwinTransformer.without`, `explore(without=)`):
the logits and the traced attention equal transformers' SwinForImageClassification (an
independent implementation) changed the same way, the weights are shared, the original model is
untouched."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
from PIL import Image

from swinviz import SettingsError, get_config
from swinviz.model import SwinTransformer
from swinviz.weights import load_checkpoint
from swinviz.without import PARTS, parse_parts

transformers = pytest.importorskip("transformers")
from test_whole_model import SMALL, reference  # noqa: E402 (after the skip)

COMBOS = [c for n in range(1, 4) for c in itertools.combinations(PARTS, n)]


def hf_without(hf, parts):
    """transformers' model changed as the issue says: shift_size 0 / no attention mask / the
    bias table zeroed, in every layer (a copy; the fixture's model stays whole)."""
    hf = copy.deepcopy(hf)
    for module in hf.modules():
        if type(module).__name__ == "SwinLayer":
            if "shift" in parts:
                module.shift_size = 0
            if "mask" in parts:
                module.get_attn_mask = lambda *a, **k: None
        if "bias" in parts and hasattr(module, "relative_position_bias_table"):
            with torch.no_grad():
                module.relative_position_bias_table.zero_()
    return hf


@pytest.fixture(scope="module", params=["small", "swin-t"])
def pair(request):
    cfg = SMALL if request.param == "small" else get_config("swin-t")
    hf = reference(cfg)
    model = SwinTransformer(cfg).eval()
    load_checkpoint(model, hf.state_dict())
    torch.manual_seed(5)
    return cfg, hf, model, torch.randn(1, 3, cfg.img_size, cfg.img_size)


@pytest.mark.parametrize("parts", COMBOS, ids=["+".join(c) for c in COMBOS])
def test_logits_equal_transformers_changed_the_same_way(pair, parts):
    cfg, hf, model, x = pair
    with torch.no_grad():
        whole = model(x)
        ours = model.without(*parts)(x)
        ref = hf_without(hf, parts)(pixel_values=x).logits
        again = model(x)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-4)
    assert (ours - whole).abs().max() > 1e-3  # the part matters on these weights
    assert torch.equal(again, whole)  # the original model is untouched


def test_the_traced_attention_equals_transformers_changed_the_same_way(pair):
    """The explored pair's traced path: transformers records each stage's last block."""
    cfg, hf, model, _ = pair
    img = Image.new("RGB", (cfg.img_size, cfg.img_size), (200, 40, 90))
    for parts in (("shift",), ("mask",), ("bias",)):
        ref_model = hf_without(hf, parts)
        for s in (1, 3):
            geo = cfg.stage(s)
            exp = model.explore(img, stage=s, pair=geo.pairs - 1, without=parts, predict=False,
                                rollout=False)
            with torch.no_grad():
                ref = ref_model(pixel_values=exp.pixels, output_attentions=True).attentions[s - 1]
            torch.testing.assert_close(exp.traces[1].attn, ref, rtol=0, atol=1e-5)
            assert exp.without == parts


def test_the_counterfactual_shares_the_weights_and_leaves_the_model_as_it_was(pair):
    cfg, _, model, x = pair
    mine = dict(model.named_parameters())
    for parts in COMBOS:
        other = model.without(*parts)
        theirs = dict(other.named_parameters())
        tables = {k for k in mine if k.endswith("relative_position_bias_table")}
        assert set(theirs) == set(mine) - (tables if "bias" in parts else set())
        assert all(theirs[k] is mine[k] for k in theirs)  # the same objects: no copy
        assert other.removed == parts and model.removed == ()
    # shared: a change of the model's weights shows in the counterfactual
    other = model.without("mask")
    w = model.head.fc.bias
    with torch.no_grad():
        before = other(x)
        w.add_(1.0)
        after = other(x)
        w.sub_(1.0)
    torch.testing.assert_close(after - before, torch.ones_like(before), rtol=0, atol=1e-4)
    for blk in (b for stage in model.layers for b in stage.blocks):
        assert blk.masked and blk.attn.relative_position_bias_table.requires_grad


def test_parts_add_up_and_come_in_one_order():
    model = SwinTransformer(SMALL).eval()
    assert model.without("bias").without("mask").removed == ("mask", "bias")
    assert model.without("bias", "shift", "bias").removed == ("shift", "bias")
    assert parse_parts("Mask, bias") == ("mask", "bias")
    assert parse_parts(None) == parse_parts("") == parse_parts([]) == ()


@pytest.mark.parametrize("bad", ["norm", "masks", 3, ["shift", "window"]])
def test_an_unknown_part_is_a_value_error_naming_the_three(bad):
    model = SwinTransformer(SMALL)
    with pytest.raises(ValueError, match="'shift', 'mask', 'bias'") as err:
        model.without(*(bad if isinstance(bad, list) else [bad]))
    assert isinstance(err.value, SettingsError) and err.value.field == "without"


def test_explore_without_keeps_the_traces_of_the_counterfactual():
    cfg = SMALL
    model = SwinTransformer(cfg).eval()
    img = Image.new("RGB", (cfg.img_size, cfg.img_size), (20, 140, 90))
    whole = model.explore(img)
    no_mask = model.explore(img, without="mask")
    no_shift = model.explore(img, without=["shift"])
    no_bias = model.explore(img, without=("bias",))
    assert whole.without == () and whole.traces[1].mask is not None
    # without the mask: still rolled (the regions are there), nothing added
    assert no_mask.shift_size == whole.shift_size > 0 and no_mask.traces[1].mask is None
    assert torch.equal(no_mask.traces[1].region_ids, whole.traces[1].region_ids)
    # without the shift: both blocks W-MSA
    assert no_shift.shift_size == 0 and no_shift.traces[1].mask is None
    assert int(no_shift.traces[1].region_ids.max()) == 0
    # without the bias: the bias is zero, the content logits are the same as with it
    assert not no_bias.traces[0].bias.any() and whole.traces[0].bias.abs().max() > 0
    torch.testing.assert_close(no_bias.traces[0].scores, whole.traces[0].scores)
    # its logits are the counterfactual model's (traced pair + fast rest = fast throughout)
    with torch.no_grad():
        for exp, parts in ((no_mask, ("mask",)), (no_shift, ("shift",)), (no_bias, ("bias",))):
            ref = model.without(*parts)(exp.pixels)
            torch.testing.assert_close(exp.logits, ref, rtol=0, atol=1e-4)
            assert exp.without == parts
    with pytest.raises(ValueError, match="unknown part 'masks'"):
        model.explore(img, without="masks")
