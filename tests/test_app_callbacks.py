"""The app's callbacks called directly (no server, no browser): settings, errors, the session
view, redraws without a model run, picking a query patch, the download zip and the model cache."""

from __future__ import annotations

import gc
import json
import re
import threading
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from app import clicks, events, exports, instant, panel, picture, plotting, runs, session, state
from app import settings as app_settings
from app.guard import RECEIVED
from app.session import Shown
from swinviz import SettingsError, environment, weights
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
    return RECEIVED.add(path)  # as if uploaded to this server


@pytest.fixture(scope="module")
def result(photo):
    return runs.run(photo, **SMALL)


@pytest.fixture(scope="module")
def view(result) -> session.View:
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
        assert opts["width"] * opts["scale"] == pytest.approx(plotting.EXPORT_WIDTH)
    img, text = result[len(KINDS)], result[len(KINDS) + 1]
    assert isinstance(img, Image.Image)
    assert img.size == (56 * picture.display_scale(view.exp.image),) * 2
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

    monkeypatch.setattr(plotting, "make_figure", boom)
    figs = plotting.build_figures(view, ("windows",))
    text = json.dumps(figs["windows"].to_plotly_json()["layout"])
    assert "kaputt" in text and figs["windows"].layout.meta["placeholder"]


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        (dict(img_size=56, window_size=7, shift_size=7), "smaller than the window"),
        (dict(img_size=56, window_size=7, shift_size=9), "smaller than the window"),
        (dict(img_size=62, window_size=7, shift_size=3), "multiple of the patch size"),
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
        runs.run(photo, **settings)
    assert needle.lower() in err.value.message.lower()


def test_window_covering_the_grid_is_one_window_without_shift(photo):
    """Concepts fact 2: accepted, and the badge says why there is one window and no shift."""
    out = runs.run(photo, img_size=32, window_size=12, shift_size=6)
    view, text = out[-1], out[-2]
    assert view.exp.grid == (8, 8)
    assert (view.exp.window_size, view.exp.shift_size) == (8, 8 * 0)
    assert "1 window of 8x8, no shift" in text and "covers the whole" in text


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
    RECEIVED.add(path)  # as if uploaded: its content is what is tested
    with pytest.raises(gr.Error) as err:
        runs.run(str(path), **SMALL)
    assert needle in err.value.message.lower()


def test_no_image_is_a_message_not_a_crash():
    with pytest.raises(gr.Error, match="Upload an image"):
        runs.run(None, **SMALL)


def test_unexpected_failure_becomes_a_message(photo, monkeypatch):
    def broken(settings, image, stage, pair, without, target=None, evidence=True):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runs, "_run_model", broken)
    with pytest.raises(gr.Error) as err:
        runs.run(photo, **SMALL)
    assert "RuntimeError: disk on fire" in err.value.message


# ------------------------------------------------------------------- redraws without a model


def test_redraw_uses_the_kept_exploration(view, monkeypatch):
    calls = []
    monkeypatch.setattr(runs, "_run_model", lambda *a: calls.append(a))
    for block, head, template in ((0, "all", "lecture"), (1, "2", "default"), ("1", "all",
                                                                              "lecture")):
        out = events.on_redraw(dict(view=view, block=block, head=head, template=template))
        assert calls == [] and len(out) == len(KINDS) + 1
        for kind, plot in zip(KINDS, out[: len(KINDS)], strict=True):
            assert is_placeholder(plot) != module_exists(kind), (kind, block, head)
            if module_exists(kind):
                assert plot_json(plot)["layout"]["meta"]["template"] == template, kind
    assert runs.redraw(None) == (*[None] * len(KINDS), None)


def test_pick_query_updates_only_the_query_figures(view, monkeypatch):
    calls = []
    monkeypatch.setattr(runs, "_run_model", lambda *a: calls.append(a))
    before = plotting.build_figures(view, QUERY_KINDS)
    k = picture.display_scale(view.exp.image) * view.exp.patch_size
    new_view, img, *plots = clicks.pick_query_at(view, x=2.5 * k, y=5.5 * k)
    assert calls == []
    assert new_view.query == (5, 2) and view.query is None  # the old view is not mutated
    assert new_view.exp is view.exp
    assert len(plots) == len(QUERY_KINDS) and QUERY_KINDS == ("attention", "flow", "parts",
                                                              "evidence")
    for kind, plot in zip(QUERY_KINDS, plots, strict=True):
        if not is_placeholder(plot):
            assert plot_json(plot)["data"] != json.loads(before[kind].to_json())["data"], kind
    # the yellow marker sits on the picked patch
    arr = np.asarray(img)
    edge = arr[5 * k, 2 * k + k // 2]
    assert tuple(edge) == (0xF0, 0xE4, 0x42)


def test_click_to_token_clamps_to_the_grid(view):
    k = picture.display_scale(view.exp.image) * view.exp.patch_size
    assert picture.click_to_token(view, 0, 0) == (0, 0)
    assert picture.click_to_token(view, 13 * k + 1, 3 * k) == (3, 13)
    assert picture.click_to_token(view, 10_000, -5) == (0, 13)


def test_query_window_matches_the_trace_windows(view):
    """Block 0: the query's window is its aligned 7x7 square; block 1: the 4 wrapped corners."""
    inside0 = picture.query_window(view, 0, (0, 0))
    assert inside0[:7, :7].all() and inside0.sum() == 49
    inside1 = picture.query_window(view, 1, (13, 13))  # bottom-right: the wrapped corner window
    assert inside1.sum() == 49
    assert inside1[13, 13] and inside1[0, 0] and inside1[0, 13] and inside1[13, 0]


def test_pick_query_without_a_run_is_a_message():
    with pytest.raises(gr.Error, match="Upload an image first"):
        clicks.pick_query_at(None, 1, 1)


def test_heads_and_parsers():
    assert session.parse_head("all", 3) is None and session.parse_head("2", 3) == 2
    assert session.parse_head("head 1", 3) == 1 and session.parse_head(None, 3) is None
    with pytest.raises(SettingsError):
        session.parse_head("3", 3)
    assert [v for _, v in session.head_choices(2)] == ["all", "0", "1"]
    st = app_settings.parse_settings("224px", 7.0, "3")
    assert (st.img_size, st.window_size, st.shift_size, st.capped) == (224, 7, 3, False)


def test_sync_heads_follows_the_model(view):
    upd = session.sync_heads(view, "2")
    assert [v for _, v in upd["choices"]] == ["all", "0", "1", "2"] and upd["value"] == "2"
    assert session.sync_heads(view, "5")["value"] == "0"


# ----------------------------------------------------------------------------- download


@pytest.fixture
def fake_export(monkeypatch):
    """Stand-in for the warm exporter (swinviz.export.export_warm and WARM): one small file per
    figure and format (a PNG width / 100 pixels wide, else a line of text)."""

    def export_figures(figs, out_dir, formats=("png", "svg"), width=1600, **kwargs):
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for kind in figs:
            for fmt in formats:
                p = out_dir / f"{kind}.{fmt}"
                if fmt == "png":
                    Image.new("RGB", (width // 100, 9), "white").save(p)
                elif fmt == "pdf":
                    Image.new("RGB", (16, 9), "white").save(p, format="PDF")
                else:
                    p.write_text(f"{kind} {fmt} {width}")
                paths.append(p)
                if kwargs.get("progress"):
                    kwargs["progress"](p.name)
        return paths

    monkeypatch.setattr(exports, "export_warm", export_figures)
    monkeypatch.setattr(exports, "WARM", SimpleNamespace(export=export_figures))
    return export_figures


def test_download_zips_all_ten_as_png_and_svg(view, fake_export):
    path = Path(exports.download(view, Shown(1, 0, "lecture")))
    assert path.suffix == ".zip" and path.is_file()
    names = set(zipfile.ZipFile(path).namelist())
    assert names == {f"{k}.{f}" for k in KINDS for f in ("png", "svg")}
    assert zipfile.ZipFile(path).read("attention.svg") == b"attention svg 1600"
    with Image.open(zipfile.ZipFile(path).open("attention.png")) as im:
        assert im.width == 16


def test_a_downloads_progress_moves_at_most_once_per_interval(view, fake_export, monkeypatch):
    """Every file written is counted, but the page's bar moves at most once per
    PROGRESS_EVERY_S (each move is a message to the page and a redraw there, on the CPU the
    export needs); it only moves forward, and it moves at once for the first file."""
    clock = iter(0.125 * i for i in range(1000))  # 1/8 s between two files
    monkeypatch.setattr(exports.time, "monotonic", lambda: next(clock))
    moves = []
    exports.download(view, Shown(1, 0), progress=lambda f, desc="": moves.append((f, desc)))
    writes = [m for m in moves if m[1].startswith("Writing")]
    files = 2 * len(KINDS)
    assert len(writes) == -(-files // 3)  # 0.3 s apart: the first file, then every third
    assert writes[0][1] == f"Writing {KINDS[0]}.png"
    assert [f for f, _ in writes] == sorted(f for f, _ in writes)


def test_download_without_a_browser_is_a_message(view, fake_export, monkeypatch):
    from swinviz.export import ExportError

    def no_browser(*a, **k):
        raise ExportError("no Chromium found for kaleido")

    monkeypatch.setattr(exports, "export_warm", no_browser)
    monkeypatch.setattr(exports, "WARM", SimpleNamespace(export=no_browser))
    with pytest.raises(gr.Error, match="no Chromium"):
        exports.download(view)
    with pytest.raises(gr.Error, match="no Chromium"):
        exports.lecture_deck(view)
    with pytest.raises(gr.Error, match="Run the model"):
        exports.download(None)
    with pytest.raises(gr.Error, match="Run the model"):
        exports.lecture_deck(None)


def test_lecture_deck_zips_the_lessons_deck_in_the_pages_language(view, fake_export):
    """The deck button: the lesson's 16:9 slides in order, lecture.pptx (speaker notes),
    lecture.pdf, the shift GIF and its frames, in one zip, in the language of the page's
    lesson; an unknown language is English."""
    from pptx import Presentation

    from swinviz.lesson import STEPS, lecture_files

    for lang in ("zh", "xx"):
        path = Path(exports.lecture_deck(view, lang))
        code = "zh" if lang == "zh" else "en"
        assert path.suffix == ".zip" and path.name.startswith(f"swinviz-lecture-{code}-")
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            assert names[:len(STEPS) + 3] == lecture_files()
            frames = [n for n in names if n.startswith("shift-frames/")]
            assert len(frames) == view.exp.shift_size + 1
            prs = Presentation(zf.open("lecture.pptx"))
            assert len(prs.slides) == len(STEPS)
            notes = prs.slides[0].notes_slide.notes_text_frame.text
            assert ("张图像" in notes) == (code == "zh")
            with Image.open(zf.open("cyclic-shift.gif")) as gif:
                assert gif.n_frames == view.exp.shift_size * 4 + 1  # 3 between two steps


def test_shift_animation_is_this_explorations_and_made_once(view, photo):
    """The Cyclic shift tab's GIF: one frame per token of shift (plus the start) and
    GIF_BETWEEN frames between two steps, made once per exploration (kept with it), a new one
    for a new run."""
    from swinviz.animation import GIF_BETWEEN

    assert exports.shift_gif(None) is None
    first = exports.shift_gif(view)
    with Image.open(first) as gif:
        assert gif.n_frames == view.exp.shift_size * (GIF_BETWEEN + 1) + 1
    assert exports.shift_gif(view) == first  # the same file: not made again
    again = runs.run(photo, **{**SMALL, "shift_size": 1})[-1]
    other = exports.shift_gif(again)
    assert other != first
    with Image.open(other) as gif:
        assert gif.n_frames == GIF_BETWEEN + 2


# ------------------------------------------------------------------ checkpoints and models


def test_checkpoints_only_from_the_allowed_folder(tmp_path, monkeypatch):
    for name in ("a.pth", "b.safetensors", "notes.txt", ".hidden.pth"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "model.safetensors").write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    monkeypatch.delenv(environment.CHECKPOINT_DIR, raising=False)
    assert weights.offered_checkpoints() == []
    with pytest.raises(SettingsError, match="no checkpoint folder"):
        weights.offered_checkpoint("a.pth")
    monkeypatch.setenv(environment.CHECKPOINT_DIR, str(tmp_path))
    assert weights.offered_checkpoints() == ["a.pth", "b.safetensors", "hf"]
    assert weights.offered_checkpoint("a.pth") == tmp_path / "a.pth"
    for bad in ("../a.pth", "/etc/passwd", "notes.txt", str(tmp_path / "a.pth"), ""):
        with pytest.raises(SettingsError, match="not one of the checkpoints"):
            weights.offered_checkpoint(bad)


def test_a_checkpoint_that_does_not_fit_is_a_message(photo, tmp_path, monkeypatch):
    import torch

    torch.save({"model": {"layers.0.blocks.0.norm1.weight": torch.zeros(3)}},
               tmp_path / "tiny.pth")
    monkeypatch.setenv(environment.CHECKPOINT_DIR, str(tmp_path))
    with pytest.raises(gr.Error) as err:
        runs.run(photo, **SMALL, weights="checkpoint", checkpoint="tiny.pth")
    assert err.value.message and "Traceback" not in err.value.message


def test_hub_unreachable_is_a_message(photo, monkeypatch):
    """The Hub answered at startup but the download fails: the loader's sentence."""
    from swinviz import weights

    def offline(*a, **k):
        raise weights.CheckpointError("Could not download the pretrained Swin-T weights")

    monkeypatch.setattr(weights, "hub_checkpoint", offline)
    monkeypatch.setattr(state, "default_weights_choice",
                        lambda *arch: weights.WeightsChoice("hub", "hub"))
    state.MODELS.clear()
    with pytest.raises(gr.Error, match="Could not download"):
        runs.run(photo, img_size=224, weights="hub")


def test_pretrained_when_none_can_be_had_says_why_and_how(photo, monkeypatch):
    from swinviz import weights

    notice = weights.WeightsChoice("random", "random", "Random weights: no pretrained "
                                       "weights could be had (offline). To use them: set "
                                       "SWINVIZ_WEIGHTS.")
    monkeypatch.setattr(state, "default_weights_choice", lambda *arch: notice)
    with pytest.raises(gr.Error, match="no pretrained weights could be had.*SWINVIZ_WEIGHTS"):
        runs.run(photo, img_size=224, weights="pretrained")
    assert app_settings.parse_settings(weights=None).weights == "random"  # the default follows


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
    first = runs.run(photo, **SMALL)[-1]
    second = runs.run(photo, **SMALL, template="lecture")[-1]
    assert len(state.MODELS) == 1
    assert first.exp is not second.exp  # explorations are per call (per session)


def test_raw_gradio_payloads_are_understood(photo):
    """Events run with preprocess=False: the image arrives as Gradio's raw FileData dict."""
    import base64

    assert runs.image_source({"path": photo, "url": None}) == photo
    data = Path(photo).read_bytes()
    uri = "data:image/jpeg;base64," + base64.b64encode(data).decode()
    assert runs.image_source({"path": None, "url": uri}) == data
    assert runs.image_source({"path": None, "url": None}) is None
    out = runs.run({"path": photo, "url": None, "orig_name": "x.jpg"}, **SMALL)
    assert out[-1].exp.grid == (14, 14)
    out = runs.run({"path": None, "url": uri}, **SMALL)
    assert out[-1].exp.grid == (14, 14)


@pytest.mark.slow
def test_download_for_real_png_1600_wide_and_svg(view):
    """The real exporter (kaleido + Debian's Chromium): ten PNGs >= 1600 px wide, ten SVGs."""
    export = pytest.importorskip("swinviz.export")
    from conftest import require_browser
    require_browser(export.find_browser(), "Chromium for kaleido")
    path = Path(exports.download(view, Shown(1, 0, "default")))
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert names == {f"{k}.{f}" for k in KINDS for f in ("png", "svg")}
        for kind in KINDS:
            with Image.open(zf.open(f"{kind}.png")) as im:
                assert im.width >= plotting.EXPORT_WIDTH, kind
            assert zf.read(f"{kind}.svg").lstrip().startswith((b"<svg", b"<?xml"))


def test_explorations_are_bounded_in_bytes(photo, monkeypatch):
    """The store drops the least recently used exploration beyond its budget; that session
    gets a message asking for a new run, the others keep working."""
    store = state.ExplorationStore(max_bytes=1)
    monkeypatch.setattr(runs, "EXPLORATIONS", store)
    first = runs.run(photo, **SMALL)[-1]
    assert first.held.nbytes > 0 and len(store) == 1
    second = runs.run(photo, **SMALL)[-1]  # over budget: the first is dropped, never the newest
    assert first.held.exp is None and second.held.exp is not None and store.dropped == 1
    with pytest.raises(gr.Error, match="Run the model"):
        runs.redraw(first)
    with pytest.raises(gr.Error, match="Run the model"):
        clicks.pick_query_at(first, 1, 1)
    assert len(runs.redraw(second)) == len(KINDS) + 1


def test_exploration_nbytes_counts_shared_storage_once(view):
    n = state.exploration_nbytes(view.exp)
    tr = view.exp.traces[1]
    assert n >= tr.attn.numel() * 4 * 2  # attn + scores at least
    assert n < 40 * 1024 * 1024  # 14x14 tokens: small


# ------------------------------------------------------------- the per-request memory budget

ISSUE_CASES = [
    dict(img_size=224, window_size=1000),
    dict(img_size=448, window_size=1000),
    dict(img_size=448, window_size=14, embed_dim=768, num_heads=64),
]


@pytest.fixture
def no_model_run(monkeypatch):
    """Fails the test if the model would run (a refused request must cost nothing)."""
    def ran(*a, **k):
        raise AssertionError("the model ran")

    monkeypatch.setattr(runs, "_run_model", ran)
    monkeypatch.setattr(state, "load_cached_model", ran)


@pytest.mark.parametrize("case", ISSUE_CASES)
def test_settings_over_the_budget_are_refused_before_the_model_runs(photo, case, no_model_run,
                                                                     monkeypatch):
    monkeypatch.delenv("SWINVIZ_REQUEST_MB", raising=False)
    with pytest.raises(gr.Error) as err:
        runs.run(photo, **case, weights="random")
    text = err.value.message
    assert text.startswith("This run needs about ")
    assert "over the 600 MB per-request limit (SWINVIZ_REQUEST_MB)" in text
    assert text.endswith(("fits", "fit"))
    assert "will not run" in panel.budget_line(**case, weights="random")


def test_the_budget_line_says_what_a_run_needs(monkeypatch):
    monkeypatch.delenv("SWINVIZ_REQUEST_MB", raising=False)
    line = panel.budget_line(224, 7, 3, "random")
    assert line.startswith("This run needs about ") and "of the 600 MB" in line
    line = panel.budget_line(448, 14, 7, "random")
    assert "will not run" in line and "a window of 8" in line
    assert "will not run" in panel.budget_line("inf")  # never raises: a bad value is a sentence


# ------------------------------------------------------- every bad value is a clear message


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        (dict(img_size="inf"), "input size must be a finite whole number"),
        (dict(img_size="1e400"), "input size must be a finite whole number"),
        (dict(window_size="1e400"), "window size must be a finite whole number"),
        (dict(shift_size=float("nan")), "shift must be a finite whole number"),
        (dict(seed="inf"), "seed must be a finite whole number"),
        (dict(embed_dim="-inf"), "embedding width must be a finite whole number"),
        (dict(template=5), "template must be one of default, lecture"),
        (dict(template=["lecture"]), "template must be one of default, lecture"),
        (dict(weights=7), "weights must be one of pretrained, random, checkpoint"),
        (dict(weights={"w": "random"}), "weights must be one of pretrained, random, checkpoint"),
        (dict(checkpoint=["a.pth"]), "checkpoint must be text"),
        (dict(block="0.5"), "block must be 0"),
        (dict(block="inf"), "block must be 0"),
        (dict(head=-1), "head must be from 0 to 2 (stage 1 has 3 heads)"),
        (dict(head="1.5"), "head must be a whole number from 0 to 2"),
        (dict(head={"h": 1}), "head must be a whole number from 0 to 2"),
        (dict(stage="inf"), "stage must be a whole number from 1 to 4"),
        (dict(stage=5), "stage must be from 1 to 4"),
        (dict(stage=[3]), "stage must be a whole number"),
        (dict(pair=1), "stage 1 has 1 block pair"),
        (dict(pair="0.5"), "pair must be a whole number"),
        (dict(query="1,x"), "query column must be a whole number"),
        (dict(query="99,1"), "outside the 14x14 token grid"),
        (dict(query={"r": 1}), "query must be a token as"),
    ],
)
def test_every_bad_value_is_a_sentence(photo, settings, needle, no_model_run):
    kw = {**SMALL, "weights": "random", **settings}
    with pytest.raises(gr.Error) as err:
        runs.run(photo, **kw)
    assert needle.lower() in err.value.message.lower(), err.value.message
    assert err.value.message[0].isupper() and not err.value.print_exception


def test_a_head_is_checked_against_the_explored_stage(photo, no_model_run):
    with pytest.raises(gr.Error, match=r"from 0 to 11 \(stage 3 has 12 heads\)"):
        runs.run(photo, img_size=224, weights="random", stage=3, head=-1)
    with pytest.raises(gr.Error, match=r"from 0 to 11 \(stage 3 has 12 heads\) or 'all', got 12"):
        runs.run(photo, img_size=224, weights="random", stage=3, head=12)


@pytest.mark.parametrize(
    ("index", "needle"),
    [
        (["a", "b"], "x must be a number of pixels"),
        ([1, None], "y must be a number of pixels"),
        ([float("nan"), 3], "finite number of pixels"),
        ([1e308 * 10, 3], "finite number of pixels"),
        (None, "the click's position should be [x, y]"),
        ([5], "the click's position should be [x, y]"),
        ({"x": 1}, "the click's position should be [x, y]"),
        ("12,3", "the click's position should be [x, y]"),
    ],
)
def test_a_bad_click_is_a_sentence(view, index, needle):
    class Event:
        pass

    evt = Event()
    evt.index = index
    with pytest.raises(gr.Error) as err:
        clicks.pick_query(view, Shown(), evt)
    assert needle.lower() in err.value.message.lower()


def test_bad_view_settings_on_redraw_are_sentences(view):
    for kwargs, needle in ((dict(block="0.5"), "Block must be"), (dict(head=-1), "0 to 2"),
                           (dict(template=None), None)):
        if needle is None:
            assert len(events.on_redraw(dict(view=view, **kwargs))) == len(KINDS) + 1
            continue
        with pytest.raises(gr.Error, match=needle):
            events.on_redraw(dict(view=view, **kwargs))
    with pytest.raises(gr.Error, match="x must be a number"):
        clicks.pick_query_at(view, "left", 3)


# ---------------------------------------------------------------- stages, pairs, the query


@pytest.fixture(scope="module")
def stage3(photo):
    """Swin-T's stage 3, pair 2 (blocks 4 and 5) at 224 px: 14x14 tokens of 16 px, 4 windows."""
    return runs.run(photo, img_size=224, weights="random", stage=3, pair=2, head="11")


def test_stage_and_pair_choose_the_traced_blocks(stage3):
    view, text = stage3[-1], stage3[-2]
    exp = view.exp
    assert (exp.stage, exp.pair, exp.blocks, exp.grid) == (3, 2, (4, 5), (14, 14))
    assert exp.patch_size == 16 and exp.num_heads == 12
    assert "**Stage 3, pair 2** (blocks 4 and 5)" in text
    assert "14x14 (16x16 px each" in text and "4 windows of 7x7, shift 3" in text
    assert "12 x 32 channels" in text
    img = stage3[len(KINDS)]
    assert img.size == (224 * picture.display_scale(exp.image),) * 2


def test_a_click_picks_the_query_at_the_stage_resolution(stage3):
    view = stage3[-1]
    k = picture.display_scale(view.exp.image)
    # a click inside the 16 px token (row 5, column 9) of the displayed image
    new_view, img, *plots = clicks.pick_query_at(view, x=(9 * 16 + 3) * k, y=(5 * 16 + 15) * k)
    assert new_view.query == (5, 9)
    assert "row 5, column 9 of stage 3's 14x14 tokens" in panel.query_caption(new_view, 1)
    assert "block 5 (shifted windows)" in panel.query_caption(new_view, 1)
    assert "block 4 (regular windows)" in panel.query_caption(new_view, 0)
    att = plot_json(plots[QUERY_KINDS.index("attention")])
    assert "token (5, 9)" in att["layout"]["title"]["text"]


def test_stage_4_is_one_window_without_shift(photo):
    out = runs.run(photo, img_size=224, weights="random", stage=4)
    exp, text = out[-1].exp, out[-2]
    assert (exp.grid, exp.window_size, exp.shift_size, exp.num_windows) == ((7, 7), 7, 0, 1)
    assert "1 window of 7x7, no shift" in text
    assert "One 7x7 window covers the whole 7x7 token grid of stage 4" in text
    labels = [lbl for lbl, _ in session.sync_blocks(out[-1])["choices"]]
    assert labels[1] == "second block: block 1 (SW-MSA, no shift here: one window)"


def test_a_new_stage_explores_the_cached_model(photo, stage3):
    misses = state.MODELS.misses
    out = runs.run(photo, img_size=224, weights="random", stage=1)
    assert state.MODELS.misses == misses  # the same model, explored at another stage
    assert out[-1].exp.stage == 1


def test_the_query_argument_makes_the_same_figures_as_a_click(photo, stage3):
    view = stage3[-1]
    by_click = clicks.pick_query_at(view, x=9 * 16 * picture.display_scale(view.exp.image),
                                    y=5 * 16 * picture.display_scale(view.exp.image),
                                    shown=Shown.parse(view, head="11"))
    scripted = runs.run(photo, img_size=224, weights="random", stage=3, pair=2, head="11",
                      query="5,9")
    assert scripted[-1].query == (5, 9)
    for i, kind in enumerate(QUERY_KINDS):
        a = plot_json(by_click[2 + i])
        b = plot_json(scripted[KINDS.index(kind)])
        assert a["data"] == b["data"], kind


def test_a_grid_that_does_not_split_into_whole_windows_is_padded_and_drawn(photo):
    """60 px: 15x15 tokens, padded to 21x21 (9 windows of 7x7) in the blocks; every figure is
    drawn and a click on the last row picks it."""
    out = runs.run(photo, img_size=60, weights="random")
    exp = out[-1].exp
    assert (exp.grid, exp.num_windows) == ((15, 15), 9)
    for kind, plot in zip(KINDS, out[: len(KINDS)], strict=True):
        assert not is_placeholder(plot), kind
    k = picture.display_scale(exp.image) * exp.patch_size
    view, img, *_ = clicks.pick_query_at(out[-1], x=14 * k + 1, y=14 * k + 1)
    assert view.query == (14, 14) and img.size == out[len(KINDS)].size


def test_pair_and_block_choices_name_the_block_numbers():
    assert [v for _, v in session.pair_choices(3)] == ["0", "1", "2"]
    assert [lbl for lbl, _ in session.pair_choices("3")][2] == "pair 2: blocks 4, 5"
    assert [v for _, v in session.pair_choices(1)] == ["0"]
    labels = [lbl for lbl, _ in session.block_choices(2)]
    assert labels == ["first block of the pair: block 4 (W-MSA)",
                      "second block: block 5 (SW-MSA)"]
    assert session.sync_blocks(None) == gr.update()


def test_the_badge_shows_the_prediction(result):
    text = result[-2]
    assert "**Prediction (top 5):**" in text
    assert "meaningless with random weights" in text
    exp = result[-1].exp
    assert exp.top5 and exp.top5[0][1] in text


# ------------------------------------------------------------- weights and the 6x6 preset


def test_pretrained_weights_fix_the_window_and_need_224_px(monkeypatch, tmp_path):
    from swinviz import weights

    monkeypatch.setattr(state, "default_weights_choice",
                        lambda *arch: weights.WeightsChoice(tmp_path / "w.pth", "SWINVIZ_WEIGHTS"))
    st = app_settings.parse_settings(224, 7, 3, None)
    assert (st.weights, st.source) == ("pretrained", str(tmp_path / "w.pth"))
    with pytest.raises(SettingsError, match="fix the window at 7"):
        app_settings.parse_settings(224, 14, 7, "pretrained")
    with pytest.raises(SettingsError, match="at least 224 px"):
        app_settings.parse_settings(112, 7, 3, "pretrained")
    assert app_settings.parse_settings(448, 7, 3, "pretrained").img_size == 448


def test_the_notes_6x6_preset_shows_the_seed_tables(photo):
    from seed_tables import SEED_IDS

    p = panel.PRESETS["6x6"]
    out = runs.run(photo, p["img_size"], p["window_size"], p["shift_size"], p["weights"],
                 stage=p["stage"], pair=p["pair"])
    exp = out[-1].exp
    assert (exp.grid, exp.window_size, exp.shift_size, exp.num_windows) == ((6, 6), 3, 1, 4)
    assert exp.traces[1].region_ids.tolist() == SEED_IDS
    regions = plot_json(out[KINDS.index("regions")])
    assert not (regions["layout"].get("meta") or {}).get("placeholder")


# ----------------------------------------------------------- what a session holds, shared figures


def test_a_session_keeps_only_what_the_figures_draw(photo):
    """The kept exploration drops the activations (meta tensors keep their shapes) and draws
    exactly the same figures as the full one; its bytes stay within the budget's estimate."""
    import torch

    from swinviz import load_model
    from swinviz.budget import estimate

    model = load_model("random", img_size=56, device="cpu")
    full = model.explore(photo)
    slim = state.slim_exploration(model.explore(photo))
    for name in ("pixels", "tokens", "output"):
        assert getattr(slim, name).device.type == "meta"
        assert getattr(slim, name).shape == getattr(full, name).shape
    for t in slim.traces:
        assert t.x_in.device.type == t.x_out.device.type == "meta"
        assert t.attn.dtype == t.scores.dtype == torch.float32  # the numbers shown, unrounded
    small = app_settings.ModelSettings(img_size=56)
    view_full = session.View(held=state.Held(full), settings=small)
    view_slim = session.View(held=state.Held(slim), settings=small)
    for h in (0, None):
        a = plotting.build_figures(view_full, head=h)
        b = plotting.build_figures(view_slim, head=h)
        for kind in KINDS:
            ja, jb = json.loads(a[kind].to_json()), json.loads(b[kind].to_json())
            if kind == "cost":  # the measured times of two runs differ
                continue
            assert ja == jb, kind
    est = estimate(model.config)
    assert state.exploration_nbytes(slim) <= est.held
    assert state.exploration_nbytes(slim) < 0.8 * state.exploration_nbytes(full)


def test_settings_only_figures_do_not_depend_on_the_image(tmp_path):
    """SETTINGS_KINDS are shared by all sessions: the same for two different images."""
    from swinviz import load_model

    model = load_model("random", img_size=56, device="cpu")
    views = []
    for i, color in enumerate(((255, 0, 0), (0, 90, 200))):
        p = tmp_path / f"{i}.png"
        Image.new("RGB", (70, 60), color).save(p)
        views.append(session.View(held=state.Held(model.explore(str(p))),
                             settings=app_settings.ModelSettings(img_size=56)))
    for kind in plotting.SETTINGS_KINDS:
        a, b = (json.loads(plotting.build_figures(v, (kind,))[kind].to_json()) for v in views)
        assert a == b, kind


def test_settings_only_figures_are_drawn_once_for_all_sessions(photo, monkeypatch):
    cache = state.FigureCache(max_bytes=64 * 1024 * 1024)
    monkeypatch.setattr(plotting, "FIGURES", cache)
    first = runs.run(photo, **SMALL, weights="random")
    assert cache.misses == len(plotting.SETTINGS_KINDS) and cache.hits == 0
    second = runs.run(photo, **SMALL, weights="random")  # another session, same settings
    assert cache.hits == len(plotting.SETTINGS_KINDS)
    for kind in plotting.SETTINGS_KINDS:
        i = KINDS.index(kind)
        assert first[i].plot == second[i].plot
    runs.run(photo, **SMALL, weights="random", seed=1)  # other weights: bias drawn again
    assert cache.misses == 2 * len(plotting.SETTINGS_KINDS)


def test_figure_cache_is_bounded_in_bytes():
    cache = state.FigureCache(max_bytes=10_000)
    for i in range(20):
        cache.get(("k", i), lambda: "x" * 1000)
    assert cache.nbytes <= 10_000 and len(cache) < 20
    assert cache.get(("big",), lambda: "y" * 5000) == "y" * 5000  # too big to keep: not kept
    assert ("big",) not in cache._items


def test_model_cache_is_bounded_in_bytes():
    import torch

    cache = state.ModelCache(capacity=10, max_bytes=3 * 4000)
    for name in "abcd":
        cache.get(name, lambda: torch.nn.Linear(1000, 1, bias=False))  # 4000 bytes each
    assert len(cache) == 3 and cache.nbytes == 12_000
    big = cache.get("huge", lambda: torch.nn.Linear(10_000, 1, bias=False))
    assert len(cache) == 1 and cache.get("huge", lambda: None) is big  # the newest stays


# ------------------------------------------------------------------------------------ ZeroGPU


def _tensors(obj):
    """Every tensor reachable through lists, tuples and dataclass fields."""
    import torch

    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)
    elif hasattr(obj, "__dataclass_fields__"):
        for f in obj.__dataclass_fields__:
            yield from _tensors(getattr(obj, f))


def test_the_gpu_function_takes_and_returns_what_pickles(photo):
    """The function spaces.GPU wraps (called here outside ZeroGPU): plain settings and the
    image's path or bytes in, a CPU Exploration out; both survive a pickle round trip."""
    import pickle

    import spaces  # noqa: F401  (the real package: outside ZeroGPU it leaves the function as is)
    import torch

    settings = app_settings.parse_settings(56, 7, 3, "random")
    for image in (photo, Path(photo).read_bytes()):
        args = (settings, image, 1, 0)
        assert pickle.loads(pickle.dumps(args)) == args
        exp = runs._run_model(*args)
        back = pickle.loads(pickle.dumps(exp))
        tensors = list(_tensors(back))
        assert tensors and all(t.device.type == "cpu" for t in tensors)
        assert torch.equal(back.traces[1].attn, exp.traces[1].attn)
        assert back.top5 == exp.top5 and back.config == exp.config


# ------------------------------------------------------------- the instant click and first picture


def test_the_click_pack_holds_the_traces_numbers_within_its_stated_precision(view):
    """app.instant.attention_pack against the exploration it was made from: geometry exact,
    probabilities float16 (relative 2^-11), the printed row and scores to 1/131070 of their
    row's range, bias exact, the title means as the figure computes them."""
    from app.instant import attention_pack, decode
    from swinviz.figures.attention import _geometry

    exp = view.exp
    tr = exp.traces
    M = tr[1].window_size
    N, nH = M * M, tr[1].num_heads
    pack = attention_pack(exp, 1, 0, (3, 4), key="run")
    assert pack["key"] == "run" and pack["query"] == [3, 4] and pack["M"] == M
    assert pack["has_mask"] == [False, tr[1].mask is not None]
    for b in (0, 1):
        order, _, regions = _geometry(tr[b])
        np.testing.assert_array_equal(decode(pack[f"order{b}"]), order.ravel())
        np.testing.assert_array_equal(decode(pack[f"regions{b}"]), regions.ravel())
    attn = tr[1].attn.numpy()
    np.testing.assert_allclose(decode(pack["attn"]).astype(np.float32), attn.ravel(),
                               rtol=2.0 ** -11, atol=6e-8)
    np.testing.assert_allclose(decode(pack["other"]).astype(np.float32),
                               tr[0].attn.numpy()[:, 0].ravel(), rtol=2.0 ** -11, atol=6e-8)
    # as the page computes them: doubles from the uint16 values and the float32 scales
    rows = decode(pack["rows"]).reshape(-1, N) * decode(pack["rows_scale"]).astype(float)[:, None]
    exact = attn[:, 0].reshape(-1, N).astype(float)
    top = exact.max(axis=1, keepdims=True)
    assert np.all(np.abs(rows - exact) <= top / 131070 + top * 2.0 ** -23)  # + float32 scale
    scores = tr[1].scores[:, 0].numpy().reshape(-1, N).astype(float)
    lo = decode(pack["scores_lo"]).astype(float)
    step = decode(pack["scores_step"]).astype(float)
    back = lo[:, None] + decode(pack["scores"]).reshape(-1, N) * step[:, None]
    span = np.abs(scores).max(axis=1, keepdims=True)
    assert np.all(np.abs(back - scores) <= step[:, None] * 0.5 + span * 2.0 ** -22)
    np.testing.assert_array_equal(decode(pack["bias"]), tr[1].bias[0].numpy().ravel())
    means = [np.abs(tr[1].scores[w, 0, k].numpy().reshape(M, M)).mean()  # as the figure
             for w in range(pack["nW"]) for k in range(N)]
    np.testing.assert_array_equal(decode(pack["scores_mean"]), np.array(means, np.float32))
    np.testing.assert_array_equal(decode(pack["bias_mean"]), np.array(
        [np.abs(tr[1].bias[0, k].numpy().reshape(M, M)).mean() for k in range(N)], np.float32))
    assert nH * N * N * pack["nW"] == decode(pack["attn"]).size


def test_no_click_pack_when_the_mask_is_not_the_regions(view, monkeypatch):
    """The page rebuilds the mask from the region ids; a trace whose mask says otherwise gets
    no pack (its clicks go to the server)."""
    from dataclasses import replace as dc_replace

    from app.instant import attention_pack

    exp = view.exp
    tr1 = exp.traces[1]
    assert tr1.mask is not None
    odd = tr1.mask.clone()
    odd[0, 0, 1] = -50.0
    monkeypatch.setattr(exp, "traces", [exp.traces[0], dc_replace(tr1, mask=odd)])
    assert attention_pack(exp, 1, 0, (0, 0)) is None


def test_the_page_run_sends_the_attention_figure_with_where_its_pack_is(photo):
    """The page's attention figure names its click pack (run, block, head, query), and the
    page fetches the pack apart (`clicks.page_pack`): no array of it travels in the figure,
    through Gradio's answer and its status updates' snapshots."""
    out = runs.run(photo, **SMALL, pack=True)
    view = out[-1]
    meta = plot_json(out[KINDS.index("attention")])["layout"]["meta"]
    click = meta["click"]
    assert click["key"] == view.run_id != ""
    assert click["pack"] == {"run": view.run_id, "block": 1, "head": 0,
                             "row": click["query"][0], "col": click["query"][1]}
    assert not [k for k, v in click.items() if isinstance(v, dict) and "b" in v]  # no arrays
    api = runs.run(photo, **SMALL)  # the API's answer carries no pack
    assert "click" not in (plot_json(api[KINDS.index("attention")])["layout"].get("meta") or {})


@pytest.mark.parametrize("head", [0, None])
def test_page_pack_is_the_click_pack_of_the_figure(view, head):
    """What the page fetches for a figure's pack is `attention_pack` for its run, block, head
    and query, as JSON."""
    from app.instant import attention_pack

    fields = {"run": view.run_id, "block": "0", "head": "" if head is None else str(head),
              "row": "2", "col": "3"}
    got = json.loads(clicks.page_pack(fields))
    want = json.loads(json.dumps(attention_pack(view.exp, 0, head, (2, 3), key=view.run_id)))
    assert got == want and got["key"] == view.run_id and got["head"] == head


def test_page_pack_refuses_bad_requests_with_a_sentence(view):
    H, W = view.exp.grid
    nH = view.exp.num_heads
    good = {"run": view.run_id, "block": "1", "head": "0", "row": "0", "col": "0"}
    cases = [
        ({**good, "block": "2"}, ValueError, "block 0 or 1"),
        ({**good, "head": str(nH)}, ValueError, f"a head below {nH}"),
        ({**good, "head": "x"}, ValueError, "a head below"),
        ({**good, "row": str(H)}, ValueError, f"the {H}x{W} grid"),
        ({**good, "col": "-1"}, ValueError, "grid"),
        ({**good, "extra": "1"}, ValueError, "five short fields"),
        ({**good, "row": "9" * 100}, ValueError, "five short fields"),
        ({**good, "run": "no-such-run"}, LookupError, "no longer on the server"),
        ({k: v for k, v in good.items() if k != "run"}, LookupError, "Run the model"),
    ]
    for fields, kind, needle in cases:
        with pytest.raises(kind) as err:
            clicks.page_pack(fields)
        assert needle.lower() in str(err.value).lower(), (fields, str(err.value))


def test_a_run_draws_the_open_tab_first_and_rest_draws_the_others(photo):
    """run(first=...) returns the open tab's figures and gr.skip() for the others; rest() then
    returns exactly the others, the same figures a full run draws."""
    first = ("relpos", "bias")
    out = runs.run(photo, **SMALL, first=first)
    view = out[-1]
    skip = gr.skip()
    for kind, plot in zip(KINDS, out[:len(KINDS)], strict=True):
        assert (plot == skip) is (kind not in first), kind
    later = runs.rest(view, Shown(), first=first)
    full = plotting.build_plots(view, block=1, head=0)
    for kind, plot, whole in zip(KINDS, later, full, strict=True):
        if kind in first:
            assert plot == skip
        elif kind != "attention":  # the page's attention figure also carries its pack
            assert without_page_meta(plot_json(plot), view) == plot_json(whole), kind
    assert all(p == skip for p in runs.rest(None, first=first))


def without_page_meta(fig: dict, view) -> dict:
    """A page's figure less the flow figure's layout.meta["page"] (checked: it names the run,
    and where the clickable image's tokens are, as the attention pack does)."""
    meta = fig["layout"].get("meta")
    if isinstance(meta, dict) and "page" in meta:
        page = meta.pop("page")
        assert page["run"] == view.run_id and page["grid"] == list(view.exp.grid)
        assert page["disp"] == view.exp.patch_size * picture.display_scale(view.exp.image)
        if not meta:
            del fig["layout"]["meta"]
    return fig


def clicked(view, message: str, block="1", head="0", template="default") -> dict:
    """A page click's values by name, as the click event gets them."""
    return dict(view=view, block=block, head=head, template=template, message=message)


def click_message(at=None, drew=None, flow=None, **extra) -> str:
    """The page's click message (app/instant.js `S.message`): at (run, row, col), drew (run,
    block, head, row, col), flow "page" / "text" / None."""
    msg = {"v": 1, "at": None if at is None else dict(zip(("run", "row", "col"), at,
                                                          strict=True)),
           "drew": None if drew is None else dict(zip(("run", "block", "head", "row", "col"),
                                                      drew, strict=True)),
           "flow": flow, **extra}
    return json.dumps(msg)


def test_a_page_click_leaves_the_attention_figure_to_the_page_only_when_it_drew_it(view):
    k = picture.display_scale(view.exp.image) * view.exp.patch_size
    evt = type("Evt", (), {"index": [2 * k + 1, 5 * k + 1]})()  # token (5, 2)
    drew = click_message(drew=(view.run_id, 1, 0, 5, 2))
    assert view.run_id
    new, img, att, flow, _, _, flow_text = clicks.pick_query_page(clicked(view, drew), evt)
    assert new.query == (5, 2) and att == gr.skip() and flow_text == ""
    assert plot_json(flow)["layout"]["title"]["text"].startswith("Information flow into token "
                                                                 "(5, 2)")
    with Image.open(img) as marked:  # the marked image, written as a PNG file for Gradio
        assert np.array_equal(np.asarray(marked.convert("RGB")),
                              np.asarray(picture.query_image(new, 1)))
    for other in ("", click_message(drew=(view.run_id, 1, 0, 5, 3)),
                  click_message(drew=(view.run_id, 1, None, 5, 2)),
                  click_message(drew=(view.run_id, 0, 0, 5, 2)),
                  click_message(drew=("another-run", 1, 0, 5, 2)), None,
                  click_message(flow="text")):
        _, _, att, _, _, _, _ = clicks.pick_query_page(clicked(view, other), evt)
        fig = plot_json(att)
        assert "(5, 2)" in fig["layout"]["title"]["text"]
        assert fig["layout"]["meta"]["click"]["query"] == [5, 2]


def test_a_page_click_with_the_flow_tab_open_sends_the_flow_figure_as_text(view):
    """flow "text": the page draws the flow figure itself (one Plotly.react on the figure
    shown), so its Plot is skipped and its JSON, the figure the Plot would get, goes to the
    text output."""
    k = picture.display_scale(view.exp.image) * view.exp.patch_size
    evt = type("Evt", (), {"index": [3 * k + 1, 1 * k + 1]})()  # token (1, 3)
    for drew in ((view.run_id, 1, 0, 1, 3), None):
        msg = click_message(drew=drew, flow="text")
        new, _, att, flow, _, _, flow_text = clicks.pick_query_page(clicked(view, msg), evt)
        assert flow == gr.skip() and new.query == (1, 3)
        assert (att == gr.skip()) is (drew is not None)
        want = plotting.build_plots(new, ("flow",), block=1, head=0)[0]
        assert without_page_meta(json.loads(flow_text), new) == plot_json(want)
        assert json.loads(flow_text)["layout"]["title"]["text"].startswith(
            "Information flow into token (1, 3)")


def test_a_page_click_that_fetched_the_flow_figure_itself_leaves_it_out(view):
    """flow "page": the page asked `page_flow` for the figure at the click, so the click's
    answer neither draws it for the Plot nor sends it as text."""
    k = picture.display_scale(view.exp.image) * view.exp.patch_size
    evt = type("Evt", (), {"index": [3 * k + 1, 1 * k + 1]})()  # token (1, 3)
    for drew in (None, (view.run_id, 1, 0, 1, 3)):
        msg = click_message(drew=drew, flow="page")
        new, img, att, flow, _, _, flow_text = clicks.pick_query_page(clicked(view, msg), evt)
        assert new.query == (1, 3) and flow == gr.skip() and flow_text == ""
        assert (att == gr.skip()) is (drew is not None)
        with Image.open(img) as marked:
            assert np.array_equal(np.asarray(marked.convert("RGB")),
                                  np.asarray(picture.query_image(new, 1)))


def test_a_page_click_takes_the_token_the_page_found_for_it(view):
    """The message's "at": the page's token for its latest click wins over the click's
    coordinates (Gradio may send a held-back click again with an earlier click's coordinates),
    when it names this run and lies on the grid; otherwise the coordinates decide."""
    H, W = view.exp.grid
    k = picture.display_scale(view.exp.image) * view.exp.patch_size
    evt = type("Evt", (), {"index": [2 * k + 1, 5 * k + 1]})()  # the coordinates: token (5, 2)
    run = view.run_id
    cases = [
        (click_message(at=(run, 7, 3)), (7, 3)),
        (click_message(at=(run, 7, 3), drew=(run, 1, 0, 7, 3), flow="page"), (7, 3)),
        (click_message(at=(run, H - 1, W - 1)), (H - 1, W - 1)),
        (click_message(at=("another-run", 7, 3)), (5, 2)),
        (click_message(at=(run, H, 0)), (5, 2)),
        (click_message(at=(run, -1, 0)), (5, 2)),
        (click_message(drew=(run, 1, 0, 7, 3)), (5, 2)),  # what the page drew, not the token
        ("", (5, 2)),
        (None, (5, 2)),
    ]
    for msg, want in cases:
        new = clicks.pick_query_page(clicked(view, msg), evt)[0]
        assert new.query == want, msg
    assert clicks.page_token(view, clicks.parse_click_message(click_message(at=(run, 7, 3)))) \
        == (7, 3)


@pytest.mark.parametrize("bad, needle", [
    ("run:1:0:5:2|flow", "must be a JSON object"),
    ("[1, 2]", "must be a JSON object"),
    (7, "JSON text"),
    ("x" * 3000, "at most 2048 characters"),
    (json.dumps({"at": None}), "version"),
    (json.dumps({"v": 2}), "version"),
    (click_message(at=("r", "seven", 3)), "at.row must be a whole number"),
    (json.dumps({"v": 1, "at": [7, 3]}),
     "\"at\" must be an object"),
    (click_message(drew=("r", 1, "all", 5, 2)), "drew.head must be a whole number or null"),
    (click_message(drew=("r", True, 0, 5, 2)), "drew.block must be a whole number"),
    (click_message(drew=(7, 1, 0, 5, 2)), "drew.run must be the run's name"),
    (click_message(flow="flowpage"), "\"flow\" must be \"page\", \"text\" or null"),
])
def test_a_bad_click_message_is_one_sentence(view, bad, needle):
    """The click message is parsed in one place (`parse_click_message`): anything the page
    never sends is a gr.Error whose sentence says what is wrong, before any figure is drawn."""
    with pytest.raises(ValueError, match=re.escape(needle)):
        clicks.parse_click_message(bad)
    evt = type("Evt", (), {"index": [1, 1]})()
    with pytest.raises(gr.Error, match=re.escape(needle)):
        clicks.pick_query_page(clicked(view, bad), evt)


def test_the_switch_turns_the_click_pack_off_and_the_server_still_draws(view, monkeypatch):
    """app.instant.INSTANT_CLICKS off: no click pack in the attention figure and the page's
    script says so (window.swinvizInstant = false); the empty click message it then sends gets
    both figures from the server."""

    monkeypatch.setattr(instant, "INSTANT_CLICKS", False)
    att = plotting.build_plots(view, ("attention",), block=1, head=0, pack=True)[0]
    assert "click" not in (plot_json(att)["layout"].get("meta") or {})
    assert "window.swinvizInstant = false;" in instant.page_head()
    k = picture.display_scale(view.exp.image) * view.exp.patch_size
    evt = type("Evt", (), {"index": [3 * k + 1, 1 * k + 1]})()  # token (1, 3)
    new, _, att, flow, _, _, flow_text = clicks.pick_query_page(clicked(view, ""), evt)
    assert new.query == (1, 3) and flow_text == ""
    for fig in (plot_json(att), plot_json(flow)):
        assert "(1, 3)" in fig["layout"]["title"]["text"]


def flow_request(run, row, col, template="default") -> bytes:
    return json.dumps({"run": run, "row": row, "col": col, "template": template}).encode()


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_page_flow_is_the_flow_figure_of_the_token_for_the_run(view, template):
    """The page's own request at a click: the same figure as the server's flow figure for that
    token and template, carrying the run's page meta for the next click."""
    H, W = view.exp.grid
    for r, c in ((1, 3), (H - 1, 0), (H // 2, W - 1)):
        got = json.loads(clicks.page_flow(flow_request(view.run_id, r, c, template)))
        want = plotting.figure_or_placeholder("flow", view.exp, query=(r, c), template=template)
        assert got["layout"]["meta"]["page"]["template"] == template
        assert without_page_meta(got, view)["data"] == json.loads(want.to_json())["data"]
        assert got["layout"]["title"]["text"] == want.layout.title.text
        assert f"token ({r}, {c})" in got["layout"]["title"]["text"]
        assert got["config"] == plotting.plot_config("flow", want)


def test_page_flow_refuses_bad_requests_with_a_sentence(view):
    H, W = view.exp.grid
    cases = [
        (b"not json", ValueError, "A flow request is JSON"),
        (b"[1, 2]", ValueError, "A flow request is JSON"),
        (b"x" * (clicks.PAGE_FLOW_MAX_BYTES + 1), ValueError, "a few short fields"),
        (flow_request(view.run_id, H, 0), ValueError, f"outside the {H}x{W} token grid"),
        (flow_request(view.run_id, -1, 2), ValueError, "outside"),
        (flow_request(view.run_id, "two", 2), ValueError, "query row"),
        (flow_request(view.run_id, 1, None), ValueError, "query column"),
        (flow_request(view.run_id, 1, 2, "poster"), ValueError, "template"),
        (flow_request("no-such-run", 1, 2), LookupError, "no longer on the server"),
        (flow_request(None, 1, 2), ValueError, "names its run"),
    ]
    for body, kind, needle in cases:
        with pytest.raises(kind) as err:
            clicks.page_flow(body)
        assert needle.lower() in str(err.value).lower(), (body[:40], str(err.value))
        assert "Traceback" not in str(err.value)


def test_page_flow_sees_only_runs_a_session_still_holds(photo):
    """PAGE_RUNS holds runs weakly: a run dropped to free memory, or one no session holds any
    more, is refused, and the registry does not keep it alive."""
    view = runs.run(photo, **SMALL, pack=True)[-1]
    run = view.run_id
    assert json.loads(clicks.page_flow(flow_request(run, 0, 0)))["layout"]["meta"]["page"]["run"] \
        == run
    view.held.exp = None  # what the store does to free memory
    with pytest.raises(LookupError, match="Run the model"):
        clicks.page_flow(flow_request(run, 0, 0))
    del view
    gc.collect()
    assert run not in runs.PAGE_RUNS


def most_at_once(monkeypatch, name: str, call) -> int:
    """How many calls of clicks.<name> (made slow here) run at once when six threads `call()`."""
    now, most = [0], [0]
    lock = threading.Lock()

    def slow(*args, **kwargs):
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        time.sleep(0.05)
        with lock:
            now[0] -= 1
        return go.Figure() if name == "figure_or_placeholder" else ()

    monkeypatch.setattr(clicks, name, slow)
    threads = [threading.Thread(target=call) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return most[0]


def test_page_clicks_run_at_most_click_concurrency_at_once(view, monkeypatch):
    """Clicks skip Gradio's queue (a direct request), and the page's flow requests are not
    Gradio's at all: both are bounded by the same slots."""
    monkeypatch.setattr(clicks, "CLICK_SLOTS", threading.BoundedSemaphore(2))
    evt = type("Evt", (), {"index": [1, 1]})()
    assert most_at_once(monkeypatch, "_page_click",
                        lambda: clicks.pick_query_page(clicked(view, ""), evt)) == 2
    body = flow_request(view.run_id, 1, 1)
    assert most_at_once(monkeypatch, "figure_or_placeholder", lambda: clicks.page_flow(body)) == 2


def test_a_run_sent_twice_at_once_is_served_once(photo):
    """Gradio's Image fires `change` twice when a new file replaces the shown one: the second,
    equal request while the first is in flight does nothing."""

    values = dict(image=photo, img_size="56", window_size=7, shift_size=3, weights="random",
                  checkpoint="", block="1", head="0", template="default", seed=0, embed_dim=96,
                  num_heads=3, stage="1", pair="0", open_tab="windows")
    req = type("Req", (), {"session_hash": "s1"})()
    key = events.in_flight_key(req, values)
    assert runs.IN_FLIGHT.claim(key)
    try:
        out = events.on_image_change(values, request=req)
    finally:
        runs.IN_FLIGHT.release(key)
    # every output left as it is (the status too: a late duplicate hides no failure's
    # message), and the run's mark says "duplicate": nothing follows it in the page
    # (instant.AFTER_PAINT_JS; a browser test counts the followers)
    assert all(o == gr.skip() for o in out[:-1]) and out[-1] == instant.DUPLICATE
    out = events.on_image_change(values, request=req)  # nothing in flight: it runs
    assert out[-3] is not None and out[-3].run_id and out[-2]["value"] == ""
    assert out[-1] == instant.RAN


def test_a_model_being_built_is_waited_for_not_built_twice():
    import threading
    import time

    mc = state.ModelCache(capacity=2, max_bytes=1e9)
    calls = []

    def build():
        calls.append(1)
        time.sleep(0.3)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(mc.get(("k",), build)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(g) for g in got}) == 1
    assert mc.misses == 1 and mc.hits == 2


# ------------------------------------------------------------- what the page says is so


def test_the_budget_line_comes_from_the_settled_settings_only():
    """Item 9: the budget line is written by the change of the settled settings (read once,
    after a preset's or a weight's own updates), one at a time, and again in a new language;
    not by a change event per widget, each of which read the other widgets half-way through a
    preset's updates ("stage 1 has 1 block pair (pair 0), got pair 2" after the 6x6 preset)."""
    from conftest import language_followers

    from app import ui

    demo = ui.build_demo(warm=False)
    budget = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "budget")
    writers = [fn for fn in demo.fns.values() if budget in fn.outputs]
    settles = [fn for fn in writers if fn.targets and fn.trigger_after is None]
    assert len(writers) == 2 and writers[1 - writers.index(settles[0])] in language_followers(demo)
    ((target, event),) = [t[:2] for t in settles[0].targets]
    assert event == "change" and isinstance(demo.blocks[target], gr.State)
    assert {fn.fn for fn in writers} == {events.on_budget}
    assert len({tuple(fn.inputs) for fn in writers}) == 1
    assert {fn.trigger_mode for fn in writers} == {"always_last"}
    # the settled settings are the same however the widgets send them, and the preset they are
    def settled(*values, model="swin-t"):
        return events.on_settled(dict(zip(events.SETTLED, (*values, model), strict=True)))

    key, preset = settled("224", 7, 3, "random", "", 0, 96, 3, "1", "0", [])
    assert key == settled(224, 7.0, "3", "random", "", 0.0, 96, 3, 1, 0, None)[0]
    assert key != settled("224", 7, 4, "random", "", 0, 96, 3, "1", "0", [])[0]
    # what if: the parts left out are a setting of the run, in any order
    mask_bias = settled("224", 7, 3, "random", "", 0, 96, 3, "1", "0", ["mask", "bias"])[0]
    assert mask_bias != key
    assert mask_bias == settled("224", 7, 3, "random", "", 0, 96, 3, "1", "0",
                                ["bias", "mask"])[0]
    # the model is a setting of the run; its own settings are its preset
    v2, v2_preset = settled("256", 8, 4, "random", "", 0, 96, 3, "1", "0", [],
                            model="swinv2-t")
    assert v2 != settled("256", 8, 4, "random", "", 0, 96, 3, "1", "0", [])[0]
    assert v2_preset["value"] == ("swinv2-t" if events.default_weights_source(
        "swinv2_tiny_window8_256") == "random" else None)


def test_no_event_of_the_page_has_two_listeners_that_wait_for_the_last():
    """Gradio 6.31's page sends an event again to *all* its listeners when one of them that
    waits for the last answer (trigger_mode "always_last") was held back behind its own earlier
    call. Two such listeners on one event send it to each other forever: the language switch
    had seven, and about one page in ten opened with ?lang=zh redrew its lesson, figures and
    words twice a second while it stayed open (`app.lesson.language_changed`). A State's
    change reaches each listener alone, as do the events chained with .then / .success."""
    from collections import defaultdict

    from app import ui

    demo = ui.build_demo(warm=False)
    waiting = defaultdict(list)
    for fn in demo.fns.values():
        if fn.fn is None or fn.trigger_mode != "always_last":
            continue  # (an event of the page alone is never held back)
        for block_id, event in (t[:2] for t in fn.targets):
            block = demo.blocks.get(block_id)
            if block is not None and not isinstance(block, gr.State):
                name = getattr(block, "elem_id", None) or getattr(block, "label", None)
                waiting[f"{name}.{event}"].append(fn.name)
    assert waiting  # (the page has such listeners: the lesson's, the address's, ...)
    assert {event: names for event, names in waiting.items() if len(names) > 1} == {}


def test_what_follows_a_run_waits_for_the_page_to_paint_its_figure():
    """Issue 28: a run (a new image, the button, settled settings) is followed first by one
    page-only step (no server call, no loading status) that ends after the browser painted;
    every server event that follows the run (the pickers, the other tabs' figures, the Compare
    columns, the animation) hangs on that step. Before, they were started with the run's
    answer, and Gradio's snapshots of every figure for their loading status came before the
    paint (docs/performance.md)."""
    from app import ui

    demo = ui.build_demo(warm=False)
    deps = demo.config["dependencies"]
    runs_ = [d for d in deps if demo.fns[d["id"]].fn in (events.on_image_change, events.on_run)]
    assert len(runs_) == 3  # the image, the button, the settled settings
    for run in runs_:
        (gate,) = [d for d in deps if d["trigger_after"] == run["id"]]
        assert gate["js"] == instant.AFTER_PAINT_JS and not gate["backend_fn"]
        # given the run's status: a duplicate run ends the chain there
        assert [demo.fns[run["id"]].outputs[-1]._id] == gate["inputs"]
        assert gate["trigger_only_on_success"] and gate["queue"] is False
        def after(i: int) -> set:  # what follows event i, through page-only steps
            out = set()
            for d in deps:
                if d["trigger_after"] == i:
                    fn = demo.fns[d["id"]].fn
                    out |= after(d["id"]) if fn is None else {fn.__name__}
            return out

        follow = after(gate["id"])
        assert {"after_run", "on_rest", "on_compare", "shift_animation_for"} <= follow


def test_a_new_stage_keeps_the_query_on_the_same_spot_of_the_image(photo):
    """Item 10b: the query picked at stage 1 (16, 44) is, at stage 3, the token that covers the
    same spot (4, 11), not the figures' default; back at stage 1, even through stage 4's
    coarse tokens, it is (16, 44) again."""
    from dataclasses import replace

    one = runs.run(photo, img_size=224, weights="random", query="16,44")[-1]
    three = runs.run(photo, img_size=224, weights="random", stage=3, carry=one)[-1]
    assert three.query == (4, 11) == (16 * 14 // 56, 44 * 14 // 56)
    four = runs.run(photo, img_size=224, weights="random", stage=4, carry=one)[-1]
    assert four.query == (2, 5)
    back = runs.run(photo, img_size=224, weights="random", stage=1, carry=four)[-1]
    assert back.query == (16, 44)
    # another input size crops the same square of the photo: the same spot, a new grid
    assert picture.carry_query(one, 112, (28, 28), 4) == (8, 22)
    # nothing picked: the figures' default patch stays the default; a query asked for wins
    assert picture.carry_query(replace(one, query=None), 224, (14, 14), 16) is None
    assert runs.run(photo, img_size=224, weights="random", stage=3, query="1,2",
                  carry=one)[-1].query == (1, 2)


def test_the_tabs_say_what_the_run_shows(photo):
    """Item 10c: the tabs' texts follow the run: stage 4 at 224 px is one window without a
    shift (no straddling windows, no mask), a grid that does not split into whole windows is
    padded, and the blocks are the pair's own numbers."""

    def texts(**kw):
        view = runs.run(photo, weights="random", **kw)[-1]
        return dict(zip(events.TAB_NAMES, events.tab_texts(view), strict=True))

    four = texts(img_size=224, stage=4)
    assert "one 7×7 window covers the whole 7×7 grid" in four["Windows"]
    assert "straddle" not in four["Windows"] and "block 1 does not shift" in four["Windows"]
    assert four["Masks"].startswith("**What you see:** no mask")
    assert "nothing rolls here" in four["Cyclic shift"]
    padded = texts(img_size=200)
    assert "50×50 tokens do not split into whole windows" in padded["Windows"]
    assert "zeros to 56×56" in padded["Windows"]
    three = texts(img_size=224, stage=3, pair=2)
    assert "stage 3's 14×14 tokens (16×16 px each)" in three["Windows"]
    assert "block 5's 4 windows of 7×7 are block 4's moved by s = 3 tokens" in three["Windows"]


def test_the_presets_box_names_the_preset_the_settings_are():
    """Item 10d: the page starts on Swin-T's settings, so its Presets box starts on Swin-T;
    settings changed away from every preset are custom (None: the box goes blank)."""
    from app.state import default_weights_source

    w = default_weights_source()
    assert panel.preset_of(224, 7, 3, w, 96, 3) == "swin-t"
    assert panel.preset_of("224", 7.0, "3", w, 96, 3) == "swin-t"
    assert panel.preset_of("24", 3, 1, "random", 96, 3) == "6x6"
    assert panel.preset_of(224, 7, 4, w, 96, 3) is None
    assert panel.preset_of("inf", 7, 3, w, 96, 3) is None


def test_pretrained_weights_that_cannot_be_had_are_one_clean_sentence(monkeypatch):
    """Item 10e: choosing the pretrained weights where none can be had reads as sentences
    ending in one full stop (the notice's own "...layout)." got a second one)."""
    from swinviz import weights

    notice = weights.WeightsChoice(
        "random", "random", "Random weights: no pretrained weights could be had (offline). To "
        "use them: set SWINVIZ_WEIGHTS to a Swin checkpoint file (timm layout).")
    monkeypatch.setattr(state, "default_weights_choice", lambda *arch: notice)
    assert panel.budget_line(weights="pretrained") == (
        "**These settings will not run:** pretrained weights are not available here, so this "
        "server uses random weights: no pretrained weights could be had (offline). To use "
        "them: set SWINVIZ_WEIGHTS to a Swin checkpoint file (timm layout).")
    assert session.sentence("ends here.") == session.sentence("ends here") == "ends here."
    assert session.sentence("really?") == "really?"


def test_the_shifted_windows_title_breaks_before_its_shift(view):
    """Item 10h: the second block's title in the windows figure, wrapped to its panel, keeps
    "grid shifted by s = 3" on one line (it left "= 3" alone on the last line)."""
    fig = plotting.make_figure("windows", view.exp)
    (title,) = [a.text for a in fig.layout.annotations if (a.text or "").startswith("block 1")]
    lines = [line.replace("\u00a0", " ") for line in title.split("<br>")]
    assert any(line.endswith("grid shifted by s = 3") for line in lines), lines
    assert not any(line.startswith("=") or line.strip().isdigit() for line in lines), lines


def test_shift_clicks_build_a_query_set_and_a_plain_click_starts_again(photo):
    """A shift-click (the click message's "add") adds its token to the query set: the query
    and its flow figure stay, the attention figure is the server's sum (no click pack: the page
    cannot redraw a set), the caption names the set and the image marks it; a shift-click on a
    token of the set takes it out; a plain click starts a new query alone."""
    from app import panel

    view = runs.run(photo, **SMALL)[-1]
    k = picture.display_scale(view.exp.image) * view.exp.patch_size

    def at(r, c):
        return type("Evt", (), {"index": [c * k + 1, r * k + 1]})()

    add = click_message(add=True)
    first = clicks.pick_query_page(clicked(view, click_message()), at(5, 2))[0]
    assert (first.query, first.added) == ((5, 2), ())
    new, img, att, flow, _, _, flow_text = clicks.pick_query_page(clicked(first, add), at(9, 9))
    assert (new.query, new.added) == ((5, 2), ((9, 9),))
    assert flow == gr.skip() and flow_text == ""  # the query's flow figure stays as it is
    fig = plot_json(att)
    assert fig["layout"]["title"]["text"].startswith("Where token (5, 2) and 1 more attend")
    assert "click" not in (fig["layout"].get("meta") or {})
    with Image.open(img) as marked:
        assert np.array_equal(np.asarray(marked.convert("RGB")),
                              np.asarray(picture.query_image(new, 1)))
    assert not np.array_equal(np.asarray(picture.query_image(new, 1)),
                              np.asarray(picture.query_image(first, 1)))
    caption = panel.query_caption(new, 1)
    assert "row 5, column 2" in caption and "**Query set:** the query and (9, 9) (small" in caption
    assert "查询集合" in panel.query_caption(new, 1, "zh")
    more = clicks.pick_query_page(clicked(new, add), at(0, 1))[0]
    assert more.added == ((9, 9), (0, 1))
    assert clicks.pick_query_page(clicked(more, add), at(9, 9))[0].added == ((0, 1),)
    assert clicks.pick_query_page(clicked(more, add), at(5, 2))[0].added == ((0, 1),)
    plain = clicks.pick_query_page(clicked(more, click_message()), at(3, 3))[0]
    assert (plain.query, plain.added) == ((3, 3), ())
    # the in-page path off: the page sends only "add"
    off = clicks.pick_query_page(clicked(first, json.dumps({"v": 1, "add": True})), at(1, 1))[0]
    assert off.added == ((1, 1),)
    with pytest.raises(ValueError, match='"add" must be true or false'):
        clicks.parse_click_message(click_message(add="yes"))


def test_a_query_set_is_bounded(photo):
    from dataclasses import replace

    from swinviz.settings import MAX_QUERY_SET

    view = runs.run(photo, **SMALL)[-1]
    full = replace(view, query=(0, 0), added=tuple((1, c) for c in range(MAX_QUERY_SET - 1)))
    evt = type("Evt", (), {"index": [1, 1 + 5 * picture.display_scale(view.exp.image)
                                     * view.exp.patch_size]})()  # token (5, 0)
    with pytest.raises(gr.Error, match=f"A query set holds at most {MAX_QUERY_SET} patches"):
        clicks.pick_query_page(clicked(full, click_message(add=True)), evt)


def test_the_rest_of_a_run_is_what_the_run_left_out_whatever_tab_is_open_now(photo):
    """A link opens its tab while the model runs: the run drew the tab open when it started,
    and `on_rest` must draw every other figure, the tab open now included (its figure never
    came before: a browser test waited for it in vain)."""
    page = runs.page_settings(dict(SMALL))
    view = runs.run_settings(photo, page, pack=True, first=events.open_kinds("windows"))[-1]
    assert view.drawn == ("windows",)
    later = events.on_rest(dict(view=view, block="1", head="0", template="default",
                                open_tab="attention", status=""))
    for kind, plot in zip(KINDS, later, strict=True):
        assert (plot == gr.skip()) is (kind == "windows"), kind


def test_clicks_answered_side_by_side_count_in_the_order_they_were_made(photo):
    """The server answers clicks side by side, each with the session's View from before the
    ones still being answered, and the page hands a click it redrew itself to Gradio after
    the shift-clicks made behind it; Gradio sends only the last of the clicks that come while
    one is answered, the page sending the ones left out with it ("clicks"). Whatever order
    they come in, the view is the last plain click's token with every later shift-click, and
    a click that comes after a later one is answered with nothing."""
    view = runs.run(photo, **SMALL)[-1]
    run = view.run_id
    k = picture.display_scale(view.exp.image) * view.exp.patch_size

    def send(seq, add, r, c, sent=()):
        evt = type("Evt", (), {"index": [c * k + 1, r * k + 1]})()
        msg = click_message(at=(run, r, c), add=add, seq=seq, clicks=[list(s) for s in sent])
        return clicks.pick_query_page(clicked(view, msg), evt)

    assert send(1, True, 1, 1)[0].added == ((1, 1),)  # each from the same stale View
    # 3 and 4 are shift-clicks made after the plain click 2, which the page hands on later;
    # Gradio left 3 out and the page sent it with 4
    out = send(4, True, 10, 10, sent=[(3, 1, 12, 12), (4, 1, 10, 10)])
    default = picture.resolved_query(view)  # no query picked before: the figures' default
    assert (out[0].query, out[0].added) == (default, ((1, 1), (12, 12), (10, 10)))
    # the plain click, late: made before 3 and 4, it changes what the run knows, so its
    # answer shows the view (before, it was left out as "superseded" by 4, and the page kept
    # 4's view without it)
    late = send(2, False, 5, 5)
    assert (late[0].query, late[0].added) == ((5, 5), ((12, 12), (10, 10)))
    now = send(5, True, 0, 0)
    assert (now[0].query, now[0].added) == ((5, 5), ((12, 12), (10, 10), (0, 0)))
    again = send(5, True, 0, 0)  # the same click twice counts once, and changes nothing
    assert again[0].added == now[0].added
    # a click Gradio dropped (its own message never comes) counts from a later message that
    # carries it: the plain click 7, handed on after the shift-click 8 was made
    send(6, True, 3, 3)
    last = send(7, False, 4, 4, sent=[(6, 1, 3, 3), (8, 1, 9, 9), (7, 0, 4, 4)])
    assert (last[0].query, last[0].added) == ((4, 4), ((9, 9),))
    # an answer made from what the run knew before another click came is left out
    _, version = clicks.picked_after(view, clicks.parse_click_message(click_message(
        at=(run, 2, 2), add=True, seq=9)), (2, 2))
    assert not clicks.superseded(view, version)
    clicks.picked_after(view, clicks.parse_click_message(click_message(
        at=(run, 1, 2), add=True, seq=10)), (1, 2))
    assert clicks.superseded(view, version)
    with pytest.raises(ValueError, match='"clicks" must be a list of at most'):
        clicks.parse_click_message(click_message(clicks=[[1, 2, 3, 4]]))
