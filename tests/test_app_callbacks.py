"""The app's callbacks called directly (no server, no browser): settings, errors, the session
view, redraws without a model run, picking a query patch, the download zip and the model cache."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from app import callbacks as cb
from app import state
from swinviz import SettingsError
from swinviz.figures import KINDS, QUERY_KINDS

ROOT = Path(__file__).resolve().parent.parent
SMALL = dict(img_size=56, window_size=7, shift_size=3)  # 14x14 tokens, 4 windows: fast


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> str:
    """A real photo from assets/ when there is one, else a synthetic gradient."""
    found = sorted(p for p in (ROOT / "assets").glob("*.jpg"))
    if found:
        return str(found[0])
    path = tmp_path_factory.mktemp("img") / "gradient.png"
    y, x = np.mgrid[0:120, 0:160]
    arr = np.stack([x * 255 // 160, y * 255 // 120, (x + y) % 256], -1).astype(np.uint8)
    Image.fromarray(arr).save(path)
    return str(path)


@pytest.fixture(scope="module")
def result(photo):
    return cb.run(photo, **SMALL)


@pytest.fixture(scope="module")
def view(result) -> cb.View:
    return result[-1]


def plot_json(plot) -> dict:
    assert plot.type == "plotly"
    return json.loads(plot.plot)


def is_placeholder(plot) -> bool:
    return bool((plot_json(plot)["layout"].get("meta") or {}).get("placeholder"))


def module_exists(kind: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(f"swinviz.figures.{kind}") is not None


# ------------------------------------------------------------------------------------ run


def test_run_returns_ten_figures_image_badge_and_view(result, view):
    assert len(result) == len(KINDS) + 3
    for kind, plot in zip(KINDS, result[: len(KINDS)], strict=True):
        fig = plot_json(plot)
        assert "data" in fig and "layout" in fig, kind
        opts = fig["config"]["toImageButtonOptions"]
        assert opts["width"] * opts["scale"] == pytest.approx(cb.EXPORT_WIDTH)
    img, text = result[len(KINDS)], result[len(KINDS) + 1]
    assert isinstance(img, Image.Image)
    assert img.size == (56 * cb.display_scale(view.exp.image),) * 2
    assert "14x14" in text and "4 windows of 7x7, shift 3" in text and "CPU" in text.upper()
    assert "random (seed 0)" in text
    assert view.exp.grid == (14, 14) and view.query is None


def test_real_figures_are_drawn_for_existing_modules(result):
    """Kinds whose module exists are real figures, not placeholders (the others say why)."""
    for kind, plot in zip(KINDS, result[: len(KINDS)], strict=True):
        assert is_placeholder(plot) != module_exists(kind), kind


def test_placeholder_for_a_failing_kind(view, monkeypatch):
    def boom(kind, exp, **sel):
        raise RuntimeError("kaputt")

    monkeypatch.setattr(cb, "make_figure", boom)
    figs = cb.build_figures(view, ("windows",))
    text = json.dumps(figs["windows"].to_plotly_json()["layout"])
    assert "kaputt" in text and figs["windows"].layout.meta["placeholder"]


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        (dict(img_size=56, window_size=7, shift_size=7), "smaller than the window"),
        (dict(img_size=56, window_size=7, shift_size=9), "smaller than the window"),
        (dict(img_size=60, window_size=7, shift_size=3), "multiple"),
        (dict(img_size=57), "multiple of the patch size"),
        (dict(img_size=4000), "at most"),
        (dict(img_size="big"), "whole number"),
        (dict(img_size=56, embed_dim=96, num_heads=5), "do not divide"),
        (dict(img_size=56, weights="hub", embed_dim=64, num_heads=2), "random weights"),
        (dict(img_size=56, weights="checkpoint", checkpoint="../../etc/passwd"), "checkpoint"),
        (dict(img_size=56, weights="magic"), "weights must be one of"),
        (dict(img_size=56, block=2), "block must be"),
        (dict(img_size=56, head="7"), "head must be"),
        (dict(img_size=56, template="fancy"), "template must be"),
    ],
)
def test_impossible_settings_give_a_clear_message(photo, settings, needle):
    with pytest.raises(gr.Error) as err:
        cb.run(photo, **settings)
    assert needle.lower() in err.value.message.lower()


def test_window_covering_the_grid_is_one_window_without_shift(photo):
    """SPEC fact 2: accepted, and the badge says why there is one window and no shift."""
    out = cb.run(photo, img_size=32, window_size=12, shift_size=6)
    view, text = out[-1], out[-2]
    assert view.exp.grid == (8, 8)
    assert (view.exp.window_size, view.exp.shift_size) == (8, 8 * 0)
    assert "1 window of 8x8, shift 0" in text and "covers the whole" in text


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"hello, this is text", "not an image"),
        (b"", "empty"),
        (None, "truncated or corrupt"),  # a truncated JPEG
    ],
)
def test_bad_images_give_a_clear_message(tmp_path, photo, content, needle):
    path = tmp_path / "upload.png"
    if content is None:
        data = Path(photo).read_bytes()
        path = tmp_path / "cut.jpg"
        Image.open(photo).convert("RGB").save(path, quality=90)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(gr.Error) as err:
        cb.run(str(path), **SMALL)
    assert needle in err.value.message.lower()


def test_no_image_is_a_message_not_a_crash():
    with pytest.raises(gr.Error, match="Upload an image"):
        cb.run(None, **SMALL)


def test_unexpected_failure_becomes_a_message(photo, monkeypatch):
    def broken(settings, image):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cb, "_run_model", broken)
    with pytest.raises(gr.Error) as err:
        cb.run(photo, **SMALL)
    assert "RuntimeError: disk on fire" in err.value.message


# ------------------------------------------------------------------- redraws without a model


def test_redraw_uses_the_kept_exploration(view, monkeypatch):
    calls = []
    monkeypatch.setattr(cb, "_run_model", lambda *a: calls.append(a))
    for block, head, template in ((0, "all", "lecture"), (1, "2", "default"), ("1", "all",
                                                                              "lecture")):
        out = cb.redraw(view, block=block, head=head, template=template)
        assert calls == [] and len(out) == len(KINDS) + 1
        for kind, plot in zip(KINDS, out[: len(KINDS)], strict=True):
            assert is_placeholder(plot) != module_exists(kind), (kind, block, head)
            if module_exists(kind):
                assert plot_json(plot)["layout"]["meta"]["template"] == template, kind
    assert cb.redraw(None) == (*[None] * len(KINDS), None)


def test_pick_query_updates_only_attention_and_flow(view, monkeypatch):
    calls = []
    monkeypatch.setattr(cb, "_run_model", lambda *a: calls.append(a))
    before = cb.build_figures(view, QUERY_KINDS)
    k = cb.display_scale(view.exp.image) * view.exp.patch_size
    new_view, img, *plots = cb.pick_query_at(view, x=2.5 * k, y=5.5 * k)
    assert calls == []
    assert new_view.query == (5, 2) and view.query is None  # the old view is not mutated
    assert new_view.exp is view.exp
    assert len(plots) == len(QUERY_KINDS) == 2
    for kind, plot in zip(QUERY_KINDS, plots, strict=True):
        if not is_placeholder(plot):
            assert plot_json(plot)["data"] != json.loads(before[kind].to_json())["data"], kind
    # the yellow marker sits on the picked patch
    arr = np.asarray(img)
    edge = arr[5 * k, 2 * k + k // 2]
    assert tuple(edge) == (0xF0, 0xE4, 0x42)


def test_click_to_token_clamps_to_the_grid(view):
    k = cb.display_scale(view.exp.image) * view.exp.patch_size
    assert cb.click_to_token(view, 0, 0) == (0, 0)
    assert cb.click_to_token(view, 13 * k + 1, 3 * k) == (3, 13)
    assert cb.click_to_token(view, 10_000, -5) == (0, 13)


def test_query_window_matches_the_trace_windows(view):
    """Block 0: the query's window is its aligned 7x7 square; block 1: the 4 wrapped corners."""
    inside0 = cb.query_window(view, 0, (0, 0))
    assert inside0[:7, :7].all() and inside0.sum() == 49
    inside1 = cb.query_window(view, 1, (13, 13))  # bottom-right: the wrapped corner window
    assert inside1.sum() == 49
    assert inside1[13, 13] and inside1[0, 0] and inside1[0, 13] and inside1[13, 0]


def test_pick_query_without_a_run_is_a_message():
    with pytest.raises(gr.Error, match="Upload an image first"):
        cb.pick_query_at(None, 1, 1)


def test_heads_and_parsers():
    assert cb.parse_head("all", 3) is None and cb.parse_head("2", 3) == 2
    assert cb.parse_head("head 1", 3) == 1 and cb.parse_head(None, 3) is None
    with pytest.raises(SettingsError):
        cb.parse_head("3", 3)
    assert [v for _, v in cb.head_choices(2)] == ["all", "0", "1"]
    st = state.parse_settings("224px", 7.0, "3")
    assert (st.img_size, st.window_size, st.shift_size, st.capped) == (224, 7, 3, False)


def test_sync_heads_follows_the_model(view):
    upd = cb.sync_heads(view, "2")
    assert [v for _, v in upd["choices"]] == ["all", "0", "1", "2"] and upd["value"] == "2"
    assert cb.sync_heads(view, "5")["value"] == "0"


# ----------------------------------------------------------------------------- download


@pytest.fixture
def fake_export(monkeypatch):
    """Stand-in for swinviz.export.export_figures: one small file per figure and format."""

    def export_figures(figs, out_dir, formats=("png", "svg"), width=1600, **kwargs):
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for kind in figs:
            for fmt in formats:
                p = out_dir / f"{kind}.{fmt}"
                p.write_text(f"{kind} {fmt} {width}")
                paths.append(p)
        return paths

    monkeypatch.setattr(cb, "export_figures", export_figures)
    return export_figures


def test_download_zips_all_ten_as_png_and_svg(view, fake_export):
    path = Path(cb.download(view, block=1, head="0", template="lecture"))
    assert path.suffix == ".zip" and path.is_file()
    names = set(zipfile.ZipFile(path).namelist())
    assert names == {f"{k}.{f}" for k in KINDS for f in ("png", "svg")}
    assert zipfile.ZipFile(path).read("attention.png") == b"attention png 1600"


def test_download_without_a_browser_is_a_message(view, fake_export, monkeypatch):
    from swinviz.export import ExportError

    def no_browser(*a, **k):
        raise ExportError("no Chromium found for kaleido")

    monkeypatch.setattr(cb, "export_figures", no_browser)
    with pytest.raises(gr.Error, match="no Chromium"):
        cb.download(view)
    with pytest.raises(gr.Error, match="Run the model"):
        cb.download(None)


# ------------------------------------------------------------------ checkpoints and models


def test_checkpoints_only_from_the_allowed_folder(tmp_path, monkeypatch):
    for name in ("a.pth", "b.safetensors", "notes.txt", ".hidden.pth"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "model.safetensors").write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    monkeypatch.delenv(state.CHECKPOINT_ENV, raising=False)
    assert state.list_checkpoints() == []
    with pytest.raises(SettingsError, match="no checkpoint folder"):
        state.resolve_checkpoint("a.pth")
    monkeypatch.setenv(state.CHECKPOINT_ENV, str(tmp_path))
    assert state.list_checkpoints() == ["a.pth", "b.safetensors", "hf"]
    assert state.resolve_checkpoint("a.pth") == tmp_path / "a.pth"
    for bad in ("../a.pth", "/etc/passwd", "notes.txt", str(tmp_path / "a.pth"), ""):
        with pytest.raises(SettingsError, match="not one of the checkpoints"):
            state.resolve_checkpoint(bad)


def test_a_checkpoint_that_does_not_fit_is_a_message(photo, tmp_path, monkeypatch):
    import torch

    torch.save({"model": {"layers.0.blocks.0.norm1.weight": torch.zeros(3)}},
               tmp_path / "tiny.pth")
    monkeypatch.setenv(state.CHECKPOINT_ENV, str(tmp_path))
    with pytest.raises(gr.Error) as err:
        cb.run(photo, **SMALL, weights="checkpoint", checkpoint="tiny.pth")
    assert err.value.message and "Traceback" not in err.value.message


def test_hub_unreachable_is_a_message(photo, monkeypatch):
    from swinviz import checkpoints

    def offline(*a, **k):
        raise checkpoints.CheckpointError("Could not download the pretrained Swin-T weights")

    monkeypatch.setattr(checkpoints, "hub_checkpoint", offline)
    state.MODELS.clear()
    with pytest.raises(gr.Error, match="Could not download"):
        cb.run(photo, **SMALL, weights="hub")


def test_model_cache_is_lru_and_bounded():
    cache = state.ModelCache(capacity=2)
    built = []

    def maker(name):
        return lambda: built.append(name) or name

    assert cache.get("a", maker("a")) == "a"
    assert cache.get("b", maker("b")) == "b"
    assert cache.get("a", maker("a")) == "a"  # hit: a becomes the newest
    cache.get("c", maker("c"))  # evicts b
    assert len(cache) == 2 and built == ["a", "b", "c"]
    cache.get("b", maker("b"))
    assert built == ["a", "b", "c", "b"] and cache.hits == 1


def test_models_are_shared_between_runs_of_the_same_settings(photo):
    state.MODELS.clear()
    first = cb.run(photo, **SMALL)[-1]
    second = cb.run(photo, **SMALL, template="lecture")[-1]
    assert len(state.MODELS) == 1
    assert first.exp is not second.exp  # explorations are per call (per session)


def test_raw_gradio_payloads_are_understood(photo):
    """Events run with preprocess=False: the image arrives as Gradio's raw FileData dict."""
    import base64

    assert cb.image_source({"path": photo, "url": None}) == photo
    data = Path(photo).read_bytes()
    uri = "data:image/jpeg;base64," + base64.b64encode(data).decode()
    assert cb.image_source({"path": None, "url": uri}) == data
    assert cb.image_source({"path": None, "url": None}) is None
    out = cb.run({"path": photo, "url": None, "orig_name": "x.jpg"}, **SMALL)
    assert out[-1].exp.grid == (14, 14)
    out = cb.run({"path": None, "url": uri}, **SMALL)
    assert out[-1].exp.grid == (14, 14)


@pytest.mark.slow
def test_download_for_real_png_1600_wide_and_svg(view):
    """The real exporter (kaleido + Debian's Chromium): ten PNGs >= 1600 px wide, ten SVGs."""
    export = pytest.importorskip("swinviz.export")
    from conftest import require_browser
    require_browser(export.find_browser(), "Chromium for kaleido")
    path = Path(cb.download(view, block=1, head="0", template="default"))
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert names == {f"{k}.{f}" for k in KINDS for f in ("png", "svg")}
        for kind in KINDS:
            with Image.open(zf.open(f"{kind}.png")) as im:
                assert im.width >= cb.EXPORT_WIDTH, kind
            assert zf.read(f"{kind}.svg").lstrip().startswith((b"<svg", b"<?xml"))


def test_explorations_are_bounded_in_bytes(photo, monkeypatch):
    """The store drops the least recently used exploration beyond its budget; that session
    gets a message asking for a new run, the others keep working."""
    store = state.ExplorationStore(max_bytes=1)
    monkeypatch.setattr(cb, "EXPLORATIONS", store)
    first = cb.run(photo, **SMALL)[-1]
    assert first.held.nbytes > 0 and len(store) == 1
    second = cb.run(photo, **SMALL)[-1]  # over budget: the first is dropped, never the newest
    assert first.held.exp is None and second.held.exp is not None and store.dropped == 1
    with pytest.raises(gr.Error, match="Run the model"):
        cb.redraw(first)
    with pytest.raises(gr.Error, match="Run the model"):
        cb.pick_query_at(first, 1, 1)
    assert len(cb.redraw(second)) == len(KINDS) + 1


def test_exploration_nbytes_counts_shared_storage_once(view):
    n = state.exploration_nbytes(view.exp)
    tr = view.exp.traces[1]
    assert n >= tr.attn.numel() * 4 * 2  # attn + scores at least
    assert n < 40 * 1024 * 1024  # 14x14 tokens: small
