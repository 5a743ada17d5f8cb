"""Golden test: the JSON of every figure kind and the outputs of `explore` for a fixed set of
explorations, compared with what was recorded in tests/golden/ before a redesign.

Cases: Swin-T at 224 px (random weights, seed 0) at stages 1-4, the 6x6 example (24 px, window
3, shift 1) and a padded size (200 px: a 50x50 grid in 7x7 windows), each in both templates,
plus a click (another query, block 0, all heads) on the attention and flow figures.

What is compared: every string exactly, except that the numbers inside a string may differ in
their last shown digit (or anywhere below 1e-6: float32 rounding noise, which varies with the
CPU's kernels); every number, typed arrays' (plotly's base64 bytes) included, to 1e-4 relative
(1e-6 absolute); embedded images (data: URIs) by their SHA-256. The measured timings are
replaced by fixed values before drawing.

Regenerate only for a change that you name in the commit:
    python tests/test_golden.py          # rewrites tests/golden/*.json.gz
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import math
import re
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
IMAGE = ROOT / "assets" / "cat.jpg"
# case -> (load_model keyword arguments, stage, pair, the click's query)
CASES: dict[str, tuple[dict, int, int, tuple[int, int]]] = {
    "stage1": (dict(img_size=224), 1, 0, (30, 20)),
    "stage2": (dict(img_size=224), 2, 0, (13, 2)),
    "stage3": (dict(img_size=224), 3, 2, (10, 12)),
    "stage4": (dict(img_size=224), 4, 0, (6, 6)),
    "6x6": (dict(img_size=24, window_size=3, shift_size=1), 1, 0, (5, 5)),
    "padded": (dict(img_size=200), 1, 0, (49, 49)),
}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def _canonical(value):
    """JSON-ready value with data: URIs replaced by their digest and floats to 7 digits."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, str) and value.startswith("data:"):
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    if isinstance(value, float):
        return float(f"{value:.7g}") if math.isfinite(value) else str(value)
    return value


def _tensor_record(tensor) -> dict:
    """A tensor as its shape, its sum and the sum of its magnitudes (`differences` compares
    the sum to float32's precision of the magnitudes: a sum of values that nearly cancel, such
    as the tokens' -0.0004 over 300 000 values, moves by more than its own 1e-4 between one
    CPU's kernels and another's)."""
    return {"shape": list(tensor.shape), "sum": float(tensor.double().sum()),
            "abs": float(tensor.double().abs().sum())}


def _exploration_record(exp) -> dict:
    """What `explore` returns, as numbers: the geometry, the logits and top-5, and for each
    traced block the shapes and sums of its tensors."""
    trace_fields = ("attn", "scores", "bias", "mask")
    traces = []
    for t in exp.traces:
        rec = {"window_size": t.window_size, "shift_size": t.shift_size,
               "input_resolution": list(t.input_resolution)}
        for name in trace_fields:
            tensor = getattr(t, name, None)
            if tensor is not None:
                rec[name] = _tensor_record(tensor)
        traces.append(rec)
    return {
        "grid": list(exp.grid), "patch_size": exp.patch_size, "window_size": exp.window_size,
        "shift_size": exp.shift_size, "stage": exp.stage, "pair": exp.pair,
        "num_heads": exp.num_heads, "embed_dim": exp.embed_dim, "blocks": list(exp.blocks),
        "tokens": _tensor_record(exp.tokens),
        "output": _tensor_record(exp.output),
        "chain": len(exp.chain),
        "logits": None if exp.logits is None else exp.logits.flatten()[:20].tolist(),
        "top5": None if exp.top5 is None else [list(t) for t in exp.top5],
        "traces": traces,
    }


@cache
def _model(**kw):
    from swinviz import load_model

    return load_model("random", **kw)


def record(case: str) -> dict:
    """The golden record of one case, as `python tests/test_golden.py` writes it."""
    from swinviz.figures import KINDS, make_figures

    kw, stage, pair, query = CASES[case]
    exp = _model(**kw).explore(IMAGE, stage=stage, pair=pair, evidence=True)
    exp = dataclasses.replace(exp, timings_ms={k: 1.0 for k in exp.timings_ms})
    out = {"explore": _exploration_record(exp), "figures": {}}
    for template in ("default", "lecture"):
        for kind, fig in make_figures(exp, KINDS, template=template).items():
            out["figures"][f"{template}/{kind}"] = fig.to_plotly_json()
    click = make_figures(exp, ("attention", "flow"), query=query, block=0, head=None)
    for kind, fig in click.items():
        out["figures"][f"click/{kind}"] = fig.to_plotly_json()
    return json.loads(json.dumps(_canonical(out), default=_default))


def _default(value):
    if hasattr(value, "tolist"):
        return _canonical(value.tolist())
    raise TypeError(type(value).__name__)


def _same_text(a: str, b: str) -> bool:
    if a == b:
        return True
    if NUMBER.sub("#", a) != NUMBER.sub("#", b):
        return False
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b), strict=True):
        if "." not in x and "e" not in x:  # whole numbers (blocks, grids, counts): exact
            if x != y:
                return False
            continue
        if abs(float(x)) < 1e-6 and abs(float(y)) < 1e-6:  # float32 rounding noise, as
            continue  # numbers: within the absolute tolerance (it varies with the CPU)
        mantissa = x.split("e")[0]
        digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
        unit = 10.0 ** -digits * (10.0 ** int(x.split("e")[1]) if "e" in x else 1.0)
        if abs(float(x) - float(y)) > 1.01 * unit:
            return False
    return True


def _typed_array(value):
    """A plotly typed array ({"dtype", "bdata"[, "shape"]}: the values' bytes in base64) as a
    numpy array, else None."""
    if not (isinstance(value, dict) and set(value) <= {"dtype", "bdata", "shape"}
            and {"dtype", "bdata"} <= set(value)):
        return None
    import base64

    import numpy as np

    a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    shape = value.get("shape")
    if shape:
        a = a.reshape([int(n) for n in str(shape).split(",")])
    return a


def differences(want, got, where: str = "", out: list | None = None) -> list[str]:
    """Where `got` differs from `want` (a few paths, for the failure message). Typed arrays
    are numbers too: compared as numbers (their bytes differ in the last bit from one CPU's
    kernels to another's)."""
    import numpy as np

    out = [] if out is None else out
    if len(out) >= 8:
        return out
    a, b = _typed_array(want), _typed_array(got)
    if a is not None and b is not None:
        if a.dtype != b.dtype or a.shape != b.shape:
            out.append(f"{where}: {a.dtype} {a.shape} in golden, {b.dtype} {b.shape} now")
        else:  # near 0, to 1e-5 of the array's largest value (a map scaled to 1 moved by
            # 1.1e-6 at one value from an AVX-512 CPU to an AVX2 one)
            finite = np.abs(a[np.isfinite(a)]) if a.dtype.kind in "fc" else np.abs(a)
            atol = max(1e-6, 1e-5 * float(finite.max())) if finite.size else 1e-6
            if not np.allclose(a, b, rtol=1e-4, atol=atol, equal_nan=True):
                bad = int((~np.isclose(a, b, rtol=1e-4, atol=atol, equal_nan=True)).sum())
                out.append(f"{where}: {bad} of {a.size} values differ from the golden record")
        return out
    if isinstance(want, dict) and isinstance(got, dict) and {"sum", "abs"} <= set(want) \
            and {"sum", "abs"} <= set(got):  # a tensor's record (`_tensor_record`)
        if not math.isclose(want["sum"], got["sum"], rel_tol=1e-4,
                            abs_tol=max(1e-6, 1e-6 * abs(want["abs"]))):
            out.append(f"{where}/sum: {want['sum']!r} in golden, {got['sum']!r} now (of "
                       f"magnitudes {want['abs']!r})")
        rest = {k: v for k, v in want.items() if k != "sum"}
        return differences(rest, {k: v for k, v in got.items() if k != "sum"}, where, out)
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got)):
            if key not in want or key not in got:
                out.append(f"{where}/{key}: only in {'golden' if key in want else 'now'}")
            else:
                differences(want[key], got[key], f"{where}/{key}", out)
    elif isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            out.append(f"{where}: {len(want)} items in golden, {len(got)} now")
        else:
            for i, (a, b) in enumerate(zip(want, got, strict=True)):
                differences(a, b, f"{where}[{i}]", out)
    elif isinstance(want, (int, float)) and isinstance(got, (int, float)) \
            and not isinstance(want, bool) and not isinstance(got, bool):
        if not math.isclose(want, got, rel_tol=1e-4, abs_tol=1e-6):
            out.append(f"{where}: {want!r} in golden, {got!r} now")
    elif isinstance(want, str) and isinstance(got, str):
        if not _same_text(want, got):
            out.append(f"{where}: {want[:120]!r} in golden, {got[:120]!r} now")
    elif want != got:
        out.append(f"{where}: {str(want)[:120]!r} in golden, {str(got)[:120]!r} now")
    return out


def golden_path(case: str) -> Path:
    return GOLDEN / f"{case}.json.gz"


@pytest.mark.parametrize("case", list(CASES))
def test_figures_and_explore_match_the_golden_record(case):
    path = golden_path(case)
    assert path.is_file(), f"no golden record {path.name}: run python tests/test_golden.py"
    want = json.loads(gzip.decompress(path.read_bytes()))
    got = record(case)
    diff = differences(want, got)
    assert not diff, f"{case}: " + "\n".join(diff)


def test_a_tensors_sum_is_compared_to_the_precision_of_its_magnitudes():
    """A sum of values that cancel may move by float32's precision of their magnitudes (not
    a failure), and no more (a failure)."""
    want = {"shape": [1, 36, 96], "sum": 1.8e-05, "abs": 2765.9}
    assert differences(want, dict(want, sum=3.7e-06)) == []  # 1.4e-5 of 2766
    assert differences(want, dict(want, sum=0.02)) != []  # 7e-6 of it: more than rounding
    assert differences(want, dict(want, abs=2800.0)) != []  # the magnitudes themselves
    assert differences({"z": [[1.0, 0.0005]]}, {"z": [[1.0, 0.000501]]}) != []  # plain lists
    # a typed array scaled to 1: 1e-5 of its largest value
    typed = {"dtype": "f4", "bdata": "AACAPwAAAAA="}  # [1.0, 0.0]
    near = {"dtype": "f4", "bdata": "AACAP6YxNTY="}  # [1.0, 2.7e-06]
    assert differences(typed, near) == []


def test_the_comparison_sees_a_change():
    """The comparison is not blind: a changed title, a moved number and a dropped trace fail."""
    base = {"layout": {"title": {"text": "Block 1: p = 0.123"}},
            "data": [{"z": [[0.5, 0.25]]}, {"x": [1]}]}
    assert differences(base, json.loads(json.dumps(base))) == []
    near = json.loads(json.dumps(base))
    near["layout"]["title"]["text"] = "Block 1: p = 0.124"  # the last shown digit
    near["data"][0]["z"][0][0] = 0.5 + 1e-7
    assert differences(base, near) == []
    for change in (lambda d: d["layout"]["title"].update(text="Block 2: p = 0.123"),
                   lambda d: d["layout"]["title"].update(text="Block 1: p = 0.133"),
                   lambda d: d["data"][0]["z"][0].__setitem__(1, 0.26),
                   lambda d: d["data"].pop()):
        other = json.loads(json.dumps(base))
        change(other)
        assert differences(base, other), other
    # a number in a sentence: rounding noise (float32's, below 1e-6) may differ, a value not
    assert _same_text("largest difference 1.7e-08", "largest difference 1.5e-08")
    assert not _same_text("largest difference 2.0e-03", "largest difference 2.5e-03")
    # typed arrays (plotly's base64 bytes): the last bit may move, a value may not
    import base64

    import numpy as np

    def typed(values):
        a = np.asarray(values, np.float32)
        return {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode(), "shape": "2, 2"}

    z = [[0.5, 0.25], [np.nan, 0.125]]
    last_bit = np.asarray(z, np.float32).view(np.uint32) + np.uint32(1)
    assert differences(typed(z), typed(last_bit.view(np.float32))) == []
    assert differences(typed(z), typed([[0.5, 0.26], [np.nan, 0.125]]))
    assert differences(typed(z), typed([[0.5, 0.25], [0.0, 0.125]]))  # a NaN filled


def write() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for case in CASES:
        data = json.dumps(record(case), sort_keys=True, separators=(",", ":")).encode()
        golden_path(case).write_bytes(gzip.compress(data, 9, mtime=0))
        print(f"{golden_path(case).relative_to(ROOT)}: {len(data) >> 10} KB of JSON")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    write()
