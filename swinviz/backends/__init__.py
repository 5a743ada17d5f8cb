"""The speed paths of the fast path, apart from the model that reads like the paper.

- `switches`: the process-wide switches (oneDNN linears, the fused C attention), read from the
  environment once through `swinviz.environment`, and the thresholds that choose among paths;
- `onednn`: `fused_linear` (oneDNN's linear with its bias and GELU or residual add fused),
  `gather_rows`, and the custom ops that keep both opaque to torch.compile;
- `window_kernel`: the fused window attention in C (its own folder, README and test);
- `attention`: the four attention paths (FUSED, SDPA, GEMMS, GEMMS_GRAD), the one `choose`
  among them, and bias + mask in each path's layout;
- `compiled`: the fast path under torch.compile.

`WindowAttention` and `SwinTransformerBlock` ask `attention.choose` once per forward and hand
the rest to the chosen path; the traced path (`swinviz.functional`) uses only `fused_linear`
(the same linear as `nn.Linear`, to float rounding).
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# each name is imported from its module on first use (swinviz._lazy): the app's page
# imports parts of this package before torch is imported
__getattr__, __dir__ = lazy_exports(__name__, {
    "onednn": ("fused_linear", "gather_rows", "onednn_available", "onednn_enabled", "records_grad",
               "same_bits"),
    "switches": ("set_fused_attention", "set_onednn", "use_fused_attention", "use_onednn"),
    "window_kernel": ("fused_attention_enabled", "fused_attention_takes",
                      "fused_attention_unavailable", "window_attention"),
})

if TYPE_CHECKING:
    from .onednn import (
        fused_linear,
        gather_rows,
        onednn_available,
        onednn_enabled,
        records_grad,
        same_bits,
    )
    from .switches import set_fused_attention, set_onednn, use_fused_attention, use_onednn
    from .window_kernel import (
        fused_attention_enabled,
        fused_attention_takes,
        fused_attention_unavailable,
        window_attention,
    )

__all__ = [
    "fused_attention_enabled",
    "fused_attention_takes",
    "fused_attention_unavailable",
    "fused_linear",
    "gather_rows",
    "onednn_available",
    "onednn_enabled",
    "records_grad",
    "same_bits",
    "set_fused_attention",
    "set_onednn",
    "use_fused_attention",
    "use_onednn",
    "window_attention",
]
