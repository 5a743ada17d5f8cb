"""Pretrained weights: read a checkpoint, recognise its layout, rename it to timm's keys, load it.

A checkpoint of the whole network (patch embedding, every stage's blocks, the patch merges, the
final norm and the classifier head) goes through four steps, one module each:

- `reading`:  a file or a Hugging Face folder -> a flat name -> tensor dict (`read_state_dict`);
              `sniff` tells from the bytes what a file is, for the error's sentence;
- `layouts`:  which release it comes from (`detect_layout`: official, timm, torchvision,
              transformers), which Swin version (`checkpoint_version`) and its keys renamed to
              timm's (`checkpoint_filter_fn`, as in timm);
- `arch`:     which Swin V2 architecture a checkpoint holds (`infer_arch`);
- `loading`:  every key and shape checked, then loaded into the model (`load_checkpoint`);
- `hub`:      timm's pretrained weights from the Hugging Face Hub (`hub_checkpoint`);
- `policy`:   which weights by default (`default_weights`) and the checkpoints a server offers
              by name (`list_checkpoint_files`, `offered_checkpoints`).

Every failure is a `CheckpointError` whose message names the offending file, keys and shapes.
Pickles are read only with `torch.load(..., weights_only=True)`. This package builds no model:
`swinviz.factory.load_model` does, and hands the model to `load_checkpoint`.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# each name is imported from its module on first use (swinviz._lazy): the app's page
# imports parts of this package before torch is imported
__getattr__, __dir__ = lazy_exports(__name__, {
    "arch": ("infer_arch",),
    "errors": ("CheckpointError",),
    "hub": ("HUB_REPO", "HUB_REPOS", "hub_checkpoint", "hub_repo"),
    "layouts": ("LAYOUTS", "checkpoint_filter_fn", "checkpoint_version", "detect_layout",
                "naming_of", "source_keys"),
    "loading": ("load_checkpoint",),
    "policy": ("CHECKPOINT_SUFFIXES", "WeightsChoice", "checkpoint_folder", "default_weights",
               "list_checkpoint_files", "offered_checkpoint", "offered_checkpoints"),
    "reading": ("MAX_CHECKPOINT_BYTES", "read_state_dict"),
})

if TYPE_CHECKING:
    from .arch import infer_arch
    from .errors import CheckpointError
    from .hub import HUB_REPO, HUB_REPOS, hub_checkpoint, hub_repo
    from .layouts import (
        LAYOUTS,
        checkpoint_filter_fn,
        checkpoint_version,
        detect_layout,
        naming_of,
        source_keys,
    )
    from .loading import load_checkpoint
    from .policy import (
        CHECKPOINT_SUFFIXES,
        WeightsChoice,
        checkpoint_folder,
        default_weights,
        list_checkpoint_files,
        offered_checkpoint,
        offered_checkpoints,
    )
    from .reading import MAX_CHECKPOINT_BYTES, read_state_dict

__all__ = [
    "CHECKPOINT_SUFFIXES",
    "HUB_REPO",
    "HUB_REPOS",
    "LAYOUTS",
    "MAX_CHECKPOINT_BYTES",
    "CheckpointError",
    "WeightsChoice",
    "checkpoint_filter_fn",
    "checkpoint_folder",
    "checkpoint_version",
    "default_weights",
    "detect_layout",
    "hub_checkpoint",
    "hub_repo",
    "infer_arch",
    "list_checkpoint_files",
    "load_checkpoint",
    "naming_of",
    "offered_checkpoint",
    "offered_checkpoints",
    "read_state_dict",
    "source_keys",
]
