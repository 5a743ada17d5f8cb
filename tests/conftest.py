"""Shared fixtures: one app server on 127.0.0.1 for the API and browser tests of a session, and
`require_browser`: a missing Chrome/Chromium skips a test locally but fails it under CI=true."""

import importlib
import importlib.util
import os
import socket
from pathlib import Path

import pytest

# tests/reference/ checks swinviz against timm and pytorch-grad-cam, which need torchvision: they
# run in their own environment (scripts/reference.sh), where timm is installed, and are not
# collected where it is not (.venv, whose CPU torch has no torchvision).
collect_ignore = [] if importlib.util.find_spec("timm") else ["reference"]

INSTALL_HINT = "apt-get install -y chromium; scripts/test.sh installs it"


def in_ci() -> bool:
    """True when the environment variable CI is "true" (any case), as CI services set it."""
    return os.environ.get("CI", "").strip().lower() == "true"


def require_browser(found: object, what: str) -> None:
    """Go on when `found` (a browser's path, or a module) is there; else skip the test, or fail
    it when CI=true, so that a CI run never passes with the browser and export tests skipped."""
    if found and (not isinstance(found, (str, os.PathLike)) or Path(found).exists()):
        return
    if in_ci():
        pytest.fail(f"{what} is missing, and CI=true makes that a failure, not a skip "
                    f"({INSTALL_HINT})", pytrace=False)
    pytest.skip(f"{what} is missing ({INSTALL_HINT})")


def require_browser_module(name: str):
    """`importlib.import_module(name)` for a browser driver (Playwright); missing: as above."""
    try:
        module = importlib.import_module(name)
    except ImportError:
        module = None
    require_browser(module, f"the Python package {name} (requirements-dev.txt)")
    return module


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "requires_browser(path, what): skip without the browser at `path`; fail under CI=true",
    )


@pytest.hookimpl(tryfirst=True)  # before the fixtures (the app server) are set up
def pytest_runtest_setup(item):
    for mark in item.iter_markers("requires_browser"):
        require_browser(mark.args[0], mark.kwargs.get("what") or f"the browser {mark.args[0]}")


CHROMIUM = os.environ.get("SWINVIZ_CHROMIUM", "/usr/bin/chromium")  # Debian's, never a download


@pytest.fixture(scope="module")
def browser():
    """Chromium driven by Playwright, one for a test module (the browser tests', the phone
    figures' drawing)."""
    sync_api = require_browser_module("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            yield b
        finally:
            b.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVED: dict[str, object] = {}  # the app `server` serves, while it does


@pytest.fixture(scope="session")
def server():
    """The app, launched in this process on a free loopback port; yields its URL."""
    from app import build_demo, launch_options

    demo = build_demo()
    SERVED["demo"] = demo  # the browser tests' failure messages read its queue
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                **launch_options())
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        SERVED.clear()
        demo.close()


@pytest.fixture(scope="session")
def exp_s4(explored):
    """Swin-T (random weights) at 224 px explored at stage 4: one 7x7 window, s = 0, no mask,
    the last stage."""
    return explored(random_picture(), dict(img_size=224), stage=4, predict=False)


# --- explorations shared by the figure tests (one model per settings, one exploration per
# settings, picture and place, for the whole session) -------------------------------------------

def random_picture(seed: int = 4, size: tuple[int, int] = (96, 96)):
    """A noise picture, (height, width) = `size`: the input of the shared explorations."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (*size, 3)).astype(np.uint8))


@pytest.fixture(scope="session")
def swin():
    """`swin(**settings)`: `load_model(**settings)`, built once per settings for the session
    (random weights unless the settings say otherwise). Tests keep their own settings."""
    from swinviz import load_model

    models = {}

    def get(**settings):
        key = tuple(sorted(settings.items()))
        if key not in models:
            models[key] = load_model(**settings)
        return models[key]
    return get


@pytest.fixture(scope="session")
def explored(swin):
    """`explored(picture, settings=dict(...), **how)`: `swin(**settings).explore(picture,
    **how)`, one exploration per settings, picture (by its pixels) and `how` (stage, pair,
    predict, ...) for the session. Treat the result as read-only: other tests share it."""
    import hashlib

    done = {}

    def get(picture, settings=None, **how):
        settings = dict(settings or {})
        key = (tuple(sorted(settings.items())), picture.size, picture.mode,
               hashlib.sha256(picture.tobytes()).hexdigest(), tuple(sorted(how.items())))
        if key not in done:
            done[key] = swin(**settings).explore(picture, **how)
        return done[key]
    return get


@pytest.fixture
def kernel_on_any_cpu(monkeypatch):
    """The fused C window attention loaded afresh and used on this CPU even where it prefers
    the batched GEMMs (no AVX-512: `window_kernel.NARROW_VECTORS`), so its answers are checked
    on every machine with a C compiler."""
    from swinviz.backends import window_kernel

    monkeypatch.setattr(window_kernel, "_wa", {})
    monkeypatch.setattr(window_kernel, "_slower_here", lambda lib: None)


@pytest.fixture(scope="session")
def exp_s1(explored):
    """Swin-T (random weights) at 224 px, stage 1, pair 0: 56x56 tokens, 7x7 windows, s = 3."""
    return explored(random_picture(), dict(img_size=224), stage=1, predict=False)


@pytest.fixture(scope="session")
def exp_6x6(explored):
    """The design note's example: 24 px in 4 px patches -> a 6x6 grid, window 3, shift 1
    (docs/concepts.md, fact 4)."""
    return explored(random_picture(), dict(img_size=24, window_size=3, shift_size=1))


@pytest.fixture(scope="session")
def exp_padded(explored):
    """Swin-T at 200 px, stage 1: a 50x50 grid that the blocks pad to 56x56 (7x7 windows)."""
    return explored(random_picture(), dict(img_size=200), stage=1, predict=False)



def _v2_place(name: str, stage: int, img_size: int = 256, doc: str = ""):
    """A session fixture `name`: Swin V2-T (random weights) at `img_size`, stage `stage`."""
    @pytest.fixture(scope="session", name=name)
    def place(explored):
        return explored(random_picture(), dict(arch="swinv2-t", img_size=img_size),
                        stage=stage, predict=False)
    place.__doc__ = doc
    return place


v2_s1 = _v2_place("v2_s1", 1, doc="Swin V2-T at 256 px, stage 1: 64x64 tokens, 8x8 windows")
v2_s2 = _v2_place("v2_s2", 2)
v2_s3 = _v2_place("v2_s3", 3)
v2_s4 = _v2_place("v2_s4", 4, doc="Swin V2-T at 256 px, stage 4: one 8x8 window, no shift")
v2_padded = _v2_place("v2_padded", 1, 200, doc="Swin V2-T at 200 px, stage 1: 50x50 tokens "
                      "that its blocks roll and then pad to 56x56")


# --- the page's events ---------------------------------------------------------------------

def language_switch(demo):
    """The page's language switch (#lang)."""
    return next(b for b in demo.blocks.values() if getattr(b, "label", None) == "Language / 语言")


def language_followers(demo) -> list:
    """The page's events that follow a new language: each its own event chained (`.then`)
    after the switch's one change listener, which runs in the browser
    (`app.lesson.language_changed` says why)."""
    lang = language_switch(demo)
    first = [f for f in demo.fns.values() if (lang._id, "change") in [t[:2] for t in f.targets]]
    assert len(first) == 1 and first[0].fn is None
    return [f for f in demo.fns.values() if f.trigger_after == first[0]._id]
