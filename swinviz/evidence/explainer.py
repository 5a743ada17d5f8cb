"""`explain`: one image, one class, one method -> an `Evidence` (the map and what it is of)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from PIL import Image

from . import cams, choices
from .weighted_rollout import rollout


@dataclass
class Evidence:
    """Where the model finds evidence for one class.

    grid: (Hs, Ws) float32 on the token grid of stage `grid_stage`, before any normalisation
        (the explored block's stage for the CAMs; stage 1's patches for "rollout").
    image_map: (H, W) float32 in [0, 1] at the model input's size: ReLU of the grid, scaled to
        [0, 1], upsampled bilinearly, scaled again (pytorch-grad-cam's `scale_cam_image`).
    target: the class explained (the top-1 class when none was asked for); target_name its
        ImageNet name (None for a head without names); score its logit, probability its softmax.
    stage, block, at: where the CAMs read the activation (block counted inside the stage);
        for "rollout", the last block rolled back from (`at` is not used).
    stage_maps: {stage: (H_s, W_s)} the rollout's map at every stage it crossed ({} for CAMs).
    """

    grid: torch.Tensor
    image_map: torch.Tensor
    target: int
    target_name: str | None
    score: float
    probability: float
    method: str
    stage: int
    block: int
    at: str
    grid_stage: int
    image: Image.Image
    pixels: torch.Tensor
    logits: torch.Tensor
    weights: str = "random"
    pretrained: bool = False
    stage_maps: dict[int, torch.Tensor] = field(default_factory=dict)
    discard_ratio: float | None = None
    head_fusion: str | None = None


def minmax(x: torch.Tensor) -> torch.Tensor:
    """x - min, over 1e-7 + max: pytorch-grad-cam's `scale_cam_image` (a flat map stays 0)."""
    x = x - x.min()
    return x / (1e-7 + x.max())


def image_map(grid: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(Hs, Ws) -> (H, W) in [0, 1]: ReLU, scale, bilinear upsampling (half-pixel centres, as
    OpenCV's INTER_LINEAR that pytorch-grad-cam resizes with), scale again."""
    cam = minmax(torch.relu(grid.double()))
    up = F.interpolate(cam[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
    return minmax(up).float()


def explain(model, image, target=None, method: str = "gradcam", stage: int = 4,
            block: int = -1, at: str = "norm1", *, discard_ratio: float = 0.9,
            head_fusion: str = "mean", policy: str = "crop") -> Evidence:
    """`SwinTransformer.explain` (see there). Settings are checked before any work."""
    from ..image import prepare_image

    method = choices.one_of("method", method, choices.METHODS)
    at = choices.one_of("at", at, choices.LAYERS)
    head_fusion = choices.one_of("head_fusion", head_fusion, choices.HEAD_FUSIONS)
    discard_ratio = choices.discard(discard_ratio)
    s, b = choices.stage_block(model.config, stage, block)
    cfg = model.config
    if method == "gradxinput" and at == "output" and (s, b) == (cfg.num_stages,
                                                             cfg.depths[-1] - 1):
        raise choices.SettingsError(
            "gradient x input at the last block's output is zero: the final LayerNorm gives "
            "every token the same output when it is scaled, so A·dA sums to 0 per token; "
            "read it at norm1 or norm2, or at an earlier block", "at")
    if model.config.num_classes <= 0:
        raise choices.SettingsError("this model has no classifier head, so there is no class "
                                    "to explain", "target")
    names = choices.class_names(model.config.num_classes)

    def pick(logits: torch.Tensor) -> int:
        return choices.target_class(target, logits, names)

    choices.check_target(target, model.config.num_classes)  # refused before the forward pass
    prepared = prepare_image(image, model.img_size, patch_size=model.patch_embed.patch_size,
                             window_size=1, policy=policy, square=True)
    pixels = prepared.pixels.to(model.device, model.dtype)
    stage_maps: dict[int, torch.Tensor] = {}
    if method == "rollout":
        logits, t, maps = rollout(model, pixels, s, b, pick, head_fusion, discard_ratio)
        stage_maps = {s - k: m.float() for k, m in enumerate(maps)}
        grid, grid_stage = stage_maps[1], 1
    else:
        logits, A, G, t = cams.capture(model, pixels, s, b, at, pick)
        H, W = model.layers[s - 1].blocks[b].input_resolution
        grid = cams.CAMS[method](A.double(), G.double()).view(H, W).float().cpu()
        grid_stage = s
    logits = logits.float().cpu()
    size = tuple(prepared.pixels.shape[-2:])
    return Evidence(
        grid=grid, image_map=image_map(grid, size), target=t,
        target_name=names[t] if names else None, score=float(logits[0, t]),
        probability=float(logits.softmax(-1)[0, t]), method=method, stage=s, block=b, at=at,
        grid_stage=grid_stage, image=prepared.image, pixels=prepared.pixels.cpu(),
        logits=logits, weights=model.weights, pretrained=model.pretrained,
        stage_maps=stage_maps,
        discard_ratio=discard_ratio if method == "rollout" else None,
        head_fusion=head_fusion if method == "rollout" else None,
    )
