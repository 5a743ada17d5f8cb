"""`load_model`: a Swin Transformer built from a named architecture, with its weights, ready to run.

    model = load_model("hub")                      # Swin-T with timm's ImageNet-1k weights
    model = load_model("random", arch="swin_base_patch4_window7_224", img_size=448)

As timm's `_builder.py` does, the factory is the one place that puts the pieces together: the
config (`swinviz.model.config_for`), the network (`swinviz.model.SwinTransformer`), its seeded
initialisation (`swinviz.block.init_weights`) and the weights (`swinviz.weights`, which reads,
renames and loads a checkpoint but never builds a model), then the device and dtype. Nothing in
`swinviz.model` or `swinviz.weights` imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import torch

from . import weights as weight_files  # looked up at call time: tests may stand in for the Hub
from .block import init_weights
from .config import DEFAULT_ARCH, SettingsError, SwinConfig
from .model import SwinTransformer, config_for, resolve_device

__all__ = ["load_model"]


def load_model(
    weights: str | Path = "random",
    *,
    arch: str | SwinConfig | None = None,
    img_size: int | None = None,
    window_size: int | None = None,
    shift_size: int | None = None,
    embed_dim: int | None = None,
    num_heads: int | tuple[int, ...] | None = None,
    num_classes: int | None = None,
    seed: int = 0,
    device: str | torch.device = "auto",
    dtype: torch.dtype | None = None,
) -> SwinTransformer:
    """Build a Swin Transformer (default Swin-T) in eval mode, without gradients.

    arch: a name from `swinviz.config.ARCHS` (timm's names, Swin V1 and V2) or a SwinConfig;
    img_size, window_size, shift_size, embed_dim, num_heads (stage 1's, doubled per stage, or
    one per stage) and num_classes change it. None: Swin-T, or for a Swin V2 checkpoint file
    the V2 architecture it holds (`swinviz.weights.infer_arch`; CheckpointError naming the
    arch= to pass when the checkpoint does not tell).
    weights: "random" (seeded truncated normal, std 0.02, like the reference; the library's
    default), "hub" (timm's pretrained weights for the arch from the Hugging Face Hub, from the
    local cache when there; CheckpointError when they cannot be had), or a path to a checkpoint
    in the official, timm, torchvision or transformers layout (every stage, the merges, the
    final norm and the head are loaded); Swin V2 in the official, timm or transformers layout.
    A Swin V2 model pads a grid that is not whole windows after its roll, as timm does, unless
    its config says otherwise (`SwinConfig.roll_first`) or its weights are transformers', which
    it then runs as transformers does (pad, then roll).
    dtype: float32 by default; float16 / bfloat16 are allowed on CUDA.
    """
    sd = None
    path = not (isinstance(weights, str) and weights in ("random", "hub"))
    if arch is None and path:  # the checkpoint may name the architecture (Swin V2)
        sd = weight_files.read_state_dict(Path(weights))
        arch = weight_files.infer_arch(sd, str(weights))
    cfg = config_for(arch or DEFAULT_ARCH, img_size=img_size, window_size=window_size,
                     shift_size=shift_size, embed_dim=embed_dim, num_heads=num_heads,
                     num_classes=num_classes)
    dev = resolve_device(device)
    if dtype is not None and dtype != torch.float32 and dev.type != "cuda":
        raise SettingsError(f"{dtype} is only supported on CUDA; the CPU path runs float32")
    if path and sd is None:
        sd = weight_files.read_state_dict(Path(weights))
    if sd is not None and cfg.version == 2 and cfg.roll_first is None:
        layout = weight_files.detect_layout(sd)  # run as the library whose weights these are
        cfg = replace(cfg, roll_first=layout != "transformers")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SwinTransformer(cfg)
        init_weights(model)
    if not path:
        if weights == "random":
            model.weights = f"random (seed {seed})"
        else:
            _load_pretrained(model, weights)
    else:
        _load_pretrained(model, weights, sd)
    model = model.to(dev, dtype or torch.float32).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _load_pretrained(model: SwinTransformer, weights: str | Path,
                     sd: Mapping | None = None) -> None:
    """Load "hub" (timm's weights for the model's architecture) or a checkpoint path (already
    read into `sd`) into `model`, and name them on it (`model.weights`, shown in badges and
    captions)."""
    if isinstance(weights, str) and weights == "hub":
        name = model.config.name
        weight_files.load_checkpoint(
            model, weight_files.hub_checkpoint(repo_id=weight_files.hub_repo(name)))
        model.weights = f"{name} ImageNet-1k (timm, Hugging Face Hub)"
    else:
        layout = weight_files.load_checkpoint(model, sd if sd is not None else Path(weights))
        model.weights = f"{Path(weights).name} ({layout} layout)"
    model.pretrained = True
