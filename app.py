"""Entry point of the swinviz app (also what a Hugging Face Space runs).

    python app.py                      # http://127.0.0.1:7860
    GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=8080 python app.py
"""

from __future__ import annotations

import os

from app import build_demo, launch_options
from app.state import tune_allocator

tune_allocator()
demo = build_demo()

if __name__ == "__main__":
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    print(f"swinviz: starting on http://{host}:{port} (Ctrl+C stops it)", flush=True)
    demo.launch(server_name=host, server_port=port, **launch_options())
