"""load_model, explore, settings checks and the cost functions (concepts facts 9 and 10)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from swinviz import SettingsError, check_settings, load_model
from swinviz.block import SwinTransformerBlock
from swinviz.cost import (
    block_flops,
    block_params,
    count_parameters,
    msa_flops,
    patch_embed_params,
    wmsa_flops,
)
from swinviz.image import ImageError
from swinviz.model import imagenet_classes
from swinviz.weights import CheckpointError

ASSETS = Path(__file__).resolve().parent.parent / "assets"


@pytest.fixture(scope="module")
def model():
    return load_model(device="cpu")


@pytest.fixture(scope="module")
def exp(model):
    return model.explore(ASSETS / "cat.jpg")


def test_random_weights_are_seeded_and_leave_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = load_model(img_size=56, seed=1, device="cpu")
    after = torch.rand(1)
    b = load_model(img_size=56, seed=1, device="cpu")
    c = load_model(img_size=56, seed=2, device="cpu")
    assert torch.equal(before, after)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
    qkv = [m.layers[0].blocks[0].attn.qkv.weight for m in (a, c)]
    assert not torch.equal(*qkv)
    w = a.layers[0].blocks[0].attn.qkv.weight
    assert w.abs().max() <= 0.04 + 1e-6  # truncated at 2 std
    assert 0.01 < w.std().item() < 0.02  # truncated normal, std 0.02 before truncation
    assert a.weights == "random (seed 1)"


def test_model_structure_and_device(model):
    assert model.device.type == "cpu"
    assert not model.training
    assert [b.shift_size for b in model.layers[0].blocks] == [0, 3]
    assert [b.shift_size for b in model.layers[2].blocks] == [0, 3] * 3
    assert [b.shift_size for b in model.layers[3].blocks] == [0, 0]  # 7x7 grid: one window
    assert model.patch_embed.patches_resolution == (56, 56)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (1, 1000)


def test_explore_returns_the_trace(model, exp):
    assert exp.image.size == (224, 224) and exp.image.mode == "RGB"
    assert exp.pixels.shape == (1, 3, 224, 224)
    assert exp.tokens.shape == (1, 3136, 96)
    assert exp.output.shape == (1, 3136, 96)
    assert exp.grid == (56, 56) and exp.num_windows == 64
    assert (exp.window_size, exp.shift_size) == (7, 3)
    t0, t1 = exp.traces
    assert t0.attn.shape == (64, 3, 49, 49) and t1.mask.shape == (64, 49, 49)
    assert exp.device == "CPU" and exp.weights.startswith("random")
    assert set(exp.timings_ms) == {"before_pair", "pair_traced", "pair_fast", "after_pair"}
    assert (exp.stage, exp.pair, exp.patch_size, exp.blocks) == (1, 0, 4, (0, 1))
    # the traced output is what the fast path computes too, and so are the logits
    with torch.no_grad():
        fast = model.layers[0](model.patch_embed(exp.pixels))
        logits = model(exp.pixels)
    torch.testing.assert_close(fast, exp.output, rtol=0, atol=1e-5)
    torch.testing.assert_close(logits, exp.logits, rtol=0, atol=1e-4)
    probs = logits.softmax(-1)[0]
    assert [i for i, _, _ in exp.top5] == probs.topk(5).indices.tolist()
    assert exp.top5[0][2] == pytest.approx(probs.max().item(), abs=1e-6)
    assert exp.top5[0][1] == imagenet_classes()[exp.top5[0][0]]
    # block 1 starts from block 0's output, block 0 from the patch tokens
    torch.testing.assert_close(t0.x_in, exp.tokens)
    torch.testing.assert_close(t1.x_out, exp.output)


def test_explore_accepts_arrays_and_refuses_bad_images(model, tmp_path):
    arr = (np.random.default_rng(0).random((100, 150, 3)) * 255).astype(np.uint8)
    e = model.explore(arr)
    assert e.grid == (56, 56)
    assert e.original_size == (150, 100)
    bad = tmp_path / "x.png"
    bad.write_text("hello")
    with pytest.raises(ImageError):
        model.explore(bad)


def test_hub_offline_is_a_clear_error(monkeypatch, tmp_path):
    import huggingface_hub.constants as c

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path), raising=False)
    with pytest.raises(CheckpointError, match="Hugging Face Hub"):
        load_model("hub", device="cpu")


def test_checkpoint_round_trip_through_load_model(model, tmp_path):
    from safetensors.torch import save_file

    sd = {k: v.clone() for k, v in model.state_dict().items()}  # swinviz's names are timm's
    save_file(sd, tmp_path / "timm.safetensors")
    loaded = load_model(tmp_path / "timm.safetensors", device="cpu", seed=5)
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    assert "timm" in loaded.weights


@pytest.mark.parametrize(
    "kwargs,words",
    [
        (dict(window_size=7, shift_size=7), "smaller than the window"),
        (dict(embed_dim=96, num_heads=5), "do not divide"),
        (dict(img_size=226), "multiple of the patch size"),
        (dict(img_size=0), "positive"),
    ],
)
def test_impossible_settings_are_refused_before_work(kwargs, words):
    """(A grid that does not split into whole windows is padded, not refused: see below.)"""
    with pytest.raises(SettingsError, match=words):
        check_settings(**kwargs)
    with pytest.raises(SettingsError, match=words):
        load_model(device="cpu", **kwargs)


def test_window_covering_the_grid_means_no_shift():
    # Swin-T's stage 4 at 224: a 7x7 grid and a 7x7 window
    assert check_settings(img_size=28, window_size=7) == (7, 0)
    assert check_settings(img_size=16, window_size=7, shift_size=6) == (4, 0)
    m = load_model(img_size=28, device="cpu")
    assert [b.shift_size for b in m.layers[0].blocks] == [0, 0]


def test_cuda_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(SettingsError, match="no CUDA"):
        load_model(device="cuda")


def test_parameter_counts_match_a_direct_count(model):
    direct = count_parameters(model)
    assert {f"patch_embed.{k}": v for k, v in patch_embed_params(96, 4).items()} == {
        k: v for k, v in direct.items() if k.startswith("patch_embed")
    }
    for i, blk in enumerate(model.layers[0].blocks):
        formula = block_params(96, 3, blk.window_size)
        got = {k[len(f"layers.0.blocks.{i}."):]: v for k, v in direct.items()
               if k.startswith(f"layers.0.blocks.{i}.")}
        assert formula == got
    # concepts fact 9 by hand for C=96, 3 heads, M=7
    assert formula["attn.qkv"] == 96 * 288 + 288
    assert formula["attn.relative_position_bias_table"] == 169 * 3
    assert sum(direct.values()) == sum(p.numel() for p in model.parameters()) == 28_288_354


def test_flops_formula():
    C, H, nH, M = 96, 56, 3, 7
    N, nW, d = M * M, (H // M) ** 2, C // nH
    attn = N * C * 3 * C + nH * N * d * N + nH * N * N * d + N * C * C
    expected = C * H * H + nW * attn + 2 * H * H * C * C * 4 + C * H * H
    assert block_flops(C, (H, H), nH, M) == expected
    blk = SwinTransformerBlock(C, (H, H), nH, window_size=M)
    assert blk.flops() == expected
    # the paper's comparison: W-MSA is linear in hw, MSA quadratic
    assert wmsa_flops(56, 56, 96, 7) == 4 * 3136 * 96**2 + 2 * 49 * 3136 * 96
    assert msa_flops(56, 56, 96) == 4 * 3136 * 96**2 + 2 * 3136**2 * 96
    assert msa_flops(112, 112, 96) > 10 * wmsa_flops(112, 112, 96, 7)


def test_explore_on_other_settings():
    m = load_model(img_size=384, window_size=12, embed_dim=96, num_heads=3, device="cpu")
    e = m.explore(Image.new("RGB", (500, 400), (10, 200, 30)))
    assert e.grid == (96, 96) and (e.window_size, e.shift_size) == (12, 6)
    assert e.traces[1].attn.shape == (64, 3, 144, 144)


def test_explore_when_the_window_covers_the_grid():
    # window 16 > 14x14 token grid: one 14x14 window, no shift (concepts fact 2), and explore works
    m = load_model(img_size=56, window_size=16, shift_size=8, device="cpu")
    e = m.explore(Image.new("RGB", (80, 60), (200, 10, 10)))
    assert e.grid == (14, 14) and (e.window_size, e.shift_size) == (14, 0)
    assert e.traces[1].mask is None and e.traces[1].attn.shape == (1, 3, 196, 196)


def test_explore_pads_a_grid_that_does_not_split_into_windows():
    """200 px: 50x50 tokens with M = 7 are padded to 56x56 inside the blocks; the later stages
    pad too (25 -> 28, 13 -> 14), and every stage can be explored."""
    m = load_model(img_size=200, device="cpu")
    img = Image.new("RGB", (200, 200), (10, 120, 200))
    e = m.explore(img)
    assert e.grid == (50, 50) and e.num_windows == 64 and e.traces[1].region_ids.shape == (56, 56)
    assert [m.config.stage(s).grid for s in (1, 2, 3, 4)] == [(50, 50), (25, 25), (13, 13), (7, 7)]
    e3 = m.explore(img, stage=3, pair=2)
    assert e3.grid == (13, 13) and e3.patch_size == 16 and e3.traces[0].attn.shape[0] == 4


def test_explore_stage_4_has_one_window_and_no_shift(model):
    e = model.explore(ASSETS / "cat.jpg", stage=4, pair=0)
    assert (e.grid, e.window_size, e.shift_size, e.num_windows) == ((7, 7), 7, 0, 1)
    assert e.traces[0].mask is None and e.traces[1].mask is None
    assert e.traces[1].attn.shape == (1, 24, 49, 49) and e.patch_size == 32
    assert len(e.chain) == 12  # every block from stage 1 up to stage 4's pair 0
