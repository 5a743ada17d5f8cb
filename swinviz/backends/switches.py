"""The backends' switches, in one place: which speed paths the fast path may take.

Two process-wide switches, read from the environment once, at import, through
`swinviz.environment` (`onednn_default()`, `fused_attention_default()`), and changed later with
`set_onednn` / `use_onednn` and `set_fused_attention` / `use_fused_attention`:
- oneDNN linears (`backends.onednn.fused_linear`): off means every linear is the plain
  `nn.Linear` call and oneDNN's private ops are never called;
- the fused C window attention (`backends.window_kernel`): off means batched GEMMs and a softmax.

And the thresholds that choose among the attention paths (`backends.attention.choose`); they are
module attributes so that a test can move them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..environment import fused_attention_default, onednn_default

# whether the oneDNN linears may run (the ops must also exist: `onednn.onednn_enabled()`)
onednn = onednn_default()
# whether the fused C window attention may run (it must also build: `window_kernel`)
fused_attention = fused_attention_default()

# fewest rows (tokens) for which a linear runs as one oneDNN call: all of them (why:
# docs/performance.md)
ONEDNN_MIN_ROWS = 1
# on the CPU without autograd, windows of at most this many tokens attend through batched GEMMs,
# larger ones through fused scaled-dot-product attention (SDPA)
CPU_BMM_MAX_TOKENS = 64
# the batched GEMMs' scores as (keys, queries) without autograd, so that the softmax runs down
# the columns, vectorised across the queries
TRANSPOSED_SCORES = True
# under torch.compile: the scores from a plain batched GEMM, then scale + bias + mask + softmax
# as one loop of inductor's (in place of baddbmm, which first copies the bias into its output)
COMPILED_FUSED_SOFTMAX = True


def set_onednn(enabled: bool) -> bool:
    """Turn the oneDNN linears on or off for the whole process; returns the previous setting."""
    global onednn
    previous, onednn = onednn, bool(enabled)
    return previous


def set_fused_attention(enabled: bool) -> bool:
    """Turn the fused window attention on or off for the whole process; returns the previous
    setting."""
    global fused_attention
    previous, fused_attention = fused_attention, bool(enabled)
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


def use_fused_attention(enabled: bool):
    """`with use_fused_attention(False): ...` runs the block with the batched GEMMs, then
    restores the previous setting."""
    return _switched(set_fused_attention, enabled)
