"""How the app is served: the keyword arguments of `demo.launch` that app.py, the tests and the
benchmark share (Gradio 6: theme and css are launch options): the upload and session limits,
the page's scripts, the page's own flow and pack routes and the request limits in front of
everything."""

from __future__ import annotations

import gradio as gr
from fastapi.exceptions import RequestValidationError
from starlette.middleware import Middleware
from starlette.routing import Route

from . import panel, runs
from .access import QUERY_KEYS_JS, describe_js
from .address import ADDRESS_JS, link_tab_js
from .clicks import PAGE_FLOW_PATH, page_flow_route, page_pack_route
from .guard import RequestLimits, short_validation_error
from .instant import PAGE_PACK_PATH, page_head
from .lesson import KEYS_JS
from .limits import MAX_BODY_BYTES, MAX_DIRECT, MAX_FILE_SIZE, MAX_INFLIGHT_BODY_BYTES, MAX_SESSIONS
from .settings import parse_settings
from .state import warm_up


def launch_options() -> dict:
    """Keyword arguments for demo.launch shared by app.py and the tests (Gradio 6: theme and css
    are launch options)."""
    return dict(
        max_file_size=MAX_FILE_SIZE,
        state_session_capacity=MAX_SESSIONS,
        theme=gr.themes.Default(primary_hue="blue"),
        css=panel.CSS,
        ssr_mode=False,
        show_error=False,
        footer_links=["api", "gradio"],
        head=page_head() + "".join(f"<script>{js}</script>" for js in (
            KEYS_JS, QUERY_KEYS_JS, describe_js(), ADDRESS_JS, link_tab_js())),
        app_kwargs={"routes": [Route(PAGE_FLOW_PATH, page_flow_route, methods=["POST"]),
                               Route(PAGE_PACK_PATH, page_pack_route, methods=["GET"])],
                    "middleware": [Middleware(
                        RequestLimits, max_body=MAX_BODY_BYTES,
                        max_inflight_body=MAX_INFLIGHT_BODY_BYTES, max_direct=MAX_DIRECT,
                        direct_prefixes=("/gradio_api/run/", PAGE_FLOW_PATH,
                                         PAGE_PACK_PATH))],
                    "exception_handlers": {RequestValidationError: short_validation_error}},
    )


def warm_model() -> None:
    """Build the page's default model in a background thread (`app.state.warm_up`: torch's
    import, the model, the fused kernel), so that the first upload waits for none of them. Not
    on ZeroGPU, where the model lives in the GPU's process. `build_demo(warm=True)` calls it as
    it builds the page; app.py calls it once the server listens, so that torch's import does not
    delay the address answering (docs/performance.md)."""
    if runs._run_model is runs.explore_on_device:
        warm_up(parse_settings())
