"""swinviz: see the shifted-window attention of the Swin Transformer, from the model's own tensors.

The data's path: image (`image`) -> `PatchEmbed` -> windows (`windows`) -> `WindowAttention` ->
`SwinTransformerBlock` / `SwinBlockPair` (`block`) -> `PatchMerging` / `SwinTransformerStage`
(`stages`) -> `SwinTransformer`, `load_model`, `explore` (`model`), all from one `SwinConfig`
(`config`).
"""

from .attention import WindowAttention
from .block import BlockTrace, SwinBlockPair, SwinTransformerBlock
from .config import ARCHS, SettingsError, SwinConfig, get_config
from .model import Exploration, SwinTransformer, check_settings, load_model
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
