"""The Gradio app of swinviz, read in the order a run goes:

- `app.ui`: the page (`build_demo`: its panels, then the wiring of its events);
  `app.launch`: `launch_options`, how it is served; `app.events`: the thin wrappers its
  events call;
- `app.settings`: the model settings, checked once; `app.session`: a session's `View` and the
  view controls' values; `app.state`: the weights, the model, figure and exploration caches;
- `app.runs`: a model run and its figures; `app.plotting`: figures as gr.Plot shows them;
  `app.panel`: what the page says (badge, budget line, captions, presets);
- `app.picture`: the clickable image; `app.clicks`: the click path (the page's click message,
  `page_flow`); `app.instant` + app/instant.js: the in-page redraw, and its one switch;
- `app.exports`: downloads; `app.guard` / `app.limits`: what the server accepts;
  `app.starting`: the page a browser gets while `python app.py` starts.

`build_demo` and `launch_options` are imported when first asked for, so that `app.starting`
(standard library only) answers the app's address before Gradio and torch are imported.
"""

from __future__ import annotations

from .gradio_import import skip_stub_writing

skip_stub_writing()  # before anything imports Gradio: about a second of the start

__all__ = ["build_demo", "launch_options", "warm_model"]


def __getattr__(name: str):
    if name in __all__:
        from . import ui

        return getattr(ui, name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
