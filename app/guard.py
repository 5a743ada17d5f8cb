"""What the server trusts and how much one client may ask of it (docs/security.md).

- `ReceivedFiles`: the image files the app opens on a client's behalf: uploads that this
  server received, files it cached itself (Gradio's temp sets of the page's Blocks) and the
  example photos it ships. A client names an image by a path (Gradio's FileData payload, or
  plain text through the API, since the events take raw values); any other path is refused
  with one sentence before the disk is looked at, so that refusals say nothing about what is
  there.
- `RequestLimits`: ASGI middleware in front of every route: one body size refused before
  anything parses it (413), bodies being received and direct requests (clicks) in flight
  bounded for all clients together (503), over-long addresses refused (414).
- `bound_queue_per_session`: at most so many of one session's events wait in Gradio's queue;
  more are refused (503) while other sessions are still served.
- `BoundedFolder`: files the server writes for clicks, bounded by bytes, oldest deleted first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import threading
import time
import uuid
import weakref
from collections import deque
from pathlib import Path

from fastapi import HTTPException
from starlette.requests import ClientDisconnect

NOT_RECEIVED = ("The image must be a file uploaded to this page (or one of its examples); "
                "upload it again.")
GONE = "That upload is no longer on the server (uploads are kept for an hour); upload it again."


def _key(path) -> str | None:
    """An absolute, normalised form of a path given as text (no file system access), or None
    for what cannot be a path here (a NUL byte, an empty or very long string)."""
    try:
        text = os.fspath(path)
    except TypeError:
        return None
    if not isinstance(text, str) or not text or "\x00" in text or len(text) > 4096:
        return None
    return os.path.normpath(os.path.abspath(text))


class ReceivedFiles:
    """The files a client may name as its image (thread-safe; read on every request).

    `watch(blocks)`: the files Gradio received through its upload route (`upload_file_set` of
    the page's Blocks, read at check time: it grows as the server runs). Not Gradio's other
    temp sets: Gradio adds to those any path under its cache folder that a client names.
    `add(path)`: a file this process made or ships (the examples and Gradio's cached copies of
    them; tests' images).
    """

    def __init__(self) -> None:
        self._blocks: weakref.WeakSet = weakref.WeakSet()
        self._files: set[str] = set()
        self._lock = threading.Lock()

    def watch(self, blocks) -> None:
        self._blocks.add(blocks)

    def add(self, path) -> str:
        key = _key(path)
        if key is None:
            raise ValueError("Not a path.")
        with self._lock:
            self._files.add(key)
            self._files.add(os.path.realpath(key))
        return key

    def _known(self, key: str) -> bool:
        with self._lock:
            if key in self._files:
                return True
        for blocks in list(self._blocks):
            try:
                if key in getattr(blocks, "upload_file_set", ()):
                    return True
            except TypeError:
                continue
        return False

    def allows(self, path) -> bool:
        key = _key(path)
        return key is not None and self._known(key)

    def open_path(self, path) -> str:
        """The path of a received regular file, else ValueError with the sentence for the
        client. The disk is looked at only for a path this server made or ships."""
        key = _key(path)
        if key is None or not self._known(key):
            raise ValueError(NOT_RECEIVED)
        try:
            st = os.stat(key)
        except OSError:
            raise ValueError(GONE) from None
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(NOT_RECEIVED)
        return key


ASSETS = Path(__file__).resolve().parent.parent / "assets"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def example_images() -> list[str]:
    """The example photographs the app ships (assets/, whatever is there at startup)."""
    if not ASSETS.is_dir():
        return []
    return [str(p) for p in sorted(ASSETS.iterdir())
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]


RECEIVED = ReceivedFiles()
for _example in example_images():
    RECEIVED.add(_example)


WRONG_FORM = ("A value sent to this page does not have the form it takes (an image is sent as "
              "an uploaded file's payload, as gradio_client's handle_file makes it).")
NOT_TAKEN = "This request could not be taken; reload the page and try again."
log = logging.getLogger("swinviz.app")


def _file_paths(value, depth: int = 0):
    """The "path" fields of the FileData-like dicts in an event's raw inputs."""
    if depth > 4:
        return
    if isinstance(value, dict):
        if "path" in value:
            yield value["path"]
        for v in value.values():
            if isinstance(v, (dict, list)):
                yield from _file_paths(v, depth + 1)
    elif isinstance(value, list):
        for v in value[:64]:
            yield from _file_paths(v, depth + 1)


def trust_examples(examples) -> None:
    """The files of a gr.Examples as Gradio cached them for the page (a click on an example
    sends the cached copy's path): received."""
    for processed in list(getattr(examples, "non_none_processed_examples", {}).values()):
        for path in _file_paths(processed if isinstance(processed, list) else [processed]):
            if isinstance(path, str):
                RECEIVED.add(path)


def refuse_bad_inputs(blocks) -> None:
    """Sentences, not tracebacks, for what Gradio refuses before an event's function runs.

    - A FileData path that this server did not receive (`RECEIVED`) is refused before Gradio
      sees it: Gradio would fetch a web address itself, with no size limit, and answer
      differently for a NUL byte, an over-long name or a folder.
    - Values sent positionally that stop early: the rest take the components' own values.
    - Gradio refuses a path it did not receive (InvalidPathError), a value of the wrong form
      (pydantic's ValidationError, e.g. a plain path for an image), a NUL byte
      or an over-long name (ValueError, OSError): one sentence each, the same whatever is at
      the path.
    - Anything else that escapes an event (Gradio's own example loader given a bad index, a
      select event without its data) is one logged line and a sentence for the client.
    Gradio would log a traceback for each and send the client no sentence (show_error=False).
    """
    from gradio import Error
    from gradio.exceptions import InvalidPathError
    from pydantic import ValidationError

    if getattr(blocks, "_swinviz_refuses", False):
        return
    preprocess, process = blocks.preprocess_data, blocks.process_api

    def refuse(sentence: str) -> Error:
        return Error(sentence, duration=None, print_exception=False)

    async def preprocess_data(block_fn, inputs, *args, **kwargs):
        if isinstance(inputs, list) and len(inputs) < len(block_fn.inputs):
            # a client that sends the values positionally and stops early (one written before
            # a parameter was added at the end, such as /explore's `model`): the rest take
            # their defaults (the components' own values), as gradio_client's named
            # parameters do
            inputs = inputs + [getattr(block, "value", None)
                               for block in block_fn.inputs[len(inputs):]]
        if any(p is not None and not RECEIVED.allows(p) for p in _file_paths(inputs)):
            raise refuse(NOT_RECEIVED)  # before Gradio looks at the path (or fetches it)
        try:
            return await preprocess(block_fn, inputs, *args, **kwargs)
        except InvalidPathError:
            raise refuse(NOT_RECEIVED) from None
        except (ValidationError, ValueError, OSError, TypeError, KeyError, IndexError):
            raise refuse(WRONG_FORM) from None

    async def process_api(*args, **kwargs):
        try:
            return await process(*args, **kwargs)
        except Error:
            raise
        except Exception as exc:  # not a sentence of ours: one line for the log
            log.warning("refused a request: %s: %.200s", type(exc).__name__, exc)
            raise refuse(NOT_TAKEN) from None

    blocks.preprocess_data = preprocess_data
    blocks.process_api = process_api
    blocks._swinviz_refuses = True


# ------------------------------------------------------------------------- request bodies


class RequestLimits:
    """ASGI middleware, in front of every route: what one request, and all of them at once, may
    hold.

    - An address (path and query) over `max_url` bytes: 414 (Gradio echoes paths in errors).
    - A body over `max_body` bytes: 413, by its Content-Length before it is read, or at the
      first chunk over it when it is streamed (or longer than it said).
    - Bodies being received, all requests together, over `max_inflight_body` bytes: 503 (slow
      senders cannot pile up memory one limit at a time).
    - Direct requests (no queue: a click, `/swinviz/flow`; paths starting with one of
      `direct_prefixes`) in flight, from their first byte to their answer's last, over
      `max_direct`: 503 at once. Their answers are large (a click's figures), and a client
      that never reads them would otherwise hold their memory and a worker thread each.
    """

    def __init__(self, app, *, max_body: int, max_inflight_body: int, max_direct: int,
                 direct_prefixes: tuple[str, ...], max_url: int = 4096) -> None:
        self.app = app
        self.max_body = max_body
        self.max_inflight_body = max_inflight_body
        self.max_direct = max_direct
        self.direct_prefixes = direct_prefixes
        self.max_url = max_url
        self.inflight_body = 0
        self.direct = 0

    def too_large(self) -> str:
        return (f"The request is larger than this server takes ({self.max_body >> 20} MB "
                f"at most); send a smaller image.")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") \
                > self.max_url:
            return await _refuse(send, 414, "The address is too long.")
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                return await _refuse(send, 400, "The request's Content-Length is not a number.")
            if int(length) > self.max_body:
                return await _refuse(send, 413, self.too_large())
        direct = scope.get("path", "").startswith(self.direct_prefixes)
        if direct:
            if self.direct >= self.max_direct:
                return await _refuse(send, 503, "The server is answering many clicks at once; "
                                                "click again in a moment.")
            self.direct += 1
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message.get("type") == "http.request":
                n = len(message.get("body", b""))
                seen += n
                self.inflight_body += n
                if seen > self.max_body:
                    raise HTTPException(status_code=413, detail=self.too_large())
                if self.inflight_body > self.max_inflight_body:
                    raise HTTPException(status_code=503, detail="The server is receiving too "
                                        "much at once; try again in a moment.")
            return message

        try:
            return await self.app(scope, limited, send)
        except ClientDisconnect:  # the client went away mid-body: no one to answer, no traceback
            return None
        finally:
            self.inflight_body -= seen
            if direct:
                self.direct -= 1


async def short_validation_error(request, exc):
    """FastAPI's answer to a request body of the wrong shape, without the body echoed back
    (its default repeats every offending value, a 20 MB one too)."""
    from starlette.responses import JSONResponse

    where = ["/".join(str(p) for p in e.get("loc", ()))[:60] for e in exc.errors()[:3]]
    sentence = f"The request does not have the form this route takes ({', '.join(where)})."
    return JSONResponse({"detail": sentence, "error": sentence}, status_code=422)


async def _refuse(send, status: int, sentence: str) -> None:
    import json

    body = json.dumps({"detail": sentence, "error": sentence}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# ------------------------------------------------------------------------------- the queue


def queued_for(queue, session_hash: str) -> int:
    """Events of `session_hash` waiting in Gradio's queue (all concurrency groups)."""
    return sum(1 for events in list(queue.event_queue_per_concurrency_id.values())
               for event in list(events.queue) if event.session_hash == session_hash)


def bound_queue_per_session(queue, per_session: int) -> None:
    """At most `per_session` events of one session wait in `queue` (a gradio.queueing.Queue);
    a further join is refused like a full queue (503) with a sentence. Joins are admitted one
    at a time, so a burst cannot slip past the count."""
    if getattr(queue, "_swinviz_bounded", None) == per_session:
        return
    push = getattr(queue, "_swinviz_push", None) or queue.push
    lock = asyncio.Lock()

    async def bounded_push(body, request, username):
        session = getattr(body, "session_hash", None)
        async with lock:
            if session is not None and queued_for(queue, session) >= per_session:
                return (False, f"This page already has {per_session} requests waiting; "
                               f"wait for them to finish.", "queue_full")
            return await push(body, request, username)

    queue._swinviz_push = push
    queue._swinviz_bounded = per_session
    queue.push = bounded_push


# ------------------------------------------------------------------------ files we write


class BoundedFolder:
    """Files written into one folder, at most `max_bytes` of them: writing a new one deletes
    the oldest ones this process wrote until the rest fit (the newest is always kept). At
    start, files left there by an earlier process more than `stale_s` ago are deleted."""

    def __init__(self, folder: Path, max_bytes: int, stale_s: float = 3600) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.stale_s = stale_s
        self._files: deque[tuple[Path, int]] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._ready = False

    def _prepare(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        now = time.time()
        for p in self.folder.iterdir():
            try:
                if p.is_file() and now - p.stat().st_mtime > self.stale_s:
                    p.unlink()
            except OSError:
                pass
        self._ready = True

    def write(self, save, suffix: str = ".png") -> Path:
        """`save(path)` writes a new file; returns its path once it is counted."""
        with self._lock:
            if not self._ready:
                self._prepare()
        path = self.folder / f"{uuid.uuid4().hex}{suffix}"
        save(path)
        size = path.stat().st_size
        with self._lock:
            self._files.append((path, size))
            self._bytes += size
            while self._bytes > self.max_bytes and len(self._files) > 1:
                old, n = self._files.popleft()
                self._bytes -= n
                try:
                    old.unlink()
                except OSError:
                    pass
        return path

    @property
    def nbytes(self) -> int:
        return self._bytes
