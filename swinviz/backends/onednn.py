"""oneDNN linears and the row gathers of the fast path, with their custom ops for torch.compile.

`fused_linear(x, layer, gelu, residual)` is `layer(x)` (then exact GELU, or `+ residual`):
(..., in) -> (..., out). On the CPU in float32 inference, with the switch on
(`switches.onednn`), it runs as one oneDNN call (torch's private `mkldnn` ops) on the layer's
weight as it is, with the bias and the GELU or the residual add fused into the GEMM. Nothing is
cached: every call reads the current weight. Under torch.compile it is the same call, as the
custom op `swinviz::onednn_linear` (opaque to inductor, which lowers oneDNN's own op only for
weights frozen into the graph).

`gather_rows(x, dim, index)` is `torch.index_select`; under torch.compile on the CPU it is the
custom op `swinviz::index_select` (aten's own kernel, opaque to inductor).

Also two helpers the caches of the fast path share: `same_bits` (a bit-for-bit compare) and
`records_grad` (whether autograd would record an op).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import switches

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
        # numpy's compare, single-threaded (no thread start-up on a busy machine)
        return bool(np.array_equal(a.numpy(), b.numpy()))
    return torch.equal(a, b)


def records_grad(x: torch.Tensor, *params: torch.Tensor) -> bool:
    """Whether autograd would record an op on x and these parameters."""
    return torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in params))


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


def onednn_available() -> bool:
    """Whether this torch has oneDNN's fused linear (whatever the switch says)."""
    return _ONEDNN is not None


def onednn_enabled() -> bool:
    """Whether `fused_linear` may call oneDNN: the switch is on and this torch has the ops."""
    return switches.onednn and _ONEDNN is not None


def fused_linear(x: torch.Tensor, layer: nn.Linear, gelu: bool = False,
                 residual: torch.Tensor | None = None) -> torch.Tensor:
    """`layer(x)`, then exact GELU (gelu=True) or `+ residual` (a tensor of the output's shape):
    (..., in) -> (..., out).

    With the switch on, on the CPU in float32 inference, from `switches.ONEDNN_MIN_ROWS` rows,
    this is one oneDNN call on the weight with the bias and the GELU or the residual add fused
    into the GEMM (under torch.compile through the custom op); otherwise (switch off, fewer rows,
    CUDA, autograd) the plain ops.
    """
    if gelu and residual is not None:
        raise ValueError("fused_linear fuses GELU or a residual add, not both")
    if (switches.onednn and _ONEDNN is not None and x.device.type == "cpu"
            and x.dtype == torch.float32 and layer.weight.dtype == torch.float32
            and x.numel() >= switches.ONEDNN_MIN_ROWS * x.shape[-1]
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
    `swinviz::index_select`, aten's own kernel, opaque to inductor (what consumes the rows, a
    batched GEMM or a oneDNN linear, is opaque to it anyway)."""
    if x.device.type == "cpu" and torch.compiler.is_compiling():
        return torch.ops.swinviz.index_select(x, dim, index)
    return torch.index_select(x, dim, index)


# the custom ops, registered through torch.library.Library (a cheaper dispatch per call than
# torch.library.custom_op's)
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
