"""Attention rollout across blocks, windows, shifts and patch merges.

Each block's attention is kept head-averaged in window form (nW, N, N), in the block's partition
order (the shifted map's windows for a shifted block). Rolling out for one query token works
backwards from the chosen pair's output with a row vector v over the current stage's tokens:

    v <- 0.5 · (v A_b) + 0.5 · v       (A_b in original positions: the shift undone, `window_order`)
    across a patch merge: a merged token's weight is spread equally over its 2x2 children
    (the children that exist: a padded row or column carries none).

At stage 1 v is a map over the (H/4, W/4) patches of the image: how much of the query's output,
in this linearised picture (Abnar & Zuidema's rollout with the residual as 0.5·I), comes from
each input patch. Weight a query gives to padding tokens (zeros added to fill the last window)
leaves the picture, so a map next to a padded edge can sum to a little less than 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .windows import window_order


@dataclass(frozen=True)
class BlockAttention:
    """One block's head-averaged attention, enough to roll out through it.

    attn: (nW, N, N) float32 probabilities (B = 1), windows in partition order of the (padded,
    rolled when shift_size > 0) map.
    """

    stage: int  # 1-based
    block: int  # index inside the stage
    grid: tuple[int, int]  # the block's token grid (H, W), before padding
    window_size: int
    shift_size: int
    attn: torch.Tensor

    @classmethod
    def from_trace(cls, stage: int, block: int, trace) -> BlockAttention:
        """From a `BlockTrace` of one image: the probabilities averaged over heads, on the CPU."""
        attn = trace.attn.detach().float().mean(1).cpu()  # B*nW, N, N
        return cls(stage, block, tuple(trace.input_resolution), trace.window_size,
                   trace.shift_size, attn)

    def apply(self, v: torch.Tensor) -> torch.Tensor:
        """v A for a row vector v (H·W,) over original positions: (H·W,) -> (H·W,)."""
        H, W = self.grid
        L = H * W
        N = self.window_size**2
        order = window_order(H, W, self.window_size, self.shift_size)  # nW*N, padding = L
        padded = torch.cat([v, v.new_zeros(1)])
        slots = padded[order].view(-1, N)  # nW, N: the query weights in window form
        out = torch.einsum("wq,wqk->wk", slots, self.attn.to(v))  # nW, N: weights on the keys
        return v.new_zeros(L + 1).index_add_(0, order, out.reshape(-1))[:L]


def spread_to_children(v: torch.Tensor, grid: tuple[int, int],
                       child_grid: tuple[int, int]) -> torch.Tensor:
    """Undo a patch merge for a row vector: (Ho·Wo,) over the merged grid -> (H·W,) over the
    children's grid; each merged token's weight is split equally over its real 2x2 children."""
    Ho, Wo = grid
    H, W = child_grid
    rows = torch.arange(H) // 2
    cols = torch.arange(W) // 2
    parent = (rows[:, None] * Wo + cols[None, :]).reshape(-1)  # H*W: the merged token of each
    n_children = torch.bincount(parent, minlength=Ho * Wo).to(v)
    return (v / n_children.clamp(min=1))[parent]


def rollout_map(chain: list[BlockAttention], query: tuple[int, int],
                residual: float = 0.5) -> list[torch.Tensor]:
    """Roll the query's attention out from the last block of `chain` back to stage 1.

    chain: every block from stage 1, block 0, up to the chosen one, in forward order.
    query: (row, col) on the last block's grid.
    Returns one map per stage crossed, last stage first: (H_s, W_s) float tensors; the last
    entry is the stage-1 map over the image's patches.
    """
    if not chain:
        raise ValueError("rollout needs at least one block's attention")
    H, W = chain[-1].grid
    r, c = query
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"query ({r}, {c}) is outside the {H}x{W} token grid")
    v = torch.zeros(H * W, dtype=torch.float64)
    v[r * W + c] = 1.0
    return roll_back(chain, v, residual)


def roll_back(chain: list[BlockAttention], v: torch.Tensor,
              residual: float = 0.5) -> list[torch.Tensor]:
    """Carry a row vector v (H·W,) over the last block's output grid back through `chain`
    (blocks in forward order, from stage 1, block 0): v <- residual·v + (1 - residual)·(v A)
    at each block, `spread_to_children` at each patch merge. Returns one (H_s, W_s) map per
    stage crossed, last stage first, the stage-1 map last. residual=0 takes each block's
    matrix as it is (the class-conditioned rollout puts its own identity in,
    `swinviz.evidence`)."""
    H, W = chain[-1].grid
    maps = []
    stage = chain[-1].stage
    for blk in reversed(chain):
        if blk.stage != stage:  # crossed the patch merge into stage blk.stage + 1
            maps.append(v.view(H, W).clone())
            v = spread_to_children(v, (H, W), blk.grid)
            H, W = blk.grid
            stage = blk.stage
        v = residual * v + (1 - residual) * blk.apply(v) if residual else blk.apply(v)
    maps.append(v.view(H, W).clone())
    return maps
