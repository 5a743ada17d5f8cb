"""Benchmark: `python -m swinviz.bench [--quick] [--device cpu|cuda|auto] [--threads 2]
[--compile none|default|all]`.

Times, batch 1, round-robin in one process: the whole Swin-T forward at 224 px (swinviz's fast
path, eager and compiled, against timm, torchvision and transformers when they are installed);
one W-MSA / SW-MSA block pair at the issue's shapes, fast, traced and compiled, against the same
pair in the three libraries, as ratios to the best of them; beside them two floors: the pair's
eight Linear layers alone, and the fast pair without its attention core. Then the figure build
time and JSON size, and the whole explore step (image -> trace) for a 224 input. Medians of many
runs; the first call of each compiled variant (the compile) is reported apart. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from .backends.switches import use_onednn

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
    times = time_rounds(fns, sync=sync, min_rounds=min_rounds, max_rounds=max_rounds,
                        budget_s=budget_s, warmup=warmup)
    return {name: statistics.median(t) for name, t in times.items()}


def time_rounds(fns: dict[str, Callable[[], object]], *, sync: Callable[[], None] = lambda: None,
                min_rounds: int = 30, max_rounds: int = 300, budget_s: float = 3.0,
                warmup: int = 5) -> dict[str, list[float]]:
    """Milliseconds of every call of each function, round by round (one call of each per
    round, in order): times[name][i] is round i's."""
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
    return times


def summarize(times: dict[str, list[float]], anchors) -> dict:
    """Each variant's median ms (row[name]), and in row["min"] its fastest call and in
    row["paired"] the median over rounds of its time / the best anchor's time in the same round
    (robust to a load that changes between rounds)."""
    row: dict = {name: statistics.median(t) for name, t in times.items()}
    row["min"] = {name: min(t) for name, t in times.items()}
    present = [a for a in anchors if a in times]
    if present:
        best = [min(times[a][i] for a in present) for i in range(len(times[present[0]]))]
        row["paired"] = {name: statistics.median(v / b for v, b in zip(t, best, strict=True))
                         for name, t in times.items()}
    return row


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

MODEL_ARCH = "swin_tiny_patch4_window7_224"  # the whole-model comparison: Swin-T at 224


def _timm_model(cfg, device):
    import timm

    model = timm.create_model(cfg.name, pretrained=False).to(device).eval()
    return lambda x: model(x)


def _torchvision_model(cfg, device):
    import torchvision

    names = {"swin_tiny_patch4_window7_224": "swin_t", "swin_small_patch4_window7_224": "swin_s",
             "swin_base_patch4_window7_224": "swin_b"}
    model = getattr(torchvision.models, names[cfg.name])().to(device).eval()
    return lambda x: model(x)


def _transformers_model(cfg, device):
    from transformers import SwinConfig, SwinForImageClassification

    config = SwinConfig(image_size=cfg.img_size, patch_size=cfg.patch_size,
                        embed_dim=cfg.embed_dim, depths=list(cfg.depths),
                        num_heads=list(cfg.num_heads), window_size=cfg.window_size,
                        num_labels=cfg.num_classes)
    config._attn_implementation = "sdpa"  # its fastest attention
    model = SwinForImageClassification(config).to(device).eval()
    return lambda x: model(pixel_values=x).logits


MODEL_ANCHORS = {"timm": _timm_model, "torchvision": _torchvision_model,
                 "transformers": _transformers_model}

# the compiled variants each --compile setting times: name -> (inductor options, freeze the
# weights in, oneDNN linears on). With oneDNN on, the linears are swinviz's opaque oneDNN op;
# off, inductor's own (aten GEMMs; with freezing, packed MKL or its C++ GEMM template).
COMPILE_VARIANTS = {
    "none": {},
    "default": {"swinviz compiled": ("default", False, True)},
    "all": {"swinviz compiled": ("default", False, True),
            "swinviz compiled (plain linears)": ("default", False, False),
            "swinviz compiled (freezing, plain linears)": ("freezing", True, False),
            "swinviz compiled (freezing + max-autotune, plain linears)": (
                "freezing + max-autotune", True, False)},
}


def _with_onednn(fn: Callable[[], object], on: bool) -> Callable[[], object]:
    def run():
        with use_onednn(on):
            return fn()
    return run


def _compiled_variants(module, x, compile_: str, row: dict) -> dict[str, Callable[[], object]]:
    """The compiled variants of `module` on x, compiled now (their first call, timed into
    row[f"{name}: first call s"]); a variant that falls back to eager is left out, with why."""
    from .backends.compiled import OPTIONS, compiled_forward

    fns = {}
    for name, (options, freeze, onednn) in COMPILE_VARIANTS[compile_].items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fn = compiled_forward(module, OPTIONS[options], freeze=freeze)
            run = _with_onednn(partial(fn, x), onednn)
            t0 = time.perf_counter()
            run()
        if not fn.compiled:
            row[name] = f"n/a ({fn.reason})"
            continue
        row[f"{name}: first call s"] = time.perf_counter() - t0
        fns[name] = run
    return fns


FLOOR = "linears only"
NO_ATTENTION = "all but attention"


def _linears_only(pair, x):
    """Only the pair's eight Linear layers (qkv, proj, fc1, fc2 of each block), run as the fast
    path runs them (oneDNN where it runs, GELU and residual adds fused), on inputs of the right
    shapes: a floor timed in the same round-robin."""
    from .backends.onednn import fused_linear

    L, C = x.shape[-2:]
    h = x.new_empty(1, L, 4 * C).normal_()

    def run():
        for blk in pair.blocks:
            fused_linear(x, blk.attn.qkv)
            fused_linear(x, blk.attn.proj, residual=x)
            fused_linear(x, blk.mlp.fc1, gelu=True)
            fused_linear(h, blk.mlp.fc2, residual=x)

    return run


def _all_but_attention(pair, x):
    """The fast pair with the attention core (q kᵀ, + bias + mask, softmax, @ v) left out: norms,
    gathers, all linears, GELU and residuals, as the fast path runs them. What no attention
    kernel, however fast, saves."""
    from .backends.onednn import fused_linear

    def run():
        y = x
        for blk in pair.blocks:
            order, inv, _ = blk._geometry(y.device)
            C = y.shape[-1]
            h = torch.index_select(blk.norm1(y), 1, order)
            v = fused_linear(h, blk.attn.qkv)[..., 2 * C:]  # v stands in for the attention output
            y = fused_linear(torch.index_select(v, 1, inv), blk.attn.proj, residual=y)
            y = fused_linear(fused_linear(blk.norm2(y), blk.mlp.fc1, gelu=True), blk.mlp.fc2,
                             residual=y)
        return y

    return run


def bench_model(device: torch.device, compile_: str = "default", quick: bool = False,
                arch: str = MODEL_ARCH) -> dict:
    """The whole model's forward (batch 1, float32, random weights) in swinviz (eager fast path
    and compiled variants) and in the anchor libraries, round-robin; medians in ms."""
    from .config import get_config
    from .model import SwinTransformer

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    kw = dict(min_rounds=3, max_rounds=5, budget_s=0.5, warmup=1) if quick else dict(
        min_rounds=10, budget_s=10.0, warmup=2)
    cfg = get_config(arch)
    torch.manual_seed(0)
    model = SwinTransformer(cfg).to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.randn(1, 3, cfg.img_size, cfg.img_size, device=device)
    row: dict = {"shape": f"{cfg.name}, {cfg.img_size} px"}
    with torch.inference_mode():
        fns: dict[str, Callable[[], object]] = {"swinviz fast": partial(model, x)}
        fns.update(_compiled_variants(model, x, compile_, row))
        for name, build in MODEL_ANCHORS.items():
            try:
                fns[name] = partial(build(cfg, device), x)
            except Exception as e:  # not installed, or an API this version lacks
                row[name] = f"n/a ({type(e).__name__})"
        row.update(summarize(time_rounds(fns, sync=sync, **kw), MODEL_ANCHORS))
    return row


def bench_pairs(device: torch.device, dtype: torch.dtype, compile_: str = "none",
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
        with torch.inference_mode():
            if dtype == torch.float32:
                fns.update(_compiled_variants(pair, x, compile_, row))
            for name, build in ANCHORS.items():
                try:
                    if dtype != torch.float32:
                        raise RuntimeError("anchors timed in float32 only")
                    fns[name] = partial(build(C, H, nH, M, device), x)
                except Exception as e:  # not installed, or an API this version lacks
                    row[name] = f"n/a ({type(e).__name__})"
            row.update(summarize(time_rounds(fns, sync=sync, **kw), ANCHORS))
        rows.append(row)
    return rows


def bench_explore(quick: bool = False) -> dict[str, float]:
    """Explore a 224 photo (image -> traces) and build all ten figures; times and JSON size."""
    from PIL import Image

    from .factory import load_model

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


def _ratio(row: dict, name: str) -> str:
    """name's time / the best anchor's: the median of per-round ratios where the row has them,
    else the ratio of medians; "n/a" without an anchor."""
    if not isinstance(row.get(name), float):
        return "n/a"
    if name in row.get("paired", {}):
        return f"{row['paired'][name]:.2f}x"
    anchors = [row[a] for a in ANCHORS if isinstance(row.get(a), float)]
    return f"{row[name] / min(anchors):.2f}x" if anchors else "n/a"


def _min_ratio(row: dict, name: str) -> str:
    """name's fastest call / the fastest call of the best anchor."""
    mins = row.get("min", {})
    anchors = [mins[a] for a in ANCHORS if a in mins]
    return f"{mins[name] / min(anchors):.2f}x" if anchors and name in mins else "n/a"


def _ms(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _variants(row: dict) -> list[str]:
    return [k for k in row if k not in ("shape", "min", "paired")
            and not k.endswith(": first call s")]


def format_model(row: dict) -> str:
    """Markdown table: each variant's median and fastest ms, its ratio to the best anchor
    (median of per-round ratios; and fastest / fastest), and for the compiled variants the first
    call (the compile) in seconds."""
    lines = [f"| {row['shape']} | median ms | min ms | / best anchor | min / best anchor min"
             " | first call (s) |", "|---|---|---|---|---|---|"]
    mins = row.get("min", {})
    for name in _variants(row):
        first = row.get(f"{name}: first call s")
        lines.append(f"| {name} | {_ms(row[name])} | {_ms(mins.get(name, 'n/a'))} | "
                     f"{_ratio(row, name)} | {_min_ratio(row, name)} | "
                     + (f"{first:.1f} |" if first is not None else "|"))
    return "\n".join(lines)


def format_pairs(rows: list[dict]) -> str:
    """Markdown table with ratios to the best anchor (median of per-round ratios where timed
    together) and, for compiled variants, the first call's seconds."""
    cols = ["swinviz fast", "swinviz traced"] + [
        c for c in _variants(rows[0]) if c not in ("swinviz fast", "swinviz traced")]
    compiled = [c for c in cols if c.startswith("swinviz compiled")]
    lines = ["| shape | " + " | ".join(f"{c} (ms)" for c in cols)
             + f" | fast / best anchor | traced / fast | {FLOOR} / best anchor"
             f" | {NO_ATTENTION} / best anchor |"
             + "".join(f" {c} / best anchor | {c}: first call (s) |" for c in compiled),
             "|---" * (len(cols) + 5 + 2 * len(compiled)) + "|"]
    for row in rows:
        cells = [_ms(row.get(c, "n/a")) for c in cols]
        traced = f"{row['swinviz traced'] / row['swinviz fast']:.2f}x"
        floors = " | ".join(_ratio(row, k) for k in (FLOOR, NO_ATTENTION))
        extra = "".join(
            f" {_ratio(row, c)} |"
            + (f" {row[c + ': first call s']:.1f} |" if c + ": first call s" in row else " |")
            for c in compiled)
        lines.append(f"| {row['shape']} | " + " | ".join(cells)
                     + f" | {_ratio(row, 'swinviz fast')} | {traced} | {floors} |" + extra)
    return "\n".join(lines)


def attention_core() -> str:
    """Which window attention the fast path runs on the CPU here, in words."""
    from .backends import switches
    from .backends import window_kernel as kernels

    if not switches.fused_attention:
        return "batched GEMMs and a softmax (the fused C kernel is switched off)"
    why = kernels.fused_attention_unavailable()
    if why is None:
        return "the fused C kernel (swinviz/backends/window_kernel/window_attention.c)"
    return f"batched GEMMs and a softmax (the fused C kernel is not used: {why})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m swinviz.bench", description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    p.add_argument("--half", action="store_true", help="also time float16 on CUDA")
    p.add_argument("--compile", default="default", choices=tuple(COMPILE_VARIANTS),
                   help="compiled variants to time: none, default (the compiled path's "
                   "defaults, the default) or all (also with the weights frozen in)")
    p.add_argument("--no-model", action="store_true", help="skip the whole-model part")
    p.add_argument("--no-pairs", action="store_true", help="skip the block-pair part")
    p.add_argument("--quick", action="store_true", help="fewer runs (for a smoke test)")
    p.add_argument("--no-figures", action="store_true", help="skip the explore/figures part")
    args = p.parse_args(argv)

    from .model import device_name, resolve_device

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(f"# swinviz bench: torch {torch.__version__}, {device_name(device)}, "
          f"{torch.get_num_threads()} CPU threads, batch 1, median ms\n")
    if device.type == "cpu":
        print(f"CPU window attention: {attention_core()}\n")
    if not args.no_model:
        print("## Whole model forward (float32, random weights)\n")
        print(format_model(bench_model(device, args.compile, args.quick, arch=MODEL_ARCH)),
              flush=True)
    if not args.no_pairs:
        print("\n## Block pair forward (float32)\n")
        print(format_pairs(bench_pairs(device, torch.float32, args.compile, args.quick)),
              flush=True)
    if args.half and device.type == "cuda" and not args.no_pairs:
        print("\n## Block pair forward (float16)\n")
        print(format_pairs(bench_pairs(device, torch.float16, "none", args.quick)))
    if not args.no_figures:
        print("\n## Explore and figures (CPU, 224 input, window 7)\n")
        print("| step | value |\n|---|---|")
        for k, v in bench_explore(args.quick).items():
            print(f"| {k} | {v:.2f} |" if isinstance(v, float) else f"| {k} | {v} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
