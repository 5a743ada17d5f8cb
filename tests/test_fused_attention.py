"""The fused C window attention (swinviz/backends/window_kernel/: the C source and its loader):
the traced answer wherever the fast path runs it, its switch, its build and its fall-back."""

import ctypes
import os
import warnings

import pytest
import torch

import swinviz.backends as kernels
from swinviz import SwinBlockPair
from swinviz.backends import window_kernel
from swinviz.block import init_weights

# only a machine without a C compiler skips: where there is one, the kernel must build and pass
# its check (else these tests fail), on CPUs where it prefers the GEMMs too (kernel_on_any_cpu)
needs_kernel = pytest.mark.skipif(window_kernel._c_compiler() is None, reason="no C compiler")
pytestmark = pytest.mark.usefixtures("kernel_on_any_cpu")


def make_pair(C, H, W, nH, M, s=None, seed=0):
    torch.manual_seed(seed)
    pair = SwinBlockPair(C, (H, W), nH, window_size=M, shift_size=s)
    init_weights(pair)
    return pair.eval()


@pytest.fixture
def kernel_calls(monkeypatch):
    """The calls the fast path makes to the kernel, as (qkv shape, order length)."""
    calls = []
    run = window_kernel._window_attention

    def counted(qkv, order, *args):
        calls.append((tuple(qkv.shape), order.numel()))
        return run(qkv, order, *args)

    monkeypatch.setattr(window_kernel, "_window_attention", counted)
    return calls


@needs_kernel
@pytest.mark.parametrize(
    "C,H,W,nH,M,s,B",
    [(96, 56, 56, 3, 7, None, 1),   # stage 1 of Swin-T
     (96, 14, 14, 3, 7, 3, 2),      # two images
     (48, 9, 11, 2, 7, 3, 1),       # padded to 14 x 14: padding slots read, never written
     (72, 12, 12, 3, 4, 2, 1),      # heads 24 wide (not a multiple of 16), 16-token windows
     (64, 24, 24, 2, 12, 6, 1),     # 144-token windows: three blocks of queries
     (128, 8, 8, 2, 8, 4, 1),       # heads 64 wide, the widest the kernel takes
     (16, 6, 6, 2, 3, 1, 3)],       # 9-token windows, three images
)
def test_the_fused_core_gives_the_traced_answer(kernel_calls, C, H, W, nH, M, s, B):
    pair = make_pair(C, H, W, nH, M, s)
    x = torch.randn(B, H * W, C)
    with torch.no_grad():
        fast = pair(x)
        traced, _ = pair(x, return_trace=True)
    torch.testing.assert_close(fast, traced, rtol=0, atol=1e-5)
    assert len(kernel_calls) == 2  # both blocks ran the kernel
    Hp, Wp = pair.blocks[0].padded_resolution
    assert kernel_calls[0] == ((B, H * W + (Hp * Wp != H * W), 3 * C), Hp * Wp)


@needs_kernel
def test_heads_wider_than_the_kernel_take_the_batched_gemms(kernel_calls):
    pair = make_pair(160, 8, 8, 2, 4, 2)  # heads 80 wide
    x = torch.randn(1, 64, 160)
    with torch.no_grad():
        fast = pair(x)
        traced, _ = pair(x, return_trace=True)
    torch.testing.assert_close(fast, traced, rtol=0, atol=1e-5)
    assert kernel_calls == []


@needs_kernel
def test_the_switch_turns_the_kernel_off(kernel_calls):
    pair = make_pair(32, 8, 8, 2, 4, 2)
    x = torch.randn(1, 64, 32)
    with torch.no_grad():
        fused = pair(x)
        assert len(kernel_calls) == 2 and kernels.fused_attention_enabled()
        with kernels.use_fused_attention(False):
            assert not kernels.fused_attention_enabled()
            gemms = pair(x)
        assert kernels.fused_attention_enabled()  # restored on leaving
    assert len(kernel_calls) == 2
    torch.testing.assert_close(fused, gemms, rtol=0, atol=1e-5)
    assert kernels.set_fused_attention(False) is True
    try:
        assert kernels.set_fused_attention(False) is False
    finally:
        kernels.set_fused_attention(True)


@needs_kernel
def test_autograd_and_asked_for_probabilities_take_the_other_cores(kernel_calls):
    pair = make_pair(32, 8, 8, 2, 4, 2)
    x = torch.randn(1, 64, 32, requires_grad=True)
    pair(x).sum().backward()
    with torch.no_grad():
        attn = []
        for blk in pair.blocks:
            blk(x, attn_out=attn)
    assert kernel_calls == [] and len(attn) == 2


def test_without_a_compiler_the_fast_path_says_why_and_runs_the_gemms(monkeypatch):
    monkeypatch.setattr(window_kernel, "_wa", {})  # not tried yet in this process
    monkeypatch.setattr(window_kernel, "_c_compiler", lambda: None)
    with pytest.warns(RuntimeWarning, match="no C compiler was found"):
        assert kernels.fused_attention_unavailable() == (
            "no C compiler was found (install gcc or set CC)")
    assert not kernels.fused_attention_enabled()
    pair = make_pair(32, 8, 8, 2, 4, 2)
    x = torch.randn(2, 64, 32)
    with torch.no_grad():
        assert pair.blocks[1].attn.backend(x).name == "gemms"
    with torch.no_grad():
        torch.testing.assert_close(pair(x), pair(x, return_trace=True)[0], rtol=0, atol=1e-5)


def _failed_build_reason(monkeypatch, tmp_path, script: str) -> str:
    """What the loader says (and warns) when the C compiler is the shell `script`, failing."""
    failing = tmp_path / "cc"
    failing.write_text(script)
    failing.chmod(0o755)
    monkeypatch.setenv("SWINVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(window_kernel, "_wa", {})
    monkeypatch.setattr(window_kernel, "_c_compiler", lambda: str(failing))
    with pytest.warns(RuntimeWarning, match="could not build it"):
        return kernels.fused_attention_unavailable()


def test_a_compiler_that_fails_is_reported_in_a_sentence(monkeypatch, tmp_path):
    reason = _failed_build_reason(
        monkeypatch, tmp_path,
        "#!/bin/sh\necho 'cc: error: this compiler is broken' >&2\nexit 1\n")
    assert reason == "cc could not build it: cc: error: this compiler is broken"
    assert os.listdir(tmp_path / "cache") == []  # no half-written library left behind


def test_a_failed_build_is_named_by_its_error_line_not_the_caret_under_it(monkeypatch,
                                                                          tmp_path):
    # what GCC printed where the kernel's register hint did not fit the CPU's vectors (AVX2)
    reason = _failed_build_reason(
        monkeypatch, tmp_path,
        "#!/bin/sh\ncat >&2 <<'SAID'\n"
        "window_attention.c:173:13: note: in expansion of macro 'IN_REGISTER'\n"
        "window_attention.c:74:24: error: impossible constraint in 'asm'\n"
        "   74 | #define IN_REGISTER(v) __asm__(\"\" : \"+v\"(v))\n"
        "      |                        ^~~~~~~\n"
        "SAID\nexit 1\n")
    assert reason == ("cc could not build it: window_attention.c:74:24: error: impossible "
                      "constraint in 'asm'")


@needs_kernel
@pytest.mark.parametrize("march", ["x86-64", "x86-64-v3", "x86-64-v4"])
def test_the_kernel_compiles_for_each_x86_vector_width(march, tmp_path):
    # SSE2, AVX2 and AVX-512: -march=native on any of them must build (compiled, not run)
    if window_kernel.platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("an x86 compiler's targets")
    cc = window_kernel._c_compiler()
    run = window_kernel.subprocess.run(
        [cc, "-O3", f"-march={march}", "-fopenmp", "-shared", "-fPIC", "-o",
         str(tmp_path / "k.so"), window_kernel._WA_SOURCE], capture_output=True, text=True)
    assert run.returncode == 0, window_kernel._first_error(run.stderr)


def _wrapped_cc(tmp_path, march: str):
    """A C compiler that builds as the real one with -march=native taken for -march=`march`."""
    cc = tmp_path / "cc"
    cc.write_text(f'#!/bin/sh\nfor a; do shift; [ "$a" = -march=native ] && a=-march={march}; '
                  f'set -- "$@" "$a"; done\nexec {window_kernel._c_compiler()} "$@"\n')
    cc.chmod(0o755)
    return str(cc)


@needs_kernel
def test_a_kernel_built_for_narrower_registers_leaves_the_attention_to_the_gemms(monkeypatch,
                                                                                  tmp_path):
    # an AVX2 build (what -march=native gives on a CPU without AVX-512): correct, and slower
    # than the GEMMs, so not used, and no warning for that choice
    if window_kernel.platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("an x86 compiler's targets")
    monkeypatch.undo()  # the real preference, not kernel_on_any_cpu's
    monkeypatch.setenv("SWINVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(window_kernel, "_wa", {})
    cc = _wrapped_cc(tmp_path, "x86-64-v3")
    monkeypatch.setattr(window_kernel, "_c_compiler", lambda: cc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kernels.fused_attention_unavailable() == window_kernel.NARROW_VECTORS
    assert not kernels.fused_attention_enabled()
    pair = make_pair(32, 8, 8, 2, 4, 2)
    with torch.no_grad():
        assert pair.blocks[1].attn.backend(torch.randn(1, 64, 32)).name == "gemms"


@needs_kernel
@pytest.mark.parametrize("march,wide", [("x86-64-v3", 0), ("x86-64-v4", 1)])
def test_the_kernel_says_whether_it_was_built_for_16_float_registers(monkeypatch, tmp_path,
                                                                     march, wide):
    if window_kernel.platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("an x86 compiler's targets")
    monkeypatch.setenv("SWINVIZ_CACHE_DIR", str(tmp_path / "cache"))
    lib = ctypes.CDLL(window_kernel._build_window_attention(_wrapped_cc(tmp_path, march)))
    assert lib.swin_window_attention_wide() == wide  # a constant: safe to call on any x86 CPU


def test_a_kernel_that_gives_a_wrong_answer_is_refused():
    def writes_nothing(*args):
        return 0

    assert window_kernel._check_window_attention(writes_nothing) == (
        "the built kernel did not give the plain ops' answer in a check")


@needs_kernel
def test_the_build_is_cached_by_its_source(monkeypatch, tmp_path):
    monkeypatch.setenv("SWINVIZ_CACHE_DIR", str(tmp_path))
    cc = window_kernel._c_compiler()
    first = window_kernel._build_window_attention(cc)
    builds = []
    run = window_kernel.subprocess.run

    def counted(args, **kw):
        builds.extend(a for a in args if str(a).endswith(".c"))
        return run(args, **kw)

    monkeypatch.setattr(window_kernel.subprocess, "run", counted)
    assert window_kernel._build_window_attention(cc) == first and builds == []  # from the cache
    changed = tmp_path / "window_attention.c"
    changed.write_text(open(window_kernel._WA_SOURCE).read() + "\n/* changed */\n")
    monkeypatch.setattr(window_kernel, "_WA_SOURCE", str(changed))
    second = window_kernel._build_window_attention(cc)
    assert second != first and builds == [str(changed)]  # a new source is built anew


@needs_kernel
def test_an_order_outside_the_tokens_is_refused_before_any_read():
    qkv = torch.randn(1, 9, 3 * 8)
    addend = torch.zeros(2, 9, 16)  # the bias of 2 heads, no mask
    order = torch.arange(9)
    torch.testing.assert_close(
        kernels.window_attention(qkv, order, addend, 9, 2, 0.5),
        window_kernel._plain_window_attention(qkv, order, addend, 9, 2, 0.5), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="order names tokens outside 0..8"):
        kernels.window_attention(qkv, order + 1, addend, 9, 2, 0.5)
    with pytest.raises(ValueError, match="window_attention takes qkv"):
        kernels.window_attention(qkv, order, torch.zeros(2, 9, 9), 9, 2, 0.5)
