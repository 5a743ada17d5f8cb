"""The server as an attacker meets it (docs/security.md), over raw HTTP against the app in a
process of its own (so that its memory can be measured): no file opened that nobody uploaded and
no answer that tells what is on the disk, one body limit on every route before parsing, one
session's flood of the queue while a second session is served, nested JSON, the clicks' images
bounded by bytes, and bad limits refused at start-up."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest
from conftest import free_port
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
LAUNCH = ("from app import build_demo, launch_options; import sys; "
          "d = build_demo(warm=False); "
          "d.launch(server_name='127.0.0.1', server_port=int(sys.argv[1]), quiet=True, "
          "**launch_options())")
# the /explore endpoint's inputs after the image, small and fast (random weights)
# /explore's inputs after the image, in order (gradio_client names them; a raw call sends all):
# img_size ... pair, query, without, target
SETTINGS = ["56", 7, 3, "random", "", "1", "0", "default", 0, 96, 3, "1", "0", "", "", ""]
SLOW = ["224", 7, 3, "random", "", "1", "0", "default", 0, 96, 3, "1", "0", "", "", ""]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """The app in a process of its own on a free loopback port, with a 1 MB upload limit
    (so every body over about 1.4 MB is refused, and 5.6 MB of bodies at once), 2 model runs
    at once, at most 4 queued events a session and 4 direct requests in flight. Yields (url,
    process, log path)."""
    port = free_port()
    tmp = tmp_path_factory.mktemp("server")
    log = tmp / "server.log"
    env = {**os.environ, "SWINVIZ_MAX_FILE_SIZE": "1mb", "SWINVIZ_MODEL_CONCURRENCY": "2",
           "SWINVIZ_QUEUE_PER_SESSION": "4", "SWINVIZ_DIRECT_MAX": "4", "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp / "hf"), "GRADIO_TEMP_DIR": str(tmp / "gradio"),
           "PYTHONUNBUFFERED": "1"}
    env.pop("SWINVIZ_WEIGHTS", None)
    env.pop("SWINVIZ_CHECKPOINT_DIR", None)
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCH, str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(url + "/gradio_api/info", timeout=5).read()
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("the app did not start: " + log.read_text())
        yield url, proc, log
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def request(url: str, body: bytes | None = None, method: str | None = None,
            headers: dict | None = None, timeout: float = 60) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method or ("POST" if body else "GET"),
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def upload(url: str, path: Path) -> str:
    """POST /gradio_api/upload (multipart) -> the server's path of the upload."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"{path.name}\"\r\nContent-Type: image/png\r\n\r\n").encode()
    body += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    status, text = request(url + "/gradio_api/upload", body,
                           headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 200, text
    return json.loads(text)[0]


def call_explore(url: str, image, settings=SETTINGS) -> tuple[str, str]:
    """/gradio_api/call/explore as any HTTP client sends it -> (SSE event, its data)."""
    status, text = request(url + "/gradio_api/call/explore",
                           json.dumps({"data": [image, *settings]}).encode())
    assert status == 200, text
    event_id = json.loads(text)["event_id"]
    status, text = request(f"{url}/gradio_api/call/explore/{event_id}", timeout=120)
    lines = text.decode().splitlines()
    events = [ln.split(": ", 1)[1] for ln in lines if ln.startswith("event: ")]
    data = [ln.split(": ", 1)[1] for ln in lines if ln.startswith("data: ")]
    return events[-1], data[-1]


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> Path:
    """A photo kept elsewhere on the server, which no client uploaded."""
    path = tmp_path_factory.mktemp("private") / "secret.png"
    arr = np.zeros((64, 64, 3), np.uint8)
    arr[:, :32] = (255, 0, 0)
    Image.fromarray(arr).save(path)
    return path


def test_a_path_nobody_uploaded_is_refused_with_one_sentence(app_server, secret, tmp_path):
    """Before: {"path": "/any/file"} (no "meta") or a plain path opened any image on the server
    and answered as an oracle for other paths ("looks like text", "No file was found", "is a
    folder"); /dev/zero cost 50 MB a request."""
    url, proc, log = app_server
    dotfile = tmp_path / ".hidden"
    dotfile.write_text("not an image")
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    paths = [str(secret), str(dotfile), str(tmp_path / "missing.png"), str(tmp_path),
             "/dev/zero", str(fifo), "/etc/passwd", "../../../../etc/hostname"]
    forms = {"no meta": lambda p: {"path": p},
             "meta": lambda p: {"path": p, "meta": {"_type": "gradio.FileData"}},
             "text": lambda p: p}
    for form, payload in forms.items():
        answers = set()
        for path in paths:
            event, data = call_explore(url, payload(path))
            assert event == "error", (form, path, data[:200])
            answers.add(json.loads(data)["error"])
        assert len(answers) == 1, answers  # the same sentence whatever is at the path
        sentence = answers.pop()
        assert ("uploaded to this page" in sentence if form != "text"
                else "uploaded file's payload" in sentence), sentence
    assert "Traceback" not in log.read_text()
    assert rss_mb(proc.pid) < 2000


def test_an_upload_and_an_example_still_run(app_server, secret):
    url, _, _ = app_server
    event, data = call_explore(url, {"path": upload(url, secret),
                                     "meta": {"_type": "gradio.FileData"}})
    assert event == "complete", data[:300]
    assert "Stage 1, pair 0" in data
    event, data = call_explore(url, {"path": str(ROOT / "assets" / "cat.jpg")})  # an example
    assert event == "complete", data[:300]


def test_a_file_in_gradios_folder_that_nobody_uploaded_is_refused(app_server, secret):
    """Before: Gradio let through any path under its cache folder and then counted it as one
    of its files, so a file another process wrote there ran, and a path answered differently
    once it had been named (an oracle)."""
    url, _, log = app_server
    planted = log.parent / "gradio" / "planted" / "image.png"
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_bytes(secret.read_bytes())
    missing = planted.parent / "missing.png"
    answers = set()
    for _ in range(2):  # the second time too: naming a path does not make it known
        for path in (planted, missing, planted.parent):
            for payload in ({"path": str(path)},
                            {"path": str(path), "meta": {"_type": "gradio.FileData"}}):
                event, data = call_explore(url, payload)
                assert event == "error", (path, data[:200])
                answers.add(data)
    assert len(answers) == 1, answers


@pytest.mark.parametrize("path", ["a\x00b.png", "x" * 300 + ".png", "/tmp/" + "y" * 5000,
                                  "http://127.0.0.1:1/cat.png", "file:///etc/passwd", 42,
                                  ["/etc/passwd"]])
def test_odd_paths_are_the_same_sentence_without_a_traceback(app_server, path):
    """Before: a NUL byte, an over-long name and a web address (which Gradio would fetch with
    no size limit) were {"error": null} with a traceback in the log."""
    url, _, log = app_server
    before = len(log.read_text())
    event, data = call_explore(url, {"path": path, "meta": {"_type": "gradio.FileData"}})
    assert event == "error"
    assert "uploaded to this page" in json.loads(data)["error"]
    assert "Traceback" not in log.read_text()[before:]


def test_malformed_events_are_a_sentence_without_a_traceback(app_server):
    """Before: too few inputs, Gradio's example loader given a bad index and a select event
    without its data were a 500 or {"error": null}, each with a traceback in the log."""
    url, _, log = app_server
    config = json.loads(request(url + "/config")[1])
    before = len(log.read_text())
    fns = {d["id"]: d for d in config["dependencies"]}
    loader = next(i for i, d in fns.items() if d.get("api_name") == "load_example")
    bodies = [{"data": [], "fn_index": explore_index(url)},
              {"data": [10**30], "fn_index": loader}, {"data": ["x"], "fn_index": loader},
              {"data": [None], "fn_index": loader}, {"data": [[1, 2]], "fn_index": loader}]
    # the select events that read their event data (the image's click, a tab's name); the
    # Lesson's drawing, which a tab's select among others starts, reads none
    selects = [i for i, d in fns.items()
               if "select" in str(d.get("targets")) and len(d.get("targets") or ()) == 1]
    bodies += [{"data": [None] * len(fns[i]["inputs"]), "fn_index": i, "event_data": None}
               for i in selects[:3]]
    for body in bodies:
        status, text = request(url + "/gradio_api/run/predict", json.dumps(
            {**body, "session_hash": "m" * 10}).encode())
        error = json.loads(text).get("error")  # Gradio answers an Error with status 500
        assert isinstance(error, str) and error.endswith("."), (body, status, text[:300])
        assert len(text) < 2000
    time.sleep(0.5)
    assert "Traceback" not in log.read_text()[before:]


def test_a_huge_value_is_not_echoed_back(app_server):
    """Before: a 20 MB string as `data` came back whole in a 22 MB answer (422)."""
    url, _, _ = app_server
    status, text = request(url + "/gradio_api/run/predict",
                           b'{"data": "' + b"z" * 1_000_000 + b'", "fn_index": 1}')
    assert status == 422 and len(text) < 1000, (status, len(text))
    status, text = request(url + "/gradio_api/file=" + "a" * 20_000)
    assert status == 414 and len(text) < 1000


def stall(port: int, path: str, declared: int, send: int) -> socket.socket:
    """A request whose body stops after `send` of `declared` bytes (left open)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {declared}\r\n\r\n".encode() + b" " * send)
    return sock


def test_slow_senders_and_unread_clicks_are_bounded_for_everyone_together(app_server):
    """Before: 20 connections each sending 25 MB and stalling took the server from 478 to
    970 MB; 300 clicks whose answers were never read took it to 3.1 GB, and 150 clicks at once
    held every worker thread (another client's event took 23.6 s)."""
    url, proc, _ = app_server
    port = int(url.rsplit(":", 1)[1])
    before = rss_mb(proc.pid)
    # 4 bodies of 1.3 MB, stalled: 5.2 MB of the 5.6 MB that may be received at once
    held = [stall(port, "/gradio_api/queue/join", 1_400_000, 1_300_000) for _ in range(4)]
    time.sleep(1)
    status, text = request(url + "/gradio_api/queue/join", b" " * 1_300_000)
    assert status == 503 and b"too much at once" in text
    for sock in held:
        sock.close()
    time.sleep(1)
    status, _ = request(url + "/gradio_api/queue/join", b" " * 1_300_000)
    assert status == 422  # taken in, then refused for its form
    # direct requests (a click, the flow figure): 4 in flight at most
    held = [stall(port, "/swinviz/flow", 100, 10) for _ in range(4)]
    time.sleep(1)
    status, text = request(url + "/swinviz/flow", b"{}")
    assert status == 503 and b"many clicks at once" in text
    for sock in held:
        sock.close()
    time.sleep(1)
    status, text = request(url + "/swinviz/flow", b"{}")
    assert status == 400, text
    assert rss_mb(proc.pid) - before < 100


def send_body(port: int, path: str, *, declared: int | None, total: int,
              chunk: int = 1 << 20) -> tuple[int, int]:
    """POST `total` bytes to `path` on a raw socket, with Content-Length `declared` or chunked
    (None), stopping once the server answers. Returns (HTTP status, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    kind = ("multipart/form-data; boundary=b0undary" if path.endswith("/upload")
            else "application/json")
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {kind}\r\n"
    head += (f"Content-Length: {declared}\r\n" if declared is not None
             else "Transfer-Encoding: chunked\r\n")
    sock.sendall((head + "\r\n").encode())
    block = (b"--b0undary\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.png\""
             b"\r\n\r\n" if path.endswith("/upload") else b"")
    block += b"[" * (chunk - len(block))
    sent = 0
    try:
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered
            data = block if declared is not None else (b"%x\r\n" % chunk) + block + b"\r\n"
            sock.sendall(data)
            sent += chunk
        else:
            if declared is None:
                sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
    reply = b""
    try:
        while b"\r\n" not in reply:
            part = sock.recv(4096)
            if not part:
                break
            reply += part
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        sock.close()
    assert reply.startswith(b"HTTP/1.1 "), (path, reply[:200], sent)
    return int(reply.split()[1]), sent


READERS = ["/gradio_api/upload", "/gradio_api/queue/join", "/gradio_api/call/explore",
           "/gradio_api/run/predict", "/swinviz/flow"]  # routes that read a POST's body
ROUTES = [*READERS, "/gradio_api/info", "/no/such/route"]


def test_every_route_refuses_an_oversized_body_before_reading_it(app_server):
    """Before: /gradio_api/call/* and /queue/join took any JSON size (a 400 MB body peaked at
    4.5 GB); the 20 MB limit held only for /upload."""
    url, proc, _ = app_server
    port = int(url.rsplit(":", 1)[1])
    before = rss_mb(proc.pid)
    for route in ROUTES:
        status, sent = send_body(port, route, declared=200 << 20, total=200 << 20)
        assert status == 413, route
        assert sent < 64 << 20, (route, sent)  # answered long before the body was sent
        status, sent = send_body(port, route, declared=None, total=200 << 20)  # chunked
        assert status == 413 if route in READERS else 400 <= status < 500, (route, status)
        assert sent < 64 << 20, (route, sent)
    sock = stall(port, "/gradio_api/queue/join", 2 << 20, 0)  # headers only: answered at once
    reply = sock.makefile("rb").read()
    sock.close()
    assert reply.startswith(b"HTTP/1.1 413") and b"1 MB at most" in reply, reply[:300]
    grown = rss_mb(proc.pid) - before
    assert grown < 100, f"the server grew by {grown:.0f} MB"


def test_nested_json_is_a_sentence_not_a_traceback(app_server):
    url, _, log = app_server
    deep = b"[" * 1000 + b"]" * 1000
    status, text = request(url + "/swinviz/flow", deep[:2000])
    assert status == 400 and "flow request is JSON" in json.loads(text)["error"]
    status, text = request(url + "/swinviz/flow", b'{"run": ' + b"[" * 990 + b"]" * 990 + b"}")
    assert status == 400
    status, _ = request(url + "/gradio_api/queue/join", b"[" * 100_000 + b"]" * 100_000)
    assert 400 <= status < 500
    time.sleep(0.5)
    assert "Traceback" not in log.read_text() and "RecursionError" not in log.read_text()


def join(url: str, fn_index: int, session: str, data) -> tuple[int, str]:
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session,
                       "event_data": None, "trigger_id": None}).encode()
    status, text = request(url + "/gradio_api/queue/join", body)
    return status, text.decode()


def explore_index(url: str) -> int:
    config = json.loads(request(url + "/config")[1])
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == "explore")


def test_one_session_cannot_fill_the_queue_for_everyone(app_server, secret):
    """Before: 66 joins in 0.2 s from one session, and every other visitor got "503 Queue is
    full (64)" until they were done."""
    url, _, _ = app_server
    fn = explore_index(url)
    image = {"path": upload(url, secret), "meta": {"_type": "gradio.FileData"}}
    flood = uuid.uuid4().hex[:11]
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def send(n):
        for _ in range(n):
            got = join(url, fn, flood, [image, *SLOW])
            with lock:
                answers.append(got)

    threads = [threading.Thread(target=send, args=(11,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a[0] != 200]
    assert len(answers) == 66
    # 4 may wait and 2 run at once; a few more may have finished while the flood went on
    assert len(accepted) <= 16, len(accepted)
    assert all(status == 503 and "requests waiting" in text for status, text in refused)
    # a second session is admitted and served meanwhile
    other = uuid.uuid4().hex[:11]
    status, text = join(url, fn, other, [image, *SETTINGS])
    assert status == 200, text
    done = read_until_done(url, other)
    assert done.get("success") is True, done


def read_until_done(url: str, session: str, timeout: float = 300) -> dict:
    """The session's event stream (/gradio_api/queue/data) up to its process_completed."""
    req = urllib.request.Request(f"{url}/gradio_api/queue/data?session_hash={session}")
    deadline = time.monotonic() + timeout
    with urllib.request.urlopen(req, timeout=timeout) as res:
        for raw in res:
            assert time.monotonic() < deadline
            line = raw.decode().strip()
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return msg
    raise AssertionError("the stream ended without process_completed")


def test_click_images_are_bounded_by_bytes(tmp_path):
    """Before: every click wrote a new ~100 KB PNG into Gradio's folder, removed only after an
    hour (18 GB an hour at 50 clicks a second)."""
    from app.guard import BoundedFolder

    old = tmp_path / "old.png"
    old.write_bytes(b"x" * 10)
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    folder = BoundedFolder(tmp_path, max_bytes=50_000)
    for _ in range(40):
        folder.write(lambda p: p.write_bytes(os.urandom(4000)))
    files = list(tmp_path.iterdir())
    assert not old.exists()  # an earlier process's leftovers
    assert sum(f.stat().st_size for f in files) <= 50_000 and len(files) == 12
    assert folder.nbytes == 48_000


def test_a_received_fifo_is_refused_at_once(tmp_path):
    from app.guard import NOT_RECEIVED, ReceivedFiles

    files = ReceivedFiles()
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    files.add(fifo)
    with pytest.raises(ValueError) as err:
        files.open_path(str(fifo))
    assert str(err.value) == NOT_RECEIVED
    with pytest.raises(ValueError):
        files.open_path("a\x00b")


@pytest.mark.parametrize("name, value, needle", [
    ("SWINVIZ_MAX_SESSIONS", "lots", "SWINVIZ_MAX_SESSIONS must be a whole number"),
    ("SWINVIZ_MODEL_CONCURRENCY", "0", "from 1 to 64, got 0"),
    ("SWINVIZ_MAX_FILE_SIZE", "9" * 500, "must be a size like '20mb'"),
    ("SWINVIZ_QUEUE_PER_SESSION", "-3", "SWINVIZ_QUEUE_PER_SESSION"),
])
def test_a_bad_limit_is_a_sentence_at_start_up(name, value, needle):
    """Before: a bare int(os.environ[...]) crashed with Python's message."""
    out = subprocess.run([sys.executable, "app.py"], cwd=ROOT, capture_output=True,
                         env={**os.environ, name: value, "GRADIO_SERVER_PORT": "1"},
                         text=True, timeout=300)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert out.stderr.startswith("swinviz: ") and needle in out.stderr
    assert len(out.stderr) < 200  # one sentence; the value is not echoed whole
