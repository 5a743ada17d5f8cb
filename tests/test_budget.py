"""swinviz.budget: the estimate bounds what a run really holds, sends and peaks at (and is not
absurdly loose), and settings over the per-request limit are refused before any work with a
sentence naming the limit and a setting that fits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from swinviz import SettingsError, load_model
from swinviz.budget import (
    BudgetError,
    check_budget,
    click_pack_bytes,
    estimate,
    model_bytes,
    suggestions,
)
from swinviz.figures import KINDS, make_figure
from swinviz.model import config_for

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024

# the issue's cases: a window at or above the grid (one window over the whole grid) at 224 and
# 448 px, and the largest settings the page offered (448 px, window 14, width 768, 64 heads)
ISSUE_CASES = [
    dict(img_size=224, window_size=1000),
    dict(img_size=448, window_size=1000),
    dict(img_size=448, window_size=14, embed_dim=768, num_heads=64),
]


@pytest.fixture(scope="module")
def noise(tmp_path_factory) -> str:
    """Random pixels: the largest PNGs the figures can embed (the payload's worst case)."""
    path = tmp_path_factory.mktemp("budget") / "noise.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)).save(path)
    return str(path)


def tensor_bytes(obj, seen=None) -> int:
    """Bytes of every tensor reachable from an Exploration's fields (storages counted once)."""
    seen = set() if seen is None else seen
    if isinstance(obj, torch.Tensor):
        st = obj.untyped_storage()
        if obj.device.type == "meta" or st._cdata in seen:
            return 0
        seen.add(st._cdata)
        return st.nbytes()
    if isinstance(obj, (list, tuple)):
        return sum(tensor_bytes(v, seen) for v in obj)
    if hasattr(obj, "__dataclass_fields__"):
        return sum(tensor_bytes(getattr(obj, f), seen) for f in obj.__dataclass_fields__)
    return 0


@pytest.mark.parametrize("case", ISSUE_CASES)
def test_the_issue_cases_are_refused_before_any_work(case, monkeypatch):
    monkeypatch.delenv("SWINVIZ_REQUEST_MB", raising=False)
    monkeypatch.delenv("SWINVIZ_RESPONSE_MB", raising=False)
    from app.budget import check_budget as serving_check  # the server's limits

    cfg = config_for(**case)
    tracemalloc.start()
    try:
        with pytest.raises(BudgetError) as err:
            serving_check(cfg)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 * MB  # arithmetic only: nothing was built
    text = str(err.value)
    assert "this run needs about" in text
    assert "over the 600 MB per-request limit (SWINVIZ_REQUEST_MB)" in text
    assert text.endswith(("fits", "fit"))
    assert isinstance(err.value, SettingsError)


def _apply(cfg, phrase: str):
    """A suggestion's phrase -> the config it names (the inverse of budget._variants)."""
    changes = {}
    for part in phrase.split(" and "):
        words = part.split()
        if part.startswith("a window of"):
            M = int(words[-1])
            changes.update(window_size=M, shift_size=M // 2)
        elif part.startswith("an input size of"):
            changes.update(img_size=int(words[-1]))
        elif part.startswith("a width of"):
            changes.update(embed_dim=int(words[3]), num_heads=int(words[5]))
        elif part.startswith("a number of heads of"):
            changes.update(num_heads=int(words[-1]))
        else:
            raise AssertionError(f"unknown suggestion {phrase!r}")
    return cfg.with_settings(**changes)


@pytest.mark.parametrize("case", ISSUE_CASES)
def test_the_suggested_settings_fit(case):
    cfg = config_for(**case)
    found = suggestions(cfg, limit_mb=600, response_mb=64)
    assert found
    for phrase in found:
        alt = _apply(cfg, phrase)
        assert check_budget(alt, limit_mb=600, response_mb=64).total <= 600 * MB, phrase
        assert phrase in str(pytest.raises(BudgetError, check_budget, cfg, limit_mb=600,
                                           response_mb=64).value)


def test_the_defaults_fit_and_the_limits_are_the_callers(monkeypatch):
    """The library checks against the limits it is given, naming the settings that set them;
    the server's limits (app.limits) default to 600 MB a request and 64 MB a response."""
    from app import budget as serving
    from app import limits

    monkeypatch.delenv("SWINVIZ_REQUEST_MB", raising=False)
    monkeypatch.delenv("SWINVIZ_RESPONSE_MB", raising=False)
    if not (set(ENV_SET_AT_START) & {"SWINVIZ_REQUEST_MB", "SWINVIZ_RESPONSE_MB"}):
        assert (limits.REQUEST_MB, limits.RESPONSE_MB, serving.request_limit_mb()) == (
            600, 64, 600)
    for stage in (1, 2, 3, 4):  # Swin-T at 224 and 448 px, every stage
        check_budget(config_for(img_size=224), stage, limit_mb=600)
        check_budget(config_for(img_size=448), stage, limit_mb=600)
    big = config_for(img_size=448, window_size=14)
    with pytest.raises(BudgetError, match=r"600 MB per-request limit \(SWINVIZ_REQUEST_MB\)"):
        check_budget(big, limit_mb=600)
    assert check_budget(big, limit_mb=2000).total > 600 * MB
    with pytest.raises(BudgetError, match=r"over the 1 MB per-response limit \(SWINVIZ_RESPONSE"):
        check_budget(big, limit_mb=2000, response_mb=1, response_name="SWINVIZ_RESPONSE_MB")


ENV_SET_AT_START = [k for k in ("SWINVIZ_REQUEST_MB", "SWINVIZ_RESPONSE_MB") if k in os.environ]


@pytest.mark.parametrize("name", ["SWINVIZ_REQUEST_MB", "SWINVIZ_RESPONSE_MB"])
def test_a_bad_server_limit_is_a_sentence_at_start_up(name):
    """app.limits reads the limits once, at import: a bad value stops the server there, with a
    sentence naming the variable (never later, in a request)."""
    out = subprocess.run([sys.executable, "-c", "import app.limits"], cwd=ROOT,
                         env={**os.environ, name: "lots"}, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert "LimitError" in last and name in last and "positive number" in last, last


def test_every_bad_server_limit_is_refused(monkeypatch):
    from app.limits import LimitError, env_positive
    from swinviz.environment import request_mb

    for bad in ("lots", "-5", "inf", "nan", "0"):
        monkeypatch.setenv("SWINVIZ_REQUEST_MB", bad)
        with pytest.raises(LimitError, match="SWINVIZ_REQUEST_MB.*positive number"):
            request_mb(600, LimitError)
        monkeypatch.setenv("SWINVIZ_RESPONSE_MB", bad)
        with pytest.raises(LimitError, match="SWINVIZ_RESPONSE_MB.*positive number"):
            env_positive("SWINVIZ_RESPONSE_MB", 64, 1e6)


def test_the_cli_limit_follows_the_environment_when_asked(monkeypatch):
    """The command line reads SWINVIZ_REQUEST_MB on each run (swinviz.environment), with its
    own larger default; a bad value is a SettingsError sentence."""
    from swinviz.budget import CLI_REQUEST_MB
    from swinviz.environment import request_mb

    monkeypatch.delenv("SWINVIZ_REQUEST_MB", raising=False)
    assert request_mb(CLI_REQUEST_MB, SettingsError) == 4096
    monkeypatch.setenv("SWINVIZ_REQUEST_MB", "2000")
    assert request_mb(CLI_REQUEST_MB, SettingsError) == 2000
    for bad in ("lots", "-5", "inf", "nan", "0"):
        monkeypatch.setenv("SWINVIZ_REQUEST_MB", bad)
        with pytest.raises(SettingsError, match="SWINVIZ_REQUEST_MB.*positive number"):
            request_mb(CLI_REQUEST_MB, SettingsError)


def test_the_estimate_follows_the_code_it_models(monkeypatch):
    """The estimate restates no constant of the code it models: a threshold that moves there
    moves the estimate, and no constant of the same name differs from the code's own."""
    import swinviz.budget as budget
    from app import instant
    from swinviz.backends import attention, onednn, switches

    for module in (switches, onednn, attention, instant):
        for name, value in vars(module).items():
            if name.isupper() and hasattr(budget, name):
                assert getattr(budget, name) == value, (
                    f"swinviz.budget.{name} restates {module.__name__}.{name} and differs")
    # the fast path's attention: batched GEMMs up to CPU_BMM_MAX_TOKENS, SDPA (twice) above
    cfg = config_for(img_size=224, window_size=7)
    small = estimate(cfg, 1, 0).terms["after_pair"]
    monkeypatch.setattr(switches, "CPU_BMM_MAX_TOKENS", 0)
    assert estimate(cfg, 1, 0).terms["after_pair"] > small


def test_model_bytes_bound_the_parameters_and_buffers():
    for kw in ({}, dict(img_size=112, window_size=14), dict(embed_dim=48, num_heads=2)):
        model = load_model("random", device="cpu", **kw)
        real = sum(t.numel() * t.element_size() for t in [*model.parameters(),
                                                          *model.buffers()])
        assert real <= model_bytes(model.config) <= 3 * real, kw


@pytest.mark.parametrize(
    ("kw", "stage", "pair", "figures"),
    [
        (dict(img_size=56), 1, 0, True),
        (dict(img_size=40, window_size=7), 1, 0, False),  # padded to 14x14 (no figures yet)
        (dict(img_size=32, window_size=12), 1, 0, True),  # one window over the whole grid
        (dict(img_size=64, window_size=16, shift_size=8), 1, 0, True),  # 256-token window
        (dict(img_size=112), 3, 2, True),
        (dict(img_size=112), 4, 0, True),
    ],
)
def test_estimate_bounds_the_exploration_and_its_figures(noise, kw, stage, pair, figures):
    """explore's tensors <= est.exploration <= 3x; the figures' JSON (the worst of one head
    and all heads, per kind) and the attention figure's click pack for the page <=
    est.payload <= 3x."""
    model = load_model("random", device="cpu", **kw)
    exp = model.explore(noise, stage=stage, pair=pair)
    est = estimate(model.config, stage, pair)
    held = tensor_bytes(exp) + exp.image.width * exp.image.height * 3
    assert held <= est.exploration <= 3 * held, (held, est.exploration)
    if not figures:
        return
    payload = 0
    for kind in KINDS:
        size = len(make_figure(kind, exp, block=1, head=0).to_json())
        try:  # all heads side by side (some kinds cannot lay out 24 heads yet)
            size = max(size, len(make_figure(kind, exp, block=1, head=None).to_json()))
        except ValueError:
            pass
        payload += size
    from app.instant import attention_pack

    packs = [attention_pack(exp, 1, head, (0, 0)) for head in (0, None)]
    payload += max(len(json.dumps(pk)) for pk in packs)
    assert payload <= est.payload <= 3 * payload, (payload, est.payload)


@pytest.mark.parametrize("kw", [dict(img_size=56), dict(img_size=64, window_size=16,
                                                            shift_size=8),
                                dict(img_size=256, window_size=16, shift_size=8)])
def test_the_click_pack_term_bounds_the_pack_and_says_when_none_is_sent(noise, kw):
    """click_pack_bytes is at least what the page's click pack sends (both head choices), and
    0 exactly where no pack is sent (256 px with 16x16 windows: 12.6 MB of arrays)."""
    from app.instant import attention_pack

    exp = load_model("random", device="cpu", **kw).explore(noise, predict=False)
    tr = exp.traces[1]
    bound = click_pack_bytes(tr.attn.shape[0], tr.num_heads, tr.window_size ** 2)
    packs = [attention_pack(exp, 1, head, (0, 0)) for head in (0, None)]
    if kw["img_size"] == 256:
        assert bound == 0 and packs == [None, None]
        return
    assert max(len(json.dumps(pk)) for pk in packs) <= bound


PEAK_SCRIPT = """
import json, sys
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
from swinviz import load_model
from swinviz.budget import estimate
from swinviz.figures import KINDS, make_figure
kw, stage, pair, image = json.loads(sys.argv[1])
before = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) starts again from here
model = load_model("random", device="cpu", **kw)
exp = model.explore(image, stage=stage, pair=pair, evidence=True)  # as the app runs it
texts = [make_figure(k, exp, block=1, head=None).to_json() for k in KINDS]
response = json.dumps(texts)  # the server's copy of the response
peak = status("VmHWM") - before
print(json.dumps({"peak": peak,
                  "total": estimate(model.config, stage, pair, evidence=True).total}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kw", "stage", "pair"),
    [
        (dict(img_size=224), 1, 0),
        (dict(img_size=224), 3, 2),
        (dict(img_size=448), 1, 0),  # the evidence pass's backward through every later block
        (dict(img_size=112, window_size=28), 1, 0),  # one 28x28 window: 784 tokens
    ],
)
def test_estimate_bounds_the_peak_memory_of_a_run(noise, kw, stage, pair):
    """Peak RSS of a fresh process (model built, image explored, every figure drawn and
    serialised) <= est.total <= 3x."""
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux's /proc to measure the peak RSS")
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, json.dumps([kw, stage, pair, noise])],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["peak"] <= res["total"] <= 3 * res["peak"], res
