"""What the lesson reads off an exploration's tensors, beyond its settings: the weights the
query gives each token, what the shifted block adds to its reach, the largest weight the mask
leaves. Arrays are numpy, on the stage's (H, W) token grid.

    q = lesson_numbers(exp).query
    w1 = query_weights(exp, 1, q)      # (H, W): block 1's head-mean weights of the query
    r = readings(exp, q)               # r.cross_share, r.reach, r.masked_max, r.leak
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..figures._core.geometry import regions_in_place

# figures.parts and swinviz.windows (torch) are imported where they are used: the lesson's
# slides, and the app's page with them, import this module before torch is imported


def _slots(exp, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(window of token (H, W), slot of token (H, W)) and the flat position of every slot
    (nW, N; H*W for a padding slot) in block `block`'s partition."""
    from ..windows import window_of_token, window_order

    H, W = exp.grid
    t = exp.traces[block]
    rf = bool(getattr(t, "roll_first", False))  # timm's Swin V2 rolls, then pads
    wt = window_of_token(H, W, t.window_size, t.shift_size, rf).numpy()
    order = window_order(H, W, t.window_size, t.shift_size, roll_first=rf).numpy()
    return wt, order.reshape(-1, t.window_size * t.window_size)


def query_weights(exp, block: int, query: tuple[int, int], head: int | None = None) -> np.ndarray:
    """(H, W) softmax weights the query token gives every token in block `block` (mean over
    heads when `head` is None); 0 outside its window. Rows sum to 1 over the window."""
    H, W = exp.grid
    wt, order = _slots(exp, block)
    w, slot = (int(v) for v in wt[query])
    attn = exp.traces[block].attn[w]  # (nH, N, N)
    row = (attn.mean(0) if head is None else attn[head])[slot].double().numpy()
    out = np.zeros(H * W + 1)
    np.add.at(out, order[w], row)
    return out[:-1].reshape(H, W)


def window_ids(exp, block: int) -> np.ndarray:
    """(H, W) the window each token sits in, in block `block`."""
    return _slots(exp, block)[0][..., 0]


def region_map(exp, rolled: bool) -> np.ndarray:
    """(Hp, Wp) region ids of the shifted block: on the rolled map the reference draws them on
    (`rolled`), or rolled back onto the tokens' own places."""
    t = exp.traces[1]
    ids = t.region_ids.numpy()
    return ids if rolled else regions_in_place(ids, *exp.grid, t.shift_size,
                                               bool(getattr(t, "roll_first", False)))


def groups(exp, block: int) -> np.ndarray:
    """(H, W) an id per set of tokens that may attend to each other in block `block`: its
    window, and within a shifted window its region (what the mask keeps apart)."""
    H, W = exp.grid
    win = window_ids(exp, block).astype(np.int64)
    t = exp.traces[block]
    if t.shift_size == 0:
        return win
    return win * 16 + region_map(exp, rolled=False)[:H, :W].astype(np.int64)


def reach(exp, query: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(after block 0, after block 1): (H, W) booleans, the tokens that can influence the
    query's output after the pair's first block, and after both (block 1 reads its group, each
    of which read its block-0 window)."""
    g0, g1 = groups(exp, 0), groups(exp, 1)
    after0 = g0 == g0[query]
    keys1 = g1 == g1[query]
    after1 = np.isin(g0, np.unique(g0[keys1]))
    return after0, after1


@dataclass(frozen=True)
class Readings:
    query: tuple[int, int]
    reach0: int  # tokens that reach the query after block 0
    reach1: int  # after block 1
    cross_share: float  # block 1's weight (head mean) on tokens outside the block-0 window
    masked_max: float | None  # the largest softmax weight on a masked (query, key); None: no mask
    bias_lo: float  # head 0's bias over the window
    bias_hi: float
    windows_joined: int  # block-0 windows the query's block-1 group draws from
    # why each part (`swinviz.figures.parts`): the same pair with one term left out
    leak: float | None  # the query's block-1 weight on other regions without the mask
    leak_max: float | None  # the most any window puts there (None: no shift, no mask)
    reach_shift: int | None  # tokens reaching the query after parts.PAIRS pairs, shifted
    reach_flat: int  # ... with shift 0 (its window)
    bias_moved: float  # block 1's weight (head mean) that moves without the bias
    # class evidence (`swinviz.evidence`): the top class's Grad-CAM beside the query's attention
    evidence_class: str | None = None  # its name (None: the exploration has no evidence)
    evidence_p: float | None = None  # its probability
    evidence_agree: float | None = None  # correlation with block 1's weights, over the window
    evidence_flat: bool = False  # the class evidence is 0 on every token of the window


def readings(exp, query: tuple[int, int]) -> Readings:
    """The numbers the attention, mask, bias and flow steps say, for one query."""
    after0, after1 = reach(exp, query)
    w1 = query_weights(exp, 1, query)
    outside = window_ids(exp, 0) != window_ids(exp, 0)[query]
    t1 = exp.traces[1]
    masked = None
    if t1.mask is not None and bool((t1.mask != 0).any()):
        nW = t1.mask.shape[0]
        attn = t1.attn.reshape(-1, nW, *t1.attn.shape[1:])  # (B, nW, nH, N, N)
        masked = float(attn.masked_select((t1.mask != 0)[None, :, None]).max())
    bias = exp.traces[0].bias[0]
    g1 = groups(exp, 1)
    joined = len(np.unique(window_ids(exp, 0)[g1 == g1[query]]))
    return Readings(query=query, reach0=int(after0.sum()), reach1=int(after1.sum()),
                    cross_share=float(w1[outside].sum()), masked_max=masked,
                    bias_lo=float(bias.min()), bias_hi=float(bias.max()),
                    windows_joined=joined, **_without_each(exp, query),
                    **_evidence(exp, query, w1))


def _evidence(exp, query: tuple[int, int], w1: np.ndarray) -> dict:
    """The class-evidence readings of `Readings`: the class, and how far its Grad-CAM at the
    pair's second block (norm1) agrees with the query's block-1 weights inside its window."""
    from ..figures.evidence import agreement

    ev = getattr(exp, "evidence", None)
    if ev is None:
        return {}
    inside = window_ids(exp, 1) == window_ids(exp, 1)[query]
    cam = np.maximum(ev.by_layer["norm1"].double().numpy(), 0)
    return dict(evidence_class=ev.target_name or f"class {ev.target}",
                evidence_p=ev.probability, evidence_agree=agreement(cam[inside], w1[inside]),
                evidence_flat=bool((cam[inside] == 0).all()))


def _without_each(exp, query: tuple[int, int]) -> dict:
    """The what-if readings of `Readings` for one query (block 1, the mean over heads)."""
    from ..figures.parts import bias_effect, mask_leak, reach_counts, stage_shift

    H, W = exp.grid
    M = exp.window_size
    s = stage_shift(exp)
    leak = mask_leak(exp)
    q_leak = None
    if leak is not None:
        wt, _ = _slots(exp, 1)
        w, n = (int(v) for v in wt[query])
        q_leak = float(leak.of_query(w, n, None)[leak.blocked[w, n]].sum())
    eff = bias_effect(exp, 1, query, None)
    return dict(leak=q_leak, leak_max=None if leak is None else float(leak.per_window.max()),
                reach_shift=reach_counts(H, W, M, s, query, roll_first=bool(
                    getattr(exp.traces[1], "roll_first", False)))[-1] if s else None,
                reach_flat=reach_counts(H, W, M, 0, query)[-1],
                bias_moved=0.5 * float(np.abs(eff["with_bias"] - eff["without_bias"]).sum()))

