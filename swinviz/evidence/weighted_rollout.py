"""Class-conditioned attention rollout for Swin: every block's attention weighted by its
gradient, carried back through the windows, the shifts and the patch merges.

For each block b from stage 1, block 0, up to the chosen one: A_b (nW, nH, N, N) the traced
probabilities and dA_b the gradient of the class's logit at them; F_b = fuse_heads(A_b · dA_b)
with negatives set to 0 (vit-explain's `grad_rollout`; head fusion mean, max or min as its
`rollout`); the lowest `discard_ratio` of F_b's entries (all windows together) set to 0; then
R_b = (F_b + I) / 2 with each row scaled to sum to 1 (a token keeps its residual share). Swin
has no class token: the classifier averages the last tokens, so the vector starts equal on
every token of the chosen block's grid and goes back through R_b (`swinviz.rollout.roll_back`,
the same gathers and 2x2 spreads as the flow figure), ending on stage 1's patches.
"""

from __future__ import annotations

import torch
from torch import nn

from ..rollout import BlockAttention, roll_back


def traced_forward(model: nn.Module, pixels: torch.Tensor, stage: int, block: int):
    """The model's forward with the blocks up to (stage, block) traced and recording:
    returns (logits (1, classes), [(stage, block index, trace)]) in forward order."""
    x = model.patch_embed(pixels).detach().requires_grad_(True)
    traced = []
    for i, layer in enumerate(model.layers):
        x = layer.downsample(x)
        for b, blk in enumerate(layer.blocks):
            if (i + 1, b) <= (stage, block):
                x, t = blk(x, return_trace=True)
                traced.append((i + 1, b, t))
            else:
                x = blk(x)
    return model.forward_head(model.norm(x)), traced


def fuse(weighted: torch.Tensor, how: str) -> torch.Tensor:
    """(nW, nH, N, N) -> (nW, N, N): mean, max or min over the heads."""
    if how == "mean":
        return weighted.mean(1)
    return weighted.amax(1) if how == "max" else weighted.amin(1)


def block_matrix(attn: torch.Tensor, grad: torch.Tensor, how: str,
                 discard_ratio: float) -> torch.Tensor:
    """R_b for one block: (nW, nH, N, N) probabilities and their gradient -> (nW, N, N)
    row-stochastic, float64."""
    fused = fuse(attn.double() * grad.double(), how).clamp(min=0)
    flat = fused.view(-1)
    k = int(flat.numel() * discard_ratio)
    if k:
        flat[flat.topk(k, largest=False).indices] = 0
    eye = torch.eye(fused.shape[-1], dtype=fused.dtype)
    out = (fused + eye) / 2
    return out / out.sum(-1, keepdim=True)


def rollout(model: nn.Module, pixels: torch.Tensor, stage: int, block: int, target,
            how: str, discard_ratio: float):
    """Returns (logits (1, classes), target index, maps per stage, last stage first: the
    stage-1 map (H/4, W/4) last)."""
    with torch.inference_mode(False), torch.enable_grad():
        logits, traced = traced_forward(model, pixels, stage, block)
        t = target(logits.detach())
        grads = torch.autograd.grad(logits[0, t], [tr.attn for _, _, tr in traced])
    chain = [
        BlockAttention(s, b, tuple(tr.input_resolution), tr.window_size, tr.shift_size,
                       block_matrix(tr.attn.detach().cpu(), g.cpu(), how, discard_ratio))
        for (s, b, tr), g in zip(traced, grads, strict=True)
    ]
    H, W = chain[-1].grid
    start = torch.full((H * W,), 1.0 / (H * W), dtype=torch.float64)
    return logits.detach(), t, roll_back(chain, start, residual=0.0)
