"""Swin V2 (Liu et al., 2022) in swinviz: the attention, block and stage that differ from V1
(docs/concepts.md, facts 16-20), behind V1's interfaces so that `SwinTransformer`, `explore`
and `swinviz.without` drive both versions.

- `attention`: `WindowAttentionV2` (scaled cosine attention, continuous position bias) and
  `relative_coords_table` (the log-spaced coordinates its MLP reads);
- `block`: `SwinV2Block` (res-post-norm; a traced path and a plain-torch fast path);
- `stages`: `PatchMergingV2` (reduce, then normalise) and `SwinV2Stage`.

`SwinTransformer` picks V2's stage when its config says `version=2`.
"""

from .attention import WindowAttentionV2, relative_coords_table
from .block import SwinV2Block
from .stages import PatchMergingV2, SwinV2Stage

__all__ = ["PatchMergingV2", "SwinV2Block", "SwinV2Stage", "WindowAttentionV2",
           "relative_coords_table"]
