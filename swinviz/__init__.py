"""swinviz: see the shifted-window attention of the Swin Transformer, from the model's own tensors.

The data's path: image (`image`) -> `PatchEmbed` -> windows (`windows`) -> `WindowAttention` ->
`SwinTransformerBlock` / `SwinBlockPair` (`block`) -> `load_model` / `explore` (`model`).
"""

from .attention import WindowAttention
from .block import BlockTrace, SwinBlockPair, SwinTransformerBlock
from .model import Exploration, SettingsError, SwinViz, check_settings, load_model
from .patch_embed import PatchEmbed
from .windows import (
    attention_mask,
    region_ids,
    relative_position_index,
    window_partition,
    window_reverse,
)

__all__ = [
    "BlockTrace",
    "Exploration",
    "PatchEmbed",
    "SettingsError",
    "SwinBlockPair",
    "SwinTransformerBlock",
    "SwinViz",
    "WindowAttention",
    "attention_mask",
    "check_settings",
    "load_model",
    "region_ids",
    "relative_position_index",
    "window_partition",
    "window_reverse",
]
__version__ = "0.1.0"
