"""The benchmark's machinery: round-robin timing, the table's ratios, a quick run end to end.
(Speed itself is reported by `python -m swinviz.bench`, never asserted.)"""

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


def test_quick_run_times_every_variant(monkeypatch, capsys):
    monkeypatch.setattr(bench, "SHAPES", ((16, 8, 2, 4),))
    rows = bench.bench_pairs(torch.device("cpu"), torch.float32, quick=True)
    (row,) = rows
    for name in ("swinviz fast", "swinviz traced", bench.FLOOR, bench.NO_ATTENTION):
        assert isinstance(row[name], float) and row[name] > 0
    for name in bench.ANCHORS:  # timed, or why not
        assert isinstance(row[name], float) or row[name].startswith("n/a (")
    threads = torch.get_num_threads()
    try:
        assert bench.main(["--quick", "--no-figures", "--threads", "1"]) == 0
    finally:
        torch.set_num_threads(threads)  # main sets it for the whole process
    out = capsys.readouterr().out
    assert "| C=16, 8x8, 2 heads, M=4 |" in out and "fast / best anchor" in out
