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
- `app.exports`: downloads; `app.guard` / `app.limits`: what the server accepts.
"""

from .ui import build_demo, launch_options

__all__ = ["build_demo", "launch_options"]
