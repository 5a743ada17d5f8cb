"""The fused window attention: one C kernel (`window_attention.c`, beside this file) that does
pad + roll + partition, the attention of every window and head, and reverse + roll back + crop
in one pass over token rows. Built with the C compiler at first use, cached per source, compiler,
flags and CPU, then checked against the plain torch ops before it is used (README.md here).

    window_attention(qkv, order, addend, L, num_heads, scale): (B, L', 3C) -> (B, L, C)

Whether it may run: the switch `switches.fused_attention` (`set_fused_attention`), and a kernel
that built and passed its check (`fused_attention_unavailable()` says why not, in a sentence).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import warnings
from contextlib import suppress

import torch

from ...environment import cache_dir
from .. import switches

_WA_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "window_attention.c")
# -march=native: the vector width and instructions of the CPU it runs on (the build is cached
# per CPU); the second set where a compiler does not know -march=native
_WA_FLAGS = (("-O3", "-march=native", "-fopenmp", "-shared", "-fPIC"),
             ("-O3", "-fopenmp", "-shared", "-fPIC"))
_WA_BUILD_TIMEOUT_S = 120
_wa_lock = threading.Lock()
_wa: dict = {}  # "fn": the C function, or "reason": why there is none (once tried)
_LIB = torch.library.Library("swinviz", "FRAGMENT")


def _c_compiler() -> str | None:
    """The C compiler to build the kernel with: $CC, else cc, gcc or clang on the PATH."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


def _cache_dir() -> str:
    """Where built kernels are kept (`environment.cache_dir()`); a private temporary folder
    where that cannot be written."""
    base = cache_dir()
    try:
        os.makedirs(base, exist_ok=True)
        if os.access(base, os.W_OK):
            return base
    except OSError:
        pass
    return tempfile.mkdtemp(prefix="swinviz-kernels-")


def _cpu_signature() -> str:
    """What -march=native depends on: the machine and, on Linux, the CPU's feature flags."""
    sig = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return sig + line
    except OSError:
        pass
    return sig + platform.processor()


def _first_error(said: str) -> str:
    """The line of a compiler's output that says what failed: its first "error" line, else
    its last line (GCC ends a diagnostic with the source line and a caret under it, which say
    nothing on their own)."""
    lines = [" ".join(line.split()) for line in said.strip().splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if "error" in line.lower():
            return line
    return lines[-1] if lines else ""


def _build_window_attention(cc: str) -> str:
    """The path of the built kernel (a shared library), compiling it unless a build of the same
    source, compiler, flags and CPU is cached. Raises RuntimeError with the compiler's words."""
    with open(_WA_SOURCE, "rb") as f:
        source = f.read()
    try:
        version = subprocess.run([cc, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout.splitlines()[:1]
    except (OSError, subprocess.SubprocessError) as e:
        raise RuntimeError(f"{cc} --version failed: {e}") from e
    errors, folder, cpu = [], _cache_dir(), _cpu_signature()
    for flags in _WA_FLAGS:
        key = hashlib.sha256(b"\0".join(
            [source, cc.encode(), repr(version).encode(), " ".join(flags).encode(),
             cpu.encode()])).hexdigest()[:20]
        path = os.path.join(folder, f"window_attention-{key}.so")
        if os.path.exists(path):
            return path
        tmp = os.path.join(folder, f".{key}-{os.getpid()}-{threading.get_ident()}.so")
        try:
            run = subprocess.run([cc, *flags, "-o", tmp, _WA_SOURCE], capture_output=True,
                                 text=True, timeout=_WA_BUILD_TIMEOUT_S)
        except (OSError, subprocess.SubprocessError) as e:
            errors.append(str(e))
            continue
        if run.returncode == 0:
            os.replace(tmp, path)  # atomic: a concurrent build writes the same bytes
            return path
        errors.append(_first_error(run.stderr or run.stdout) or f"exit status {run.returncode}")
        with suppress(OSError):
            os.remove(tmp)
    raise RuntimeError(f"{os.path.basename(cc)} could not build it: {errors[-1]}")


def _load_window_attention():
    """The kernel's C function, built and loaded now, then checked against the plain ops on a
    small case; (None, why) where that fails."""
    cc = _c_compiler()
    if cc is None:
        return None, "no C compiler was found (install gcc or set CC)"
    try:
        lib = ctypes.CDLL(_build_window_attention(cc))
    except (RuntimeError, OSError) as e:
        return None, str(e).splitlines()[0][:300]
    fn = lib.swin_window_attention
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64] * 8 + [ctypes.c_float, ctypes.c_int]
    fn.max_head_dim = lib.swin_window_attention_max_head_dim()
    wrong = _check_window_attention(fn) or _slower_here(lib)
    return (None, wrong) if wrong else (fn, None)


NARROW_VECTORS = ("this CPU has no AVX-512, and the kernel's register blocks are sized for "
                  "16-float registers: on narrower ones they spill and the batched GEMMs are "
                  "faster (docs/performance.md)")


def _slower_here(lib) -> str | None:
    """NARROW_VECTORS where the built kernel (correct, checked) was built for registers
    narrower than its 16-float vectors (`swin_window_attention_wide()` in the C source): on an
    AVX2 CPU its stage-1 block pair took 1.4x and its 12x12 windows 2x the batched GEMMs' time.
    A choice, not a failure: no warning is given for it."""
    return None if lib.swin_window_attention_wide() else NARROW_VECTORS


def _fused_attention_fn():
    """The loaded kernel, or None (the reason in fused_attention_unavailable())."""
    if "fn" not in _wa:
        with _wa_lock:
            if "fn" not in _wa:
                fn, reason = _load_window_attention()
                if reason and reason != NARROW_VECTORS:
                    warnings.warn(f"swinviz: the fused window attention is not used ({reason});"
                                  " running batched GEMMs instead", RuntimeWarning, stacklevel=3)
                _wa.update(reason=reason)
                _wa["fn"] = fn
    return _wa["fn"]


def fused_attention_unavailable() -> str | None:
    """Why the fused window attention cannot run here (a sentence), or None when it can (it is
    built and checked on the first call)."""
    _fused_attention_fn()
    return _wa["reason"]


def fused_attention_enabled() -> bool:
    """Whether the fast path may run the fused window attention: the switch is on and the
    kernel is built and checked."""
    return switches.fused_attention and _fused_attention_fn() is not None


def fused_attention_takes(x: torch.Tensor, head_dim: int) -> bool:
    """Whether `window_attention` runs for x (the block's input) and heads head_dim wide: the
    switch on, the kernel built, and x a float32 CPU tensor."""
    return (x.device.type == "cpu" and x.dtype == torch.float32 and fused_attention_enabled()
            and head_dim <= _wa["fn"].max_head_dim)


def _window_attention(qkv: torch.Tensor, order: torch.Tensor, addend: torch.Tensor, L: int,
                      num_heads: int, scale: float) -> torch.Tensor:
    """`window_attention`, run now."""
    B, Lp, C3 = qkv.shape
    rows, N, nq = addend.shape if addend.ndim == 3 else (0, 1, 0)
    C, nW, nWm = C3 // 3, order.numel() // N, rows - num_heads
    if (C3 % 3 or C % num_heads or order.numel() % N or L > Lp or nWm < 0
            or (nWm and nW % nWm) or nq != -(-N // 16) * 16 or qkv.dtype != torch.float32
            or addend.dtype != torch.float32 or order.dtype != torch.int64):
        raise ValueError(
            f"window_attention takes qkv (B, L', 3C) and an addend ({num_heads} heads + nW or 0 "
            f"windows, N, N rounded up to 16) in float32 and an int64 order of whole windows; "
            f"got qkv {tuple(qkv.shape)} {qkv.dtype}, addend {tuple(addend.shape)} "
            f"{addend.dtype}, order {tuple(order.shape)} {order.dtype}")
    fn = _fused_attention_fn()
    if fn is None:
        raise RuntimeError(f"the fused window attention cannot run: {_wa['reason']}")
    out = qkv.new_empty(B, L, C)
    rc = _run_kernel(fn, qkv.contiguous(), order.contiguous(), addend.contiguous(), out,
                     num_heads, scale, torch.get_num_threads())
    if rc == -2:
        raise ValueError(f"window_attention's order names tokens outside 0..{Lp - 1}")
    if rc:
        raise MemoryError("the fused window attention could not get its scratch memory")
    return out


def _run_kernel(fn, qkv: torch.Tensor, order: torch.Tensor, addend: torch.Tensor,
                out: torch.Tensor, num_heads: int, scale: float, threads: int) -> int:
    """The C function on contiguous float32 qkv (B, L', 3C), int64 order, addend
    (nH + nWm, N, nq) and out (B, L, C), which it fills; returns its status (0: done)."""
    B, Lp, C3 = qkv.shape
    N = addend.shape[1]
    return fn(qkv.data_ptr(), order.data_ptr(), addend.data_ptr(), out.data_ptr(), B, Lp,
              out.shape[1], order.numel() // N, N, addend.shape[0] - num_heads, num_heads,
              C3 // 3 // num_heads, scale, threads)


def window_attention(qkv: torch.Tensor, order: torch.Tensor, addend: torch.Tensor, L: int,
                     num_heads: int, scale: float) -> torch.Tensor:
    """softmax(q kᵀ * scale + addend) v in every window, read from and written to token rows:
    qkv (B, L', 3C) -> (B, L, C).

    qkv: the qkv linear's output per token ([q | k | v], head h at h*d); order (nW*N,) int64:
    the token each window slot takes (the cyclic shift and window partition, `window_order`;
    a token >= L is padding: it is read, never written); it must name each of the L tokens once.
    addend: the bias of each head, then the mask of each of nWm windows (none, or nWm dividing
    nW: window w takes mask w % nWm), as (nH + nWm, N keys, nq queries), nq = N rounded up to
    16, zeros past N (`backends.attention.addend(..., FUSED)`); the scores are
    (q kᵀ * scale + bias) + mask, the reference's order of adds.
    Output row t, head h is the attention output of the slot holding token t: window_reverse
    and the shift back included. Under torch.compile the custom op `swinviz::window_attention`.
    """
    if torch.compiler.is_compiling():
        return torch.ops.swinviz.window_attention(qkv, order, addend, L, num_heads, scale)
    return _window_attention(qkv, order, addend, L, num_heads, scale)


def _plain_window_attention(qkv: torch.Tensor, order: torch.Tensor, addend: torch.Tensor,
                            L: int, num_heads: int, scale: float) -> torch.Tensor:
    """What `window_attention` computes, in plain torch ops (for the check after a build)."""
    B, Lp, C3 = qkv.shape
    nH, N = num_heads, addend.shape[1]
    C, nW = C3 // 3, order.numel() // N
    q, k, v = qkv[:, order].view(B, nW, N, 3, nH, C // nH).permute(3, 0, 1, 4, 2, 5)
    bias, mask = addend[:nH, :, :N].mT, addend[nH:, :, :N].mT  # nH, N, N and nWm, N, N
    scores = (q * scale) @ k.transpose(-1, -2) + bias  # B, nW, nH, N, N
    if len(mask):
        scores = scores + mask.repeat(nW // len(mask), 1, 1).unsqueeze(1)
    heads = torch.softmax(scores, -1) @ v
    out = qkv.new_zeros(B, Lp, C)
    out[:, order] = heads.permute(0, 1, 3, 2, 4).reshape(B, nW * N, C)
    return out[:, :L]


def _check_window_attention(fn) -> str | None:
    """None when the built kernel gives the plain ops' answer on a small padded case with two
    images, two threads and a head width that is not a multiple of 16; else why not."""
    g = torch.Generator().manual_seed(0)
    B, nW, N, nH, d, L = 2, 4, 9, 3, 20, 30  # 36 slots: 6 of padding (token L)
    qkv = torch.randn(B, L + 1, 3 * nH * d, generator=g)
    order = torch.cat([torch.randperm(L, generator=g), torch.full((nW * N - L,), L)])
    addend = torch.zeros(nH + 2, N, 16)  # the masks of 2 windows, taken by windows 0-1, 2-3
    addend[..., :N] = torch.randn(nH + 2, N, N, generator=g)
    want = _plain_window_attention(qkv, order, addend, L, nH, d**-0.5)
    got = qkv.new_full((B, L, nH * d), float("nan"))
    rc = _run_kernel(fn, qkv, order, addend, got, nH, d**-0.5, 2)
    if rc or not torch.allclose(got, want, rtol=1e-5, atol=1e-5):
        return "the built kernel did not give the plain ops' answer in a check"
    return None


_LIB.define("window_attention(Tensor qkv, Tensor order, Tensor addend, int L, int num_heads, "
            "float scale) -> Tensor")
_LIB.impl("window_attention", _window_attention, "CPU")


@torch.library.register_fake("swinviz::window_attention", lib=_LIB)
def _(qkv, order, addend, L, num_heads, scale):
    return qkv.new_empty(qkv.shape[0], L, qkv.shape[2] // 3)
