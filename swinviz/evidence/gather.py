"""The evidence the figure compares, from one forward and one backward pass: Grad-CAM of one class
at every stage's last block (norm1), and at norm1, norm2 and the output of one chosen block.

Hooks on every place (`hooks.own_hooks`: for this thread only) keep its activation; the
first place in forward order swaps its output for a detached leaf that records gradients (the
graph starts there, as in `cams.capture`), the later ones are already in that graph, and one
`autograd.grad` gives every gradient. Each map equals
`model.explain(image, target, "gradcam", stage, block, at).grid` for its place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from . import cams, choices
from .hooks import own_hooks

ORDER = {"norm1": 0, "norm2": 1, "output": 2}  # where each place sits inside a block


@dataclass(frozen=True)
class EvidenceSet:
    """Grad-CAM maps of one class (`target`, `target_name`, its softmax `probability`).

    by_stage: {stage: (Hs, Ws)} at the last block of every stage, norm1 (the usual choice).
    by_layer: {"norm1" | "norm2" | "output": (H, W)} at block `block` of stage `stage`.
    Maps are float32 on the CPU, before any normalisation (`Evidence.grid`).
    """

    target: int
    target_name: str | None
    probability: float
    stage: int
    block: int
    by_stage: dict[int, torch.Tensor] = field(default_factory=dict)
    by_layer: dict[str, torch.Tensor] = field(default_factory=dict)


def places(cfg, stage: int, block: int) -> list[tuple[int, int, str]]:
    """(stage, block, at) of every map, each once, in forward order."""
    wanted = {(s, cfg.depths[s - 1] - 1, "norm1") for s in range(1, cfg.num_stages + 1)}
    wanted |= {(stage, block, at) for at in choices.LAYERS}
    return sorted(wanted, key=lambda p: (p[0], p[1], ORDER[p[2]]))


def gather(model, pixels: torch.Tensor, target=None, *, stage: int, block: int,
           names: tuple[str, ...] | None = None) -> EvidenceSet:
    """pixels (1, 3, H, W) on the model's device; target None (the top-1 class), an index or
    an ImageNet name; (stage, block) the block whose three places are compared."""
    cfg = model.config
    todo = places(cfg, stage, block)
    held: dict[tuple[int, int, str], torch.Tensor] = {}

    def keeper(place):
        def keep(out):
            if not held:  # the first place: the graph starts here
                out = out.detach().requires_grad_(True)
            held[place] = out
            return out
        return keep

    pairs = []
    for s, b, at in todo:
        blk = model.layers[s - 1].blocks[b]
        pairs.append((blk if at == "output" else getattr(blk, at), keeper((s, b, at))))
    with own_hooks(pairs), torch.inference_mode(False), torch.enable_grad():
        logits = model(pixels.clone())
        t = choices.target_class(target, logits.detach(), names)
        grads = torch.autograd.grad(logits[0, t], [held[p] for p in todo])
    maps = {}
    for place, g in zip(todo, grads, strict=True):
        s, b, _ = place
        H, W = model.layers[s - 1].blocks[b].input_resolution
        A = held[place].detach()[0].double()
        maps[place] = cams.gradcam(A, g[0].double()).view(H, W).float().cpu()
    probs = logits.detach().float().softmax(-1)[0]
    return EvidenceSet(
        target=t, target_name=names[t] if names else None, probability=float(probs[t]),
        stage=stage, block=block,
        by_stage={s: maps[(s, cfg.depths[s - 1] - 1, "norm1")]
                  for s in range(1, cfg.num_stages + 1)},
        by_layer={at: maps[(stage, block, at)] for at in choices.LAYERS},
    )
