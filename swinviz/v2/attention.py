"""Swin V2's window attention: scaled cosine attention with a continuous position bias
(docs/concepts.md, facts 16-18).

    logits = cos(q, k) · exp(min(logit_scale, log 100)) + 16·sigmoid(cpb_mlp(coords))[index] + mask

Parameter names are timm's (`qkv`, `q_bias`, `v_bias`, `logit_scale`, `cpb_mlp.{0,2}`,
`proj`), so timm's and Microsoft's checkpoints load as they are.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..windows import relative_position_index, to_2tuple

LOGIT_SCALE_MAX = math.log(1.0 / 0.01)  # the clamp on logit_scale: a temperature of at most 100
CPB_HIDDEN = 512  # width of the continuous position bias MLP's hidden layer
BIAS_RANGE = 16.0  # 16·sigmoid(...): the bias lies in (0, 16)


def relative_coords_table(window_size: int | tuple[int, int],
                          pretrained_window_size: int | tuple[int, int] = 0) -> torch.Tensor:
    """The log-spaced relative coordinates the position MLP reads (concepts fact 17):
    (1, 2Mh-1, 2Mw-1, 2) float32, entry [0, dh + Mh-1, dw + Mw-1] for offsets (dh, dw).

    Each offset is divided by (pretrained window - 1), or (M - 1) without one (so that a window
    fine-tuned larger than it was pretrained reaches past the trained range, not squeezed into
    it), times 8, then x -> sign(x)·log2(|x| + 1)/log2(8): large offsets are compressed, so
    extrapolating to larger windows stays near the trained range (the V2 paper, section 3.3).
    """
    mh, mw = to_2tuple(window_size)
    ph, pw = to_2tuple(pretrained_window_size)
    dh = torch.arange(-(mh - 1), mh, dtype=torch.float32)
    dw = torch.arange(-(mw - 1), mw, dtype=torch.float32)
    table = torch.stack(torch.meshgrid(dh, dw, indexing="ij"), dim=-1)  # 2Mh-1, 2Mw-1, 2
    if ph > 0:
        table /= torch.tensor([max(ph - 1, 1), max(pw - 1, 1)], dtype=torch.float32)
    else:  # max(.., 1): a window of one token has only the offset 0
        table /= torch.tensor([max(mh - 1, 1), max(mw - 1, 1)], dtype=torch.float32)
    table *= 8
    table = torch.sign(table) * torch.log2(table.abs() + 1.0) / math.log2(8)
    return table.unsqueeze(0)


class WindowAttentionV2(nn.Module):
    """Multi-head scaled cosine attention inside windows, with a continuous position bias.

    Parameters: `qkv` Linear(C, 3C) without bias, `q_bias` and `v_bias` (C,) (the keys have
    none: a key bias would add the same q·b_k to every key of a query, which the softmax
    ignores), `logit_scale` (nH, 1, 1) (log of each head's temperature), `cpb_mlp`
    Linear(2, 512) -> ReLU -> Linear(512, nH, no bias), `proj` Linear(C, C).
    Buffers (not saved): `relative_coords_table` (1, 2M-1, 2M-1, 2), `relative_position_index`
    (N, N), V1's index (concepts fact 6).

    forward(x, mask=None, return_trace=False, attn_out=None):
        x: (B_, N, C) windows; mask: (nW, N, N) of 0 / -100 or None.
        returns (B_, N, C), or ((B_, N, C), trace) with return_trace: `scores` (B_, nH, N, N)
        the cosine logits times the temperature (before bias and mask), `bias` (nH, N, N),
        `attn` (B_, nH, N, N) probabilities, `q`, `k`, `v` (B_, nH, N, d); softmax(scores +
        bias + mask) = attn.
    """

    def __init__(self, dim: int, window_size: int | tuple[int, int], num_heads: int,
                 qkv_bias: bool = True, pretrained_window_size: int | tuple[int, int] = 0,
                 attn_drop: float = 0.0, proj_drop: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"num_heads={num_heads} does not divide dim={dim}")
        self.dim = dim
        self.window_size = to_2tuple(window_size)
        self.pretrained_window_size = to_2tuple(pretrained_window_size)
        self.num_heads = num_heads
        # False in a model without its position bias (`swinviz.without`): no bias is added
        self.position_bias = True
        self.logit_scale = nn.Parameter(torch.full((num_heads, 1, 1), math.log(10.0)))
        self.cpb_mlp = nn.Sequential(nn.Linear(2, CPB_HIDDEN), nn.ReLU(inplace=True),
                                     nn.Linear(CPB_HIDDEN, num_heads, bias=False))
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        if qkv_bias:
            self.q_bias = nn.Parameter(torch.zeros(dim))
            self.v_bias = nn.Parameter(torch.zeros(dim))
        else:
            self.q_bias = self.v_bias = None
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.register_buffer("relative_coords_table", relative_coords_table(
            self.window_size, self.pretrained_window_size), persistent=False)
        self.register_buffer("relative_position_index",
                             relative_position_index(self.window_size), persistent=False)

    def reset_v2_parameters(self) -> None:
        """timm's initialisation of what is not a Linear: temperature 10 (logit_scale log 10),
        q and v biases 0 (the Linears, cpb_mlp's included, are `init_weights`'s)."""
        with torch.no_grad():
            self.logit_scale.fill_(math.log(10.0))
            if self.q_bias is not None:
                self.q_bias.zero_()
                self.v_bias.zero_()

    def qkv_bias(self) -> torch.Tensor | None:
        """(3C,): q_bias, zeros for the keys, v_bias; None without biases."""
        if self.q_bias is None:
            return None
        return torch.cat((self.q_bias, torch.zeros_like(self.q_bias), self.v_bias))

    def project_qkv(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C) -> (..., 3C): q, k, v side by side."""
        return F.linear(x, self.qkv.weight, self.qkv_bias())

    def temperature(self) -> torch.Tensor:
        """exp(logit_scale) clamped at 100 (concepts fact 16): (nH, 1, 1)."""
        return torch.clamp(self.logit_scale, max=LOGIT_SCALE_MAX).exp()

    def relative_position_bias(self) -> torch.Tensor:
        """16·sigmoid of the MLP's table gathered through the index (concepts fact 17):
        (nH, N, N); zeros in a model without its position bias."""
        N = self.relative_position_index.shape[0]
        if not self.position_bias:
            return self.relative_coords_table.new_zeros(self.num_heads, N, N)
        table = self.cpb_mlp(self.relative_coords_table).view(-1, self.num_heads)
        bias = table[self.relative_position_index.view(-1)].view(N, N, self.num_heads)
        return BIAS_RANGE * torch.sigmoid(bias.permute(2, 0, 1).contiguous())

    def trained_window(self) -> tuple[int, int]:
        """The window its position coordinates are scaled by: the pretrained one, else its own
        (`relative_coords_table`)."""
        return self.pretrained_window_size if self.pretrained_window_size[0] > 0 \
            else self.window_size

    def bias_table(self, window: int | None = None) -> torch.Tensor:
        """The bias, 16·sigmoid(MLP), over the offsets of a window of `window` tokens a side
        (None: its own), (nH, 2W-1, 2W-1): entry [h, dh + W-1, dw + W-1]. Another window's
        coordinates are scaled by the window it was trained with (`trained_window`), as Swin
        V2 runs a checkpoint at a larger window (concepts fact 17): the centre (2M-1)² of a
        larger window's table is this window's own table."""
        coords = relative_coords_table(window or self.window_size, self.trained_window())
        table = self.cpb_mlp(coords.to(self.relative_coords_table))[0]  # 2W-1, 2W-1, nH
        return BIAS_RANGE * torch.sigmoid(table.permute(2, 0, 1))

    def split_heads(self, qkv: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B_, N, 3C) -> q, k, v, each (B_, nH, N, d)."""
        B_, N, _ = qkv.shape
        q, k, v = qkv.view(B_, N, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        return q, k, v

    def cosine_scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """cos(q, k) times each head's temperature: (B_, nH, N, N) (concepts fact 16)."""
        cos = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
        return cos * self.temperature()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                return_trace: bool = False, attn_out: list[torch.Tensor] | None = None):
        B_, N, C = x.shape
        q, k, v = self.split_heads(self.project_qkv(x))
        scores = self.cosine_scores(q, k)  # B_, nH, N, N: content only
        bias = self.relative_position_bias()  # nH, N, N
        logits = scores + bias.unsqueeze(0)
        if mask is not None:
            nW = mask.shape[0]
            m = mask.to(logits).unsqueeze(1).unsqueeze(0)  # 1, nW, 1, N, N
            logits = (logits.view(B_ // nW, nW, self.num_heads, N, N) + m).view_as(scores)
        probs = logits.softmax(dim=-1)
        if attn_out is not None:
            attn_out.append(probs.detach().float().mean(1))
        out = (self.attn_drop(probs) @ v).transpose(1, 2).reshape(B_, N, C)
        out = self.proj_drop(self.proj(out))
        if not return_trace:
            return out
        return out, {"scores": scores, "bias": bias, "attn": probs, "q": q, "k": k, "v": v}

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, window_size={self.window_size}, num_heads={self.num_heads}, "
                f"pretrained_window_size={self.pretrained_window_size}")
