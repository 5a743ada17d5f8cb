"""Class evidence: where the model looks for a class, read at any block of any stage.

    ev = model.explain("cat.jpg")                       # Grad-CAM at stage 4's last block, norm1
    ev = model.explain(img, target="tabby", stage=3, block=-1, at="norm2")
    ev.grid        # (Hs, Ws) the map on the stage's token grid, before any normalisation
    ev.image_map   # (H, W) upsampled to the model input, scaled to [0, 1] (as pytorch-grad-cam)

Attention maps say where a token reads, not why the model chose a class; these methods use the
gradient of the class's logit (docs/concepts.md, facts 21 and 22):
- "gradcam": ReLU(sum_c alpha_c A_c), alpha_c the mean over tokens of d logit / d A_c, A the
  activation at `at` ("norm1", "norm2" or "output" of the block) on the stage's token grid;
- "gradcam++": the same with Grad-CAM++'s weights (positive gradients, second/third powers);
- "gradxinput": sum_c A_c · d logit / d A_c per token, signed (first-order contribution);
- "rollout": the attention of every block from stage 1 up to the chosen one, weighted by its
  gradient, fused over heads, its lowest `discard_ratio` dropped, carried back through the
  windows, shifts and patch merges to stage 1's patches (`swinviz.rollout.roll_back`).

`explain` never changes the model: parameters keep requires_grad False, the autograd graph
starts at the captured activation (a detached leaf), and nothing it makes is cached.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# each name is imported from its module on first use (swinviz._lazy): the app's page
# imports parts of this package before torch is imported
__getattr__, __dir__ = lazy_exports(__name__, {
    "choices": ("HEAD_FUSIONS", "LAYERS", "METHODS"),
    "explainer": ("Evidence", "explain"),
})

if TYPE_CHECKING:
    from .choices import HEAD_FUSIONS, LAYERS, METHODS
    from .explainer import Evidence, explain

__all__ = ["HEAD_FUSIONS", "LAYERS", "METHODS", "Evidence", "explain"]
