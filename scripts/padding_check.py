"""Measure how timm and torchvision pad a block whose token grid is not a multiple of the window,
against swinviz (pad, then roll; equal to transformers, tested in tests/test_block.py).

Needs timm and torchvision beside torch, which the test environment (torch 2.13 CPU) cannot
import; run it in an environment that has them, e.g.
    python -m venv /tmp/anchors
    /tmp/anchors/bin/pip install torch==2.14.1 torchvision==0.29.1 timm
    PYTHONPATH=. /tmp/anchors/bin/python scripts/padding_check.py
Measured with timm 1.0.31 and torchvision 0.29.1: see docs/concepts.md, "Padding".
"""

import timm.models.swin_transformer as timm_swin
import torch
import torchvision.models.swin_transformer as tv_swin

from swinviz.block import SwinTransformerBlock, init_weights


def differing(a: torch.Tensor, b: torch.Tensor, H: int, tol: float = 1e-4) -> str:
    """How far apart two (1, H*H, C) outputs are, and how many tokens differ by more than tol."""
    per_token = (a - b).abs().amax(-1).view(H, H)
    n = int((per_token > tol).sum())
    return f"max {per_token.max().item():.2e}, {n} of {H * H} tokens differ by > {tol:g}"


def main() -> None:
    torch.manual_seed(0)
    C, nH = 96, 3
    for H, M, s in [(50, 7, 3), (25, 7, 3), (13, 7, 3), (10, 4, 2)]:
        ours = SwinTransformerBlock(C, (H, H), nH, window_size=M, shift_size=s).eval()
        init_weights(ours)
        with torch.no_grad():
            for p in ours.parameters():
                p.add_(torch.randn_like(p) * 0.05)
        sd = ours.state_dict()
        tb = timm_swin.SwinTransformerBlock(C, (H, H), nH, window_size=M, shift_size=s).eval()
        tb.load_state_dict(sd, strict=False)
        vb = tv_swin.SwinTransformerBlock(C, nH, [M, M], [s, s]).eval()
        vb.load_state_dict({k.replace("mlp.fc1", "mlp.0").replace("mlp.fc2", "mlp.3"): v
                            for k, v in sd.items()}, strict=False)
        x = torch.randn(1, H * H, C)
        with torch.no_grad():
            y = ours(x)
            yt = tb(x.view(1, H, H, C)).reshape(1, H * H, C)
            yv = vb(x.view(1, H, H, C)).reshape(1, H * H, C)
        Hp = -(-H // M) * M
        print(f"{H}x{H}, M={M}, s={s} (padded to {Hp}x{Hp}): timm {differing(yt, y, H)}; "
              f"torchvision {differing(yv, y, H)}")


if __name__ == "__main__":
    main()
