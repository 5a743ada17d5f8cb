"""swinviz: see the shifted-window attention of the Swin Transformer, from the model's own tensors.

The data's path: image (`image`) -> `PatchEmbed` -> windows (`windows`) -> `WindowAttention` ->
`SwinTransformerBlock` / `SwinBlockPair` (`block`) -> `PatchMerging` / `SwinTransformerStage`
(`stages`) -> `SwinTransformer`, `explore` (`model`), all from one `SwinConfig` (`config`);
`load_model` (`factory`) builds one with its weights (`weights`: checkpoints, layouts, the Hub).
Swin V2 (`SwinConfig.version = 2`) has its own attention, block and stage in `v2`.
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

# each public name is imported from its module on first use (swinviz._lazy), so that
# `import swinviz` and its settings do not import torch
__getattr__, __dir__ = lazy_exports(__name__, {
    "attention": ("WindowAttention",),
    "block": ("BlockTrace", "SwinBlockPair", "SwinTransformerBlock"),
    "config": ("ARCHS", "SettingsError", "SwinConfig", "check_settings", "get_config"),
    "factory": ("load_model",),
    "model": ("Exploration", "SwinTransformer"),
    "patch_embed": ("PatchEmbed",),
    "stages": ("PatchMerging", "SwinTransformerStage"),
    "v2": ("PatchMergingV2", "SwinV2Block", "SwinV2Stage", "WindowAttentionV2"),
    "windows": ("attention_mask", "region_ids", "relative_position_index", "window_partition",
                "window_reverse"),
})

if TYPE_CHECKING:
    from .attention import WindowAttention
    from .block import BlockTrace, SwinBlockPair, SwinTransformerBlock
    from .config import ARCHS, SettingsError, SwinConfig, check_settings, get_config
    from .factory import load_model
    from .model import Exploration, SwinTransformer
    from .patch_embed import PatchEmbed
    from .stages import PatchMerging, SwinTransformerStage
    from .v2 import PatchMergingV2, SwinV2Block, SwinV2Stage, WindowAttentionV2
    from .windows import (
        attention_mask,
        region_ids,
        relative_position_index,
        window_partition,
        window_reverse,
    )


__all__ = [
    "ARCHS",
    "BlockTrace",
    "Exploration",
    "PatchEmbed",
    "PatchMerging",
    "PatchMergingV2",
    "SettingsError",
    "SwinBlockPair",
    "SwinConfig",
    "SwinTransformer",
    "SwinTransformerBlock",
    "SwinTransformerStage",
    "SwinV2Block",
    "SwinV2Stage",
    "WindowAttention",
    "WindowAttentionV2",
    "attention_mask",
    "check_settings",
    "get_config",
    "load_model",
    "region_ids",
    "relative_position_index",
    "window_partition",
    "window_reverse",
]
__version__ = "0.2.0"
