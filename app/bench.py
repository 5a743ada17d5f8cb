"""App-level timings (report, never assert): `python -m app.bench [--repeat 7] [--size 224]`.

Measures, for one photo:
- run: the server's time from an upload to all ten figures (model run + figures + the clickable
  image + serialising the payload), median of `repeat` runs, in process;
- click: the server's time from a click to the updated attention and flow figures;
- redraw: block / head / template change (ten figures, no model run);
- payload: bytes sent to the browser per update (the Plotly JSON of each figure + the image);
- http: the same run through gradio_client against the app on 127.0.0.1 (upload, queue, JSON);
- load (`--load N`, N <= 64): N concurrent gradio_client sessions with distinct images against
  the app on 127.0.0.1; checks each answer equals the answer for the same image sent alone and
  reports errors, p50 / p95 latency, the process's memory (RSS) at the start (model loaded),
  after the N sessions sent alone, after the N concurrent ones, its peak (VmHWM) and what the
  sessions' explorations hold. Loopback only, bounded in count and time (stops by itself);
- refused (`--refused`): the settings over the per-request budget through the API: the time of
  each refusal and the server's memory around it;
- stages (`--stages`): per stage, the page's path: upload to the open tab's figures, the other
  figures after, upload to all figures, and the attention figure's click pack;
- start (`--start`): `python app.py` on a free loopback port, `repeat` times: seconds to the
  first answer (the starting page, 503) and to the app's own (200), with the load average.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import statistics
import time
from pathlib import Path

from swinviz.figures import KINDS, QUERY_KINDS

from . import evidence, picture, runs
from .session import Shown

ROOT = Path(__file__).resolve().parent.parent
# gradio_client's settings here: no file is downloaded (the answers' files stay on the server,
# which is this machine), because each download leaves an empty folder in the system's temporary
# folder (gradio_client's `_download_file`); the figures come back as JSON either way
CLIENT = dict(verbose=False, download_files=False)


def _payload_bytes(outputs) -> int:
    total = 0
    for item in outputs:
        if hasattr(item, "plot"):
            total += len(item.plot.encode())
        elif hasattr(item, "save"):  # PIL image, sent as PNG
            buf = io.BytesIO()
            item.save(buf, format="PNG")
            total += len(buf.getvalue())
        elif isinstance(item, str):
            total += len(item.encode())
    return total


def _median_ms(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), out


def measure(photo: str, size: int = 224, repeat: int = 7, http: bool = True) -> dict:
    runs.run(photo, img_size=size)  # warm-up: model built and cached, modules imported
    run_ms, out = _median_ms(lambda: runs.run(photo, img_size=size), repeat)
    view = out[-1]
    per_fig = {k: len(p.plot.encode()) for k, p in zip(KINDS, out[: len(KINDS)], strict=True)}
    k = picture.display_scale(view.exp.image) * view.exp.patch_size
    clicks = iter([(x * k + 1, y * k + 1) for x, y in ((3, 5), (20, 30), (50, 2), (10, 10),
                                                         (33, 44), (1, 54), (54, 54), (27, 27))]
                  * (repeat // 8 + 1))
    click_ms, click_out = _median_ms(lambda: clicks.pick_query_at(view, *next(clicks)), repeat)
    redraw_ms, redraw_out = _median_ms(lambda: runs.redraw(view, Shown(0, None, "lecture")), repeat)
    res = {
        "size": size,
        "device": view.exp.device,
        "run_ms_median": round(run_ms, 1),
        "model_ms": {k: round(v, 1) for k, v in view.timings.items()},
        "click_ms_median": round(click_ms, 1),
        "redraw_ms_median": round(redraw_ms, 1),
        "payload_run_bytes": _payload_bytes(out[:-1]),
        "payload_click_bytes": _payload_bytes(click_out[1:]),
        "payload_redraw_bytes": _payload_bytes(redraw_out),
        "payload_per_figure_bytes": per_fig,
        "query_kinds": list(QUERY_KINDS),
    }
    if http:
        res["http_run_ms_median"] = round(_http_run_ms(photo, size, repeat), 1)
    return res


def measure_stages(photo: str, size: int = 224, repeat: int = 5) -> dict:
    """Per stage, the page's path (server time, median of `repeat`): an upload to the open
    tab's figures (`run(first=...)`: model + the first tab's figure + the clickable image), the
    other figures that follow (`rest`, after the class evidence's pass, as the page's
    `on_rest`), and both together (upload to all figures; the page's
    attention figure carries its click pack), with the click pack's size and time."""
    import os

    from .instant import attention_pack

    out: dict = {"size": size, "load_average": [round(x, 2) for x in os.getloadavg()]}
    first = ("windows",)
    for stage in (1, 2, 3, 4):
        runs.run(photo, img_size=size, stage=stage)  # the stage's first run: caches warm
        total, firsts, rests = [], [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            view = runs.run(photo, img_size=size, stage=stage, pack=True, first=first)[-1]
            t1 = time.perf_counter()
            evidence.complete(view)  # as the page's `on_rest`: the run's evidence pass, then
            runs.rest(view, Shown(), first=first)
            t2 = time.perf_counter()
            firsts.append((t1 - t0) * 1e3)
            rests.append((t2 - t1) * 1e3)
            total.append((t2 - t0) * 1e3)
        t0 = time.perf_counter()
        pack = attention_pack(view.exp, 1, 0, (0, 0), key="bench")
        pack_ms = (time.perf_counter() - t0) * 1e3
        out[f"stage {stage}"] = {
            "upload_to_first_tab_ms_median": round(statistics.median(firsts), 1),
            "rest_ms_median": round(statistics.median(rests), 1),
            "upload_to_all_figures_ms_median": round(statistics.median(total), 1),
            "model_ms": {k: round(v, 1) for k, v in view.timings.items()},
            "click_pack_ms": round(pack_ms, 1),
            "click_pack_bytes": sum(len(v["b"]) for v in (pack or {}).values()
                                    if isinstance(v, dict)),
        }
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


def _http_run_ms(photo: str, size: int, repeat: int) -> float:
    from gradio_client import Client, handle_file

    from .ui import build_demo, launch_options

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = build_demo()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                **launch_options())
    try:
        client = Client(f"http://127.0.0.1:{port}/", **CLIENT)
        client.predict(handle_file(photo), img_size=str(size), api_name="/explore")
        ms, _ = _median_ms(lambda: client.predict(handle_file(photo), img_size=str(size),
                                                  api_name="/explore"), repeat)
        return ms
    finally:
        demo.close()


def _rss_mb(key: str = "VmRSS", pid: int | str = "self") -> float:
    """A process's resident memory (VmRSS) or its peak so far (VmHWM), in MB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _serve(port: int, log_path: Path, timeout_s: float = 180.0):
    """`python app.py` on 127.0.0.1:port in its own process (so that its memory is the app's
    alone, not the load test's clients'); returns the Popen once the page answers."""
    import os
    import subprocess
    import sys
    import urllib.request

    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    log = log_path.open("w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the app did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.5)


def _distinct_images(folder: Path, n: int, base: str) -> list[str]:
    """n distinct images: the photo, rotated / mirrored / tinted variants."""
    from PIL import Image, ImageOps

    src = Image.open(base).convert("RGB")
    paths = []
    for i in range(n):
        im = src.rotate(90 * (i % 4), expand=True)
        if (i // 4) % 2:
            im = ImageOps.mirror(im)
        tint = Image.new("RGB", im.size, ((37 * i) % 256, (91 * i) % 256, (53 * i) % 256))
        im = Image.blend(im, tint, 0.08 * (i // 8))
        p = folder / f"load{i:02d}.png"
        im.save(p)
        paths.append(str(p))
    return paths


def load_test(photo: str, n: int = 16, size: int = 224, time_limit_s: float = 300.0,
              weights: str | None = None) -> dict:
    """N concurrent sessions, distinct images; no errors and no cross-talk expected.

    The app runs as `python app.py` in a process of its own on 127.0.0.1; its memory is read
    from /proc: at the start (one warm-up run done), after N sessions sent one by one, after N
    more sent at once, and its peak. weights: None for the page's default (pretrained when it
    can be had)."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor, wait

    from gradio_client import Client, handle_file

    from swinviz.budget import estimate

    from .settings import ModelSettings
    from .state import default_weights_source

    n = max(1, min(int(n), 64))
    weights = weights or default_weights_source()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory() as tmp:
        server = _serve(port, Path(tmp) / "app.log")
        pid = server.pid
        try:
            images = _distinct_images(Path(tmp), n, photo)

            def ask(path):
                t0 = time.perf_counter()
                out = Client(url, **CLIENT).predict(handle_file(path), img_size=str(size),
                                                         weights=weights, api_name="/explore")
                # every figure but "cost", which shows this run's measured forward time
                plots = [o["plot"] for k, o in zip(KINDS, out[: len(KINDS)], strict=True)
                         if k != "cost"]
                return (time.perf_counter() - t0) * 1e3, plots

            ask(images[0])  # warm-up (model built)
            rss_start = _rss_mb(pid=pid)
            alone = {p: ask(p)[1] for p in images}
            rss0 = _rss_mb(pid=pid)
            errors, lat, mismatches = [], [], 0
            with ThreadPoolExecutor(n) as pool:
                futs = {pool.submit(ask, p): p for p in images}
                done, pending = wait(futs, timeout=time_limit_s)
                for f in pending:
                    f.cancel()
                    errors.append("timeout")
                for f in done:
                    try:
                        ms, plots = f.result()
                    except Exception as exc:  # report, don't stop
                        errors.append(f"{type(exc).__name__}: {exc}")
                        continue
                    lat.append(ms)
                    mismatches += plots != alone[futs[f]]
            rss1 = _rss_mb(pid=pid)
            peak = _rss_mb("VmHWM", pid=pid)
        finally:
            _stop(server)
    lat.sort()
    pct = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 1)) if lat else None
    held = estimate(ModelSettings(img_size=size).config()).held
    return {
        "sessions": n, "size": size, "weights": weights, "errors": errors,
        "mismatches": mismatches,
        "p50_ms": pct(0.5) if pct else None, "p95_ms": pct(0.95) if pct else None,
        "server_rss_start_mb": round(rss_start, 1),
        "server_rss_after_n_one_by_one_mb": round(rss0, 1),
        "server_rss_after_n_at_once_mb": round(rss1, 1),
        "growth_n_one_by_one_mb": round(rss0 - rss_start, 1),
        "growth_n_at_once_mb": round(rss1 - rss0, 1),
        "growth_all_mb": round(rss1 - rss_start, 1),
        "server_peak_rss_mb": round(peak, 1),
        "held_per_session_estimate_mb": round(held / 2**20, 1),
    }


def _stop(server) -> None:
    """Stop a server `_serve` started (it is ours: make sure it goes)."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except Exception:  # noqa: BLE001
        server.kill()


REFUSED_CASES = (
    dict(img_size="224", window_size=1000),
    dict(img_size="448", window_size=1000),
    dict(img_size="448", window_size=14, embed_dim=768, num_heads=64),
)


def refused(photo: str) -> list[dict]:
    """The settings over the per-request budget (a window over the whole grid at 224 and 448 px,
    the largest settings the page once offered) through the API of `python app.py` on
    127.0.0.1: each request's time, the message, and the server's memory before and after."""
    import tempfile

    from gradio_client import Client, handle_file

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        server = _serve(port, Path(tmp) / "app.log")
        try:
            client = Client(f"http://127.0.0.1:{port}/", **CLIENT)
            for case in REFUSED_CASES:
                rss0 = _rss_mb(pid=server.pid)
                t0 = time.perf_counter()
                try:
                    client.predict(handle_file(photo), **case, weights="random",
                                   api_name="/explore")
                    message = "(not refused)"
                except Exception as exc:  # the refusal, as gradio_client raises it
                    message = str(exc)
                ms = (time.perf_counter() - t0) * 1e3
                out.append({"settings": case, "ms": round(ms, 1), "message": message,
                            "server_rss_before_mb": round(rss0, 1),
                            "server_rss_after_mb": round(_rss_mb(pid=server.pid), 1),
                            "server_peak_rss_mb": round(_rss_mb("VmHWM", server.pid), 1)})
        finally:
            _stop(server)
    return out


def start_times(repeat: int = 3, timeout_s: float = 120.0) -> dict:
    """Seconds from starting `python app.py` (HF_HUB_OFFLINE=1) to its address's first answer and
    to the app's 200, each run on a fresh free loopback port; the server is stopped after."""
    import os
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    runs_s = []
    for _ in range(repeat):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
                   HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
        t0 = time.perf_counter()
        server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        first = code = None
        try:
            while code != 200 and time.perf_counter() - t0 < timeout_s:
                try:
                    code = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).status
                except urllib.error.HTTPError as exc:
                    code = exc.code
                except OSError:
                    code = None
                if code is not None and first is None:
                    first = time.perf_counter() - t0
                time.sleep(0.02)
            runs_s.append({"first_answer_s": round(first or -1, 3),
                           "app_s": round(time.perf_counter() - t0, 3) if code == 200 else None})
        finally:
            _stop(server)
    return {"start": runs_s, "load_average": os.getloadavg()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", default=None, help="an image (default: the first in assets/)")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--no-http", action="store_true", help="skip the gradio_client round trip")
    ap.add_argument("--load", type=int, default=0, metavar="N",
                    help="also run N concurrent sessions (at most 64) and check for cross-talk")
    ap.add_argument("--load-only", action="store_true", help="only the load test (--load N)")
    ap.add_argument("--refused", action="store_true",
                    help="also send the settings over the budget and time their refusals")
    ap.add_argument("--weights", default=None, choices=("pretrained", "random"),
                    help="the load test's weights (default: the page's default)")
    ap.add_argument("--stages", action="store_true",
                    help="only the page's path per stage: upload to the open tab's figures, "
                         "to all figures, and the click pack")
    ap.add_argument("--start", action="store_true",
                    help="only the app's start: python app.py to its first answer and to the "
                         "app's own, --repeat times")
    args = ap.parse_args(argv)
    if args.start:
        print(json.dumps(start_times(args.repeat), indent=2))
        return
    photo = args.photo or str(sorted((ROOT / "assets").glob("*.jpg"))[0])
    if args.stages:
        print(json.dumps(measure_stages(photo, args.size, args.repeat), indent=2))
        return
    if not args.load_only:
        print(json.dumps(measure(photo, args.size, args.repeat, http=not args.no_http),
                         indent=2))
    if args.load:
        print(json.dumps(load_test(photo, args.load, args.size, weights=args.weights),
                         indent=2))
    if args.refused:
        print(json.dumps(refused(photo), indent=2))


if __name__ == "__main__":
    main()
