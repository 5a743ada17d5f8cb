"""swinviz: see the shifted-window attention of the Swin Transformer, from the model's own tensors.

The data's path: image (`image`) -> `PatchEmbed` -> windows (`windows`) -> `WindowAttention` ->
`SwinTransformerBlock` / `SwinBlockPair` (`block`) -> `PatchMerging` / `SwinTransformerStage`
(`stages`) -> `SwinTransformer`, `explore` (`model`), all from one `SwinConfig` (`config`);
`load_model` (`factory`) builds one with its weights (`weights`: checkpoints, layouts, the Hub).
"""

from .attention import WindowAttention
from .block import BlockTrace, SwinBlockPair, SwinTransformerBlock
from .config import ARCHS, SettingsError, SwinConfig, get_config
from .factory import load_model
from .model import Exploration, SwinTransformer, check_settings
from .patch_embed import PatchEmbed
from .stages import PatchMerging, SwinTransformerStage
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
    "SettingsError",
    "SwinBlockPair",
    "SwinConfig",
    "SwinTransformer",
    "SwinTransformerBlock",
    "SwinTransformerStage",
    "WindowAttention",
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
