"""Windows: partition and reverse, region ids, the attention mask, the relative position index,
and the one-gather permutation that replaces roll + partition.

Notation (docs/concepts.md): a token map (B, H, W, C), window size M (or (Mh, Mw)), shift s,
N = Mh * Mw tokens per window, nW = (H / Mh) * (W / Mw) windows per image.
"""

from __future__ import annotations

from functools import lru_cache

import torch

# the grid's arithmetic (torch-free, for the settings and the page) lives in swinviz.grid
from .grid import (  # noqa: F401
    MASK_VALUE,
    check_divisible,
    effective_window,
    padded_size,
    to_2tuple,
)


def window_partition(x: torch.Tensor, window_size: int | tuple[int, int]) -> torch.Tensor:
    """Cut a token map into non-overlapping windows.

    x: (B, H, W, C) -> (nW*B, Mh, Mw, C), windows in row-major order inside each image
    (image 0's windows first).
    """
    mh, mw = to_2tuple(window_size)
    B, H, W, C = x.shape
    x = x.view(B, H // mh, mh, W // mw, mw, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, mh, mw, C)


def window_reverse(
    windows: torch.Tensor, window_size: int | tuple[int, int], H: int, W: int
) -> torch.Tensor:
    """Inverse of `window_partition`: (nW*B, Mh, Mw, C) -> (B, H, W, C)."""
    mh, mw = to_2tuple(window_size)
    C = windows.shape[-1]
    x = windows.view(-1, H // mh, W // mw, mh, mw, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, H, W, C)


def region_ids(H: int, W: int, window_size: int, shift_size: int) -> torch.Tensor:
    """The reference's `img_mask` (concepts fact 4) as a LongTensor (H, W).

    Each axis is cut by [0, H-M), [H-M, H-s), [H-s, H) into three bands; the 3x3 regions are
    numbered 0..8 row by row. Patches with the same id were neighbours before the cyclic shift.
    With shift_size == 0 every id is 0.
    """
    ids = torch.zeros(H, W, dtype=torch.long)
    if shift_size == 0:
        return ids
    M, s = window_size, shift_size
    h_bands = (slice(0, -M), slice(-M, -s), slice(-s, None))
    w_bands = (slice(0, -M), slice(-M, -s), slice(-s, None))
    n = 0
    for hb in h_bands:
        for wb in w_bands:
            ids[hb, wb] = n
            n += 1
    return ids


def window_region_ids(H: int, W: int, window_size: int, shift_size: int) -> torch.Tensor:
    """Region ids partitioned into windows and flattened: LongTensor (nW, N)."""
    ids = region_ids(H, W, window_size, shift_size)
    return window_partition(ids.view(1, H, W, 1), window_size).reshape(-1, window_size**2)


def attention_mask(H: int, W: int, window_size: int, shift_size: int) -> torch.Tensor:
    """Float mask (nW, N, N): 0 where query i and key j share a region id, else -100.

    All zeros when shift_size == 0 (concepts fact 5).
    """
    ids = window_region_ids(H, W, window_size, shift_size)  # nW, N
    same = ids.unsqueeze(2) == ids.unsqueeze(1)  # nW, N(query), N(key)
    return torch.where(same, 0.0, MASK_VALUE).to(torch.float32)


def relative_position_index(window_size: int | tuple[int, int]) -> torch.Tensor:
    """LongTensor (N, N): index[i, j] = (hi - hj + Mh - 1) * (2Mw - 1) + (wi - wj + Mw - 1).

    Tokens i, j are numbered row-major inside the window (concepts fact 6).
    """
    mh, mw = to_2tuple(window_size)
    hh, ww = torch.meshgrid(torch.arange(mh), torch.arange(mw), indexing="ij")
    h, w = hh.flatten(), ww.flatten()  # N
    dh = h[:, None] - h[None, :] + mh - 1  # N, N in [0, 2Mh-2]
    dw = w[:, None] - w[None, :] + mw - 1  # N, N in [0, 2Mw-2]
    return dh * (2 * mw - 1) + dw


@lru_cache(maxsize=64)
@torch.inference_mode(False)  # normal tensors: autograd may use them after an inference run
def _window_order_cpu(H: int, W: int, window_size: int, shift_size: int,
                      roll_first: bool = False) -> torch.Tensor:
    Hp, Wp = padded_size(H, W, window_size)
    pos = torch.full((Hp, Wp), H * W, dtype=torch.long)  # padding reads token H*W (zeros)
    grid = torch.arange(H * W).view(H, W)
    if roll_first and shift_size:  # timm's Swin V2: the unpadded map rolls, then pads
        grid = torch.roll(grid, shifts=(-shift_size, -shift_size), dims=(0, 1))
    pos[:H, :W] = grid
    pos = pos.view(1, Hp, Wp, 1)
    if shift_size and not roll_first:
        pos = torch.roll(pos, shifts=(-shift_size, -shift_size), dims=(1, 2))
    return window_partition(pos, window_size).reshape(-1)


def window_order(
    H: int, W: int, window_size: int, shift_size: int, device: torch.device | str = "cpu",
    roll_first: bool = False,
) -> torch.Tensor:
    """The gather index that does (pad +) roll(-s, -s) + window_partition in one step.

    LongTensor (nW*N,) over the padded grid: entry k is the flat position r*W + c of the token
    that lands at slot k of the flattened windows, or H*W for a padding slot (gather from the
    tokens with one zero token appended). `x.view(B, H*W, C)[:, order]` is
    `window_partition(roll(x))`, and `inverse_order` undoes it (window_reverse + roll back).
    roll_first: roll the unpadded map, then pad (timm's Swin V2; docs/concepts.md, "Padding");
    the same order when H and W are whole windows.
    """
    return _window_order_cpu(H, W, window_size, shift_size, bool(roll_first)).to(device)


def inverse_order(order: torch.Tensor, length: int | None = None) -> torch.Tensor:
    """For each of the `length` real tokens (default: all of `order`), its slot k in `order`:
    `inv[order[k]] = k`; padding entries (>= length) are skipped."""
    length = order.numel() if length is None else length
    real = order < length
    inv = torch.empty(length, dtype=order.dtype, device=order.device)
    inv[order[real]] = torch.nonzero(real).flatten()
    return inv


def padded_order(H: int, W: int, window_size: int, shift_size: int,
                 roll_first: bool = False) -> torch.Tensor:
    """Like `window_order`, but every slot, padding included, named by a flat position r*Wp + c
    of the padded (Hp, Wp) grid in original coordinates: a real token at its own place, a
    padding slot where the block added it. Pad, then roll: the padding rolls with the tokens,
    so this is `window_order(Hp, Wp, ...)`; roll, then pad (timm's Swin V2): the padding was
    added to the rolled map, at its bottom and right, and stays there."""
    Hp, Wp = padded_size(H, W, window_size)
    if not (roll_first and shift_size):
        return _window_order_cpu(Hp, Wp, window_size, shift_size)
    pos = torch.arange(Hp * Wp).view(Hp, Wp)
    pos[:H, :W] = torch.roll(pos[:H, :W].clone(), shifts=(-shift_size, -shift_size),
                             dims=(0, 1))
    return window_partition(pos.view(1, Hp, Wp, 1), window_size).reshape(-1)


def window_of_token(H: int, W: int, window_size: int, shift_size: int,
                    roll_first: bool = False) -> torch.Tensor:
    """LongTensor (H, W, 2): for every token in original coordinates, (window index, slot in window)
    in the shifted block's partition order (the order of `trace.attn`; `roll_first` as in
    `window_order`)."""
    order = _window_order_cpu(H, W, window_size, shift_size, bool(roll_first))
    N = window_size * window_size
    slot_of = inverse_order(order, H * W)  # flat position -> slot k
    return torch.stack([slot_of // N, slot_of % N], dim=-1).view(H, W, 2)
