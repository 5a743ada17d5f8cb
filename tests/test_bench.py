"""The benchmark's machinery: round-robin timing, the table's ratios, a quick run end to end.
(Speed itself is reported by `python -m swinviz.bench`, never asserted.)"""

import pytest
import torch

from swinviz import bench


def test_compare_ms_runs_the_variants_round_robin():
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in ("a", "b", "c")}
    result = bench.compare_ms(fns, min_rounds=7, max_rounds=7, warmup=2)
    assert set(result) == {"a", "b", "c"} and all(v >= 0 for v in result.values())
    timed = calls[6:]  # after 2 warm-up calls of each
    assert timed == ["a", "b", "c"] * 7


def test_format_pairs_ratios_are_to_the_best_installed_anchor():
    row = {"shape": "C=8, 4x4, 1 heads, M=2", "swinviz fast": 8.0, "swinviz traced": 12.0,
           bench.FLOOR: 4.0, bench.NO_ATTENTION: 7.0, "timm": 10.0,
           "torchvision": "n/a (ImportError)", "transformers": 20.0}
    table = bench.format_pairs([row])
    header, rule, line = table.splitlines()
    cells = [c.strip() for c in line.strip("|").split("|")]
    names = [c.strip() for c in header.strip("|").split("|")]
    got = dict(zip(names, cells, strict=True))
    assert got["fast / best anchor"] == "0.80x"  # 8 / min(10, 20)
    assert got["traced / fast"] == "1.50x"
    assert got[f"{bench.FLOOR} / best anchor"] == "0.40x"
    assert got[f"{bench.NO_ATTENTION} / best anchor"] == "0.70x"
    assert got["torchvision (ms)"] == "n/a (ImportError)"
    assert rule.count("---") == len(names)


def test_ratios_are_medians_of_per_round_ratios():
    """A load that changes between rounds cancels out of each round's ratio."""
    times = {"swinviz fast": [8.0, 16.0, 8.0, 16.0, 8.0],
             "timm": [10.0, 20.0, 20.0, 20.0, 10.0], "transformers": [30.0] * 5}
    row = bench.summarize(times, bench.ANCHORS)
    assert row["swinviz fast"] == 8.0 and row["min"]["timm"] == 10.0
    # per round: 0.8, 0.8, 0.4, 0.8, 0.8 -> 0.8; the ratio of medians would be 8 / 20
    assert row["paired"]["swinviz fast"] == pytest.approx(0.8)
    lines = bench.format_model({"shape": "m", **row}).splitlines()
    got = dict(zip(*[[c.strip() for c in line.strip("|").split("|")] for line in lines[::2][:2]],
                   strict=True))
    assert got["m"] == "swinviz fast" and got["/ best anchor"] == "0.80x"
    assert got["min / best anchor min"] == "0.80x" and got["min ms"] == "8.00"


def test_compiled_variants_report_their_first_call_or_why_not(monkeypatch):
    from swinviz import SwinBlockPair
    from swinviz.backends import compiled

    monkeypatch.setattr(torch, "compile", lambda m, **k: m)  # "compiles" at once
    monkeypatch.setattr(compiled, "compile_unavailable", lambda device="cpu": None)
    pair = SwinBlockPair(16, (8, 8), 2, window_size=4).eval()
    x = torch.randn(1, 64, 16)
    row = {}
    fns = bench._compiled_variants(pair, x, "all", row)
    assert list(fns) == list(bench.COMPILE_VARIANTS["all"])
    assert all(row[f"{name}: first call s"] >= 0 for name in fns)
    with torch.inference_mode():
        torch.testing.assert_close(fns["swinviz compiled"](), pair(x), rtol=0, atol=1e-6)

    monkeypatch.setattr(compiled, "compile_unavailable", lambda device="cpu": "no compiler")
    row = {}
    assert bench._compiled_variants(pair, x, "default", row) == {}
    assert row == {"swinviz compiled": "n/a (no compiler)"}


def test_quick_run_times_every_variant(monkeypatch, capsys):
    from swinviz.config import SwinConfig

    monkeypatch.setattr(bench, "SHAPES", ((16, 8, 2, 4),))
    monkeypatch.setattr(bench, "MODEL_ARCH", SwinConfig(
        name="bench-test", img_size=32, embed_dim=16, depths=(2, 2), num_heads=(2, 4),
        window_size=4, num_classes=5))
    rows = bench.bench_pairs(torch.device("cpu"), torch.float32, quick=True)
    (row,) = rows
    for name in ("swinviz fast", "swinviz traced", bench.FLOOR, bench.NO_ATTENTION):
        assert isinstance(row[name], float) and row[name] > 0
    for name in bench.ANCHORS:  # timed, or why not
        assert isinstance(row[name], float) or row[name].startswith("n/a (")
    threads = torch.get_num_threads()
    try:
        assert bench.main(["--quick", "--no-figures", "--threads", "1", "--compile", "none"]) == 0
    finally:
        torch.set_num_threads(threads)  # main sets it for the whole process
    out = capsys.readouterr().out
    assert "| C=16, 8x8, 2 heads, M=4 |" in out and "fast / best anchor" in out
    assert "## Whole model forward" in out and "| bench-test, 32 px | median ms |" in out
    assert "| swinviz fast |" in out
    assert f"CPU window attention: {bench.attention_core()}" in out


def test_the_header_says_which_window_attention_runs(monkeypatch):
    from swinviz import backends as kernels
    from swinviz.backends import window_kernel

    with kernels.use_fused_attention(False):
        assert bench.attention_core() == (
            "batched GEMMs and a softmax (the fused C kernel is switched off)")
    monkeypatch.setattr(window_kernel, "_wa", {"fn": None, "reason": "no C compiler was found"})
    assert bench.attention_core() == (
        "batched GEMMs and a softmax (the fused C kernel is not used: no C compiler was found)")
