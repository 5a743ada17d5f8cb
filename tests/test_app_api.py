"""The app through gradio_client, against the app launched here on 127.0.0.1 (a free port)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import free_port
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from hostile import hostile_files
from PIL import Image

from swinviz.figures import KINDS

SMALL = dict(img_size="56", window_size=7, shift_size=3, weights="random")
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting:Warning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:Warning"),
]


@pytest.fixture(scope="module")
def client(server) -> Client:
    # no download of the answers' files (the clickable image): gradio_client leaves an empty
    # folder in the system's temporary folder for each (client.py `_download_file`)
    return Client(server, verbose=False, download_files=False)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> list[Path]:
    """Three distinct small images."""
    out = tmp_path_factory.mktemp("api")
    paths = []
    rng = np.random.default_rng(0)
    for i in range(3):
        arr = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)
        arr[:, : 20 * (i + 1)] = (40 * i, 200, 255 - 60 * i)
        p = out / f"img{i}.png"
        Image.fromarray(arr).save(p)
        paths.append(p)
    return paths


def figures(result) -> dict[str, dict]:
    assert len(result) == len(KINDS) + 2
    out = {}
    for kind, plot in zip(KINDS, result[: len(KINDS)], strict=True):
        assert plot["type"] == "plotly", kind
        out[kind] = json.loads(plot["plot"])
    return out


def test_every_input_but_the_image_has_a_default(client):
    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/explore"]
    params = info["parameters"]
    assert params[0]["parameter_name"] == "image" and not params[0]["parameter_has_default"]
    missing = [p["parameter_name"] for p in params[1:] if not p["parameter_has_default"]]
    assert missing == []
    assert len(info["returns"]) == len(KINDS) + 2


def test_explore_with_defaults_returns_every_figure(server, images, tmp_path):
    import tempfile

    # as a remote user's client: the clickable image downloaded (here into tmp_path); the
    # empty folder gradio_client leaves in the system's temporary folder for it is removed
    before = set(Path(tempfile.gettempdir()).iterdir())
    result = Client(server, verbose=False, download_files=tmp_path).predict(
        handle_file(str(images[0])), api_name="/explore")
    for left in set(Path(tempfile.gettempdir()).iterdir()) - before:
        if left.is_dir() and not any(left.iterdir()) and len(left.name) == 40:
            left.rmdir()
    figs = figures(result)
    for kind, fig in figs.items():
        assert "data" in fig and "layout" in fig, kind
        assert fig["config"]["toImageButtonOptions"]["format"] == "png"
    query_image, badge = result[len(KINDS)], result[len(KINDS) + 1]
    assert Path(query_image).is_file() and Path(query_image).is_relative_to(tmp_path)
    assert "Stage 1, pair 0" in badge
    assert "56x56" in badge and "64 windows of 7x7, shift 3" in badge


def test_explore_with_settings(client, images):
    result = client.predict(handle_file(str(images[1])), img_size="112", window_size=7,
                            shift_size=2, block="0", head="all", template="lecture",
                            weights="random", api_name="/explore")
    badge = result[len(KINDS) + 1]
    assert "28x28" in badge and "16 windows of 7x7, shift 2" in badge
    for fig in figures(result).values():
        meta = fig["layout"].get("meta") or {}
        if not meta.get("placeholder"):
            assert meta.get("template") == "lecture"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (dict(img_size="56", window_size=5, shift_size=5, weights="random"),
         "smaller than the window"),
        (dict(img_size="56", embed_dim=96, num_heads=5, weights="random"), "do not divide"),
        (dict(img_size="62", weights="random"), "multiple of the patch size"),
        (dict(img_size="56", weights="checkpoint", checkpoint="../../etc/passwd"), "checkpoint"),
    ],
)
def test_impossible_settings_are_a_message(client, images, kwargs, needle):
    with pytest.raises(AppError) as err:
        client.predict(handle_file(str(images[0])), **kwargs, api_name="/explore")
    assert needle in str(err.value).lower()
    assert "Traceback" not in str(err.value)


def test_hostile_inputs_work_or_give_one_clear_message(client, images, tmp_path):
    for name, (path, expect) in hostile_files(tmp_path).items():
        if expect is None:
            figures(client.predict(handle_file(str(path)), **SMALL, api_name="/explore"))
            continue
        with pytest.raises(AppError) as err:
            client.predict(handle_file(str(path)), **SMALL, api_name="/explore")
        text = str(err.value)
        assert expect in text.lower(), (name, text)
        assert "Traceback" not in text and "/tmp/gradio" not in text, (name, text)
    # and the app keeps serving
    figures(client.predict(handle_file(str(images[0])), **SMALL, api_name="/explore"))


def test_load_test_short_version_no_errors_no_cross_talk():
    """The load-test script (python -m app.bench --load N), short: 4 concurrent sessions with
    distinct images on loopback; each answer equals the same image's answer sent alone."""
    from app.bench import load_test

    photo = str(Path(__file__).resolve().parent.parent / "assets" / "cat.jpg")
    res = load_test(photo, n=4, size=56, time_limit_s=240)
    assert res["errors"] == []
    assert res["mismatches"] == 0
    assert res["sessions"] == 4 and res["p50_ms"] is not None


def test_a_huge_valid_photo_works(client, tmp_path):
    """8000x6000 (48 megapixels): opened at reduced scale, cropped and sized for the model."""
    g = Image.linear_gradient("L").resize((8000, 6000))
    r = Image.radial_gradient("L").resize((8000, 6000))
    path = tmp_path / "huge.jpg"
    Image.merge("RGB", (g, r, g.transpose(Image.Transpose.FLIP_LEFT_RIGHT))).save(path,
                                                                                  quality=85)
    result = client.predict(handle_file(str(path)), **SMALL, api_name="/explore")
    assert "14x14" in result[len(KINDS) + 1]


def test_an_upload_over_the_size_limit_is_refused(client, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (21 * 1024 * 1024))
    with pytest.raises(ValueError, match="exceeds the maximum file size"):
        client.predict(handle_file(str(big)), **SMALL, api_name="/explore")


@pytest.mark.slow
def test_python_app_py_serves_on_the_port_from_the_environment(tmp_path):
    """`python app.py` with GRADIO_SERVER_NAME / GRADIO_SERVER_PORT: the address first answers
    with the starting page (app.starting), then with the app itself, never the other way back;
    the log says where."""
    from app.starting import STARTING_HEADER

    root = Path(__file__).resolve().parent.parent
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=root, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    answers = []  # "starting" / "app", each change
    try:
        deadline = time.monotonic() + 120
        while not answers or answers[-1] != "app":
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/")
                r = conn.getresponse()
                kind = "starting" if r.getheader(STARTING_HEADER) else "app"
                assert r.status == (503 if kind == "starting" else 200)
                if not answers or answers[-1] != kind:
                    answers.append(kind)
                page = r.read().decode()
            except OSError:  # not listening yet, or between the two servers
                pass
            finally:
                conn.close()
            assert proc.poll() is None, (tmp_path / "app.log").read_text()
            assert time.monotonic() < deadline, f"the app did not start: {answers}"
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert answers == ["starting", "app"], answers
    assert "gradio" in page.lower() and "swinviz is starting" not in page
    assert f"http://127.0.0.1:{port}" in (tmp_path / "app.log").read_text()


def test_spaces_gpu_decorates_the_model_call_when_available(tmp_path):
    """With a `spaces` package importable the model call is wrapped by spaces.GPU and declares
    how long it may hold the GPU."""
    fake = tmp_path / "spaces.py"
    fake.write_text("def GPU(fn=None, *, duration=None):\n"
                    "    def wrap(f):\n"
                    "        f.zero_gpu = duration\n"
                    "        return f\n"
                    "    return wrap(fn) if fn is not None else wrap\n")
    code = ("import app.runs as runs; d = getattr(runs._run_model, 'zero_gpu', None); "
            "assert isinstance(d, int) and 0 < d <= 120, d; "
            "assert runs._run_model is runs.explore_on_device; print('decorated')")
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{root}"}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0 and "decorated" in out.stdout, out.stderr


# ------------------------------------------------------------- budget, bad values, stages


def _no_traceback(capfd, *texts) -> None:
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err, (out + err)[-3000:]
    for text in texts:
        assert "Traceback" not in text and text.strip(), text


@pytest.mark.parametrize(
    "case",
    [
        dict(img_size="224", window_size=1000),
        dict(img_size="448", window_size=1000),
        dict(img_size="448", window_size=14, embed_dim=768, num_heads=64),
    ],
)
def test_settings_over_the_budget_are_refused_with_the_sentence(client, images, case, capfd,
                                                                monkeypatch):
    from app import runs

    ran = []
    monkeypatch.setattr(runs, "_run_model", lambda *a: ran.append(a))
    with pytest.raises(AppError) as err:
        client.predict(handle_file(str(images[0])), **case, weights="random",
                       api_name="/explore")
    text = str(err.value)
    assert "This run needs about" in text
    assert "over the 600 MB per-request limit (SWINVIZ_REQUEST_MB)" in text
    assert ran == []  # refused before the model ran
    _no_traceback(capfd, text)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (dict(img_size="inf"), "input size must be a finite whole number"),
        (dict(img_size="1e400"), "input size must be a finite whole number"),
        (dict(seed="1e400"), "seed must be a finite whole number"),
        (dict(window_size="inf"), "window size must be a finite whole number"),
        (dict(template=5), "template must be one of"),
        (dict(weights=3), "weights must be one of"),
        (dict(weights=["random"]), "weights must be one of"),
        (dict(checkpoint={"name": "a.pth"}), "checkpoint must be text"),
        (dict(block="0.5"), "block must be 0"),
        (dict(head=-1), "head must be from 0 to 2 (stage 1 has 3 heads)"),
        (dict(head=[0]), "head must be a whole number"),
        (dict(stage="9"), "stage must be from 1 to 4"),
        (dict(stage=None, pair="2"), "stage 1 has 1 block pair"),
        (dict(query="a,b"), "query row must be a whole number"),
        (dict(query=[1, 2, 3]), "query must be a token"),
        (dict(without="mask,norm"), "unknown part 'norm' to leave out; the parts are 'shift', "
                                    "'mask', 'bias'"),
    ],
)
def test_every_bad_value_is_a_sentence_and_no_traceback(client, images, kwargs, needle, capfd):
    with pytest.raises(AppError) as err:
        client.predict(handle_file(str(images[0])), **{**SMALL, **kwargs}, api_name="/explore")
    text = str(err.value)
    assert needle.lower() in text.lower(), text
    _no_traceback(capfd, text)


def test_stage_pair_and_query_make_the_figures_of_a_click(client, images):
    result = client.predict(handle_file(str(images[2])), img_size="224", weights="random",
                            stage="3", pair="2", head="11", query="5,9", api_name="/explore")
    badge = result[len(KINDS) + 1]
    assert "Stage 3, pair 2" in badge and "(blocks 4 and 5)" in badge
    assert "14x14 (16x16 px each" in badge and "12 x 32 channels" in badge
    att = figures(result)["attention"]
    assert "token (5, 9)" in att["layout"]["title"]["text"]
    assert "Prediction (top 5)" in badge and "meaningless with random weights" in badge


def test_explore_without_runs_the_counterfactual_and_compares_the_prediction(client, images):
    """Issue 24: /explore takes `without`; the badge says what is left out, the masks figure
    draws the mask Swin would add, the prediction compares with Swin as it is."""
    result = client.predict(handle_file(str(images[0])), **SMALL, without="mask,bias",
                            api_name="/explore")
    badge = result[len(KINDS) + 1]
    assert "What if:** without the mask and the relative position bias in every block" in badge
    figs = figures(result)
    assert figs["masks"]["layout"]["meta"]["mask"] == "removed"
    what_if = figs["prediction"]["layout"]["meta"]["what_if"]
    assert what_if["without"] == ["mask", "bias"] and what_if["kl"] >= 0
    assert {t["name"] for t in figs["prediction"]["data"]} == {
        "Swin as it is", "without the mask and the relative position bias"}
    plain = client.predict(handle_file(str(images[0])), **SMALL, api_name="/explore")
    assert "What if" not in plain[len(KINDS) + 1]
    assert "without" not in figures(plain)["prediction"]["layout"]["meta"]


def _post(url: str, body: bytes, method: str = "POST") -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body if method == "POST" else None, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_the_page_flow_route_answers_with_the_figure_or_a_sentence(server, images):
    """POST /swinviz/flow (app.ui.PAGE_FLOW_PATH), what app/instant.js asks at a click: the
    token's flow figure for a run a session holds; a sentence in JSON otherwise."""
    from app import plotting, runs
    from app.clicks import PAGE_FLOW_PATH
    from app.guard import RECEIVED

    url = server.rstrip("/") + PAGE_FLOW_PATH
    view = runs.run(RECEIVED.add(images[0]), **SMALL, pack=True)[-1]  # a page's run, here
    body = json.dumps({"run": view.run_id, "row": 2, "col": 5, "template": "default"})
    status, text = _post(url, body.encode())
    assert status == 200
    fig = json.loads(text)
    want = plotting.figure_or_placeholder("flow", view.exp, query=(2, 5))
    assert fig["data"] == json.loads(want.to_json())["data"]
    assert fig["layout"]["meta"]["page"]["run"] == view.run_id
    for bad, code, needle in (
            (b"{", 400, "A flow request is JSON"),
            (b"y" * 100_000, 413, "a few short fields"),
            (json.dumps({"run": view.run_id, "row": 99, "col": 0}).encode(), 400, "outside"),
            (json.dumps({"run": "gone", "row": 1, "col": 1}).encode(), 410, "Run the model")):
        status, text = _post(url, bad)
        assert status == code, (bad[:30], status)
        msg = json.loads(text)["error"]
        assert needle in msg and "Traceback" not in msg
    assert _post(url, b"", method="GET")[0] == 405


def test_the_page_pack_route_answers_with_the_pack_or_a_sentence(server, images):
    """GET /swinviz/pack (app.instant.PAGE_PACK_PATH), what app/instant.js fetches once per
    attention figure: the figure's click pack for a run a session holds; a sentence in JSON
    otherwise."""
    import urllib.parse

    from app import runs
    from app.guard import RECEIVED
    from app.instant import PAGE_PACK_PATH, attention_pack

    url = server.rstrip("/") + PAGE_PACK_PATH + "?"
    view = runs.run(RECEIVED.add(images[0]), **SMALL, pack=True)[-1]  # a page's run, here
    fields = {"run": view.run_id, "block": 1, "head": 0, "row": 2, "col": 5}
    status, text = _post(url + urllib.parse.urlencode(fields), None, method="GET")
    assert status == 200
    assert json.loads(text) == json.loads(json.dumps(
        attention_pack(view.exp, 1, 0, (2, 5), key=view.run_id)))
    for bad, code, needle in (({**fields, "block": 7}, 400, "block 0 or 1"),
                              ({**fields, "row": 99}, 400, "grid"),
                              ({**fields, "run": "gone"}, 410, "Run the model")):
        status, text = _post(url + urllib.parse.urlencode(bad), None, method="GET")
        assert status == code, (bad, status)
        msg = json.loads(text)["error"]
        assert needle in msg and "Traceback" not in msg
    assert _post(url, b"{}")[0] == 405


def test_the_pages_routes_answer_a_bug_with_a_sentence(server, monkeypatch, caplog):
    """A failure in drawing a click's figure or pack (a bug) is a 500 with the page's sentence,
    never a traceback; the traceback goes to the server's log."""
    from app import clicks
    from app.instant import PAGE_PACK_PATH

    def bug(*_):
        raise RuntimeError("a bug")

    monkeypatch.setattr(clicks, "page_pack", bug)
    monkeypatch.setattr(clicks, "page_flow", bug)
    base = server.rstrip("/")
    for (status, text), needle in (
            (_post(base + PAGE_PACK_PATH + "?run=x", None, method="GET"), "its clicks go to"),
            (_post(base + clicks.PAGE_FLOW_PATH, b"{}"), "the next click tries again")):
        assert status == 500
        msg = json.loads(text)["error"]
        assert needle in msg and "Traceback" not in msg and "a bug" not in msg
    failed = [r for r in caplog.records if r.exc_info and "failed" in r.getMessage()]
    assert {r.getMessage() for r in failed} == {"page pack request failed",
                                                "page flow request failed"}


def test_target_names_the_class_the_evidence_figure_explains(client, images):
    """Issue 27: /explore's `target` (a class index or an ImageNet name; empty: the top class)
    is the class of the evidence figure; a bad one is the sentence, before any run."""
    result = client.predict(handle_file(str(images[0])), **SMALL, target="tabby",
                            api_name="/explore")
    fig = figures(result)["evidence"]
    assert fig["layout"]["meta"]["evidence"]["target"] == 281
    with pytest.raises(AppError) as err:
        client.predict(handle_file(str(images[0])), **SMALL, target="cat", api_name="/explore")
    assert "'cat' names 8 classes" in str(err.value)


def test_model_runs_swin_v2_with_its_own_settings(client, images):
    """Issue 26: /explore's `model` ("swinv2-t"; timm's name works too) runs Swin V2-T at its
    own input size, window and shift (256 px, 8, 4) where they are left empty; its figures say
    V2's terms; an unknown model is the sentence naming the choices."""
    result = client.predict(handle_file(str(images[0])), img_size="", window_size=None,
                            shift_size=None, weights="random", model="swinv2-t",
                            api_name="/explore")
    figs, badge = figures(result), result[len(KINDS) + 1]
    assert "**Tokens:** 64x64 (4x4 px each, 256x256 px input)" in badge
    assert "**Windows:** 64 windows of 8x8, shift 4" in badge and "**Model:** Swin V2-T" in badge
    assert "continuous position bias (Swin V2)" in figs["bias"]["layout"]["title"]["text"]
    with pytest.raises(AppError) as err:
        client.predict(handle_file(str(images[0])), **SMALL, model="swin-x",
                       api_name="/explore")
    assert "Model must be one of swin-t, swinv2-t, got 'swin-x'" in str(err.value)
