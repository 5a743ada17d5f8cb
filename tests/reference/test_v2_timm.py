"""Swin V2 against timm's `swin_transformer_v2` (docs/concepts.md, facts 16-20), in the reference
environment (timm installed; random weights only, no network).

timm's model is created with pretrained=False, every parameter drawn anew (seeded; the
temperatures, the position MLP and the q / v biases far from their initial values), saved to a
file and loaded through `load_model(path)`: the logits agree to 1e-4 at 256 px and at 224 px,
where stages 2-3 pad their grids (timm rolls, then pads: swinviz runs timm's weights the same
way), every block's attention to 1e-5 (timm's softmax caught by a hook), the parameter counts of
every V2 architecture swinviz names are timm's, and Microsoft's layout (each merge at the end of
the previous stage, with the buffers) loads too.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
from safetensors.torch import save_file

from swinviz import load_model
from swinviz.config import V2_ARCHS, get_config
from swinviz.model import SwinTransformer

timm = pytest.importorskip("timm")


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Temperatures log(10) ± 0.5, position MLP and q / v biases std 0.5 (its last layer 0.15),
    norms 1 ± 0.2, everything else std 0.05."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if "logit_scale" in name:
                p.copy_(math.log(10) + 0.5 * r)
            elif "cpb_mlp.0." in name:
                p.copy_(0.5 * r)
            elif "cpb_mlp.2." in name:
                p.copy_(0.15 * r)
            elif name.endswith(("q_bias", "v_bias")):
                p.copy_(0.5 * r)
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * r)
            else:
                p.copy_(0.05 * r)


def timm_model(name: str, img_size: int, seed: int = 0):
    model = timm.create_model(name, pretrained=False, num_classes=1000, img_size=img_size).eval()
    randomise(model, seed)
    with torch.no_grad():  # one temperature past the clamp (fact 16)
        model.layers[0].blocks[0].attn.logit_scale[0] = 5.0
    return model


def timm_attentions(model, x):
    """timm's logits and the softmax probabilities of every block, in forward order."""
    caught = []
    hooks = [blk.attn.softmax.register_forward_hook(lambda _m, _i, out: caught.append(out))
             for layer in model.layers for blk in layer.blocks]
    try:
        logits = model(x)
    finally:
        for h in hooks:
            h.remove()
    return logits, caught


def traced_run(model, x):
    z = model.patch_embed(x)
    traces = []
    for layer in model.layers:
        z = layer.downsample(z)
        for blk in layer.blocks:
            z, t = blk(z, return_trace=True)
            traces.append(t)
    return model.forward_head(model.norm(z)), traces


def pixels(size: int) -> torch.Tensor:
    return torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("img_size", [256, 224])
@pytest.mark.parametrize("name", ["swinv2_tiny_window8_256", "swinv2_tiny_window16_256"])
def test_logits_and_every_attention_equal_timm(name, img_size, tmp_path):
    ref = timm_model(name, img_size)
    path = tmp_path / "timm.safetensors"
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, path)
    model = load_model(path, arch=name, img_size=img_size, device="cpu")
    assert model.config.rolls_first  # timm's weights run in timm's order (fact 20)
    x = pixels(img_size)
    with torch.no_grad():
        want, attentions = timm_attentions(ref, x)
        got = model(x)
        traced, traces = traced_run(model, x)
    assert (got - want).abs().max() < 1e-4
    assert (traced - want).abs().max() < 1e-4
    assert len(traces) == len(attentions) == sum(model.config.depths)
    for t, a in zip(traces, attentions, strict=True):
        assert t.attn.shape == a.shape
        assert (t.attn - a).abs().max() < 1e-5
    blocks = [b for layer in ref.layers for b in layer.blocks]
    mine = [b for layer in model.layers for b in layer.blocks]
    assert [(b.window_size[0], b.shift_size[0]) for b in blocks] == [
        (b.window_size, b.shift_size) for b in mine]


@pytest.mark.parametrize("name", sorted(V2_ARCHS))
def test_parameter_counts_equal_timm(name):
    ref = timm.create_model(name, pretrained=False, num_classes=1000)
    mine = SwinTransformer(get_config(name))
    assert sum(p.numel() for p in mine.parameters()) == sum(p.numel() for p in ref.parameters())
    assert {k: tuple(v.shape) for k, v in mine.state_dict().items()} == {
        k: tuple(v.shape) for k, v in ref.state_dict().items()}


def official_layout(model) -> dict[str, torch.Tensor]:
    """timm's keys as Microsoft's release saves them: each patch merge at the END of the
    previous stage (`layers.{i-1}.downsample`), head `head`, with the blocks' buffers."""
    out = {}
    for k, v in model.state_dict().items():
        m = re.match(r"layers\.(\d+)\.downsample\.(.+)$", k)
        if m:
            k = f"layers.{int(m.group(1)) - 1}.downsample.{m.group(2)}"
        out[k.replace("head.fc.", "head.")] = v.clone()
    for name, buf in model.named_buffers():
        if name.endswith(("relative_coords_table", "relative_position_index", "attn_mask")):
            out[name] = buf.clone()
    return out


@pytest.mark.parametrize("name", ["swinv2_tiny_window8_256", "swinv2_tiny_window16_256"])
def test_official_layout_loads(name, tmp_path):
    ref = timm_model(name, 256, seed=2)
    path = tmp_path / "official.pth"
    torch.save({"model": official_layout(ref)}, path)
    model = load_model(path, device="cpu")  # the window comes from the buffers
    assert model.config.name == name and "(official layout)" in model.weights
    also = load_model(path, arch=name, device="cpu")
    x = pixels(256)
    with torch.no_grad():
        want = ref(x)
        assert (model(x) - want).abs().max() < 1e-4
        assert (also(x) - want).abs().max() < 1e-4
