"""Entry point of the swinviz app (also what a Hugging Face Space runs).

    python app.py                      # http://127.0.0.1:7860
    GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=8080 python app.py

Run as a program, the address answers at once with a page that says the app is starting
(`app.starting`, standard library only) while Gradio is imported and the page is built; that
page opens the app by itself once Gradio listens in its place. The page is built without torch
(app/__init__.py): torch is imported, the default model built and the export browser started in
the background once the server listens, while the browser loads the page.
"""

from __future__ import annotations

import os
import sys

HOST = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
PORT = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))

starting = None
if __name__ == "__main__":
    from app.starting import serve

    try:
        starting = serve(HOST, PORT)
        print(f"swinviz: loading; http://{HOST}:{PORT} shows a starting page until the app "
              f"is ready", flush=True)
    except OSError:  # the address is taken or not ours: Gradio says so when it listens
        pass

try:  # ZeroGPU Spaces: `spaces` must be imported before torch touches CUDA
    import spaces  # type: ignore[import-not-found]  # noqa: F401
except ImportError:
    pass

try:  # app.limits reads the SWINVIZ_* limits once: a bad value stops here with its sentence
    from app import build_demo, launch_options, warm_model  # noqa: E402
except ValueError as exc:
    if type(exc).__name__ != "LimitError":
        raise
    sys.exit(f"swinviz: {exc}")
from app.state import default_weights_choice, tune_allocator  # noqa: E402
from swinviz.export import ExportError, warm_exporter  # noqa: E402

tune_allocator()
demo = build_demo(warm=__name__ != "__main__")  # as a program: warmed once it listens (below)

if __name__ == "__main__":
    choice = default_weights_choice()
    print(f"swinviz: weights: {choice.notice or f'{choice.weights} ({choice.source})'}",
          flush=True)
    print(f"swinviz: starting on http://{HOST}:{PORT} (Ctrl+C stops it)", flush=True)
    if starting is not None:
        starting.close()  # Gradio listens on the same address next
    demo.launch(server_name=HOST, server_port=PORT, prevent_thread_lock=True,
                **launch_options())
    warm_model()  # torch and the default model, in the background, while the page loads
    try:  # downloads then find the export browser running (it starts in the background)
        warm_exporter()
    except ExportError as exc:
        print(f"swinviz: downloads are off: {exc}", flush=True)
    demo.block_thread()
