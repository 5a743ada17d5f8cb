"""Issue 26 in the page: the model chooser (Swin-T, Swin V2-T) as a setting of the run, a link
and the API, and the Compare tab (`app.compare`): the same image through both models, the same
spot of the image as the query on each model's own grid, their bias and their predictions."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest

from app import address, compare, events, runs, state
from app import settings as app_settings
from app.session import Shown
from swinviz import SettingsError, weights

ROOT = Path(__file__).resolve().parent.parent
V2 = "swinv2_tiny_window8_256"


@pytest.fixture(scope="module")
def photo() -> str:
    return str(sorted((ROOT / "assets").glob("*.jpg"))[0])


def test_a_model_left_out_is_swin_t_and_swin_v2_t_brings_its_own_settings():
    v1 = app_settings.parse_settings(weights="random")
    v2 = app_settings.parse_settings(weights="random", model="swinv2-t")
    assert (v1.arch, v1.img_size, v1.window_size, v1.shift_size) == (state.ARCH, 224, 7, 3)
    assert (v2.arch, v2.img_size, v2.window_size, v2.shift_size) == (V2, 256, 8, 4)
    assert v2.config().version == 2 and v2.config().img_size == 256
    assert v1.cache_key() != v2.cache_key()
    # timm's name works too; a setting given is kept
    assert app_settings.parse_settings(weights="random", model=V2, img_size=200).img_size == 200
    with pytest.raises(SettingsError, match="model must be one of swin-t, swinv2-t, got 'v3'"):
        app_settings.parse_settings(model="v3")


def test_pretrained_swin_v2_fixes_its_own_window(monkeypatch, tmp_path):
    """Pretrained weights fix the window of the model they belong to: 8 for Swin V2-T (and its
    stage 4 needs 256 px), 7 for Swin-T."""
    monkeypatch.setattr(state, "default_weights_choice",
                        lambda arch=state.ARCH: weights.WeightsChoice("hub", "hub"))
    st = app_settings.parse_settings(model="swinv2-t")
    assert (st.weights, st.window_size, st.img_size) == ("pretrained", 8, 256)
    with pytest.raises(SettingsError, match="pretrained Swin V2-T weights fix the window at 8 "
                                            r"\(shift 4\)"):
        app_settings.parse_settings(model="swinv2-t", window_size=7, shift_size=3)
    with pytest.raises(SettingsError, match="at least 256 px"):
        app_settings.parse_settings(model="swinv2-t", img_size=224)


def test_the_second_model_takes_pretrained_weights_from_the_hub_only(monkeypatch, tmp_path):
    """The operator's SWINVIZ_WEIGHTS file holds Swin-T: Swin V2-T never takes it, and its
    notice says how to get its own weights (and nothing about that file)."""
    ckpt = tmp_path / "swin_t.safetensors"
    ckpt.write_bytes(b"x")
    monkeypatch.setenv("SWINVIZ_WEIGHTS", str(ckpt))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert weights.default_weights(state.ARCH).weights == ckpt
    choice = weights.default_weights(V2, files=False)
    assert not choice.pretrained
    assert "hf download timm/swinv2_tiny_window8_256.ms_in1k" in choice.notice
    assert "SWINVIZ_WEIGHTS" not in choice.notice


def test_choosing_a_model_sets_its_own_settings_and_notice():
    size, window, shift, weight, width, heads, notice = events.on_model("swinv2-t", "random")
    assert (size["value"], size["choices"]) == ("256", ["128", "256", "384"])
    assert (window["value"], shift["value"], width["value"], heads["value"]) == (8, 4, 96, 3)
    assert weight["value"] == "random" and window["interactive"]
    back = events.on_model("swin-t", "random")
    assert (back[0]["value"], back[1]["value"], back[2]["value"]) == ("224", 7, 3)
    # a preset carries its model
    preset = events.on_preset("swinv2-t")
    assert preset[0]["value"] == "swinv2-t" and preset[1]["value"] == "256"
    assert events.on_preset("6x6")[0]["value"] == "swin-t"


def test_a_link_names_the_model_and_the_address_keeps_it(photo):
    link = address.read_address({"model": "SwinV2-T", "stage": "2"})
    assert link.ignored == [] and link.values["model"] == "swinv2-t"
    assert (link.model.arch, link.model.img_size) == (V2, 256)
    # a link naming only the model sets the panel to that model's own settings
    values = address._model_values(link)
    got = dict(zip(address.MODEL_KEYS, values, strict=True))
    assert got["model"] == "swinv2-t" and got["img_size"]["value"] == "256"
    assert (got["window_size"], got["shift_size"]) == (8, 4)
    view = runs.run(photo, model="swinv2-t", weights="random", stage=2, query="3,4")[-1]
    text = address.address_of(view, Shown(), tab=compare.COMPARE_TAB)
    assert "model=swinv2-t" in text and "img_size" not in text and "tab=compare" in text
    back = address.read_address(dict(p.split("=") for p in text[1:].split("&")))
    assert back.ignored == [] and back.model == view.settings
    assert back.values["query"] == "3,4" and back.values["tab"] == compare.COMPARE_TAB
    bad = address.read_address({"model": "v3"})
    assert bad.ignored and "model must be one of swin-t, swinv2-t" in bad.note


def test_compare_draws_both_models_at_the_same_spot_of_the_image(photo):
    """The session's run fills its own column, the other model runs once at its own settings;
    the query (10, 20) of Swin-T's 56x56 grid is the token covering the same spot on Swin
    V2-T's 64x64 grid: (10.5/56·64, 20.5/56·64) -> (12, 23)."""
    view = runs.run(photo, weights="random", query="10,20")[-1]
    out, kept = compare.columns(view, photo, Shown())
    assert len(out) == compare.OUT_PER_COLUMN * len(compare.COLUMNS)
    head_v1, att_v1, bias_v1, pred_v1, head_v2, att_v2, bias_v2, pred_v2 = out
    assert head_v1.startswith("### Swin-T") and "56x56 tokens" in head_v1
    assert "query (10, 20)" in head_v1
    assert head_v2.startswith("### Swin V2-T") and "64x64 tokens, windows of 8x8, shift 4" \
        in head_v2 and "query (12, 23)" in head_v2
    title = json.loads(att_v2.plot)["layout"]["title"]["text"]
    assert title.startswith("Where token (12, 23) attends")
    assert "continuous position bias" in json.loads(bias_v2.plot)["layout"]["title"]["text"]
    assert "learned table" in json.loads(bias_v1.plot)["layout"]["title"]["text"]
    assert pred_v1.startswith("**Prediction (top 5):**") and pred_v2 != pred_v1
    assert kept.view.settings.model == "swinv2-t" and kept.view.exp.traces[1].bias_wide \
        is not None
    # another head redraws both without running the other model again
    again, kept2 = compare.columns(view, photo, Shown(head=None), kept)
    assert kept2 is kept and json.loads(again[1].plot) != json.loads(att_v1.plot)
    # from the V2 side, Swin-T is the other model; the columns keep their order
    v2 = runs.run(photo, model="swinv2-t", weights="random", query="12,23")[-1]
    out2, kept3 = compare.columns(v2, photo, Shown(lang="zh"))
    assert kept3.view.settings.model == "swin-t" and out2[0].startswith("### Swin-T")
    assert "查询 (10, 20)" in out2[0] and "第 1 阶段：56x56 个 token" in out2[0]


def test_the_compare_event_waits_for_its_tab():
    """Not open: nothing is run or sent; no run yet: nothing either."""
    n = compare.OUT_PER_COLUMN * len(compare.COLUMNS) + 1
    assert all(isinstance(u, dict) and u.get("__type__") == "update"
               for u in compare.on_compare({}))
    assert len(compare.on_compare({})) == n
    assert len(compare.on_compare_tab({})) == n


def test_the_page_has_the_model_chooser_and_the_compare_tab():
    from app import ui

    demo = ui.build_demo(warm=False)
    ids = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}
    chooser = ids["model"]
    assert isinstance(chooser, gr.Radio)
    assert [v for _, v in chooser.choices] == ["swin-t", "swinv2-t"]
    for model in compare.COLUMNS:
        for kind in compare.KINDS:
            assert isinstance(ids[f"compare-{kind}-{model}"], gr.Plot)


def test_swin_v2_is_pretrained_from_the_hub_cache_offline(photo, tmp_path, monkeypatch):
    """Issue 26, Deliver 1: like Swin-T, the page's Swin V2-T takes timm's weights
    (timm/swinv2_tiny_window8_256.ms_in1k) from the local Hub cache with HF_HUB_OFFLINE=1: a
    checkpoint this test builds, put there under the real repo id, is what the page runs (its
    logits are the checkpoint's), and the weights say so."""
    import hashlib
    import os

    import huggingface_hub.constants as hub_constants
    import torch
    from safetensors.torch import save

    from swinviz import load_model

    src = load_model(arch=V2, device="cpu", seed=11)
    with torch.no_grad():  # weights unlike any seeded model's
        for p in src.parameters():
            p.add_(0.01 * torch.randn_like(p))
    data = save({k: v.contiguous() for k, v in src.state_dict().items()})
    repo = tmp_path / "hub" / "models--timm--swinv2_tiny_window8_256.ms_in1k"
    blob = hashlib.sha256(data).hexdigest()
    (repo / "blobs").mkdir(parents=True)
    (repo / "blobs" / blob).write_bytes(data)
    (repo / "snapshots" / ("c" * 40)).mkdir(parents=True)
    os.symlink(Path("..", "..", "blobs", blob), repo / "snapshots" / ("c" * 40) /
               "model.safetensors")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("c" * 40)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    state.default_weights_choice.cache_clear()
    state.MODELS.clear()
    try:
        assert weights.default_weights(V2, files=False) == weights.WeightsChoice("hub",
                                                                                 "hub cache")
        st = app_settings.parse_settings(model="swinv2-t")
        assert (st.weights, st.source, st.img_size, st.window_size) == ("pretrained", "hub",
                                                                       256, 8)
        view = runs.run(photo, model="swinv2-t", stage=4)[-1]
        assert view.exp.pretrained and "random" not in view.exp.weights
        loaded = state.load_cached_model(st)  # the model the page ran
        theirs = src.state_dict()
        assert all(torch.equal(v, theirs[k]) for k, v in loaded.state_dict().items())
        want = src.explore(photo, stage=4)
        assert torch.allclose(torch.as_tensor(view.exp.logits), want.logits, atol=1e-4)
    finally:
        state.default_weights_choice.cache_clear()
        state.MODELS.clear()
