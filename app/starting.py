"""The page a browser gets while `python app.py` starts: its address answers at once.

Why: Gradio's import and the page's build take about two seconds before Gradio's server can
listen (docs/performance.md), and a browser or a Space's health check pointed at the address
meanwhile got "connection refused". `serve` listens on the
app's own address at once and answers every GET with a short page, in English and Chinese, that
says the app is starting and loads the app by itself once the app answers; app.py closes it
just before Gradio listens on the same address (`StartingPage.close`); torch and the model
follow in the background once it listens (`app.launch.warm_model`).

Every answer is "503 Service Unavailable" with Retry-After (a browser shows the page all the
same): a script or a health check that waits for a 200 still waits for the app itself.

Standard library only: importing this module imports neither Gradio nor torch (the `app`
package imports its page lazily, see app/__init__.py).

Bounds, as for the app (docs/security.md): no request body is read; a request line and its
headers are bounded by `http.server` (64 KiB a line, 100 headers); a connection that sends
nothing is dropped after `REQUEST_TIMEOUT_S`; at most `MAX_CONNECTIONS` are answered at once, and
one more is closed unanswered.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# the header that marks this page's answers: the page reloads once an answer lacks it
STARTING_HEADER = "X-Swinviz-Starting"
REQUEST_TIMEOUT_S = 5
MAX_CONNECTIONS = 32
POLL_MS = 400  # how often the page asks whether the app answers yet

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>swinviz is starting</title>
<noscript><meta http-equiv="refresh" content="2"></noscript>
<style>
  body { font: 16px/1.5 system-ui, "Noto Sans CJK SC", sans-serif; margin: 0; display: grid;
         place-items: center; min-height: 100vh; background: #fff; color: #1f2937; }
  @media (prefers-color-scheme: dark) { body:not(.light) { background: #0b0f19; color: #e5e7eb; } }
  body.dark { background: #0b0f19; color: #e5e7eb; }
  main { max-width: 32rem; padding: 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
  p { margin: .25rem 0; }
</style></head>
<body><main role="status" aria-live="polite">
<h1>swinviz is starting</h1>
<p>The app loads its libraries and builds the model; this page opens it by itself in a few
seconds.</p>
<p lang="zh">swinviz 正在启动：正在加载程序库并构建模型，几秒钟后本页会自动打开应用。</p>
</main>
<script>
(function () {
  // Gradio's theme parameter, as the app will read it
  var theme = new URLSearchParams(location.search).get("__theme");
  if (theme === "dark" || theme === "light") document.body.classList.add(theme);
  function ask() {
    fetch(location.href, { cache: "no-store" }).then(function (r) {
      if (!r.headers.get("__HEADER__")) location.reload();
      else setTimeout(ask, __POLL__);
    }, function () { setTimeout(ask, __POLL__); });  // between this page and the app
  }
  setTimeout(ask, __POLL__);
})();
</script>
</body></html>
""".replace("__HEADER__", STARTING_HEADER).replace("__POLL__", str(POLL_MS))

BUSY = "swinviz is starting; try again in a moment.\n"


class _Handler(BaseHTTPRequestHandler):
    server_version = "swinviz-starting"
    protocol_version = "HTTP/1.0"  # one request a connection: nothing is kept open
    timeout = REQUEST_TIMEOUT_S

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(PAGE, "text/html; charset=utf-8")

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(PAGE, "text/html; charset=utf-8", body=False)

    def _busy(self) -> None:
        """Any other method (an API call, an upload): the app is not there yet. The body is
        never read."""
        self._answer(BUSY, "text/plain; charset=utf-8")

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _busy

    def _answer(self, text: str, kind: str, body: bool = True) -> None:
        data = text.encode("utf-8")
        self.send_response(503)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header(STARTING_HEADER, "1")
        self.send_header("Retry-After", "1")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet, as the app is
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler) -> None:
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):  # full: closed unanswered
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Server6(_Server):
    address_family = socket.AF_INET6


class StartingPage:
    """The starting page's server, listening from construction on (`serve`)."""

    def __init__(self, host: str, port: int) -> None:
        cls = _Server6 if ":" in host else _Server
        self.server = cls((host, port), _Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       name="swinviz-starting-page", daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop answering and free the address (for Gradio's server, next)."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def serve(host: str, port: int) -> StartingPage:
    """Listen on (host, port) now and answer with the starting page until `close`. Raises
    OSError when the address is taken, as Gradio would."""
    return StartingPage(host, port)
