"""The page `python app.py` answers with while it starts (app.starting): at once, bounded, and
out of the way once the app listens."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import free_port

from app import starting

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def page():
    served = starting.serve("127.0.0.1", free_port())
    try:
        yield served
    finally:
        served.close()


def ask(port: int, method: str = "GET", path: str = "/", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        conn.close()


def until(ok, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not ok():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_every_address_gets_the_starting_page_in_both_languages(page):
    for path in ("/", "/?example=cat&stage=3&tab=attention", "/gradio_api/info"):
        status, headers, body = ask(page.port, path=path)
        # 503: what waits for a 200 waits for the app; a browser shows the page all the same
        assert status == 503 and headers[starting.STARTING_HEADER] == "1"
        assert headers["Cache-Control"] == "no-store" and headers["Retry-After"] == "1"
        assert "swinviz is starting" in body and "swinviz 正在启动" in body
        # it reloads itself once an answer lacks the header (the app's own)
        assert f'r.headers.get("{starting.STARTING_HEADER}")' in body
    status, headers, body = ask(page.port, "HEAD")
    assert status == 503 and body == "" and int(headers["Content-Length"]) > 0


def test_a_request_with_a_body_is_refused_without_reading_it(page):
    """An API call or an upload before the app is there: 503 with a sentence at once, even
    when the body it announces never comes."""
    with socket.create_connection(("127.0.0.1", page.port), timeout=10) as s:
        s.sendall(b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 1000000000\r\n\r\n")
        got = b""
        while chunk := s.recv(4096):
            got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 503") and b"Retry-After: 1" in head
    assert body.decode() == starting.BUSY


def test_silent_connections_are_dropped_and_bounded(monkeypatch):
    """A connection that sends nothing is let go after the handler's timeout; past the bound,
    a connection is closed unanswered; once a slot frees, the page answers again."""
    monkeypatch.setattr(starting._Handler, "timeout", 2)
    monkeypatch.setattr(starting, "MAX_CONNECTIONS", 1)
    served = starting.serve("127.0.0.1", free_port())
    slots = served.server.slots
    try:
        idle = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        until(lambda: slots._value == 0)  # the idle connection holds the only slot
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert s.recv(4096) == b""  # closed unanswered
        assert idle.recv(4096) == b""  # dropped after the timeout, unanswered
        idle.close()
        until(lambda: slots._value == 1)
        assert ask(served.port)[0] == 503
    finally:
        served.close()


def test_closing_frees_the_address_for_the_app(page):
    """After `close` the address binds again as Gradio's server binds it, even right after
    answers (the app listens there next)."""
    for _ in range(3):
        ask(page.port)
    page.close()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", page.port))
    s.listen()
    s.close()
    assert not page.thread.is_alive()


def test_answers_many_clients_at_once(page):
    results = []

    def one():
        results.append(ask(page.port)[0])

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [503] * 20


def test_importing_it_imports_neither_gradio_nor_torch():
    code = ("import sys, app.starting; "
            "print(sorted(m for m in ('gradio', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
