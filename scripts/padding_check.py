"""Measure how timm and torchvision pad a block whose token grid is not a multiple of the window,
against swinviz (pad, then roll; equal to transformers, tested in tests/test_block.py).

Needs timm and torchvision beside torch, which the test environment (torch 2.13 CPU) cannot
import; run it in an environment that has them, e.g.
    python -m venv /tmp/anchors && /tmp/anchors/bin/pip install torch==2.14.1 torchvision==0.29.1 timm
    PYTHONPATH=. /tmp/anchors/bin/python scripts/padding_check.py
Measured with timm 1.0.31 and torchvision 0.29.1: see docs/concepts.md, "Padding".
"""
import torch
import timm.models.swin_transformer as T
import torchvision.models.swin_transformer as V
from swinviz.block import SwinTransformerBlock, init_weights

torch.manual_seed(0)
for H, M, s in [(50, 7, 3), (13, 7, 3), (25, 7, 3), (10, 4, 2)]:
    C, nH = 96, 3
    ours = SwinTransformerBlock(C, (H, H), nH, window_size=M, shift_size=s).eval()
    init_weights(ours)
    with torch.no_grad():
        for p in ours.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    sd = ours.state_dict()
    tb = T.SwinTransformerBlock(C, (H, H), nH, window_size=M, shift_size=s).eval()
    missing = tb.load_state_dict(sd, strict=False)
    vb = V.SwinTransformerBlock(C, nH, [M, M], [s, s]).eval()
    vsd = {k.replace("mlp.fc1", "mlp.0").replace("mlp.fc2", "mlp.3"): v for k, v in sd.items()}
    vmissing = vb.load_state_dict(vsd, strict=False)
    x = torch.randn(1, H * H, C)
    with torch.no_grad():
        y = ours(x)
        yt = tb(x.view(1, H, H, C)).reshape(1, H * H, C)
        yv = vb(x.view(1, H, H, C)).reshape(1, H * H, C)
    d = lambda a: (a - y).abs().max().item()
    diff_t = (yt - y).abs().amax(-1).view(H, H)
    bad = (diff_t > 1e-4).nonzero()
    where = f"rows {bad[:,0].min().item()}..{bad[:,0].max().item()}, cols {bad[:,1].min().item()}..{bad[:,1].max().item()}, {len(bad)} tokens" if len(bad) else "none"
    print(f"H=W={H} M={M} s={s} (padded to {-(-H//M)*M}): |timm - swinviz| = {d(yt):.2e} "
          f"(tokens differing > 1e-4: {where}); |torchvision - swinviz| = {d(yv):.2e}; "
          f"timm missing={missing.missing_keys} tv missing={vmissing.missing_keys}")
