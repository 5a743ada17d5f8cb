"""Windows, region ids, masks and the relative position index: the seed note's worked examples."""

import pytest
import torch
from seed_tables import SEED_FLAT, SEED_IDS, SEED_INDEX

from swinviz import (
    attention_mask,
    region_ids,
    relative_position_index,
    window_partition,
    window_reverse,
)
from swinviz.windows import (
    effective_window,
    inverse_order,
    padded_size,
    window_of_token,
    window_order,
    window_region_ids,
)


def test_region_ids_seed_example():
    ids = region_ids(6, 6, 3, 1)
    assert ids.dtype == torch.long
    assert ids.tolist() == SEED_IDS


def test_flattened_ids_seed_example():
    assert window_region_ids(6, 6, 3, 1).tolist() == SEED_FLAT


def test_attention_mask_seed_example():
    mask = attention_mask(6, 6, 3, 1)
    assert mask.shape == (4, 9, 9) and mask.dtype == torch.float32
    for w, row in enumerate(SEED_FLAT):
        for i in range(9):
            for j in range(9):
                assert mask[w, i, j].item() == (0.0 if row[i] == row[j] else -100.0)
    # window 0 is interior: nothing masked; window 3 (corner) has four regions
    assert (mask[0] == 0).all()
    assert (mask[3] == -100).sum().item() == 81 - (16 + 4 + 4 + 1)


def test_mask_all_zero_without_shift():
    assert (attention_mask(8, 8, 4, 0) == 0).all()
    assert (region_ids(8, 8, 4, 0) == 0).all()


def test_relative_position_index_seed_table():
    idx = relative_position_index(3)
    assert idx.dtype == torch.long
    assert idx.tolist() == SEED_INDEX


@pytest.mark.parametrize("mh,mw", [(2, 3), (3, 2), (4, 7), (7, 7)])
def test_relative_position_index_rectangular(mh, mw):
    idx = relative_position_index((mh, mw))
    N = mh * mw
    assert idx.shape == (N, N)
    for i in range(N):
        for j in range(N):
            hi, wi, hj, wj = i // mw, i % mw, j // mw, j % mw
            assert idx[i, j] == (hi - hj + mh - 1) * (2 * mw - 1) + (wi - wj + mw - 1)
    # every offset (dh, dw) of the (2Mh-1)(2Mw-1) table is used
    assert sorted(set(idx.flatten().tolist())) == list(range((2 * mh - 1) * (2 * mw - 1)))


@pytest.mark.parametrize("B,H,W,C,M", [(1, 6, 6, 2, 3), (2, 56, 56, 5, 7), (3, 8, 12, 1, 4)])
def test_partition_reverse_round_trip(B, H, W, C, M):
    x = torch.randn(B, H, W, C)
    win = window_partition(x, M)
    assert win.shape == (B * (H // M) * (W // M), M, M, C)
    assert torch.equal(window_reverse(win, M, H, W), x)
    # window 1 of image 0 is the second window of the first window row
    assert torch.equal(win[1], x[0, :M, M : 2 * M])


@pytest.mark.parametrize(
    "H,W,M,s",
    [(6, 6, 3, 1), (6, 6, 3, 2), (56, 56, 7, 3), (56, 56, 7, 1), (28, 28, 7, 3), (12, 8, 4, 2),
     (96, 96, 12, 6), (14, 21, 7, 5), (8, 8, 4, 0), (24, 12, 6, 3)],
)
def test_gather_equals_roll_and_partition(H, W, M, s):
    B, C = 2, 3
    x = torch.randn(B, H, W, C)
    ref = window_partition(torch.roll(x, shifts=(-s, -s), dims=(1, 2)), M).reshape(B, -1, C)
    order = window_order(H, W, M, s)
    assert torch.equal(x.reshape(B, H * W, C)[:, order], ref)
    # the inverse gather is window_reverse + roll back
    inv = inverse_order(order)
    back = ref[:, inv].reshape(B, H, W, C)
    assert torch.equal(back, x)
    # window_of_token says where each original token lands
    wt = window_of_token(H, W, M, s)
    N = M * M
    for r, c in [(0, 0), (H - 1, W - 1), (H // 2, W - 1), (H - 1, 0)]:
        w, k = wt[r, c].tolist()
        assert torch.equal(ref[0, w * N + k], x[0, r, c])


def test_effective_window_rule():
    # min(H, W) <= M: one window of min(H, W), no shift (Swin-T stage 4 at 224: 7x7 grid, M=7)
    assert effective_window((7, 7), 7, 3) == (7, 0)
    assert effective_window((4, 6), 7, 3) == (4, 0)
    assert effective_window((56, 56), 7, 3) == (7, 3)
    with pytest.raises(ValueError, match="shift_size"):
        effective_window((56, 56), 7, 7)
    with pytest.raises(ValueError, match="shift_size"):
        effective_window((56, 56), 7, -1)


@pytest.mark.parametrize("H,W,M,s", [(10, 13, 4, 2), (7, 7, 3, 1), (30, 30, 7, 3), (5, 8, 4, 0)])
def test_gather_equals_pad_roll_partition(H, W, M, s):
    """Grids that are not whole windows: the index reads a zero token for the padding."""
    B, C = 2, 3
    x = torch.randn(B, H, W, C)
    Hp, Wp = padded_size(H, W, M)
    assert (Hp % M, Wp % M) == (0, 0) and Hp - H < M and Wp - W < M
    padded = torch.nn.functional.pad(x, (0, 0, 0, Wp - W, 0, Hp - H))
    ref = window_partition(torch.roll(padded, shifts=(-s, -s), dims=(1, 2)), M).reshape(B, -1, C)
    order = window_order(H, W, M, s)
    ext = torch.cat([x.reshape(B, H * W, C), torch.zeros(B, 1, C)], dim=1)
    assert torch.equal(ext[:, order], ref)
    back = ref[:, inverse_order(order, H * W)].reshape(B, H, W, C)
    assert torch.equal(back, x)
