"""The Swin Transformer as the paper defines it, built from one `SwinConfig`, and `explore`.

    model = SwinTransformer("swin_tiny_patch4_window7_224")   # or swinviz.load_model(...)
    exp = model.explore("assets/cat.jpg", stage=3, pair=2)

`explore` runs the image through the fast path up to the chosen block pair, traces that pair
(every tensor the figures draw), keeps the head-averaged attention of every earlier block for the
rollout across stages, and (with a head) runs the rest for the prediction. The `Exploration` it
returns is the single source of every figure.

Building a model with its weights is `swinviz.factory.load_model`'s job; this module imports
neither the factory nor `swinviz.weights`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import torch
from PIL import Image
from torch import nn

from .block import BlockTrace
from .classes import imagenet_classes
from .config import (  # noqa: F401 - PATCH_SIZE, config_for: settings, torch-free, re-exported
    DEFAULT_ARCH,
    PATCH_SIZE,
    SettingsError,
    StageGeometry,
    SwinConfig,
    check_settings,
    check_stage_pair,
    config_for,
    get_config,
)
from .evidence.gather import EvidenceSet
from .evidence.gather import gather as gather_evidence
from .patch_embed import PatchEmbed
from .rollout import BlockAttention
from .stages import SwinTransformerStage
from .v2.stages import SwinV2Stage
from .without import parse_parts
from .without import without as _without

__all__ = ["Exploration", "SettingsError", "SwinTransformer", "check_settings"]


@dataclass
class Exploration:
    """One image through the model, with everything the figures draw.

    image:  the RGB image the model saw (PIL, H x W pixels).
    pixels: (1, 3, H, W) ImageNet-normalised input.
    tokens: (1, L, C) input of the explored pair (L = Ht * Wt of its stage), on the CPU.
    output: (1, L, C) output of the pair, on the CPU.
    traces: [trace of block 2p (W-MSA), trace of block 2p+1 (SW-MSA)], on the CPU, float32.
    chain:  head-averaged attention of every block from stage 1, block 0, to the pair's second
            block (for the rollout across stages).
    patch_size: pixels one token of this stage stands for (4, 8, 16, 32 for stages 1-4).
    logits: (1, classes) and top5 [(class index, name, probability)] when the model has a head.
    without: the parts the model left out in every block (`SwinTransformer.without`), () for
            Swin as it is.
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
    stage: int = 1
    pair: int = 0
    config: SwinConfig | None = None
    chain: list[BlockAttention] = field(default_factory=list)
    logits: torch.Tensor | None = None
    top5: list[tuple[int, str, float]] | None = None
    pretrained: bool = False
    without: tuple[str, ...] = ()
    # beside a counterfactual's `without`: the prediction of the model `explore` was called on
    # (Swin with every part, unless that model already left some out: `model.removed`)
    intact_logits: torch.Tensor | None = None  # (1, classes)
    intact_top5: list[tuple[int, str, float]] | None = None
    # Grad-CAM of one class at every stage and at the pair's second block (`explore(evidence=)`)
    evidence: EvidenceSet | None = None
    evidence_note: str | None = None  # why there is none, where a caller left it out

    @property
    def grid(self) -> tuple[int, int]:
        """(Ht, Wt): the token grid of the explored stage."""
        return self.traces[0].input_resolution

    @property
    def window_size(self) -> int:
        return self.traces[1].window_size

    @property
    def shift_size(self) -> int:
        return self.traces[1].shift_size

    @property
    def num_windows(self) -> int:
        """Windows of the (padded) grid."""
        H, W = self.grid
        M = self.window_size
        return -(-H // M) * -(-W // M)

    @property
    def blocks(self) -> tuple[int, int]:
        """The pair's block numbers inside its stage, as timm numbers them: (2p, 2p+1)."""
        return 2 * self.pair, 2 * self.pair + 1

    @property
    def geometry(self) -> StageGeometry | None:
        return None if self.config is None else self.config.stage(self.stage)


class ClassifierHead(nn.Module):
    """Average pool over the tokens, then `fc`: (B, L, C) -> (B, classes)."""

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, num_classes) if num_classes > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean(dim=1))


class SwinTransformer(nn.Module):
    """Patch embedding, the stages, final LayerNorm, average pool and the classifier head.

    (B, 3, H, W) -> (B, classes) logits (or (B, C_last) pooled features without a head).
    Parameter names follow timm: `patch_embed.{proj,norm}`, `layers.{s-1}.downsample.{norm,
    reduction}` (stages 2-4), `layers.{s-1}.blocks.{b}.*`, `norm`, `head.fc`.
    """

    def __init__(self, config: SwinConfig | str = DEFAULT_ARCH) -> None:
        super().__init__()
        cfg = get_config(config)
        self.config = cfg
        self.img_size = cfg.img_size
        self.patch_embed = PatchEmbed(cfg.img_size, cfg.patch_size, cfg.in_chans, cfg.embed_dim)
        layers = []
        dim, grid = cfg.embed_dim, cfg.grids()[0]
        stage_class = SwinV2Stage if cfg.version == 2 else SwinTransformerStage  # the one choice
        for geo in cfg.stages():
            layers.append(stage_class(geo, dim, grid, cfg.mlp_ratio, cfg.qkv_bias,
                                      eps=cfg.layer_norm_eps))
            dim, grid = geo.dim, geo.grid
        self.layers = nn.ModuleList(layers)
        self.norm = nn.LayerNorm(cfg.num_features, eps=cfg.layer_norm_eps)
        self.head = ClassifierHead(cfg.num_features, cfg.num_classes)
        self.weights = "random"
        self.pretrained = False
        self.removed: tuple[str, ...] = ()  # parts left out in every block (`without`)
        self._fast_ms: dict[tuple[int, int], float] = {}

    @property
    def device(self) -> torch.device:
        return self.patch_embed.proj.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.patch_embed.proj.weight.dtype

    def pair_blocks(self, stage: int = 1, pair: int = 0):
        """Blocks 2p and 2p+1 of stage `stage` (1-based)."""
        s, p = check_stage_pair(self.config, stage, pair)
        return self.layers[s - 1].pair(p)

    def forward_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, L_last, C_last), after the final LayerNorm."""
        x = self.patch_embed(pixels)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)

    def reset_classifier(self, num_classes: int) -> None:
        """A new head with `num_classes` outputs (0: none, the pooled features are the output),
        as timm's models do; `config.num_classes` follows. A checkpoint without a head (a
        backbone) loads through it (`swinviz.weights.load_checkpoint`)."""
        self.head = ClassifierHead(self.config.num_features, num_classes)
        self.config = replace(self.config, num_classes=num_classes)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(pixels))

    def without(self, *parts: str) -> SwinTransformer:
        """This model with `parts` ("shift", "mask", "bias", any of them) removed in every
        block, sharing its weights (the same Parameter objects, no copy); this model is
        untouched. "shift": every block W-MSA (shift 0, no mask); "mask": the shifted blocks
        roll but add no -100 mask, so wrapped-around tokens attend to each other; "bias": no
        relative position bias. `model.without("mask")(pixels)` gives its logits,
        `.explore(...)` its traces. An unknown part is a ValueError naming the three
        (`swinviz.without`)."""
        return _without(self, parts)

    def explain(self, image, target=None, method: str = "gradcam", stage: int = 4,
                block: int = -1, at: str = "norm1", **options):
        """Where this model finds evidence for a class in an image (`swinviz.evidence`):
        an `Evidence` with `.grid` (Hs, Ws) on the stage's token grid before normalisation,
        `.target` (the top-1 class when target is None; an index or an ImageNet name), and
        `.image_map` (H, W) in [0, 1] at the model input's size.

        method: "gradcam" (default), "gradcam++", "gradxinput" or "rollout" (gradient-weighted
        attention rollout to stage 1's patches; options discard_ratio=0.9, head_fusion="mean"
        | "max" | "min"). stage (1-4) and block (counted inside the stage as timm's
        `layers[stage-1].blocks[block]`, -1 the last) choose the block; at: its "norm1",
        "norm2" or "output". policy="crop" | "keep" sizes the image as `explore` does.
        Bad settings are a SettingsError naming the field; the model is not changed."""
        from .evidence import explain

        return explain(self, image, target, method, stage, block, at, **options)

    def compiled(self, freeze: bool = False):
        """This model's fast path through torch.compile, for inference: a callable (B, 3, H, W)
        -> (B, classes) equal to `self(pixels)` to 1e-5 (`swinviz.backends.compiled`).
        Its first call per input shape compiles; where inductor cannot run it
        warns once and runs eager. Weights are read on every call unless freeze=True (a private
        snapshot of the weights, folded in; later changes are then not seen)."""
        from .backends.compiled import compiled_forward

        return compiled_forward(self, freeze=freeze)

    @torch.inference_mode()
    def explore(self, image, *, stage: int = 1, pair: int = 0, policy: str = "crop",
                predict: bool = True, rollout: bool = True, without=(),
                evidence=False) -> Exploration:
        """Run one image (path, bytes, file, PIL image or array) and trace block pair `pair` of
        stage `stage` (1-4 as in the paper; pair p is blocks 2p and 2p+1).

        Blocks before the pair run on the fast path, or (rollout=True, the default) with their
        attention kept head-averaged for the rollout; with predict=True and a head, the rest of
        the model runs too and the Exploration holds the logits and the top-5 classes. The image
        is opened and sized to the model's square input by `swinviz.image.prepare_image`:
        policy "crop" takes its centre square, "keep" keeps its aspect ratio (up to 4:1), fitted
        inside the square and padded with the ImageNet mean. Bad images raise
        `swinviz.image.ImageError`, a stage or pair the model lacks a SettingsError.

        without: parts to leave out ("shift", "mask", "bias"; names or "mask,bias"): the
        exploration of `self.without(*without)`, whose `without` names them.

        evidence: True (the top-1 class), a class index or an ImageNet name: `exp.evidence`
        holds Grad-CAM of that class at every stage and at the pair's second block
        (`swinviz.evidence.gather`; one more forward and backward pass, with gradients).
        """
        from .image import prepare_image

        parts = parse_parts(without)
        if set(parts) - set(self.removed):
            exp = self.without(*parts).explore(image, stage=stage, pair=pair, policy=policy,
                                               predict=predict, rollout=rollout,
                                               evidence=evidence)
            if exp.logits is not None:  # the prediction with every part, to compare with
                exp.intact_logits = self(exp.pixels.to(self.device, self.dtype)).float().cpu()
                exp.intact_top5 = top5_of(exp.intact_logits)
            return exp

        cfg = self.config
        s, p = check_stage_pair(cfg, stage, pair)
        geo = cfg.stage(s)
        # any multiple of the patch size: a grid that does not split into whole windows is
        # padded inside the blocks, an odd one before a merge
        prepared = prepare_image(image, self.img_size, patch_size=self.patch_embed.patch_size,
                                 window_size=1, policy=policy, square=True)
        if prepared.size != self.patch_embed.img_size:
            raise SettingsError(
                f"the prepared image is {prepared.size}, "
                f"the model expects {self.patch_embed.img_size}"
            )
        x = prepared.pixels.to(self.device, self.dtype)
        sync = torch.cuda.synchronize if self.device.type == "cuda" else (lambda: None)
        t0 = time.perf_counter()
        chain: list[BlockAttention] = []
        x = self.patch_embed(x)
        for i, layer in enumerate(self.layers[:s]):
            x = layer.downsample(x)
            for b in range(2 * p if i == s - 1 else len(layer.blocks)):
                blk = layer.blocks[b]
                if rollout:  # the fast path hands out its head-averaged probabilities
                    attn: list[torch.Tensor] = []
                    x = blk(x, attn_out=attn)
                    chain.append(BlockAttention(i + 1, b, blk.input_resolution, blk.window_size,
                                                blk.shift_size, attn[0].cpu()))
                else:
                    x = blk(x)
        tokens = x
        sync()
        t1 = time.perf_counter()
        blocks = self.layers[s - 1].pair(p)
        traces = []
        y = tokens
        for k, blk in enumerate(blocks):
            y, t = blk(y, return_trace=True)
            traces.append(t)
            chain.append(BlockAttention.from_trace(s, 2 * p + k, t))
        sync()
        t2 = time.perf_counter()
        timings = {"before_pair": (t1 - t0) * 1e3, "pair_traced": (t2 - t1) * 1e3}
        if (s, p) not in self._fast_ms:  # timed once per pair: the fast path ignores pixels
            z = tokens
            for blk in blocks:
                z = blk(z)
            sync()
            self._fast_ms[(s, p)] = (time.perf_counter() - t2) * 1e3
        timings["pair_fast"] = self._fast_ms[(s, p)]

        logits = top5 = None
        if predict and cfg.num_classes > 0:
            t3 = time.perf_counter()
            z = y
            for blk in self.layers[s - 1].blocks[2 * p + 2:]:
                z = blk(z)
            for layer in self.layers[s:]:
                z = layer(z)
            logits = self.forward_head(self.norm(z)).float().cpu()
            sync()
            timings["after_pair"] = (time.perf_counter() - t3) * 1e3
            top5 = top5_of(logits)

        def cpu(t):
            return None if t is None else t.detach().float().cpu()

        traces = [
            replace(t, attn=cpu(t.attn), scores=cpu(t.scores), bias=cpu(t.bias),
                    mask=cpu(t.mask), x_in=cpu(t.x_in), x_out=cpu(t.x_out))
            for t in traces
        ]
        blk = blocks[1]
        exp = Exploration(
            image=prepared.image, pixels=prepared.pixels.cpu(), tokens=cpu(tokens),
            output=cpu(y), traces=traces, patch_size=geo.patch_px, embed_dim=geo.dim,
            num_heads=geo.num_heads, mlp_ratio=blk.mlp_ratio, device=device_name(self.device),
            weights=self.weights, timings_ms=timings, original_size=prepared.original_size,
            stage=s, pair=p, config=cfg, chain=chain, logits=logits, top5=top5,
            pretrained=self.pretrained, without=self.removed,
        )
        if evidence is not False and cfg.num_classes > 0:
            exp.evidence = gather_evidence(
                self, prepared.pixels.to(self.device, self.dtype),
                None if evidence is True else evidence, stage=s, block=2 * p + 1,
                names=imagenet_classes() if cfg.num_classes == 1000 else None)
        return exp


def top5_of(logits: torch.Tensor) -> list[tuple[int, str, float]] | None:
    """[(class index, ImageNet name, probability)] of the 5 most probable classes of (1, 1000)
    logits; None for a head of another size (no names)."""
    if logits.shape[-1] != 1000:
        return None
    top = logits.softmax(-1)[0].topk(5)
    names = imagenet_classes()
    return [(int(i), names[int(i)], float(v))
            for v, i in zip(top.values, top.indices, strict=True)]


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
