"""What the export browser is handed: a figure as a dict, its photographs (image traces)
magnified by whole pixels first (plotly.js would otherwise redraw them pixel by pixel on a
canvas for every export), the latest magnified photographs kept for a run's next export."""

from __future__ import annotations

import base64
import io
import math
import threading

import plotly.graph_objects as go

MAX_IMAGE_SIDE = 2048  # longest side of a magnified photograph handed to the browser
_PNG_PREFIX = "data:image/png;base64,"
MAGNIFIED_KEEP_BYTES = 24 * 2**20  # magnified photographs kept for the next export: a run's
# figures make about 10 (1.6 MB in all for a 224 px photo); their sources are kept with them
_MAGNIFIED: dict[tuple[str, int], tuple[str, int]] = {}  # (source, min_side) -> result, LRU
_MAGNIFIED_LOCK = threading.Lock()


def magnified_source(source: str, min_side: int) -> tuple[str, int]:
    """A PNG data URI magnified by a whole factor k (nearest neighbour: every pixel a k x k
    block) so that its longer side reaches `min_side` (at most MAX_IMAGE_SIDE); returns
    (data URI, k). Anything that is not a PNG data URI comes back as it is, with k = 1. The
    latest results are kept (MAGNIFIED_KEEP_BYTES, sources included): the next export of the
    same run (the figures zip again, the deck) draws the same photographs again."""
    key = (source, min_side)
    with _MAGNIFIED_LOCK:
        if key in _MAGNIFIED:
            _MAGNIFIED[key] = _MAGNIFIED.pop(key)  # the most recent last
            return _MAGNIFIED[key]
    out = _magnify(source, min_side)
    with _MAGNIFIED_LOCK:
        _MAGNIFIED[key] = out
        while _MAGNIFIED and sum(len(k[0]) + len(v[0]) for k, v in _MAGNIFIED.items()) \
                > MAGNIFIED_KEEP_BYTES:
            del _MAGNIFIED[next(iter(_MAGNIFIED))]  # the least recent first
    return out


def _magnify(source: str, min_side: int) -> tuple[str, int]:
    from PIL import Image

    if not source.startswith(_PNG_PREFIX):
        return source, 1
    with Image.open(io.BytesIO(base64.b64decode(source[len(_PNG_PREFIX):]))) as im:
        im.load()
        side = max(im.size)
        k = max(1, min(math.ceil(min_side / side), MAX_IMAGE_SIDE // side))
        if k == 1:
            return source, 1
        big = im.resize((im.width * k, im.height * k), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    big.save(buf, format="PNG", compress_level=1)  # repeated pixels compress well anyway
    return _PNG_PREFIX + base64.b64encode(buf.getvalue()).decode("ascii"), k


def _axis_span(layout: dict, axis_id: str) -> float:
    """Fraction of the figure's width the x axis `axis_id` ("x", "x2", ...) spans."""
    axis = layout.get("xaxis" + axis_id[1:], {}) or {}
    lo, hi = axis.get("domain", (0.0, 1.0))
    return max(0.0, min(1.0, float(hi) - float(lo)))


def export_dict(fig: go.Figure, width: int, cache: dict | None = None) -> dict:
    """The figure as the dict handed to the browser for a `width`-pixel export.

    Image traces (photographs given as a PNG `source`) get a copy magnified by whole pixels to
    at least the device pixels their panel can span, and zsmooth="fast": the browser scales
    that picture, so image pixels stay sharp squares as on screen, instead of plotly.js
    redrawing every pixel on a canvas for each export (seconds per figure). The trace keeps
    its place (same left/top edge, pixels k times smaller). `fig` itself is not changed.
    """
    cache = {} if cache is None else cache
    d = fig.to_dict()
    layout = d.get("layout", {})
    for trace in d.get("data", ()):
        src = trace.get("source")
        if trace.get("type") != "image" or not isinstance(src, str):
            continue
        min_side = math.ceil(width * _axis_span(layout, trace.get("xaxis", "x")))
        key = (src, min_side)
        if key not in cache:
            cache[key] = magnified_source(src, min_side)
        big, k = cache[key]
        if k > 1:  # left edge x0 - dx/2 stays put: x0' = x0 - dx'(k-1)/2 with dx' = dx/k
            for c in ("x", "y"):
                step = trace.get(f"d{c}", 1) / k
                trace[f"d{c}"] = step
                trace[f"{c}0"] = trace.get(f"{c}0", 0) - step * (k - 1) / 2
            trace["source"] = big
        trace["zsmooth"] = "fast"
    return d
