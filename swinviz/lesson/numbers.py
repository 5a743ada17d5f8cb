"""The numbers a lesson step says, read once from one exploration (never from the model).

    n = lesson_numbers(exp)
    n.M, n.s, n.query, n.msa, n.wmsa, n.stages[3].shift_size

Every sentence of the lesson is a function of these, so that a text that holds at stage 1 says
something else at stage 4 (one window, no shift) or for the 6x6 example (M = 3, s = 1).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .. import cost as _cost
from ..figures.registry import Facts, facts
from ..grid import MASK_VALUE


def boundary_query(H: int, W: int, M: int, s: int) -> tuple[int, int]:
    """The lesson's query: the figures' default (`swinviz.figures.default_query`), a token on a
    window border near the middle of the grid."""
    from ..figures import default_query

    return default_query(H, W, M, s)


def corner_query(H: int, W: int, M: int, s: int) -> tuple[int, int]:
    """A token in the bottom-right corner window, inside the pieces that wrap around (s // 2 in
    from the corner): where the mask matters."""
    k = s // 2 if s else M // 2
    return max(0, H - 1 - k), max(0, W - 1 - k)


@dataclass(frozen=True)
class V2Change:
    """Swin V1 against Swin V2 in one block of the explored stage (C, nH, M): the position
    bias's learned numbers (V1's (2M-1)² x nH table, V2's MLP whatever the window), what a
    window twice as large would need, and the whole block's parameters (swinviz.cost)."""

    table: int  # V1: (2M-1)² · nH
    mlp: int  # V2: 2·512 + 512 + 512·nH
    table_2m: int  # V1 at a 2M window: (4M-1)² · nH (a new table)
    block_v1: int
    block_v2: int


def grouped(n: int) -> str:
    """A count as the lesson writes it in words and tables alike: digits in groups of three
    from 10 000 up ("3072", "2 362 368"; `text.wrap` never breaks a group)."""
    return str(n) if abs(n) < 10_000 else f"{n:,}".replace(",", " ")


def v2_change(C: int, heads: int, M: int) -> V2Change:
    from ..cost import attention_params, block_params

    v1, v2 = attention_params(C, heads, M), attention_params(C, heads, M, version=2)
    return V2Change(table=v1["relative_position_bias_table"], mlp=v2["cpb_mlp"],
                    table_2m=attention_params(C, heads, 2 * M)["relative_position_bias_table"],
                    block_v1=sum(block_params(C, heads, M).values()),
                    block_v2=sum(block_params(C, heads, M, version=2).values()))


@dataclass(frozen=True)
class StageRow:
    stage: int
    H: int
    W: int
    dim: int
    heads: int
    depth: int
    M: int
    s: int
    px: int


@dataclass(frozen=True)
class LessonNumbers(Facts):
    """What the lesson's texts name, for one exploration: the tabs' `Facts` (stage, blocks,
    grid, pixels per token, window, shift, windows, padded grid) and more."""

    pair: int
    C: int  # channels of a token at this stage
    heads: int
    img_h: int
    img_w: int
    random: bool  # the weights are random (no preference may be read from them)
    query: tuple[int, int]  # on a window boundary
    corner: tuple[int, int]  # in the wrapped-around corner
    msa: int  # Ω(MSA) at this stage's grid and width
    wmsa: int  # Ω(W-MSA)
    stages: tuple[StageRow, ...]
    params: int | None  # the whole model's parameters and FLOPs (None without a config)
    flops: int | None
    arch: str
    mask_value: float = MASK_VALUE

    @property
    def N(self) -> int:
        return self.M * self.M

    @property
    def hw(self) -> int:
        return self.H * self.W

    @property
    def ratio(self) -> float:
        return self.msa / self.wmsa

    @property
    def wmsa_run(self) -> int:
        """Ω(W-MSA) of what the blocks compute: on the padded Hp x Wp grid (the formula, like
        the reference's flops(), counts the image's h x w tokens only)."""
        return _cost.wmsa_flops(self.Hp, self.Wp, self.C, self.M)

    @property
    def last_fits(self) -> bool:
        """The last stage's grid fits in one window, or it does not shift (its title says
        "one window, no shift")."""
        last = self.stages[-1] if self.stages else None
        return last is None or last.M >= min(last.H, last.W) or last.s == 0

    @property
    def table(self) -> int:
        """Entries of the relative position bias table: (2M-1)²."""
        return (2 * self.M - 1) ** 2


def lesson_numbers(exp) -> LessonNumbers:
    """The LessonNumbers of an Exploration (any stage, pair, size; the 6x6 example too)."""
    f = facts(exp)
    H, W, M, s = f.H, f.W, f.M, f.s
    C = int(exp.tokens.shape[-1])
    cfg = exp.config
    rows, params, flops, arch = (), None, None, "Swin"
    if cfg is not None:
        rows = tuple(StageRow(g.stage, g.grid[0], g.grid[1], g.dim, g.num_heads, g.depth,
                              g.window_size, g.shift_size, g.patch_px) for g in cfg.stages())
        params = sum(_cost.model_params(cfg).values())
        flops = sum(_cost.model_flops(cfg).values())
        from ..figures._core import config_label
        arch = config_label(cfg)
    return LessonNumbers(
        **dataclasses.asdict(f), pair=exp.pair, C=C, heads=exp.num_heads,
        img_h=exp.image.height, img_w=exp.image.width, random=not exp.pretrained,
        query=boundary_query(H, W, M, s), corner=corner_query(H, W, M, s),
        msa=_cost.msa_flops(H, W, C), wmsa=_cost.wmsa_flops(H, W, C, M), stages=rows,
        params=params, flops=flops, arch=arch)
