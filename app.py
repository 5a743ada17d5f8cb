"""Entry point of the swinviz app (also what a Hugging Face Space runs).

    python app.py                      # http://127.0.0.1:7860
    GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=8080 python app.py
"""

from __future__ import annotations

import os
import sys

try:  # ZeroGPU Spaces: `spaces` must be imported before torch touches CUDA
    import spaces  # type: ignore[import-not-found]  # noqa: F401
except ImportError:
    pass

try:  # app.limits reads the SWINVIZ_* limits once: a bad value stops here with its sentence
    from app import build_demo, launch_options  # noqa: E402
except ValueError as exc:
    if type(exc).__name__ != "LimitError":
        raise
    sys.exit(f"swinviz: {exc}")
from app.state import default_weights_choice, tune_allocator  # noqa: E402
from swinviz.export import ExportError, warm_exporter  # noqa: E402

tune_allocator()
demo = build_demo()

if __name__ == "__main__":
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    choice = default_weights_choice()
    print(f"swinviz: weights: {choice.notice or f'{choice.weights} ({choice.source})'}",
          flush=True)
    try:  # downloads then find the export browser running (it starts in the background)
        warm_exporter()
    except ExportError as exc:
        print(f"swinviz: downloads are off: {exc}", flush=True)
    print(f"swinviz: starting on http://{host}:{port} (Ctrl+C stops it)", flush=True)
    demo.launch(server_name=host, server_port=port, **launch_options())
