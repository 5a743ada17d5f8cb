"""Shared fixtures: one app server on 127.0.0.1 for the API and browser tests of a session, and
`require_browser`: a missing Chrome/Chromium skips a test locally but fails it under CI=true."""

import importlib
import os
import socket
from pathlib import Path

import pytest

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    """The app, launched in this process on a free loopback port; yields its URL."""
    from app import build_demo, launch_options

    demo = build_demo()
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                **launch_options())
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="session")
def exp_s4():
    """Swin-T (random weights) at 224 px explored at stage 4: one 7x7 window, s = 0, no mask,
    the last stage."""
    import numpy as np
    from PIL import Image

    from swinviz import load_model

    rng = np.random.default_rng(4)
    picture = Image.fromarray(rng.integers(0, 256, (96, 96, 3)).astype(np.uint8))
    return load_model("random", img_size=224).explore(picture, stage=4, predict=False)
