"""Grad-CAM, Grad-CAM++ and gradient x input at one block's norm1, norm2 or output.

`capture` runs the whole model once with a forward hook on that module (`hooks.own_hooks`: for
this thread only), whose output it swaps
for a detached leaf that records gradients: the graph starts there, so autograd keeps only what
comes after the block (the backward pass's memory is the rest of the model, not all of it), and
the model's parameters and caches never see a gradient. The maps follow pytorch-grad-cam's
`GradCAM` / `GradCAMPlusPlus` (`get_cam_weights`) on tokens reshaped to the stage's grid.
"""

from __future__ import annotations

import torch
from torch import nn

from .hooks import own_hooks


def capture(model: nn.Module, pixels: torch.Tensor, stage: int, block: int, at: str,
            target) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Run `model` on pixels (1, 3, H, W) and take the gradient of one logit at the
    activation: returns (logits (1, classes), A (L, C), dlogit/dA (L, C), target index).

    target: a function logits -> class index (the choice needs the logits first)."""
    blk = model.layers[stage - 1].blocks[block]
    module = blk if at == "output" else getattr(blk, at)
    held: list[torch.Tensor] = []

    def swap(out):
        leaf = out.detach().requires_grad_(True)
        held.append(leaf)
        return leaf

    with own_hooks([(module, swap)]), torch.inference_mode(False), torch.enable_grad():
        logits = model(pixels)
        t = target(logits.detach())
        (grad,) = torch.autograd.grad(logits[0, t], held[0])
    return logits.detach(), held[0].detach()[0], grad.detach()[0], t


def gradcam(A: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """ReLU(sum_c alpha_c A_c), alpha_c = mean over tokens of G_c: (L, C) -> (L,)."""
    return torch.relu(A @ G.mean(0))


def gradcam_pp(A: torch.Tensor, G: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Grad-CAM++ (Chattopadhyay et al.): alpha = G^2 / (2 G^2 + sum_tokens(A) G^3), zero where
    G is; weights_c = sum over tokens of alpha ReLU(G); ReLU(sum_c weights_c A_c): (L,)."""
    G2 = G * G
    alpha = G2 / (2 * G2 + A.sum(0, keepdim=True) * G2 * G + eps)
    alpha = torch.where(G != 0, alpha, torch.zeros_like(alpha))
    weights = (alpha * torch.relu(G)).sum(0)
    return torch.relu(A @ weights)


def grad_x_input(A: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """sum_c A_c G_c per token, signed: each token's first-order share of the logit, (L,)."""
    return (A * G).sum(1)


CAMS = {"gradcam": gradcam, "gradcam++": gradcam_pp, "gradxinput": grad_x_input}
