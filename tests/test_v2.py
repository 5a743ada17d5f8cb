"""Swin V2 against transformers' `Swinv2ForImageClassification` (docs/concepts.md, facts 16-20).

transformers' model is built from a `Swinv2Config` that mirrors the architecture, given large
seeded random weights (the temperature, the position MLP and the q / v biases far from their
initial values, so that an error in any of them shows), saved to a file and loaded into swinviz
through the real loader (`load_model(path)`, transformers' layout). Then the logits agree to
1e-4, the traced attention of every block to 1e-5 (transformers' probabilities, caught from
every block's self-attention, in the same window order: pad, then roll), and the fast path to
the traced one. transformers runs V2 as it pads (pad, then roll), so swinviz runs its weights the
same way; the padded sizes use a grid that halves exactly (transformers picks each stage's
window from floor(grid / 2^i)).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import random_picture
from safetensors.torch import save_file

from swinviz import load_model
from swinviz.config import ARCHS, SettingsError, SwinConfig, get_config
from swinviz.v2.attention import LOGIT_SCALE_MAX, relative_coords_table
from swinviz.weights import CheckpointError

transformers = pytest.importorskip("transformers")

SMALL = SwinConfig(name="v2-test", img_size=64, embed_dim=32, depths=(2, 2, 2, 2),
                   num_heads=(2, 2, 4, 4), window_size=4, version=2, num_classes=10)
# 224 px, M = 8: grids 56, 28 (padded to 32: pad = shift), 14 (padded to 16), 7 (one window)
PADDED = replace(SMALL, name="v2-padded", img_size=224, window_size=8)


def hf_model(cfg: SwinConfig, seed: int = 0):
    """transformers' Swin V2 with cfg's architecture and large seeded random weights."""
    hc = transformers.Swinv2Config(
        image_size=cfg.img_size, patch_size=cfg.patch_size, num_channels=3,
        embed_dim=cfg.embed_dim, depths=list(cfg.depths), num_heads=list(cfg.num_heads),
        window_size=cfg.window_size, mlp_ratio=cfg.mlp_ratio, qkv_bias=True,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, drop_path_rate=0.0,
        layer_norm_eps=1e-5, num_labels=cfg.num_classes,
        pretrained_window_sizes=list(cfg.pretrained_window_sizes or (0,) * len(cfg.depths)))
    model = transformers.Swinv2ForImageClassification(hc).eval()
    randomise(model, seed)
    return model


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Every parameter drawn anew: temperatures log(10) ± 0.5, position MLP and q / v biases
    with std 0.5 (its last layer 0.15, so that 16·sigmoid varies), norms 1 ± 0.2."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if "logit_scale" in name:
                p.copy_(math.log(10) + 0.5 * r)
            elif re.search(r"(cpb_mlp|continuous_position_bias_mlp)\.0\.", name):
                p.copy_(0.5 * r)
            elif re.search(r"(cpb_mlp|continuous_position_bias_mlp)\.2\.", name):
                p.copy_(0.15 * r)
            elif re.search(r"(q_bias|v_bias|query\.bias|value\.bias)$", name):
                p.copy_(0.5 * r)
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * r)
            else:
                p.copy_(0.05 * r)


def saved(model, tmp_path, name="transformers.safetensors"):
    path = tmp_path / name
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    return path


def pixels(size: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


def traced_run(model, x):
    """Logits and the BlockTrace of every block, stage by stage (the traced path)."""
    z = model.patch_embed(x)
    traces = []
    for layer in model.layers:
        z = layer.downsample(z)
        for blk in layer.blocks:
            z, t = blk(z, return_trace=True)
            traces.append(t)
    return model.forward_head(model.norm(z)), traces


def hf_attentions(hf, x):
    """transformers' logits and the probabilities of every block's self-attention."""
    caught = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: caught.append(out[1]))
             for m in hf.modules() if type(m).__name__ == "Swinv2SelfAttention"]
    try:
        logits = hf(pixel_values=x, output_attentions=True).logits
    finally:
        for h in hooks:
            h.remove()
    return logits, caught


@pytest.mark.parametrize("cfg", [ARCHS["swinv2_tiny_window8_256"], SMALL, PADDED],
                         ids=["tiny-256", "small-64", "padded-224"])
def test_logits_and_every_attention_equal_transformers(cfg, tmp_path):
    hf = hf_model(replace(cfg, num_classes=cfg.num_classes))
    with torch.no_grad():  # one head past the clamp, in a block without mask (fact 16)
        hf.swinv2.encoder.layers[0].blocks[0].attention.self.logit_scale[0] = 5.0
    model = load_model(saved(hf, tmp_path), arch=cfg, device="cpu")
    assert model.config.version == 2 and model.config.rolls_first is False
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in hf.parameters())
    x = pixels(cfg.img_size)
    with torch.no_grad():
        want, attentions = hf_attentions(hf, x)
        got = model(x)
        traced, traces = traced_run(model, x)
    assert (got - want).abs().max() < 1e-4
    assert (traced - want).abs().max() < 1e-4
    assert len(traces) == len(attentions) == sum(cfg.depths)
    for t, a in zip(traces, attentions, strict=True):
        assert t.attn.shape == a.shape
        assert (t.attn - a).abs().max() < 1e-5


def test_the_padded_size_does_depend_on_the_padding_order(tmp_path):
    """The padded check above is sensitive: timm's order (roll, then pad) gives other logits."""
    hf = hf_model(PADDED)
    path = saved(hf, tmp_path)
    model = load_model(path, arch=PADDED, device="cpu")
    timm_order = load_model(path, arch=replace(PADDED, roll_first=True), device="cpu")
    assert timm_order.config.rolls_first and not model.config.rolls_first
    x = pixels(PADDED.img_size)
    with torch.no_grad():
        assert (timm_order(x) - model(x)).abs().max() > 1e-3


@pytest.mark.parametrize("roll_first", [False, True])
@pytest.mark.parametrize("cfg", [SMALL, PADDED], ids=["small-64", "padded-224"])
def test_fast_path_equals_traced_path(cfg, roll_first, tmp_path):
    model = load_model(saved(hf_model(cfg, seed=3), tmp_path),
                       arch=replace(cfg, roll_first=roll_first), device="cpu")
    z = model.patch_embed(pixels(cfg.img_size, seed=4))
    with torch.no_grad():
        for layer in model.layers:
            z = layer.downsample(z)
            for blk in layer.blocks:
                probs: list[torch.Tensor] = []
                fast = blk(z, attn_out=probs)
                traced, t = blk(z, return_trace=True)
                assert (fast - traced).abs().max() < 1e-5
                assert (probs[0] - t.attn.mean(1)).abs().max() < 1e-5
                logits = t.scores + t.bias
                if t.mask is not None:
                    nW = t.mask.shape[0]
                    logits = (logits.view(-1, nW, *logits.shape[1:])
                              + t.mask.unsqueeze(1)).view_as(t.scores)
                assert (logits.softmax(-1) - t.attn).abs().max() < 1e-5
                z = fast


def test_log_spaced_coordinates_by_hand():
    """Fact 17 for M = 8: offset x -> sign(x)·log2(|x|·8/7 + 1)/log2(8), per axis."""
    def f(x):
        return math.copysign(math.log2(abs(x) * 8 / 7 + 1) / math.log2(8), x) if x else 0.0

    model = load_model(arch="swinv2_tiny_window8_256", device="cpu")
    table = model.layers[0].blocks[0].attn.relative_coords_table
    assert table.shape == (1, 15, 15, 2)
    for dh, dw in ((7, 7), (1, 0), (-3, 2), (0, -7)):
        got = table[0, dh + 7, dw + 7]
        assert got.tolist() == pytest.approx([f(dh), f(dw)], abs=1e-6)
    assert table[0, 14, 14, 0].item() == pytest.approx(math.log2(9) / 3, abs=1e-6)
    # a pretrained window scales by its own size: M = 16 read as pretrained with 12
    assert relative_coords_table(16, 12)[0, 15 + 11, 15, 0].item() == pytest.approx(1.0566416)


def test_temperature_is_clamped_at_100():
    model = load_model(arch="swinv2-t", device="cpu")
    attn = model.layers[0].blocks[0].attn
    with torch.no_grad():
        attn.logit_scale[:] = torch.tensor([2.0, 5.0, 10.0]).view(3, 1, 1)
    assert attn.temperature().flatten().tolist() == pytest.approx([math.exp(2.0), 100.0, 100.0])
    assert LOGIT_SCALE_MAX == pytest.approx(math.log(100))


def test_swinv2_t_short_name_and_timm_init():
    model = load_model(arch="swinv2-t", device="cpu")
    cfg = model.config
    assert cfg.name == "swinv2_tiny_window8_256" and cfg.version == 2 and cfg.img_size == 256
    blk = model.layers[1].blocks[1]
    assert torch.all(blk.norm1.weight == 0) and torch.all(blk.norm2.weight == 0)  # fact 18
    assert torch.allclose(blk.attn.logit_scale, torch.full_like(blk.attn.logit_scale,
                                                                 math.log(10)))
    assert type(model.layers[1].downsample).__name__ == "PatchMergingV2"
    assert model.layers[1].downsample.norm.normalized_shape == (192,)  # fact 19: norm on 2C
    with torch.no_grad():
        assert model(pixels(256)).shape == (1, 1000)


def test_explore_stage_1_and_4():
    model = load_model(arch="swinv2_tiny_window8_256", device="cpu", seed=2)
    with torch.no_grad():  # let the blocks do something (timm starts them as identities)
        for name, p in model.named_parameters():
            if ".norm" in name and name.endswith("weight"):
                p.fill_(1.0)
    image = np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    one = model.explore(image, stage=1, pair=0)
    four = model.explore(image, stage=4, pair=0)
    assert [t.shift_size for t in one.traces] == [0, 4]
    assert all(t.window_size == 8 and t.input_resolution == (64, 64) for t in one.traces)
    assert one.traces[0].attn.shape == (64, 3, 64, 64)
    assert [(t.window_size, t.shift_size) for t in four.traces] == [(8, 0), (8, 0)]
    assert four.grid == (8, 8) and four.num_windows == 1
    assert four.traces[0].attn.shape == (1, 24, 64, 64)
    for exp in (one, four):
        for t in exp.traces:
            assert torch.allclose(t.attn.sum(-1), torch.ones(()), atol=1e-5)
        assert exp.logits.shape == (1, 1000) and len(exp.top5) == 5
    assert len(four.chain) == 12  # every block's attention, for the rollout


def test_without_on_v2():
    model = load_model(arch="swinv2_tiny_window8_256", device="cpu", seed=1)
    x = pixels(256)
    blind = model.without("bias")
    flat = model.without("shift")
    with torch.no_grad():
        _, traces = traced_run(blind, x)
        assert all(torch.all(t.bias == 0) for t in traces)
        assert (blind(x) - traced_run(blind, x)[0]).abs().max() < 1e-4
        assert all(t.shift_size == 0 for t in traced_run(flat, x)[1])
    assert model.layers[0].blocks[0].attn.position_bias  # the model itself is untouched


def test_unknown_arch_names_v2_archs():
    with pytest.raises(SettingsError) as err:
        get_config("swinv2_giant")
    for name in ("swinv2-t", "swinv2-s", "swinv2-b", "swinv2_tiny_window8_256",
                 "swinviz.config.ARCHS"):  # the short names, a timm name, where all are
        assert name in str(err.value)


def _one_sentence(err) -> str:
    text = str(err.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_a_checkpoint_of_the_other_version_is_refused(tmp_path):
    v1 = load_model(device="cpu")
    path = tmp_path / "v1.safetensors"
    save_file(dict(v1.state_dict()), path)
    with pytest.raises(CheckpointError) as err:
        load_model(path, arch="swinv2_tiny_window8_256", device="cpu")
    assert "Swin V1 checkpoint" in _one_sentence(err)
    v2 = load_model(arch="swinv2-t", device="cpu")
    path2 = tmp_path / "v2.safetensors"
    save_file(dict(v2.state_dict()), path2)
    with pytest.raises(CheckpointError) as err:
        load_model(path2, arch="swin-t", device="cpu")
    assert "Swin V2 checkpoint" in _one_sentence(err)


def test_arch_inferred_from_the_file_name_or_asked_for(tmp_path):
    hf = hf_model(ARCHS["swinv2_tiny_window16_256"], seed=5)
    named = saved(hf, tmp_path, "swinv2_tiny_window16_256.safetensors")
    model = load_model(named, device="cpu")
    assert model.config.name == "swinv2_tiny_window16_256"
    assert model.layers[0].blocks[1].window_size == 16
    with pytest.raises(CheckpointError) as err:
        load_model(saved(hf, tmp_path, "weights.safetensors"), device="cpu")
    text = _one_sentence(err)
    assert "arch='swinv2_tiny_window8_256'" in text and "arch='swinv2_tiny_window16_256'" in text


def official_layout(model) -> dict[str, torch.Tensor]:
    """swinviz's (timm's) keys as Microsoft's release saves them: each merge at the end of the
    previous stage, head `head`, with the buffers (coordinates table, index, mask)."""
    out = {}
    for k, v in model.state_dict().items():
        m = re.match(r"layers\.(\d+)\.downsample\.(.+)$", k)
        if m:
            k = f"layers.{int(m.group(1)) - 1}.downsample.{m.group(2)}"
        out[k.replace("head.fc.", "head.")] = v.clone()
    for i, layer in enumerate(model.layers):
        for b, blk in enumerate(layer.blocks):
            pre = f"layers.{i}.blocks.{b}."
            out[pre + "attn.relative_coords_table"] = blk.attn.relative_coords_table.clone()
            out[pre + "attn.relative_position_index"] = blk.attn.relative_position_index.clone()
            if blk.attn_mask is not None:
                out[pre + "attn_mask"] = blk.attn_mask
    return out


def test_official_layout_loads_and_names_its_arch(tmp_path):
    src = load_model(arch="swinv2_tiny_window8_256", device="cpu", seed=7)
    randomise(src, 8)
    path = tmp_path / "ckpt.pth"
    torch.save({"model": official_layout(src)}, path)
    model = load_model(path, device="cpu")
    assert model.config.name == "swinv2_tiny_window8_256" and model.weights.endswith(
        "(official layout)")
    x = pixels(256)
    with torch.no_grad():
        assert (model(x) - src(x)).abs().max() < 1e-5


def test_the_figures_name_v2s_own_terms(explored, exp_s1):
    """Issue 26: the attention figure takes V2's logit apart as V2 computes it (the cosine of q
    and k times the head's temperature, then 16·σ of the bias MLP), the bias figure calls its
    table the continuous position bias of the MLP, and the headings follow, in both languages;
    Swin V1's figures keep q·kᵀ·scale and the learned table."""
    from swinviz.figures import make_figure

    exp = explored(random_picture(), dict(arch="swinv2-t"), stage=1, predict=False)

    def words(fig) -> str:
        return " ".join([fig.layout.title.text] + [a.text for a in fig.layout.annotations])

    att, att_all = make_figure("attention", exp), make_figure("attention", exp, head=None)
    assert "cos(q, k)·τ (content)" in words(att) and "+ 16·σ(MLP) bias" in words(att)
    assert "q·kᵀ" not in words(att) and "q·kᵀ" not in words(att_all)
    assert "softmax of cos(q, k)·τ + bias + mask" in words(att_all)
    bias = words(make_figure("bias", exp))
    assert "continuous position bias (Swin V2)" in bias and "learned table" not in bias
    assert "连续位置偏置" in words(make_figure("bias", exp, lang="zh"))
    assert "cos(q, k)·τ（内容）" in words(make_figure("attention", exp, lang="zh"))
    v1 = words(make_figure("attention", exp_s1)) + words(make_figure("bias", exp_s1))
    assert "q·kᵀ·scale (content)" in v1 and "the learned table" in v1 and "cos(" not in v1


def test_the_attention_figure_places_keys_as_a_v2_block_rolls_then_pads(explored):
    """Issue 26: on a grid that is not whole windows timm's Swin V2 rolls the tokens and then
    pads (`BlockTrace.roll_first`); the attention figure puts each key of the query's row where
    the block's own gather order took it from. At 200 px (50x50 tokens, M = 8, s = 4) the
    window of token (49, 49) reaches, wrapped around, rows and columns 0 and 1, not padding."""
    from swinviz.figures import make_figure

    model = load_model(arch="swinv2-t", img_size=200, device="cpu", seed=3)
    exp = model.explore(random_picture(), stage=1, predict=False)
    t = exp.traces[1]
    assert t.roll_first and t.input_resolution == (50, 50) and (t.window_size, t.shift_size) \
        == (8, 4)
    order = model.layers[0].blocks[1]._geometry("cpu")[0]  # the block's own gather order
    H, W = t.input_resolution
    N = t.window_size ** 2
    for q in ((49, 49), (0, 0), (20, 47)):
        slot = int((order == q[0] * W + q[1]).nonzero())
        w, k = divmod(slot, N)
        row = t.attn[w, 0, k].numpy()
        fig = make_figure("attention", exp, query=q)
        (z,) = [np.array(d.z, dtype=float) for d in fig.data if d.name == "attention block 1"]
        keys = order[w * N:(w + 1) * N]
        real = keys < H * W
        r, c = np.divmod(keys[real].numpy(), W)
        np.testing.assert_allclose(z[r, c], row[real.numpy()], rtol=1e-6)
        # the padding keys sit where the block added them, on the padded grid's last rows and
        # columns, and together with the real keys they are the query's whole row
        assert np.isclose(np.nansum(z), 1.0, atol=1e-5)
    assert (order[: N] < H * W).all()


def test_the_bias_mlp_for_a_larger_window_equals_transformers_and_extends_the_table():
    """Issue 26, fact 17: a V2 block's trace carries its bias MLP evaluated for a window twice
    its own (`bias_wide`, `coords_wide`). It equals transformers' continuous position bias of a
    16x16 window pretrained at 8 with the same MLP weights (its own coordinate table and
    index), its centre 15x15 is the block's own table, and the coordinates are fact 17's by
    hand: offset x -> sign(x)·log2(|x|·8/7 + 1)/3 (x = 15: log2(15·8/7 + 1)/3 ≈ 1.3938)."""
    from swinviz.figures.bias import bias_table_image
    from swinviz.v2.attention import BIAS_RANGE

    model = load_model(arch="swinv2_tiny_window8_256", device="cpu", seed=4)
    randomise(model, 5)  # an MLP whose table varies (timm's initial one is nearly flat)
    exp = model.explore(random_picture(), stage=1, predict=False)
    t = exp.traces[1]
    M, W, nH = 8, 16, t.num_heads
    assert t.wide_window == W and t.bias_wide.shape == (nH, 2 * W - 1, 2 * W - 1)
    ours = model.layers[0].blocks[1].attn
    hf_cfg = transformers.Swinv2Config(embed_dim=96, num_heads=[3, 6, 12, 24])
    hf = transformers.models.swinv2.modeling_swinv2.Swinv2SelfAttention(
        hf_cfg, 96, nH, W, pretrained_window_size=[M, M]).eval()
    hf.continuous_position_bias_mlp.load_state_dict(ours.cpb_mlp.state_dict())
    with torch.no_grad():
        table = hf.continuous_position_bias_mlp(hf.relative_coords_table).view(
            2 * W - 1, 2 * W - 1, nH)
    theirs = (BIAS_RANGE * torch.sigmoid(table)).permute(2, 0, 1)
    assert (t.bias_wide - theirs).abs().max() < 1e-5
    assert float(theirs.std()) > 0.05  # a table that varies: the comparison means something
    own = bias_table_image(t)
    np.testing.assert_allclose(t.bias_wide[:, M:3 * M - 1, M:3 * M - 1].numpy(), own,
                               atol=1e-6)

    def f(x):
        return math.copysign(math.log2(abs(x) * 8 / 7 + 1) / 3, x) if x else 0.0

    assert t.coords_wide.tolist() == pytest.approx([f(x) for x in range(-15, 16)], abs=1e-6)
    assert t.coords_wide[-1].item() == pytest.approx(1.3938, abs=1e-4)
    # without its bias a block has nothing to transfer
    assert model.without("bias").explore(random_picture(), stage=1,
                                         predict=False).traces[1].bias_wide is None


def test_the_bias_figure_draws_the_mlp_its_coordinates_and_a_larger_window(explored):
    """Issue 26: Swin V2's bias figure adds the coordinates the MLP reads (this window's
    offsets and the larger window's) and the same MLP's bias for a 16x16 window, this window's
    offsets dashed, on a sequential scale over the values shown (16·sigmoid is positive); at
    stage 4 and for all heads too, in both languages. Swin V1's figure has none of it."""
    from swinviz.figures import make_figure

    model = load_model(arch="swinv2_tiny_window8_256", device="cpu", seed=4)
    randomise(model, 5)
    for stage in (1, 4):
        exp = model.explore(random_picture(), stage=stage, predict=False)
        t = exp.traces[1]
        for head in (0, None):
            fig = make_figure("bias", exp, block=1, head=head)
            names = [d.name for d in fig.data]
            assert "wide head 0" in names and "this window" in names
            (wide,) = [d for d in fig.data if d.name == "wide head 0"]
            np.testing.assert_allclose(np.array(wide.z, dtype=float), t.bias_wide[0].numpy(),
                                       rtol=1e-6)
            (line,) = [d for d in fig.data if d.name == "this window"]
            assert list(line.x) == list(range(-7, 8))
            text = " ".join(a.text for a in fig.layout.annotations)
            assert "the same MLP for a 16×16 window" in text
            assert "between 0 and 16" in text and "Red: the head adds" not in text
            heat = [d for d in fig.data if d.type == "heatmap"]
            assert all(d.zmid is None and d.zmin > 0 for d in heat)
        zh = make_figure("bias", exp, block=1, head=0, lang="zh")
        assert "同一个 MLP 用于 16×16 窗口" in " ".join(a.text for a in zh.layout.annotations)
    v1 = make_figure("bias", explored(random_picture(), {}, stage=1, predict=False))
    assert not any(str(d.name).startswith("wide") for d in v1.data)


def test_the_window_figures_follow_a_v2_block_that_rolls_then_pads():
    """Issue 26: at 200 px (50x50 tokens, M = 8, s = 4, padded to 56x56) timm's Swin V2 rolls
    and then pads, so the window of token (49, 49) is rows and columns 44-49 and 0-1 (four
    pieces wrapped around the real grid), not 44-51 with padding (pad, then roll). The windows,
    shift and masks figures, the page's window outline and its click geometry read the
    windows from the block's own gather order."""
    from app.instant import _geometry
    from app.picture import query_window
    from app.session import View
    from app.state import Held
    from swinviz.figures import make_figure
    from swinviz.figures._core.geometry import padded_windows, window_pieces
    from swinviz.windows import padded_order

    model = load_model(arch="swinv2-t", img_size=200, device="cpu", seed=3)
    exp = model.explore(random_picture(), stage=1, predict=False)
    t = exp.traces[1]
    H = W = 50
    M, s, N = 8, 4, 64
    order = model.layers[0].blocks[1]._geometry("cpu")[0].numpy()  # the block's own
    win = padded_windows(H, W, M, s, True)
    flat = padded_order(H, W, M, s, True).numpy()
    real = flat < 56 * 56
    rr, cc = np.divmod(flat, 56)
    # every real slot of window w is a token of window w, at its place of the 50x50 grid
    assert (win.reshape(-1)[flat] == np.arange(flat.size) // N).all()
    assert ((rr[real] < H) & (cc[real] < W) | (order >= H * W)).all()
    assert (order[order < H * W] == (rr * W + cc)[order < H * W]).all()
    w = int(win[49, 49])
    assert sorted(window_pieces(H, W, M, s, True)[w]) == [
        (0, 2, 0, 2), (0, 2, 44, 50), (44, 50, 0, 2), (44, 50, 44, 50)]
    assert window_pieces(H, W, M, s)[int(padded_windows(H, W, M, s)[49, 49])] == (
        (44, 52, 44, 52),)  # pad, then roll (V1, transformers): one piece, padding inside
    # the figures: the windows figure's hover names each token's window, the shift figure
    # outlines the query's window in four pieces, the masks figure finds its window
    fig = make_figure("windows", exp, query=(49, 49))
    (custom,) = {np.array(d.customdata).tobytes(): np.array(d.customdata) for d in fig.data
                 if d.customdata is not None and np.array(d.customdata).shape[-1:] == (5,)
                 }.values()  # (row, column, window in block 0, in block 1, region id)
    assert (custom[..., 3] == win).all()
    shift = make_figure("shift", exp, query=(49, 49))
    (outline,) = [d for d in shift.data if str(d.name).startswith("the query's window")
                  and d.xaxis == "x"]
    p = exp.patch_size
    assert {v / p for v in outline.x if v == v} == {0, 2, 44, 50}
    assert "Roll first" in shift.layout.title.text
    masks = make_figure("masks", exp, query=(49, 49))
    assert f"window {w} " in masks.layout.title.text
    # the page: the outlined window of the query and the click pack's slots
    view = View(held=Held(exp), settings=None, query=(49, 49))
    inside = query_window(view, 1, (49, 49))
    assert inside[0, 0] and inside[49, 44] and not inside[43, 49] and inside.sum() == 8 * 8
    assert (_geometry(t)[0].reshape(-1) == flat).all()


def test_the_lecture_attention_figure_says_how_a_v2_block_numbers_its_slots():
    """On paper the attention figure says which token slot k of window w is. For timm's Swin V2
    on a padded grid (rolled, then padded) V1's formula, mod the padded side, is wrong: the
    query (49, 49) at 200 px is slot 45 of window 40, i = 5·8 + 45 // 8 = 45, j = 45: token
    ((45 + 4) mod 50, (45 + 4) mod 50), and the figure says so."""
    from swinviz.figures import make_figure

    model = load_model(arch="swinv2-t", img_size=200, device="cpu", seed=3)
    exp = model.explore(random_picture(), stage=1, predict=False)
    fig = make_figure("attention", exp, query=(49, 49), template="lecture")
    text = " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")
    assert "((i + 4) mod 50, (j + 4) mod 50) where i < 50 and j < 50, else padding" in text
    assert "is slot 45 of window 40" in text and "mod 56" not in text
    assert "the block rolls before it pads" in text
    i, j = 5 * 8 + 45 // 8, 5 * 8 + 45 % 8
    assert ((i + 4) % 50, (j + 4) % 50) == (49, 49)
