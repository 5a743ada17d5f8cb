"""The instant click: what the page needs to redraw the attention figure for any query patch
without asking the server, and the script that does it.

A run (and a block / head / template redraw) names, in the attention figure's
`layout.meta["click"]["pack"]`, where the page fetches the traced pair's numbers that the
figure reads for a query (`attention_pack`, made when the page asks: `GET /swinviz/pack`,
`app.clicks.page_pack`); the page fetches them once per figure, after drawing it, apart from
Gradio's answer (inside the figure, 1.6 MB of them at stage 1 went through Gradio's answer and
every status update's snapshot of it: docs/performance.md). On a click on the model's image
the page (app/instant.js, loaded by `page_head()` through launch(head=...)) finds the token
exactly as the server's `click_to_token` does, rebuilds every trace and text of the
attention figure that depends on the query (found by the roles and filled from the templates
that the figure itself writes beside the pack: swinviz.figures.attention.click) and redraws it
with `Plotly.react`;
the server then only learns the new query (the session's View, for downloads and redraws), and
sends the marked image. The information-flow figure (its rollout goes back through every block
of the chain, so it is drawn on the server) is asked for by the page itself at the click when
its tab is open: `POST /swinviz/flow` (`app.clicks.page_flow`, with the run's name from the
figure's `layout.meta["page"]`), drawn on the figure shown with one `Plotly.react`; Gradio's
event for the click follows once it is drawn (its dispatch and status updates would otherwise
delay the drawing) and leaves that figure out. With the click, the page tells the server what
it did in one versioned JSON message (`app.clicks.ClickMessage`, parsed in one place).
`INSTANT_CLICKS = False` (or ?instant=0 in a page's address) turns the in-page path off: no
click pack is sent, the page draws nothing itself, and the server draws every click.

How exact: attention probabilities (the selected block's, every head; the other block's as the
figure shows it, one head or the mean) are sent as float16: a relative error of at most 2^-11
(4.9e-4), for colours and hover values. The numbers the figure prints, panel (b), are sent
finer (with all heads chosen, (b) prints every head's row: the selected block's attention is
then sent as uint16 per row, with attn_scale): the selected head's attention rows as uint16
scaled by each row's largest value (error <= row max / 131070 < 8e-6) and its q·kᵀ·scale
scores as uint16 between each row's min and max (error <= range / 131070, about 2e-4), both
plus the float32 rounding of the scales; the
relative position bias, the region ids and the windows' token order are exact, and the mask is
rebuilt from the region ids (checked equal to the trace's mask before it is sent, else no pack
is sent and clicks go to the server). The (b) titles' "mean |·|" values are the server's own
float32 numbers. Arrays travel zlib-compressed and base64-encoded, little-endian.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import numpy as np

from swinviz.budget import click_pack_bytes

from .picture import display_scale

PACK_VERSION = 1
JS_PATH = Path(__file__).with_name("instant.js")
# The one switch of the in-page path: False, the attention figure carries no click pack and the
# page neither redraws a figure nor asks for one itself; every click goes to the server
# (app.clicks), which draws both figures. A page turns it off for itself with ?instant=0.
INSTANT_CLICKS = True


# A page run's mark (#run-mark, a text box the page never shows, the runs' last output): RAN
# for a run, DUPLICATE for one that found an equal run of its session in flight and did
# nothing (app.events.on_image_change: Gradio 6.31's Image fires `change` twice when a new
# file replaces the shown one). The mark is a component that Gradio mounts: it reads a hidden
# component's value for an event from what it held when it was last shown.
RAN, DUPLICATE = "ran", "duplicate"

# A page-only step (no server call), given the run's mark, that ends once the browser has
# painted the next frame: what follows a model run waits for it (app.ui.then_sync). Every
# event Gradio starts updates the loading status of every component, and each update takes a
# snapshot of the component's value (Gradio 6.31), the figures' JSON among them: the run's
# followers' snapshots came before the browser painted the run's figure (docs/performance.md).
# After a duplicate run the step fails instead (a rejected promise: Gradio starts no `success`
# follower, and shows nothing, since the step has no outputs): its followers (the pickers, the
# lesson, the Compare columns, the animation) ran for the run shown before, on the server's
# CPU and the page's main thread, while the real run was still computing.
AFTER_PAINT_JS = ("(mark) => mark === " + json.dumps(DUPLICATE)
                  + " ? Promise.reject(new Error('a duplicate run: nothing follows it'))"
                  " : new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)))")

KINDS = {"u16": "<u2", "f32": "<f4", "i32": "<i4", "u8": "u1"}


def _enc(a: np.ndarray, dtype: str) -> dict:
    """A numpy array as {"t": type, "b": base64(zlib(little-endian bytes)), "n": length}.
    "f16": float16 sent as two byte planes (all high bytes, then all low bytes), which zlib
    packs to about 0.9 byte a value for attention probabilities."""
    if dtype == "f16":
        bits = np.ascontiguousarray(a, dtype="<f2").view("<u2").ravel()
        raw = (bits >> 8).astype(np.uint8).tobytes() + (bits & 255).astype(np.uint8).tobytes()
    else:
        raw = np.ascontiguousarray(a, dtype=KINDS[dtype]).tobytes()
    return {"t": dtype, "n": int(a.size), "b": base64.b64encode(zlib.compress(raw, 3)).decode()}


def _rows_u16(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative rows (..., N) -> (uint16 (..., N), float32 scale (...,)): x ≈ q * scale."""
    top = x.max(axis=-1).astype(np.float64)
    scale = np.where(top > 0, top / 65535.0, 1.0)
    q = np.rint(x / scale[..., None]).clip(0, 65535).astype(np.uint16)
    return q, scale.astype(np.float32)


def _rows_affine_u16(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows (..., N) -> (uint16, float32 low, float32 step): x ≈ low + q * step."""
    lo = x.min(axis=-1).astype(np.float64)
    step = (x.max(axis=-1).astype(np.float64) - lo) / 65535.0
    safe = np.where(step > 0, step, 1.0)
    q = np.rint((x - lo[..., None]) / safe[..., None]).clip(0, 65535).astype(np.uint16)
    return q, lo.astype(np.float32), step.astype(np.float32)


def _geometry(trace):
    """(order (nW, N) flat positions r·Wp + c on the padded grid, region id per slot (nW, N))
    of one block, from the library's own window functions (as the attention figure builds
    them)."""
    from swinviz.windows import padded_order, padded_size, window_partition

    M, s = trace.window_size, trace.shift_size
    Hp, Wp = padded_size(*trace.input_resolution, M)
    # every slot by its place on the padded grid, where the block put it (timm's Swin V2 rolls
    # and then pads: `BlockTrace.roll_first`)
    order = padded_order(*trace.input_resolution, M, s, getattr(trace, "roll_first", False)
                         ).numpy().reshape(-1, M * M)
    regions = window_partition(trace.region_ids.view(1, Hp, Wp, 1), M).reshape(-1, M * M).numpy()
    return order, regions


def click_geometry(exp) -> dict:
    """Where the clickable image's tokens are, for the page's `clickToken` (as the server's
    `click_to_token`): "grid" [H, W], the explored stage's token grid, and "disp", a token's
    side in the displayed image's pixels."""
    H, W = exp.grid
    return {"grid": [int(H), int(W)], "disp": int(exp.patch_size * display_scale(exp.image))}


def _pack_shape(exp, block: int):
    """(M, nH, Hp, Wp, each block's (order, regions), each block's has-mask) when the traced
    pair's attention figure can be redrawn in the page, else None: the pair's windows differ,
    the pack would be too big to send (swinviz.budget.PACK_MAX_BYTES: a 448 px input's stage 1
    needs about 6 MB before compression, 4 MB sent), or a mask is not the regions' -100 / 0."""
    tr = exp.traces
    if tr[0].window_size != tr[1].window_size:
        return None
    M = tr[block].window_size
    nH = tr[block].num_heads
    from swinviz.windows import padded_size

    Hp, Wp = padded_size(*exp.grid, M)
    geo = [_geometry(t) for t in tr]
    if not click_pack_bytes(geo[0][0].shape[0], nH, M * M):
        return None
    has_mask = []
    for b, t in enumerate(tr):
        if t.mask is None:
            has_mask.append(False)
            continue
        reg = geo[b][1]
        expect = np.where(reg[:, :, None] != reg[:, None, :], -100.0, 0.0)
        m = t.mask.numpy()
        if m.shape != expect.shape or not np.array_equal(m, expect):
            return None
        has_mask.append(True)
    return M, nH, Hp, Wp, geo, has_mask


def pack_possible(exp, block: int) -> bool:
    """Whether `attention_pack` can send this exploration's numbers (`_pack_shape`), without
    making the pack: the figure then names where the page fetches it (`pack_address`)."""
    return _pack_shape(exp, block) is not None


# the page's own routes (app.launch), which app/instant.js gets from `page_head`
PAGE_FLOW_PATH = "/swinviz/flow"  # a clicked token's flow figure (`app.clicks.page_flow`)
PAGE_PACK_PATH = "/swinviz/pack"  # a figure's click pack (`app.clicks.page_pack`)


def pack_address(run_id: str, block: int, head: int | None, query: tuple[int, int]) -> dict:
    """The attention figure's layout.meta["click"]["pack"]: what the page sends to
    PAGE_PACK_PATH (`app.clicks.page_pack`) for the figure's click pack. The pack travels
    apart from the figure: inside it (1.6 MB of base64 at stage 1) it went through Gradio's
    answer and every status update's snapshot of the figure (docs/performance.md)."""
    return {"run": run_id, "block": int(block), "head": None if head is None else int(head),
            "row": int(query[0]), "col": int(query[1])}


def attention_pack(exp, block: int, head: int | None, query: tuple[int, int],
                   key: str = "") -> dict | None:
    """What the page needs to draw the attention figure of `exp` (block, head as the figure's
    Selection) for any query, or None when it cannot be sent (too big, or a mask that is not
    the regions' -100 / 0). `query` is the figure's resolved query; `key` names the run (the
    page sends it back with a click, so the server knows which figure the page redrew).

    Arrays (N = M·M slots, nW windows, nH heads, Hp x Wp the padded token grid):
    order{b}, regions{b} (nW·N); attn (nW·nH·N·N float16, the selected block, every head);
    other (nW·N·N float16: the other block's head `head`, or the head mean); rows (nW·N·N
    uint16, the selected block's head `head` or 0) with rows_scale (nW·N); scores (nW·N·N,
    the same head) with scores_lo, scores_step (nW·N) and scores_mean (nW·N, mean |scores| per
    query); bias (N·N) and bias_mean (N).
    """
    tr = exp.traces
    shape = _pack_shape(exp, block)
    if shape is None:
        return None
    M, nH, Hp, Wp, geo, has_mask = shape
    nW = geo[0][0].shape[0]
    hb = 0 if head is None else int(head)
    attn = tr[block].attn.numpy()  # nW, nH, N, N
    other_all = tr[1 - block].attn.numpy()
    other = other_all.mean(axis=1) if head is None else other_all[:, hb]
    scores = tr[block].scores[:, hb].numpy()  # nW, N, N
    bias = tr[block].bias[hb].numpy()  # N, N
    qb, sb = _rows_u16(attn[:, hb])  # the (b) panel's printed row: uint16
    qs, lo, step = _rows_affine_u16(scores)
    # the (b) titles' means, computed as the figure does (float32 over each query's N values)
    smean = np.abs(scores).mean(axis=-1)
    bmean = np.abs(bias).mean(axis=-1)
    if head is None:  # all heads: (b) prints every head's row, sent finer
        qa, sa = _rows_u16(attn)
        sel_attn = {"attn": _enc(qa, "u16"), "attn_scale": _enc(sa, "f32")}
    else:
        sel_attn = {"attn": _enc(attn, "f16")}

    return {
        "v": PACK_VERSION, "key": key, "block": int(block), "head": head,
        **click_geometry(exp), "pad": [int(Hp), int(Wp)], "M": int(M), "nW": int(nW),
        "nH": int(nH), "p": int(exp.patch_size),
        "has_mask": has_mask, "query": [int(query[0]), int(query[1])],
        "order0": _enc(geo[0][0], "i32"), "order1": _enc(geo[1][0], "i32"),
        "regions0": _enc(geo[0][1], "i32"), "regions1": _enc(geo[1][1], "i32"),
        **sel_attn,
        "other": _enc(other, "f16"),
        "rows": _enc(qb, "u16"), "rows_scale": _enc(sb, "f32"),
        "scores": _enc(qs, "u16"), "scores_lo": _enc(lo, "f32"),
        "scores_step": _enc(step, "f32"), "scores_mean": _enc(smean, "f32"),
        "bias": _enc(bias, "f32"), "bias_mean": _enc(bmean, "f32"),
    }


def decode(spec: dict) -> np.ndarray:
    """The inverse of the pack's array encoding (tests and checks)."""
    raw = zlib.decompress(base64.b64decode(spec["b"]))
    if spec["t"] == "f16":
        planes = np.frombuffer(raw, dtype=np.uint8).reshape(2, -1).astype(np.uint16)
        return ((planes[0] << 8) | planes[1]).view(np.float16)
    return np.frombuffer(raw, dtype=KINDS[spec["t"]])


def plotly_chunk() -> str | None:
    """The file name of Gradio's Plotly bundle (assets/PlotlyPlot-<hash>.js, ~4.6 MB), or None
    when this Gradio has no such file."""
    import gradio

    found = sorted((Path(gradio.__file__).parent / "templates" / "frontend" / "assets")
                   .glob("PlotlyPlot-*.js"))
    return found[0].name if len(found) == 1 else None


def page_head() -> str:
    """The <script> for launch(head=...): the page's click handler and redraw, and, once the
    page has loaded, Gradio's own Plotly bundle imported ahead of the first figure (the same
    module Gradio imports later; parsing it takes a slow CPU about half a second)."""
    chunk = plotly_chunk()
    preload = "" if chunk is None else (
        "(() => { const go = () => setTimeout(() => import(new URL("
        f"'./assets/{chunk}', document.baseURI).href).catch(() => {{}}), 50);\n"
        "  if (document.readyState === 'complete') go(); "
        "else window.addEventListener('load', go); })();")
    paths = json.dumps(dict(flow=PAGE_FLOW_PATH, pack=PAGE_PACK_PATH))
    switch = (f"window.swinvizInstant = {'true' if INSTANT_CLICKS else 'false'};\n"
              f"window.swinvizPaths = {paths};")
    return f"<script>\n{switch}\n{JS_PATH.read_text()}\n{preload}\n</script>"
