"""The click path: a click on the image picks the query patch; the server draws the attention
and information-flow figures for it, unless the page already drew them itself (app/instant.js,
`app.instant`); `page_flow` answers the page's own request for a token's flow figure
(POST /swinviz/flow)."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

import gradio as gr
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from swinviz import SettingsError
from swinviz.config import short
from swinviz.figures import QUERY_KINDS
from swinviz.lesson.i18n import check_lang
from swinviz.settings import MAX_QUERY_SET, parse_query

from . import instant
from .picture import click_to_token, query_image, query_image_file, resolved_query
from .plotting import add_page_meta, build_plots, figure_or_placeholder, plot_text
from .runs import PAGE_RUNS
from .session import Shown, View, by_name, message, parse_template, user_error
from .state import EXPLORATIONS

log = logging.getLogger("swinviz.app")
CLICK_CONCURRENCY = 4  # the page's clicks drawn at once (figures only, no model)
CLICK_SLOTS = threading.BoundedSemaphore(CLICK_CONCURRENCY)


# The select event's inputs as the page sends them, the last one (`message`) replaced by the page's
# click message (app/instant.js `S.message`, read by `parse_click_message`).
PICK_JS = ("(...args) => { args[args.length - 1] = window.swinviz ? window.swinviz.message() "
           ": ''; return args; }")

def _coordinate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise user_error(f"The click's {name} must be a number of pixels, got {short(value)}.")
    try:
        f = float(value)
    except ValueError:
        raise user_error(f"The click's {name} must be a number of pixels, got {short(value)}."
                         ) from None
    if not math.isfinite(f):
        raise user_error(f"The click's {name} must be a finite number of pixels, got "
                         f"{short(value)}.")
    return f


def pick_query_at(view: View | None, x: float, y: float, shown: Shown = Shown()):  # noqa: B008
    """A click at (x, y) on the displayed image: new query patch, then attention + flow only.

    Returns (View, clickable image, PlotData per kind in QUERY_KINDS).
    """
    if view is None:
        raise user_error("Upload an image first; then click it to pick a patch.")
    fx, fy = _coordinate("x", x), _coordinate("y", y)
    view = replace(view, query=click_to_token(view, fx, fy), added=())
    plots = build_plots(view, QUERY_KINDS, **shown.options())
    return (view, query_image(view, shown.block), *plots)


def _click_index(evt) -> tuple:
    index = getattr(evt, "index", None)
    if not isinstance(index, (list, tuple)) or len(index) != 2:
        raise user_error(f"Click on the image to pick a patch (the click's position should be "
                         f"[x, y], got {short(index)}).")
    return index[0], index[1]


def pick_query(view: View | None, shown: Shown, evt: gr.SelectData):
    """A click as gr.Image.select reports it: evt.index is [x, y] in the displayed image's
    pixels."""
    return pick_query_at(view, *_click_index(evt), shown)


# ------------------------------------------------------------------- the page's click message

CLICK_MESSAGE_VERSION = 1
CLICK_MESSAGE_MAX_CHARS = 2048  # a few short fields and up to MAX_QUERY_SET clicks
FLOW_MODES = ("page", "text")
CLICK_MESSAGE_SHAPE = ('{"v": 1, "at": {"run": ..., "row": r, "col": c} or null, "drew": {"run": '
                       '..., "block": 0 or 1, "head": h or null, "row": r, "col": c} or null, '
                       '"flow": "page", "text" or null, "add": true or false, "seq": n or null, '
                       '"clicks": [[seq, add (0 or 1), r, c], ...]}')


@dataclass(frozen=True)
class ClickMessage:
    """What the page says with a click (app/instant.js `S.message`, sent as JSON in place of the
    select event's last input, see PICK_JS).

    at: (run, row, col), the token the page found for the click on the run it shows; it wins
    over the click's pixel coordinates (Gradio may send a click held back behind a running one
    with an earlier click's coordinates; the message is always the page's latest).
    drew: (run, block, head, row, col), the attention figure the page redrew itself (head None:
    the mean over heads); the server then leaves that figure out.
    flow: "page" when the page asked `page_flow` for the flow figure itself (the server leaves
    it out), "text" when the page draws the flow figure from the JSON text the server sends,
    None when gr.Plot draws it.
    add: True for a shift-click: the token is added to the query set, or taken out of it when
    it is there already (`toggled`); the query stays, and so does the flow figure.
    seq: the click's number in the page (it grows with every click on the image), or None:
    the server answers clicks side by side, and this orders them (`picked_after`).
    clicks: the clicks the page handed on for the run `at` names (the last MAX_QUERY_SET of
    them), (seq, add, row, col): Gradio sends only the last of the clicks that come while one
    is answered, and drops a waiting one when another comes, so every message carries them all
    (the server counts each once).
    """

    at: tuple[str, int, int] | None = None
    drew: tuple[str, int, int | None, int, int] | None = None
    flow: str | None = None
    add: bool = False
    seq: int | None = None
    clicks: tuple[tuple[int, bool, int, int], ...] = ()


def _message_whole(where: str, name: str, value, *, none: bool = False) -> int | None:
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"The click message's {where}.{name} must be a whole number"
                         f"{' or null' if none else ''}, got {short(value)}.")
    return value


def _message_run(where: str, part: dict) -> str:
    run = part.get("run")
    if not isinstance(run, str) or not run or len(run) > 64:
        raise ValueError(f"The click message's {where}.run must be the run's name (text), got "
                         f"{short(run)}.")
    return run


def _message_part(msg: dict, name: str) -> dict | None:
    """The message's object `name` ("at", "drew"), or None; anything else is a ValueError."""
    part = msg.get(name)
    if part is not None and not isinstance(part, dict):
        raise ValueError(f"The click message's \"{name}\" must be an object or null, got "
                         f"{short(part)}.")
    return part


def parse_click_message(text) -> ClickMessage:
    """The page's click message (JSON text, see `ClickMessage` and CLICK_MESSAGE_SHAPE) checked
    once; "" or None (a page without app/instant.js, or with its in-page path off) is the empty
    message: the server draws everything. Anything else is a ValueError whose sentence says
    what is wrong."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return ClickMessage()
    if not isinstance(text, str) or len(text) > CLICK_MESSAGE_MAX_CHARS:
        raise ValueError(f"The click message must be JSON text of at most "
                         f"{CLICK_MESSAGE_MAX_CHARS} characters, got {short(text)}.")
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError):
        msg = None
    if not isinstance(msg, dict):
        raise ValueError(f"The click message must be a JSON object like {CLICK_MESSAGE_SHAPE}.")
    if msg.get("v") != CLICK_MESSAGE_VERSION:
        raise ValueError(f"The click message must say its version, \"v\": "
                         f"{CLICK_MESSAGE_VERSION}, got {short(msg.get('v'))}.")
    at = drew = None
    part = _message_part(msg, "at")
    if part is not None:
        at = (_message_run("at", part), _message_whole("at", "row", part.get("row")),
              _message_whole("at", "col", part.get("col")))
    part = _message_part(msg, "drew")
    if part is not None:
        drew = (_message_run("drew", part), _message_whole("drew", "block", part.get("block")),
                _message_whole("drew", "head", part.get("head"), none=True),
                _message_whole("drew", "row", part.get("row")),
                _message_whole("drew", "col", part.get("col")))
    flow = msg.get("flow")
    if flow is not None and flow not in FLOW_MODES:
        raise ValueError(f"The click message's \"flow\" must be \"page\", \"text\" or null, "
                         f"got {short(flow)}.")
    add = msg.get("add", False)
    if not isinstance(add, bool):
        raise ValueError(f"The click message's \"add\" must be true or false, got {short(add)}.")
    seq = _message_whole("message", "seq", msg.get("seq"), none=True)
    clicks = msg.get("clicks") or []
    if not isinstance(clicks, list) or len(clicks) > MAX_QUERY_SET or not all(
            isinstance(k, list) and len(k) == 4 and k[1] in (0, 1) for k in clicks):
        raise ValueError(f"The click message's \"clicks\" must be a list of at most "
                         f"{MAX_QUERY_SET} [seq, add (0 or 1), row, col], got {short(clicks)}.")
    clicks = tuple((_message_whole("clicks", "seq", s), bool(a),
                    _message_whole("clicks", "row", r), _message_whole("clicks", "col", c))
                   for s, a, r, c in clicks)
    return ClickMessage(at=at, drew=drew, flow=flow, add=add, seq=seq, clicks=clicks)


PICKED = threading.Lock()  # guards every run's clicks (state.Held.picked)
PICKED_LOG_MAX = 4 * MAX_QUERY_SET  # clicks kept to order late ones; then folded into the base


def picked_after(view: View, msg: ClickMessage, token: tuple[int, int]) -> tuple[View, int]:
    """The view after this click, and the version of the run's clicks it was made from: a
    shift-click toggles `token` in the query set, a click makes it the query alone.

    The server answers clicks side by side, and the page hands a click it redrew itself to
    Gradio after it has drawn it, so clicks may come in another order than they were made,
    each with the session's View (gr.State) from before the clicks still being answered. So
    the run keeps its clicks (`Held.picked`), ordered by their number in the page
    (`ClickMessage.seq`; one without comes last): the view is the last click's token alone,
    then every later shift-click toggled in order; a query set built by quick shift-clicks
    keeps each of them. The version grows with every click the run learns of (from a click's
    own message or from the clicks a message carries, `page_clicks`): an answer made from an
    older version than the run's is left out (`superseded`), and the newest is always sent,
    whichever click's message brought it (the last click's own message may never come: Gradio
    keeps only the last of the clicks waiting behind one, and the page may hand on a click it
    redrew itself after the shift-clicks made behind it)."""
    held = view.held
    with PICKED:
        p = held.picked
        if p is None:
            p = held.picked = {"base": (view.query, view.added), "log": [], "floor": -1,
                               "version": 0}
        seq = msg.seq if msg.seq is not None else \
            max([e[0] for e in p["log"]] + [p["floor"]]) + 1
        # this click, and those Gradio left out that the page sends with it (`page_clicks`)
        came = {seq: (seq, msg.add, token)}
        for s, add, r, c in page_clicks(view, msg):
            came.setdefault(s, (s, add, (r, c)))
        known = {e[0] for e in p["log"]}
        new = [e for s, e in came.items() if s > p["floor"] and s not in known]
        if new:
            p["version"] += 1
        log = sorted([*p["log"], *new], key=lambda e: e[0])
        plain = [e for e in log if not e[1]]
        if plain:  # nothing before the last plain click counts
            log = [e for e in log if e[0] >= plain[-1][0]]
            out = replace(view, query=plain[-1][2], added=())
        else:
            out = replace(view, query=p["base"][0], added=p["base"][1])
        for _, add, t in log:
            if add:
                out = toggled(out, t)  # past MAX_QUERY_SET: the sentence, nothing kept
        if len(log) > PICKED_LOG_MAX:
            p["base"], log, p["floor"] = (out.query, out.added), [], log[-1][0]
        p["log"] = log
        version = p["version"]
    return out, version


def page_clicks(view: View, msg: ClickMessage) -> tuple[tuple[int, bool, int, int], ...]:
    """The clicks the page sent with this one (`ClickMessage.clicks`) when its message names
    this session's run, those on its token grid; else ()."""
    if msg.at is None or not view.run_id or msg.at[0] != view.run_id:
        return ()
    H, W = view.exp.grid
    return tuple(k for k in msg.clicks if 0 <= k[2] < H and 0 <= k[3] < W)


def superseded(view: View, version: int) -> bool:
    """True when the run learned of more clicks since `version` (`picked_after`): this answer
    then sends nothing, and the answer made from the newer version shows the session's
    view."""
    p = view.held.picked
    return p is not None and p["version"] > version


def toggled(view: View, token: tuple[int, int]) -> View:
    """A shift-click on `token`: added to the query set, or taken out of it when it is there
    (the query itself stays); refused past MAX_QUERY_SET patches."""
    query = resolved_query(view)
    if token == query:
        return view
    if token in view.added:
        return replace(view, query=query, added=tuple(q for q in view.added if q != token))
    if len(view.added) + 1 >= MAX_QUERY_SET:
        raise user_error(f"A query set holds at most {MAX_QUERY_SET} patches; Shift+click one "
                         f"of them to take it out, or click to start a new set.")
    return replace(view, query=query, added=(*view.added, token))


def page_drew(view: View, msg: ClickMessage, block: int, head: int | None,
              query: tuple[int, int]) -> bool:
    """True when the page says it redrew the attention figure itself (app/instant.js) for this
    run, block, head and query."""
    return bool(view.run_id) and msg.drew == (view.run_id, block, head, *query)


def page_token(view: View, msg: ClickMessage) -> tuple[int, int] | None:
    """The token the page found for the click (`ClickMessage.at`) when it names this session's
    run and lies on its token grid; else None, and the click's coordinates decide."""
    if msg.at is None or not view.run_id or msg.at[0] != view.run_id:
        return None
    _, r, c = msg.at
    H, W = view.exp.grid
    return (r, c) if 0 <= r < H and 0 <= c < W else None


def pick_query_page(values: Mapping, evt: gr.SelectData):
    """The page's click, given {component: value} ("view", "block", "head", "template" and
    "message"): like `pick_query`, with the page's click message ("message", JSON text,
    `parse_click_message`). When the page already redrew the attention figure for the
    same query (`page_drew`) it is not sent again (gr.skip()): the server only learns the query
    and sends the marked image and the information-flow figure; when the page draws the flow
    figure itself (flow "text"), that figure goes as gr.Plot's JSON text to the last output
    (for app/instant.js's `Plotly.react` on the figure shown) and its Plot gets gr.skip(); else
    that output is "". When the page fetched the flow figure itself (flow "page", from
    `page_flow`) it is not drawn here at all.
    Returns (View, clickable image, one output per kind in QUERY_KINDS, the flow text)."""
    named = by_name(values)
    if named.get("view") is None:
        raise user_error("Upload an image first; then click it to pick a patch.")
    x, y = _click_index(evt)
    fx, fy = _coordinate("x", x), _coordinate("y", y)
    view, shown = Shown.of(named)
    try:
        msg = parse_click_message(named.get("message"))
    except ValueError as exc:
        raise user_error(str(exc)) from None
    token = page_token(view, msg) or click_to_token(view, fx, fy)
    view, version = picked_after(view, msg, token)
    if superseded(view, version):  # a later click came first: its answer shows the view
        return tuple(gr.skip() for _ in range(3 + len(QUERY_KINDS)))
    with CLICK_SLOTS:  # the page's clicks skip Gradio's queue: at most this many at once
        out = _page_click(view, shown, msg)
    if superseded(view, version):  # a later click came meanwhile: its answer shows the view
        return tuple(gr.skip() for _ in out)
    return out


def _page_click(view: View, shown: Shown, msg: ClickMessage):
    drew = page_drew(view, msg, shown.block, shown.head, view.query)
    skip = {"attention"} if drew else set()
    if msg.flow == "page" or msg.add:  # asked by the page, or the query's own: as it was
        skip.add("flow")
    todo = [k for k in QUERY_KINDS if k not in skip]
    plots = dict(zip(todo, build_plots(view, todo, **shown.options(), pack=True), strict=True))
    flow_text = ""
    if msg.flow == "text" and "flow" in plots:
        flow_text = plots.pop("flow").plot
    return (view, query_image_file(view, shown.block),
            *[plots.get(k, gr.skip()) for k in QUERY_KINDS], flow_text)


PAGE_FLOW_MAX_BYTES = 2048  # a page_flow request is a few short fields


def page_flow_too_long() -> str:
    return (f"A flow request is a few short fields (at most {PAGE_FLOW_MAX_BYTES} bytes); this "
            f"one is longer.")


def _held_exploration(run: str):
    """The exploration of the page's run `run` (kept fresh in EXPLORATIONS); a run the server
    no longer holds is a LookupError with the sentence the page shows."""
    held = PAGE_RUNS.get(run)
    exp = held.exp if held is not None else None
    if exp is None:
        raise LookupError("This page's model run is no longer on the server (the session ended "
                          "or it was dropped to free memory); press \"Run the model\" to run "
                          "it again.")
    EXPLORATIONS.touch(held)
    return exp


def page_flow(body: bytes) -> str:
    """The page's own request for the information-flow figure of a clicked token, sent at the
    click itself (app/instant.js), beside Gradio's event for the click, which then leaves that
    figure out: the page draws it without waiting for Gradio's answer and its status updates
    (docs/performance.md).

    body: JSON {"run": the run's name from the flow figure's layout.meta["page"], "row": r,
    "col": c, "template": "default" | "lecture" | "narrow", "lang": "en" | "zh"}. Returns the
    figure as gr.Plot's JSON text (as the click's flow text). A run the server no longer holds
    (the session ended, or its exploration was dropped to free memory) is a LookupError,
    anything else wrong a ValueError, each with the sentence the page shows. At most
    CLICK_CONCURRENCY figures are drawn at once, clicks through Gradio included.
    """
    if len(body) > PAGE_FLOW_MAX_BYTES:
        raise ValueError(page_flow_too_long())
    try:
        req = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nesting: no flat object
        req = None
    if not isinstance(req, dict):
        raise ValueError('A flow request is JSON like {"run": ..., "row": 3, "col": 5, '
                         '"template": "default"}.')
    run = req.get("run")
    if not isinstance(run, str) or len(run) > 64:
        raise ValueError("A flow request names its run with the text the figure carries "
                         "(layout.meta.page.run).")
    exp = _held_exploration(run)
    try:
        query = parse_query([req.get("row"), req.get("col")], exp.grid)
        template = parse_template(req.get("template", "default"))
        lang = check_lang(str(req.get("lang") or "en"))
    except (SettingsError, ValueError) as exc:
        raise ValueError(message(exc)) from None
    with CLICK_SLOTS:
        fig = figure_or_placeholder("flow", exp, query=query, template=template, lang=lang)
        add_page_meta(fig, run, exp, template, lang)
        return plot_text("flow", fig)


PAGE_FLOW_PATH = instant.PAGE_FLOW_PATH  # where app/instant.js asks for a token's flow figure
PAGE_PACK_MAX_FIELDS = 5  # run, block, head, row, col


def page_pack(params: Mapping[str, str]) -> str:
    """The click pack of an attention figure the page shows (`app.instant.attention_pack`), as
    JSON text: what app/instant.js fetches once per figure, from the fields of the figure's
    layout.meta["click"]["pack"] (`instant.pack_address`) sent as the address's query: run,
    block (0 or 1), head ("" for all heads), row, col (the figure's query). A run the server
    no longer holds is a LookupError, a pack that cannot be sent too (the page's clicks then go
    to the server), anything else wrong a ValueError, each with its sentence. Made under
    CLICK_SLOTS, as the clicks' figures are."""
    if len(params) > PAGE_PACK_MAX_FIELDS or any(len(str(v)) > 64 for v in params.values()):
        raise ValueError("A pack request is the five short fields of the figure's "
                         "layout.meta.click.pack.")
    exp = _held_exploration(str(params.get("run", "")))
    try:
        block = int(params.get("block", ""))
        head_text = str(params.get("head", ""))
        head = None if head_text in ("", "null") else int(head_text)
        if block not in (0, 1) or (head is not None and not 0 <= head < exp.num_heads):
            raise ValueError
        query = parse_query([params.get("row"), params.get("col")], exp.grid)
    except (SettingsError, ValueError, TypeError):
        raise ValueError(f"A pack request names block 0 or 1, a head below {exp.num_heads} "
                         f"(or none for all heads) and a token of the {exp.grid[0]}x"
                         f"{exp.grid[1]} grid.") from None
    with CLICK_SLOTS:
        pack = instant.attention_pack(exp, block, head, query, key=str(params["run"]))
    if pack is None:
        raise LookupError("This figure's numbers cannot be sent to the page; its clicks go to "
                          "the server.")
    return json.dumps(pack, separators=(",", ":"))


async def _answered(make, arg, what: str, failed: str) -> Response:
    """`make(arg)` (in a worker thread) as the page's answer: 200 with its JSON text; else a
    JSON {"error": sentence} the page shows: 400 for a bad request (ValueError), 410 for a
    run the server no longer holds (LookupError), 500 with `failed` for anything else (a bug,
    its traceback logged as `what` failed)."""
    try:
        text = await run_in_threadpool(make, arg)
    except LookupError as exc:
        return JSONResponse({"error": str(exc)}, status_code=410)
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    except Exception:  # a bug: a sentence for the page, the traceback for the log
        log.exception("%s failed", what)
        return JSONResponse({"error": failed}, status_code=500)
    return Response(text, media_type="application/json")


async def page_pack_route(request: Request) -> Response:
    """GET PAGE_PACK_PATH: `page_pack` over HTTP (answers as `_answered`): the pack's JSON."""
    return await _answered(page_pack, dict(request.query_params), "page pack request",
                           "The server could not send this figure's numbers; its clicks go to "
                           "the server.")


async def page_flow_route(request: Request) -> Response:
    """POST PAGE_FLOW_PATH: `page_flow` over HTTP (answers as `_answered`): the figure's JSON.
    The body is read only up to its limit (413 past it)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > PAGE_FLOW_MAX_BYTES:
            break
    if len(body) > PAGE_FLOW_MAX_BYTES:  # too large: refused as every route refuses it
        return JSONResponse({"error": page_flow_too_long()}, status_code=413)
    return await _answered(page_flow, body, "page flow request",
                           "The server could not draw this figure; the next click tries again.")
