"""Benchmark: `python -m swinviz.bench [--quick] [--device cpu|cuda|auto] [--threads 2]`.

Times the forward pass of one W-MSA / SW-MSA block pair (batch 1) at the issue's shapes, fast and
traced, and in the same run the same pair in timm, torchvision and transformers when they are
installed, as ratios to the best of them; beside them two floors: the pair's eight Linear layers
alone, and the fast pair without its attention core. Then the figure build time and JSON size,
and the whole explore step (image -> trace) for a 224 input. Medians of many runs; nothing is
asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

SHAPES = ((96, 56, 3, 7), (96, 96, 3, 12), (192, 28, 6, 7))  # (C, H=W, heads, window)
ASSETS = Path(__file__).resolve().parent.parent / "assets"


def median_ms(fn: Callable[[], object], *, sync: Callable[[], None] = lambda: None,
              min_runs: int = 30, max_runs: int = 300, budget_s: float = 1.5,
              warmup: int = 5) -> float:
    """Median wall time of fn() in milliseconds over at least min_runs runs."""
    return compare_ms({"fn": fn}, sync=sync, min_rounds=min_runs, max_rounds=max_runs,
                      budget_s=budget_s, warmup=warmup)["fn"]


def compare_ms(fns: dict[str, Callable[[], object]], *, sync: Callable[[], None] = lambda: None,
               min_rounds: int = 30, max_rounds: int = 300, budget_s: float = 3.0,
               warmup: int = 5) -> dict[str, float]:
    """Median milliseconds of each function, run round-robin (one call of each per round) so that
    a busy machine slows every variant alike and the ratios stay fair."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    sync()
    times: dict[str, list[float]] = {name: [] for name in fns}
    start = time.perf_counter()
    rounds = 0
    while rounds < max_rounds and (rounds < min_rounds or time.perf_counter() - start < budget_s):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            sync()
            times[name].append((time.perf_counter() - t0) * 1e3)
        rounds += 1
    return {name: statistics.median(t) for name, t in times.items()}


# ------------------------------------------------------------------ the anchor libraries


def _timm_pair(C, H, nH, M, device):
    from timm.models.swin_transformer import SwinTransformerBlock as TimmBlock

    blocks = torch.nn.Sequential(*[
        TimmBlock(C, (H, H), nH, window_size=M, shift_size=0 if i == 0 else M // 2)
        for i in range(2)
    ]).to(device).eval()
    # timm >= 0.9 takes (B, H, W, C)
    return lambda x: blocks(x.view(1, H, H, C))


def _torchvision_pair(C, H, nH, M, device):
    from torchvision.models.swin_transformer import SwinTransformerBlock as TvBlock

    blocks = torch.nn.Sequential(*[
        TvBlock(C, nH, window_size=[M, M], shift_size=[0, 0] if i == 0 else [M // 2, M // 2])
        for i in range(2)
    ]).to(device).eval()
    return lambda x: blocks(x.view(1, H, H, C))


def _transformers_pair(C, H, nH, M, device):
    from transformers import SwinConfig
    from transformers.models.swin.modeling_swin import SwinLayer

    config = SwinConfig(embed_dim=C, window_size=M, num_heads=[nH], depths=[2])
    config._attn_implementation = "sdpa"  # its fastest standalone attention
    layers = [SwinLayer(config, C, (H, H), nH, shift_size=0 if i == 0 else M // 2).to(device)
              .eval() for i in range(2)]

    def run(x):
        for layer in layers:
            x = layer(x, (H, H))[0]
        return x

    return run


ANCHORS = {"timm": _timm_pair, "torchvision": _torchvision_pair,
           "transformers": _transformers_pair}

FLOOR = "linears only"
NO_ATTENTION = "all but attention"


def _linears_only(pair, x):
    """Only the pair's eight Linear layers (qkv, proj, fc1, fc2 of each block) on inputs of the
    right shapes: a floor that every implementation pays, timed in the same round-robin."""
    L, C = x.shape[-2:]
    h = x.new_empty(L, 4 * C).normal_()
    xs = x.reshape(L, C)

    def run():
        for blk in pair.blocks:
            blk.attn.qkv(xs), blk.attn.proj(xs), blk.mlp.fc1(xs), blk.mlp.fc2(h)

    return run


def _all_but_attention(pair, x):
    """The fast pair with the attention core (q kᵀ, + bias + mask, softmax, @ v) left out: norms,
    gathers, all linears, GELU and residuals. What no attention kernel, however fast, saves."""
    def run():
        y = x
        for blk in pair.blocks:
            order, inv, _ = blk.geometry(y.device)
            B, L, C = y.shape
            h = torch.index_select(blk.norm1(y), 1, order)
            h = blk.attn.proj(blk.attn.qkv(h)[..., 2 * C:])  # v stands in for the attention output
            y = y + torch.index_select(h, 1, inv)
            y = y + blk.mlp(blk.norm2(y))
        return y

    return run


def bench_pairs(device: torch.device, dtype: torch.dtype, compile_: bool = False,
                quick: bool = False) -> list[dict]:
    from .block import SwinBlockPair, init_weights

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    kw = dict(min_rounds=10, budget_s=0.5) if quick else {}
    rows = []
    for C, H, nH, M in SHAPES:
        torch.manual_seed(0)
        pair = SwinBlockPair(C, (H, H), nH, window_size=M)
        init_weights(pair)
        pair = pair.to(device, dtype).eval()
        x = torch.randn(1, H * H, C, device=device, dtype=dtype)
        row: dict = {"shape": f"C={C}, {H}x{H}, {nH} heads, M={M}"}
        fns: dict[str, Callable[[], object]] = {
            "swinviz fast": partial(pair, x),
            "swinviz traced": partial(pair, x, return_trace=True),
            FLOOR: _linears_only(pair, x),
            NO_ATTENTION: _all_but_attention(pair, x),
        }
        if compile_:
            fns["swinviz compiled"] = partial(torch.compile(pair), x)
        with torch.inference_mode():
            for name, build in ANCHORS.items():
                try:
                    if dtype != torch.float32:
                        raise RuntimeError("anchors timed in float32 only")
                    fns[name] = partial(build(C, H, nH, M, device), x)
                except Exception as e:  # not installed, or an API this version lacks
                    row[name] = f"n/a ({type(e).__name__})"
            row.update(compare_ms(fns, sync=sync, **kw))
        rows.append(row)
    return rows


def bench_explore(quick: bool = False) -> dict[str, float]:
    """Explore a 224 photo (image -> traces) and build all ten figures; times and JSON size."""
    from PIL import Image

    from .model import load_model

    kw = dict(min_runs=5, budget_s=0.5, warmup=1) if quick else dict(min_runs=10, warmup=2)
    model = load_model(device="cpu")
    img = Image.open(next(iter(sorted(ASSETS.glob("*.jpg"))))).convert("RGB")
    out = {"explore (224 input, traced)": median_ms(lambda: model.explore(img), **kw)}
    exp = model.explore(img)
    try:
        from .figures import KINDS, make_figures

        figs = make_figures(exp)
        out["all ten figures: build"] = median_ms(lambda: make_figures(exp), **kw)
        out["all ten figures: build + to_json"] = median_ms(
            lambda: [f.to_json() for f in make_figures(exp).values()], **kw)
        sizes = {k: len(figs[k].to_json()) for k in KINDS}
        out["all ten figures: JSON MB"] = sum(sizes.values()) / 1e6
        for k in KINDS:
            out[f"  {k}: build ms"] = median_ms(
                lambda k=k: make_figures(exp, kinds=(k,)), min_runs=5, budget_s=0.3, warmup=1)
            out[f"  {k}: JSON kB"] = sizes[k] / 1e3
    except Exception as e:  # figures not importable
        out["figures"] = f"n/a ({type(e).__name__}: {e})"
    return out


def format_pairs(rows: list[dict]) -> str:
    """Markdown table with ratios to the best anchor."""
    cols = ["swinviz fast", "swinviz traced"] + [c for c in rows[0] if c not in (
        "shape", "swinviz fast", "swinviz traced")]
    lines = ["| shape | " + " | ".join(f"{c} (ms)" for c in cols)
             + f" | fast / best anchor | traced / fast | {FLOOR} / best anchor"
             f" | {NO_ATTENTION} / best anchor |",
             "|---" * (len(cols) + 5) + "|"]
    for row in rows:
        anchors = [row[a] for a in ANCHORS if isinstance(row.get(a), float)]
        best = min(anchors) if anchors else None
        cells = [f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c]) for c in cols]
        ratio = f"{row['swinviz fast'] / best:.2f}x" if best else "n/a"
        traced = f"{row['swinviz traced'] / row['swinviz fast']:.2f}x"
        floors = " | ".join(f"{row[k] / best:.2f}x" if best and k in row else "n/a"
                            for k in (FLOOR, NO_ATTENTION))
        lines.append(f"| {row['shape']} | " + " | ".join(cells)
                     + f" | {ratio} | {traced} | {floors} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m swinviz.bench", description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    p.add_argument("--half", action="store_true", help="also time float16 on CUDA")
    p.add_argument("--compile", action="store_true", help="also time torch.compile(pair)")
    p.add_argument("--quick", action="store_true", help="fewer runs (for a smoke test)")
    p.add_argument("--no-figures", action="store_true", help="skip the explore/figures part")
    args = p.parse_args(argv)

    from .model import device_name, resolve_device

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(f"# swinviz bench: torch {torch.__version__}, {device_name(device)}, "
          f"{torch.get_num_threads()} CPU threads, batch 1, median ms\n")
    print("## Block pair forward (float32)\n")
    print(format_pairs(bench_pairs(device, torch.float32, args.compile, args.quick)))
    if args.half and device.type == "cuda":
        print("\n## Block pair forward (float16)\n")
        print(format_pairs(bench_pairs(device, torch.float16, False, args.quick)))
    if not args.no_figures:
        print("\n## Explore and figures (CPU, 224 input, window 7)\n")
        print("| step | value |\n|---|---|")
        for k, v in bench_explore(args.quick).items():
            print(f"| {k} | {v:.2f} |" if isinstance(v, float) else f"| {k} | {v} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
