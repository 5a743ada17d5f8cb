"""CPU kernels outside the paper, each behind its own switch: oneDNN linears, and the fused
window attention (`window_attention`, C in `csrc/window_attention.c`, built at first use; see
that section below).

`fused_linear(x, layer, gelu, residual)` is `layer(x)` (then exact GELU, or `+ residual`). On the
CPU in float32 inference it runs as one oneDNN call (torch's private `mkldnn` ops) on the layer's
weight as it is, with the bias and the GELU or the residual add fused into the GEMM. Nothing is
cached: every call reads the current weight. Under torch.compile it is the same call, as the
custom op `swinviz::onednn_linear` (opaque to inductor, which lowers oneDNN's own op only for
weights frozen into the graph).

Measured on the shared 2-core AVX-512 CPU (torch 2.14.1, fastest of 40 round-robin calls)
against `F.linear` (MKL): every linear shape of Swin-T at 224, one thread, 0.72-0.91x per shape
and 0.89x summed over the model (78.6 vs 88.7 ms); two threads, the 3136- and 9216-row shapes,
0.70-0.98x. Weights packed once into oneDNN's blocked layout (kept beside a private copy of the
weight, compared bit for bit on every call) were no faster at 3136-9216 rows and slower at 49-196
rows, where the compare reads as many bytes as the GEMM (1.13-1.29x of F.linear at 49 rows), so
nothing is packed.

The switch: `set_onednn(False)`, `with use_onednn(False): ...`, or the environment variable
`SWINVIZ_ONEDNN=0` (read at import) make every linear the plain `nn.Linear` call, and the private
ops are then never called. The setting is process-wide.
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
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# the integer type of each element size, to compare tensors bit for bit
_BITS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether a and b have the same shape, dtype and device and the same bits in every element
    (unlike `==`, NaN equals the same NaN and -0.0 differs from 0.0). On the CPU a memory compare;
    elsewhere `torch.equal`, which waits for the device."""
    if a.shape != b.shape or a.dtype != b.dtype or a.device != b.device:
        return False
    bits = _BITS.get(a.element_size())
    if bits is None or a.dtype.is_complex:
        return torch.equal(a, b)
    a, b = a.detach().view(bits), b.detach().view(bits)
    if a.device.type == "cpu" and a.numel() > 4096:
        # numpy's compare, single-threaded: 2x faster than torch.equal from 16k elements on a
        # 2-core CPU, and no thread start-up (which costs up to ms on a busy machine)
        return bool(np.array_equal(a.numpy(), b.numpy()))
    return torch.equal(a, b)


def _onednn_ops():
    """oneDNN's linear (bias and GELU fused into the GEMM) and its linear with a residual add
    fused in, where this torch has both and they give the plain answer; else None."""
    try:
        linear = torch.ops.mkldnn._linear_pointwise
        w = torch.ones(3, 2)
        probe = linear(torch.ones(1, 2), w, torch.zeros(3), "gelu", [], "none")
        added = linear.binary(torch.ones(1, 2), torch.ones(1, 3), w, torch.zeros(3), "add")
        right = (torch.allclose(probe, F.gelu(torch.full((1, 3), 2.0)))
                 and torch.allclose(added, torch.full((1, 3), 3.0)))
        return (linear.default, linear.binary) if right else None
    except (AttributeError, RuntimeError):
        return None


_ONEDNN = _onednn_ops() if torch.backends.mkldnn.is_available() else None
_ONEDNN_LINEAR, _ONEDNN_LINEAR_ADD = _ONEDNN or (None, None)

# fewest rows (tokens) for which a linear runs as one oneDNN call: every linear of Swin-T at 224
# (49 to 3136 rows) and of the bench's pairs (784 to 9216) was faster in oneDNN (module
# docstring), so all of them
ONEDNN_MIN_ROWS = 1


def _env_setting(name: str, on: str, off: str) -> bool:
    """A switch from the environment variable `name`: on unless it says 0 / false / off / no."""
    value = os.environ.get(name, "1").strip().lower()
    if value in ("0", "false", "off", "no"):
        return False
    if value not in ("", "1", "true", "on", "yes"):
        warnings.warn(
            f"{name}={value!r} is not understood; expected 1 ({on}, the default) or 0 ({off}). "
            "Leaving it on.",
            stacklevel=2,
        )
    return True


_enabled = _env_setting("SWINVIZ_ONEDNN", "use oneDNN's linears", "plain torch linears")


def onednn_available() -> bool:
    """Whether this torch has oneDNN's fused linear (whatever the switch says)."""
    return _ONEDNN is not None


def onednn_enabled() -> bool:
    """Whether `fused_linear` may call oneDNN: the switch is on and this torch has the ops."""
    return _enabled and _ONEDNN is not None


def set_onednn(enabled: bool) -> bool:
    """Turn the oneDNN linears on or off for the whole process; returns the previous setting."""
    global _enabled
    previous, _enabled = _enabled, bool(enabled)
    return previous


@contextmanager
def _switched(setter, enabled: bool) -> Iterator[None]:
    """Runs the block with the switch `setter` sets at `enabled`, then restores it."""
    previous = setter(enabled)
    try:
        yield
    finally:
        setter(previous)


def use_onednn(enabled: bool):
    """`with use_onednn(False): ...` runs the block with plain linears, then restores the
    previous setting."""
    return _switched(set_onednn, enabled)


def records_grad(x: torch.Tensor, *params: torch.Tensor) -> bool:
    """Whether autograd would record an op on x and these parameters."""
    return torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in params))


def fused_linear(x: torch.Tensor, layer: nn.Linear, gelu: bool = False,
                 residual: torch.Tensor | None = None) -> torch.Tensor:
    """`layer(x)`, then exact GELU (gelu=True) or `+ residual` (a tensor of the output's shape):
    (..., in) -> (..., out).

    With the switch on, on the CPU in float32 inference, from ONEDNN_MIN_ROWS rows, this is one
    oneDNN call on the weight with the bias and the GELU or the residual add fused into the GEMM
    (under torch.compile through the custom op); otherwise (switch off, fewer rows, CUDA,
    autograd) the plain ops.
    """
    if gelu and residual is not None:
        raise ValueError("fused_linear fuses GELU or a residual add, not both")
    if (_enabled and _ONEDNN is not None and x.device.type == "cpu"
            and x.dtype == torch.float32 and layer.weight.dtype == torch.float32
            and x.numel() >= ONEDNN_MIN_ROWS * x.shape[-1]
            and not records_grad(x, *layer.parameters())):
        if residual is not None and residual.dtype != torch.float32:
            pass
        elif torch.compiler.is_compiling():
            # an opaque op to inductor, on the weight as it is (read on every call)
            return torch.ops.swinviz.onednn_linear(x, layer.weight, layer.bias, gelu, residual)
        elif residual is not None:
            return _ONEDNN_LINEAR_ADD(x, residual.contiguous(), layer.weight, layer.bias, "add")
        else:
            return _ONEDNN_LINEAR(x, layer.weight, layer.bias, "gelu" if gelu else "none", [],
                                  "none")
    y = layer(x)
    if gelu:
        return F.gelu(y)
    return y if residual is None else y + residual


def gather_rows(x: torch.Tensor, dim: int, index: torch.Tensor) -> torch.Tensor:
    """`torch.index_select(x, dim, index)`. Under torch.compile on the CPU it is the custom op
    `swinviz::index_select`, aten's own kernel, opaque to inductor: inductor's gather of the same
    rows took 2-4x as long (stage 1's qkv rows, 28224 x 32 floats: 388 against 100 us), and
    what consumes the rows (a batched GEMM, a oneDNN linear) is opaque to it anyway."""
    if x.device.type == "cpu" and torch.compiler.is_compiling():
        return torch.ops.swinviz.index_select(x, dim, index)
    return torch.index_select(x, dim, index)


# the custom ops, registered through torch.library.Library: its dispatch costs ~2 us a call,
# torch.library.custom_op's ~8 us (51 linears in a Swin-T forward)
_LIB = torch.library.Library("swinviz", "FRAGMENT")
_LIB.define("index_select(Tensor x, int dim, Tensor index) -> Tensor")
_LIB.impl("index_select", torch.index_select, "CompositeExplicitAutograd")


@torch.library.register_fake("swinviz::index_select", lib=_LIB)
def _(x, dim, index):
    return torch.index_select(x, dim, index)


if _ONEDNN is not None:
    def _onednn_linear_op(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                          gelu: bool, residual: torch.Tensor | None) -> torch.Tensor:
        """oneDNN's linear on an (out, in) weight, bias and GELU or a residual add fused: what
        `fused_linear` calls under torch.compile (inductor lowers oneDNN's own op only for
        weights frozen into the graph)."""
        if residual is not None:
            return _ONEDNN_LINEAR_ADD(x, residual.contiguous(), weight, bias, "add")
        return _ONEDNN_LINEAR(x, weight, bias, "gelu" if gelu else "none", [], "none")

    _LIB.define("onednn_linear(Tensor x, Tensor weight, Tensor? bias, bool gelu, "
                "Tensor? residual) -> Tensor")
    _LIB.impl("onednn_linear", _onednn_linear_op, "CPU")

    @torch.library.register_fake("swinviz::onednn_linear", lib=_LIB)
    def _(x, weight, bias, gelu, residual):
        return x.new_empty(*x.shape[:-1], weight.shape[0])


# --- the fused window attention: C (csrc/window_attention.c), built at first use ---------------

_WA_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "csrc",
                          "window_attention.c")
# -march=native: the vector width and instructions of the CPU it runs on (the build is cached
# per CPU); the second set where a compiler does not know -march=native
_WA_FLAGS = (("-O3", "-march=native", "-fopenmp", "-shared", "-fPIC"),
             ("-O3", "-fopenmp", "-shared", "-fPIC"))
_WA_BUILD_TIMEOUT_S = 120
_wa_enabled = _env_setting("SWINVIZ_FUSED_ATTENTION", "the fused C window attention",
                           "batched GEMMs and a softmax")
_wa_lock = threading.Lock()
_wa: dict = {}  # "fn": the C function, or "reason": why there is none (once tried)


def _c_compiler() -> str | None:
    """The C compiler to build the kernel with: $CC, else cc, gcc or clang on the PATH."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


def _cache_dir() -> str:
    """Where built kernels are kept: $SWINVIZ_CACHE_DIR, else $XDG_CACHE_HOME/swinviz, else
    ~/.cache/swinviz; a private temporary folder where none of those can be written."""
    base = os.environ.get("SWINVIZ_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "swinviz")
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
        said = (run.stderr or run.stdout).strip().splitlines()
        errors.append(said[-1] if said else f"exit status {run.returncode}")
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
    wrong = _check_window_attention(fn)
    return (None, wrong) if wrong else (fn, None)


def _fused_attention_fn():
    """The loaded kernel, or None (the reason in fused_attention_unavailable())."""
    if "fn" not in _wa:
        with _wa_lock:
            if "fn" not in _wa:
                fn, reason = _load_window_attention()
                if reason:
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
    return _wa_enabled and _fused_attention_fn() is not None


def set_fused_attention(enabled: bool) -> bool:
    """Turn the fused window attention on or off for the whole process; returns the previous
    setting."""
    global _wa_enabled
    previous, _wa_enabled = _wa_enabled, bool(enabled)
    return previous


def use_fused_attention(enabled: bool):
    """`with use_fused_attention(False): ...` runs the block with the batched GEMMs, then
    restores the previous setting."""
    return _switched(set_fused_attention, enabled)


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
    16, zeros past N (`WindowAttention.addend(..., "fused")`); the scores are
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
