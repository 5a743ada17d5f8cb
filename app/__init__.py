"""The Gradio app of swinviz: `app.ui.build_demo()` builds the page, `app.callbacks` holds what
its events do (plain functions), `app.state` the settings parsing and the model cache."""

from .ui import build_demo, launch_options

__all__ = ["build_demo", "launch_options"]
