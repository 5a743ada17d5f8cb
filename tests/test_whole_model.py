"""The whole Swin: every layout loads whole, and the logits and the attention of every stage equal
transformers' SwinForImageClassification (an independent implementation)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from swinviz import SettingsError, load_model
from swinviz.config import ARCHS, SwinConfig, get_config
from swinviz.model import SwinTransformer
from swinviz.weights import CheckpointError, detect_layout, load_checkpoint
from swinviz.windows import relative_position_index

transformers = pytest.importorskip("transformers")

# A small config that still meets every case: shifted and padded windows in stages 1-3 (26, 13
# and 7 tokens with M = 4), odd grids before two merges (13 -> 7, 7 -> 4) and a last stage whose
# one window is the whole 4x4 grid (no shift).
SMALL = SwinConfig(name="small-test", img_size=104, embed_dim=24, depths=(2, 2, 4, 2),
                   num_heads=(1, 2, 3, 4), window_size=4, num_classes=10)


def hf_config(cfg: SwinConfig):
    return transformers.SwinConfig(
        image_size=cfg.img_size, patch_size=cfg.patch_size, embed_dim=cfg.embed_dim,
        depths=list(cfg.depths), num_heads=list(cfg.num_heads), window_size=cfg.window_size,
        num_labels=cfg.num_classes, attn_implementation="eager",
    )


def reference(cfg: SwinConfig, seed: int = 0):
    """transformers' classifier with every weight random and large enough that a mix-up of
    q/k/v, of merge children or of a norm shows."""
    torch.manual_seed(seed)
    model = transformers.SwinForImageClassification(hf_config(cfg)).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 1.0 if "relative_position_bias_table" in name else 0.1
            offset = 1.0 if ("norm" in name or "layernorm" in name) and name.endswith("weight") \
                else 0.0
            p.copy_(torch.randn_like(p) * scale + offset)
    return model


# ------------------------------------------------ the layouts, written here by hand from the HF one


def hf_to_timm(sd: dict[str, torch.Tensor], depths) -> dict[str, torch.Tensor]:
    """transformers>=5 names -> timm's: merges move to the start of the next stage, q/k/v join."""
    out = {}
    for k, v in sd.items():
        k = k.removeprefix("swin.")
        if m := re.match(r"encoder\.layers\.(\d+)\.downsample\.(.*)", k):
            out[f"layers.{int(m.group(1)) + 1}.downsample.{m.group(2)}"] = v
            continue
        k = (k.replace("embeddings.patch_embeddings.projection", "patch_embed.proj")
             .replace("embeddings.norm", "patch_embed.norm").replace("encoder.layers.", "layers.")
             .replace("layernorm_before", "norm1").replace("layernorm_after", "norm2")
             .replace("attention.o_proj", "attn.proj")
             .replace("attention.relative_position_bias.relative_position_bias_table",
                      "attn.relative_position_bias_table")
             .replace("classifier", "head.fc"))
        if k == "layernorm.weight" or k == "layernorm.bias":
            k = k.replace("layernorm", "norm")
        out[k] = v
    for k in [k for k in out if ".attention.q_proj." in k]:
        p = k.rsplit(".", 1)[1]
        base = k.split(".attention.q_proj.")[0]
        out[f"{base}.attn.qkv.{p}"] = torch.cat(
            [out.pop(f"{base}.attention.{x}_proj.{p}") for x in "qkv"])
    return {k: v for k, v in out.items() if "relative_position_index" not in k}


def timm_to_official(sd, cfg: SwinConfig) -> dict[str, torch.Tensor]:
    """Microsoft's release: merges at the end of the previous stage, head.*, stale buffers."""
    out = {}
    for k, v in sd.items():
        if m := re.match(r"layers\.(\d+)\.downsample\.(.*)", k):
            k = f"layers.{int(m.group(1)) - 1}.downsample.{m.group(2)}"
        out[k.replace("head.fc.", "head.")] = v
    M = cfg.window_size
    for i, d in enumerate(cfg.depths):
        for b in range(d):
            out[f"layers.{i}.blocks.{b}.attn.relative_position_index"] = relative_position_index(M)
    return {"model": out}


def timm_to_torchvision(sd) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in sd.items():
        if m := re.match(r"layers\.(\d+)\.blocks\.(\d+)\.(.*)", k):
            rest = m.group(3).replace("mlp.fc1", "mlp.0").replace("mlp.fc2", "mlp.3")
            k = f"features.{2 * int(m.group(1)) + 1}.{m.group(2)}.{rest}"
        elif m := re.match(r"layers\.(\d+)\.downsample\.(.*)", k):
            k = f"features.{2 * int(m.group(1))}.{m.group(2)}"
        k = (k.replace("patch_embed.proj.", "features.0.0.")
             .replace("patch_embed.norm.", "features.0.2.").replace("head.fc.", "head."))
        out[k] = v
    return out


def hf_to_classic(sd) -> dict[str, torch.Tensor]:
    """transformers < 5 names (what older save_pretrained files hold)."""
    rename = {"attention.q_proj": "attention.self.query", "attention.k_proj": "attention.self.key",
              "attention.v_proj": "attention.self.value",
              "attention.o_proj": "attention.output.dense",
              "attention.relative_position_bias.relative_position_bias_table":
                  "attention.self.relative_position_bias_table",
              "mlp.fc1": "intermediate.dense", "mlp.fc2": "output.dense"}
    out = {}
    for k, v in sd.items():
        for a, b in rename.items():
            k = k.replace(a, b)
        out[k] = v
    return out


def layouts(hf_model, cfg: SwinConfig) -> dict[str, dict]:
    hf_sd = {k: v.clone() for k, v in hf_model.state_dict().items()}
    timm = hf_to_timm(hf_sd, cfg.depths)
    return {
        "transformers": hf_sd,
        "transformers-classic": hf_to_classic(hf_sd),
        "timm": timm,
        "official": timm_to_official(timm, cfg),
        "torchvision": timm_to_torchvision(timm),
    }


@pytest.fixture(scope="module", params=["small", "swin-t"])
def case(request):
    cfg = SMALL if request.param == "small" else get_config("swin-t")
    hf = reference(cfg)
    torch.manual_seed(3)
    x = torch.randn(1, 3, cfg.img_size, cfg.img_size)
    with torch.no_grad():
        out = hf(pixel_values=x, output_attentions=True)
    return cfg, hf, x, out


@pytest.mark.parametrize("layout", ["transformers", "transformers-classic", "timm", "official",
                                    "torchvision"])
def test_every_layout_loads_whole_and_equals_transformers(case, layout):
    cfg, hf, x, out = case
    sd = layouts(hf, cfg)[layout]
    expect = {"transformers-classic": "transformers"}.get(layout, layout)
    assert detect_layout(sd) == expect
    model = SwinTransformer(cfg).eval()
    assert load_checkpoint(model, sd) == expect
    with torch.no_grad():
        logits = model(x)
        zeros = model(torch.zeros_like(x))
    torch.testing.assert_close(logits, out.logits, rtol=0, atol=1e-4)
    assert (logits - zeros).abs().max() > 1e-2  # the input matters


def test_attention_of_every_stage_equals_transformers(case, tmp_path):
    """transformers records each stage's last block: explore that pair's second block."""
    cfg, hf, x, out = case
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in hf.state_dict().items()}, path)
    model = load_model(path, arch=cfg, device="cpu")
    from PIL import Image

    img = Image.new("RGB", (cfg.img_size, cfg.img_size))
    for s in range(1, len(out.attentions) + 1):
        geo = cfg.stage(s)
        exp = model.explore(img, stage=s, pair=geo.pairs - 1, rollout=False, predict=False)
        # explore prepares its own pixels: run the same image through transformers
        with torch.no_grad():
            ref = hf(pixel_values=exp.pixels, output_attentions=True).attentions[s - 1]
        assert exp.traces[1].attn.shape == ref.shape, s
        torch.testing.assert_close(exp.traces[1].attn, ref, rtol=0, atol=1e-5)
        assert exp.window_size == geo.window_size and exp.grid == geo.grid


# ----------------------------------------------------------------------------- the configs


def test_named_configs_are_the_papers():
    t = ARCHS["swin_tiny_patch4_window7_224"]
    assert (t.embed_dim, t.depths, t.num_heads, t.window_size, t.img_size) == (
        96, (2, 2, 6, 2), (3, 6, 12, 24), 7, 224)
    assert [g.grid for g in t.stages()] == [(56, 56), (28, 28), (14, 14), (7, 7)]
    assert [g.dim for g in t.stages()] == [96, 192, 384, 768]
    assert [g.patch_px for g in t.stages()] == [4, 8, 16, 32]
    assert [(g.window_size, g.shift_size) for g in t.stages()] == [(7, 3)] * 3 + [(7, 0)]
    assert ARCHS["swin_small_patch4_window7_224"].depths == (2, 2, 18, 2)
    b = ARCHS["swin_base_patch4_window7_224"]
    assert (b.embed_dim, b.num_heads) == (128, (4, 8, 16, 32))
    b384 = ARCHS["swin_base_patch4_window12_384"]
    assert (b384.img_size, b384.window_size) == (384, 12)
    assert b384.stage(4).grid == (12, 12) and b384.stage(4).shift_size == 0


def test_parameter_count_of_swin_t_is_timms():
    model = SwinTransformer("swin-t")
    hf = transformers.SwinForImageClassification(hf_config(get_config("swin-t")))
    n = sum(p.numel() for p in model.parameters())
    assert n == sum(p.numel() for p in hf.parameters()) == 28_288_354


@pytest.fixture(scope="module")
def swin_t():
    return SwinTransformer("swin-t").eval()


@pytest.mark.parametrize("stage, pair, message", [
    (0, 0, "stage must be from 1 to 4"),
    (5, 0, "stage must be from 1 to 4"),
    (3, 3, "stage 3 has 3 block pairs (pair 0 to 2), got pair 3"),
    (4, 1, "stage 4 has 1 block pair (pair 0), got pair 1"),
    ("x", 0, "stage must be a whole number"),
    (1, 0.5, "pair must be a whole number"),
])
def test_stage_and_pair_are_checked(swin_t, stage, pair, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        swin_t.explore(Path(__file__).resolve().parent.parent / "assets" / "cat.jpg",
                      stage=stage, pair=pair)


@pytest.fixture(scope="module")
def small():
    """The small config's transformers reference and an input."""
    torch.manual_seed(4)
    return SMALL, reference(SMALL), torch.randn(1, 3, SMALL.img_size, SMALL.img_size)


def test_a_checkpoint_of_another_architecture_says_which(small):
    cfg, hf, x = small
    other = SwinConfig(name="deeper", img_size=104, embed_dim=24, depths=(2, 2, 6, 2),
                       num_heads=(1, 2, 3, 4), window_size=4, num_classes=10)
    with pytest.raises(CheckpointError, match=r"\(2, 2, 4, 2\) blocks per stage"):
        load_checkpoint(SwinTransformer(other), layouts(hf, cfg)["timm"])


def test_a_backbone_checkpoint_loads_without_a_head(small):
    cfg, hf, x = small
    sd = {k: v for k, v in layouts(hf, cfg)["timm"].items() if not k.startswith("head.")}
    model = SwinTransformer(cfg).eval()
    load_checkpoint(model, sd)
    assert model.config.num_classes == 0
    with torch.no_grad():
        feats = model(x)
        ref = hf.swin(pixel_values=x).pooler_output
    torch.testing.assert_close(feats, ref, rtol=0, atol=1e-4)
