"""The fast path under torch.compile (inductor), with a clean fall-back to eager.

    fast = compiled_forward(model)      # a SwinTransformer, a SwinBlockPair, a stage or a block
    logits = fast(pixels)               # = model(pixels) to 1e-5; inference only

What is compiled is the eager fast path itself (`SwinTransformerBlock.forward_fast` for every
block, patch embedding, merges, norm and head), with each block's window geometry (the gather
orders, the shift mask and the row gathers made from them) held as the wrapper's own buffers:
copies made once from the block's integers (grid, window, shift), so nothing can change them.
The weights are NOT frozen into the compiled code: they are read on every call, so a changed
model (load_state_dict, edits in place) is seen by the next call, with no cache to go stale.

Two things are made outside inductor's graph and passed in: each block's bias + mask
(`FastGraph.addends`: the attention's cached copy, checked bit for bit against the bias table
and mask on every call), and the row gathers (owned buffers, gathered by aten's kernel through
an opaque op). Where the fused C window attention runs (`backends.window_kernel`) it is an
opaque op in the graph and the row gathers go unused; else the scores come from a plain batched
GEMM, and the scale, the bias + mask and the softmax run as one fused loop.

The module is recognised by what it has, not by its class (this package never imports the
model): a model has `patch_embed`, `layers` and `forward_head`; a stage `downsample` and
`blocks`; a block `forward_fast`; a pair `blocks` of blocks.

Where inductor cannot run (no C++ compiler for the CPU, no Triton for CUDA, or compiling raises),
the wrapper says so once in a warning and runs the eager fast path from then on. The first call
for each input shape compiles (tens of seconds to minutes, reported by `compile_seconds`); later
calls run the compiled code. Not for ZeroGPU (each request may land on a fresh process): the app
decides where to use it.
"""

from __future__ import annotations

import inspect
import os
import shutil
import time
import warnings

import torch
from torch import nn

# inductor's settings for the variants the bench measures; "default" is what compiled_forward uses
OPTIONS: dict[str, dict] = {
    "default": {},
    # weights folded into the compiled code as constants (oneDNN/MKL packing at compile time):
    # only for the bench, on a private copy of the module (see `compiled_forward(freeze=True)`)
    "freezing": {"freezing": True},
    "freezing + max-autotune": {"freezing": True, "max_autotune": True},
}


def cpp_compiler() -> str | None:
    """The path of the C++ compiler inductor would call on the CPU, or None when there is none."""
    try:
        from torch._inductor import config

        names = [c for c in config.cpp.cxx if c]
    except (ImportError, AttributeError):
        names = []
    for name in names or [os.environ.get("CXX", "g++")]:
        path = shutil.which(name)
        if path:
            return path
    return None


def compile_unavailable(device: torch.device | str = "cpu") -> str | None:
    """Why torch.compile cannot run on `device` here (a sentence), or None when it can."""
    device = torch.device(device)
    if not hasattr(torch, "compile"):
        return f"this torch ({torch.__version__}) has no torch.compile"
    if device.type == "cpu" and cpp_compiler() is None:
        return ("inductor needs a C++ compiler for the CPU and none was found (install g++ or "
                "set CXX)")
    if device.type == "cuda":
        try:
            from torch.utils._triton import has_triton
        except ImportError:
            return "this torch cannot tell whether Triton is installed"
        if not has_triton():
            return "inductor needs Triton for CUDA and it is not installed"
    return None


def _is_block(m) -> bool:
    """Whether m is a swinviz block (it has the fast path with its geometry given)."""
    return callable(getattr(m, "forward_fast", None))


def _kind(module: nn.Module) -> str | None:
    """"model", "stage", "pair", "block", or None for a module this path does not know."""
    if all(hasattr(module, a) for a in ("patch_embed", "layers", "forward_head", "norm")):
        return "model"
    blocks = getattr(module, "blocks", None)
    if isinstance(blocks, nn.ModuleList) and all(_is_block(b) for b in blocks):
        return "stage" if hasattr(module, "downsample") else "pair"
    return "block" if _is_block(module) else None


class _Geometry(nn.Module):
    """Every block's (order, inverse order, mask) and the (qkv, merge) row gathers made from
    them, as buffers owned by this module."""

    def __init__(self, blocks: list[nn.Module], device: torch.device) -> None:
        super().__init__()
        for k, blk in enumerate(blocks):
            order, inv, mask = (None if t is None else t.clone() for t in blk._geometry(device))
            qkv_rows, merge_rows = blk.fast_rows(order, inv)
            for name, t in (("order", order), ("inv", inv), ("mask", mask),
                            ("qkv_rows", qkv_rows), ("merge_rows", merge_rows)):
                self.register_buffer(f"{name}{k}", t, persistent=False)

    def get(self, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Block k's (order, inv, mask)."""
        return getattr(self, f"order{k}"), getattr(self, f"inv{k}"), getattr(self, f"mask{k}")

    def rows(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Block k's (qkv rows, merge rows)."""
        return getattr(self, f"qkv_rows{k}"), getattr(self, f"merge_rows{k}")


class FastGraph(nn.Module):
    """The module's fast path written so that torch.compile sees one graph: the same ops as the
    module's own forward, with the blocks' geometry from owned buffers.

    module: a `swinviz.model.SwinTransformer` ((B, 3, H, W) pixels -> (B, classes) logits), or a
    `SwinTransformerStage`, `SwinBlockPair` or `SwinTransformerBlock` ((B, L, C) -> (B, L', C')).
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.kind = _kind(module)
        if self.kind is None:
            raise TypeError(
                f"compiled_forward takes a swinviz SwinTransformer, stage, block pair or block, "
                f"not {type(module).__name__}"
            )
        self.module = module
        # in the order the forward meets them (module order): block k uses geometry k
        blocks = [m for m in module.modules() if _is_block(m)]
        device = next(module.parameters()).device
        self.geometry = _Geometry(blocks, device)
        self.blocks = blocks

    def addends(self, x: torch.Tensor) -> list[torch.Tensor | None]:
        """Every block's bias + mask for a batch like x (the module's input), made outside the
        compiled graph (`SwinTransformerBlock.fast_addend`: cached on the CPU, checked bit for
        bit against the current bias table and mask on every call), where inductor would
        rebuild each from the table on every call."""
        # each block's own mask (equal to this wrapper's copy), which the cache matches by identity
        return [blk.fast_addend(x, blk._geometry(x.device)[2]) for blk in self.blocks]

    def _blocks(self, blocks, x: torch.Tensor, k: int,
                addends: list[torch.Tensor | None]) -> tuple[torch.Tensor, int]:
        for blk in blocks:
            x = blk.forward_fast(x, *self.geometry.get(k), addend=addends[k],
                                 rows=self.geometry.rows(k))
            k += 1
        return x, k

    def forward(self, x: torch.Tensor, addends: list[torch.Tensor | None]) -> torch.Tensor:
        """x: the module's input; addends: `self.addends(x)`."""
        m = self.module
        if self.kind in ("pair", "block"):
            blocks = m.blocks if self.kind == "pair" else [m]
            return self._blocks(blocks, x, 0, addends)[0]
        if self.kind == "stage":
            return self._blocks(m.blocks, m.downsample(x), 0, addends)[0]
        x, k = m.patch_embed(x), 0
        for layer in m.layers:
            x, k = self._blocks(layer.blocks, layer.downsample(x), k, addends)
        return m.forward_head(m.norm(x))


class CompiledForward:
    """`module(x)` through torch.compile, inference only (runs under inference_mode).

    compile_seconds: {input signature: seconds the first call for it took (compile + run)}.
    compiled: False once the wrapper has fallen back to eager (`reason` says why).
    """

    def __init__(self, module: nn.Module, options: dict | None = None, *,
                 freeze: bool = False) -> None:
        self.module = module
        self.graph = FastGraph(module)
        self.options = dict(options or {})
        self.freeze = freeze or bool(self.options.get("freezing"))
        if self.freeze:  # the weights become constants: compile a private copy, never the module
            import copy

            self.options["freezing"] = True
            self.graph = copy.deepcopy(self.graph)
        self.compile_seconds: dict[tuple, float] = {}
        device = next(module.parameters()).device
        self.reason = no_fast_path(module) or compile_unavailable(device)
        self.compiled = self.reason is None
        self._fn = None
        if self.compiled:
            kwargs = {}
            if "isolate_recompiles" in inspect.signature(torch.compile).parameters:
                # its own compiled entries: other compiled modules (whose graphs share the code
                # of FastGraph.forward) do not count against its recompile limit, past which
                # torch would run it eager without a word
                kwargs["isolate_recompiles"] = True
            self._fn = torch.compile(self.graph, dynamic=False, options=self.options or None,
                                     **kwargs)
        else:
            self._warn()

    def _warn(self) -> None:
        warnings.warn(f"swinviz: torch.compile is not used ({self.reason}); running the "
                      "module's own eager forward instead", RuntimeWarning, stacklevel=3)

    def _valid(self, x: torch.Tensor) -> bool:
        """Whether x has the shape the module takes (else the eager module says what is wrong)."""
        m = self.module
        if self.graph.kind == "model":
            return x.ndim == 4 and tuple(x.shape[-2:]) == m.patch_embed.img_size
        first = m if self.graph.kind == "block" else m.blocks[0]
        (H, W), C = first.input_resolution, first.dim
        down = getattr(m, "downsample", None)
        if down is not None and not isinstance(down, nn.Identity):
            (H, W), C = down.input_resolution, down.dim
        return x.ndim == 3 and x.shape[1] == H * W and x.shape[2] == C

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.compiled or not self._valid(x):
            return self.module(x)
        key = (tuple(x.shape), x.dtype, x.device)
        if key in self.compile_seconds:
            return self._fn(x, self.graph.addends(x))
        t0 = time.perf_counter()
        try:
            y = self._fn(x, self.graph.addends(x))
        except Exception as e:  # a compile that fails (compiler, Triton, inductor): eager
            self.compiled = False
            self.reason = f"compiling failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
            self._warn()
            return self.module(x)
        self.compile_seconds[key] = time.perf_counter() - t0
        return y


def no_fast_path(module: nn.Module) -> str | None:
    """Why `module` has no fast path to compile (a sentence), or None: Swin V2's blocks (cosine
    attention, the bias MLP, post-norms) run only their own forward; the fused fast path this
    module compiles is Swin V1's (`forward_fast`)."""
    blocks = [b for b in module.modules() if hasattr(b, "input_resolution") and hasattr(b, "attn")]
    if any(not hasattr(b, "forward_fast") for b in blocks):
        return ("Swin V2's blocks have no fast path to compile: only Swin V1's blocks have one "
                "(cosine attention and the bias MLP run in their own forward)")
    return None


def compiled_forward(module: nn.Module, options: dict | None = None, *,
                     freeze: bool = False) -> CompiledForward:
    """A callable that runs `module` (a swinviz SwinTransformer, stage, block pair or block) on
    its fast path through torch.compile(dynamic=False), inference only, agreeing with the eager
    fast path to 1e-5; it falls back to eager (one warning) where inductor cannot run.

    options: inductor settings (e.g. `OPTIONS["freezing + max-autotune"]`).
    freeze: fold the weights into the compiled code as constants. The callable then runs a
    private copy of the module as it was now, and later changes to the module are NOT seen.
    """
    return CompiledForward(module, options, freeze=freeze)
