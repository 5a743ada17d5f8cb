"""Swin-T stage 1 as one small model: PatchEmbed, then a W-MSA / SW-MSA block pair.

`load_model(...)` builds it (random, hub or a checkpoint on disk); `model.explore(image)` runs an
image through it with tracing on and returns an `Exploration`, the single source of every figure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from .block import BlockTrace, SwinBlockPair, init_weights
from .patch_embed import PatchEmbed

PATCH_SIZE = 4


class SettingsError(ValueError):
    """A combination of settings the model cannot run; the message says which and why."""


def check_settings(
    img_size: int = 224,
    window_size: int = 7,
    shift_size: int | None = None,
    embed_dim: int = 96,
    num_heads: int = 3,
    patch_size: int = PATCH_SIZE,
) -> tuple[int, int]:
    """Validate settings before any work; returns the (window, shift) the shifted block will use.

    Raises SettingsError with a message a person understands.
    """
    for name, v in (("input size", img_size), ("window size", window_size),
                    ("embedding width", embed_dim), ("number of heads", num_heads)):
        if not isinstance(v, int) or v <= 0:
            raise SettingsError(f"{name} must be a positive whole number, got {v!r}")
    if img_size % patch_size:
        raise SettingsError(
            f"input size {img_size} is not a multiple of the patch size {patch_size}"
        )
    if embed_dim % num_heads:
        raise SettingsError(
            f"{num_heads} heads do not divide the embedding width {embed_dim} "
            f"(each head needs {embed_dim}/{num_heads} channels)"
        )
    grid = img_size // patch_size
    s = window_size // 2 if shift_size is None else shift_size
    if not isinstance(s, int) or s < 0:
        raise SettingsError(f"shift must be a whole number >= 0, got {s!r}")
    if grid <= window_size:  # SPEC fact 2: one window, no shift
        M, s_eff = grid, 0
    elif s >= window_size:
        raise SettingsError(
            f"shift {s} must be smaller than the window {window_size} (0 <= shift < window)"
        )
    else:
        M, s_eff = window_size, s
    if grid % M:
        lo = (grid // M) * M * patch_size
        hi = (grid // M + 1) * M * patch_size
        raise SettingsError(
            f"the {grid}x{grid} token grid of a {img_size}px input does not split into whole "
            f"{M}x{M} windows; use an input size that is a multiple of {M * patch_size} "
            f"(e.g. {lo} or {hi})"
        )
    return M, s_eff


@dataclass
class Exploration:
    """One image through the model, with everything the figures draw.

    image:  the RGB image the model saw (PIL, H x W pixels).
    pixels: (1, 3, H, W) ImageNet-normalised input.
    tokens: (1, L, C) patch embedding output (L = Ht * Wt), on the CPU.
    output: (1, L, C) output of the block pair, on the CPU.
    traces: [trace of block 0 (W-MSA), trace of block 1 (SW-MSA)], tensors on the CPU, float32.
    """

    image: Image.Image
    pixels: torch.Tensor
    tokens: torch.Tensor
    output: torch.Tensor
    traces: list[BlockTrace]
    patch_size: int
    embed_dim: int
    num_heads: int
    mlp_ratio: float
    device: str
    weights: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    original_size: tuple[int, int] | None = None

    @property
    def grid(self) -> tuple[int, int]:
        """(Ht, Wt): the token grid."""
        return self.traces[0].input_resolution

    @property
    def window_size(self) -> int:
        return self.traces[1].window_size

    @property
    def shift_size(self) -> int:
        return self.traces[1].shift_size

    @property
    def num_windows(self) -> int:
        H, W = self.grid
        return (H // self.window_size) * (W // self.window_size)


class SwinViz(nn.Module):
    """PatchEmbed + SwinBlockPair: (B, 3, H, W) -> (B, H/4 * W/4, C).

    Parameter names follow the reference (`patch_embed.proj`, `pair.blocks.{i}.attn.qkv`, ...).
    """

    def __init__(
        self,
        img_size: int = 224,
        window_size: int = 7,
        shift_size: int | None = None,
        embed_dim: int = 96,
        num_heads: int = 3,
        mlp_ratio: float = 4.0,
        patch_size: int = PATCH_SIZE,
    ) -> None:
        super().__init__()
        check_settings(img_size, window_size, shift_size, embed_dim, num_heads, patch_size)
        self.img_size = img_size
        self.patch_embed = PatchEmbed(img_size, patch_size, 3, embed_dim)
        self.pair = SwinBlockPair(
            embed_dim, self.patch_embed.patches_resolution, num_heads,
            window_size=window_size, shift_size=shift_size, mlp_ratio=mlp_ratio,
        )
        self.weights = "random"
        self._fast_ms: float | None = None

    @property
    def device(self) -> torch.device:
        return self.patch_embed.proj.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.patch_embed.proj.weight.dtype

    def forward(self, pixels: torch.Tensor, return_trace: bool = False):
        return self.pair(self.patch_embed(pixels), return_trace=return_trace)

    @torch.inference_mode()
    def explore(self, image, *, policy: str = "crop") -> Exploration:
        """Run one image (path, bytes, file, PIL image or array) with tracing on.

        The image is opened and sized by `swinviz.image.prepare_image`; bad images raise
        `swinviz.image.ImageError`.
        """
        from .image import prepare_image

        blk = self.pair.blocks[1]
        prepared = prepare_image(
            image, self.img_size, patch_size=self.patch_embed.patch_size,
            window_size=blk.window_size, policy=policy,
        )
        if prepared.size != self.patch_embed.img_size:
            raise SettingsError(
                f"the prepared image is {prepared.size}, "
                f"the model expects {self.patch_embed.img_size}"
            )
        x = prepared.pixels.to(self.device, self.dtype)
        sync = torch.cuda.synchronize if self.device.type == "cuda" else (lambda: None)
        t0 = time.perf_counter()
        tokens = self.patch_embed(x)
        sync()
        t1 = time.perf_counter()
        y, traces = self.pair(tokens, return_trace=True)
        sync()
        t2 = time.perf_counter()
        if self._fast_ms is None:  # timed once per model: the fast path does not depend on pixels
            self.pair(tokens)
            sync()
            self._fast_ms = (time.perf_counter() - t2) * 1e3

        def cpu(t):
            return None if t is None else t.detach().float().cpu()

        traces = [
            replace(t, attn=cpu(t.attn), scores=cpu(t.scores), bias=cpu(t.bias),
                    mask=cpu(t.mask), x_in=cpu(t.x_in), x_out=cpu(t.x_out))
            for t in traces
        ]
        return Exploration(
            image=prepared.image, pixels=prepared.pixels.cpu(), tokens=cpu(tokens), output=cpu(y),
            traces=traces, patch_size=self.patch_embed.patch_size,
            embed_dim=self.patch_embed.embed_dim, num_heads=blk.num_heads,
            mlp_ratio=blk.mlp_ratio, device=device_name(self.device), weights=self.weights,
            timings_ms={"patch_embed": (t1 - t0) * 1e3, "pair_traced": (t2 - t1) * 1e3,
                        "pair_fast": self._fast_ms},
            original_size=prepared.original_size,
        )


def device_name(device: torch.device | str) -> str:
    """"CPU" or the GPU's name, for badges and figure captions."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    return device.type.upper()


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """"auto" -> CUDA when available, else CPU; "cpu", "cuda" or "cuda:N" as asked.

    Any other device (e.g. "tpu", "gpu0", ""), CUDA without a GPU, or a GPU number this machine
    does not have is a SettingsError that names what is allowed.
    """
    if isinstance(device, torch.device):
        name = "cpu" if device.type == "cpu" else str(device)
    elif isinstance(device, str):
        name = device.strip().lower()
    else:
        name = None
    kind, colon, index = (name or "").partition(":")
    gpu_number = colon and index.isascii() and index.isdigit() and len(index) <= 4
    if name not in ("auto", "cpu", "cuda") and not (kind == "cuda" and gpu_number):
        raise SettingsError(
            f"unknown device {device!r}; use auto, cpu, cuda or cuda:N (N the GPU's number)"
        )
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise SettingsError(
                f"device {name!r} was asked for, but no CUDA GPU is available here"
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise SettingsError(
                f"device {name!r} was asked for, but this machine has {count} CUDA GPU(s): "
                f"use cuda:0 to cuda:{count - 1}"
            )
    return dev


def load_model(
    weights: str | Path = "random",
    *,
    img_size: int = 224,
    window_size: int = 7,
    shift_size: int | None = None,
    embed_dim: int = 96,
    num_heads: int = 3,
    seed: int = 0,
    device: str | torch.device = "auto",
    dtype: torch.dtype | None = None,
) -> SwinViz:
    """Build Swin-T stage 1 (PatchEmbed + the W-MSA / SW-MSA pair) in eval mode.

    weights: "random" (seeded truncated normal, std 0.02, like the reference), "hub" (timm's
    Swin-T ImageNet-1k from the Hugging Face Hub; CheckpointError when it cannot be reached), or
    a path to a full Swin-T checkpoint (official, timm, torchvision or transformers layout).
    dtype: float32 by default; float16 / bfloat16 are allowed on CUDA.
    """
    dev = resolve_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SwinViz(img_size, window_size, shift_size, embed_dim, num_heads)
        init_weights(model.pair)
    if isinstance(weights, str) and weights == "random":
        model.weights = f"random (seed {seed})"
    else:
        from .checkpoints import hub_checkpoint, load_stage1

        if isinstance(weights, str) and weights == "hub":
            layout = load_stage1(model, hub_checkpoint())
            model.weights = "Swin-T ImageNet-1k (timm, Hugging Face Hub)"
        else:
            layout = load_stage1(model, Path(weights))
            model.weights = f"{Path(weights).name} ({layout} layout)"
    if dtype is not None and dtype != torch.float32 and dev.type != "cuda":
        raise SettingsError(f"{dtype} is only supported on CUDA; the CPU path runs float32")
    model = model.to(dev, dtype or torch.float32).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
