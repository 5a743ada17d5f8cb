"""Class evidence (`model.explain`, `swinviz.evidence`): Grad-CAM, Grad-CAM++ and gradient x input
equal the same maps computed directly on transformers' SwinForImageClassification (an independent
implementation) with the same weights, at every `at`, two stages, a chosen class and a padded
size; the class-conditioned rollout equals a dense re-derivation (every block as an L x L matrix,
the shift undone by hand, the merges as explicit 2x2 spreads); the model is never changed; bad
settings are one sentence. pytorch-grad-cam and timm: tests/reference/test_evidence_reference.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from swinviz import SettingsError, SwinConfig
from swinviz.evidence.explainer import image_map
from swinviz.model import SwinTransformer
from swinviz.weights import load_checkpoint

transformers = pytest.importorskip("transformers")
from test_whole_model import SMALL, reference  # noqa: E402 (after the skip)

# SMALL at a size whose stage grids do not split into whole windows (padding in every stage)
PADDED = SwinConfig(name="small-padded", img_size=120, embed_dim=24, depths=(2, 2, 4, 2),
                    num_heads=(1, 2, 3, 4), window_size=4, num_classes=10)


def picture(size: int, seed: int = 3) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray((rng.random((size, size, 3)) * 255).astype(np.uint8))


@pytest.fixture(scope="module", params=[SMALL, PADDED], ids=["small", "padded"])
def pair(request):
    cfg = request.param
    hf = reference(cfg)
    model = SwinTransformer(cfg).eval()
    load_checkpoint(model, hf.state_dict())
    for p in model.parameters():
        p.requires_grad_(False)
    return cfg, hf, model, picture(cfg.img_size)


def hf_cam(hf, pixels, stage, block, at, target, method):
    """The map computed the textbook way on transformers' model: the whole graph recorded from
    the pixels, the activation's gradient kept with retain_grad, then the formula."""
    layer = hf.swin.encoder.layers[stage - 1].blocks[block]
    module = {"norm1": layer.layernorm_before, "norm2": layer.layernorm_after,
              "output": layer}[at]
    held = []

    def keep(_m, _i, out):
        out = out[0] if isinstance(out, tuple) else out
        out.retain_grad()
        held.append(out)

    handle = module.register_forward_hook(keep)
    x = pixels.clone().requires_grad_(True)
    logits = hf(pixel_values=x).logits
    handle.remove()
    t = int(logits[0].argmax()) if target is None else target
    logits[0, t].backward()
    A = held[0][0].detach().double().numpy()  # L, C
    G = held[0].grad[0].double().numpy()
    if method == "gradcam":
        return np.maximum(A @ G.mean(0), 0), t
    if method == "gradxinput":
        return (A * G).sum(1), t
    g2, g3 = G**2, G**3
    aij = g2 / (2 * g2 + A.sum(0)[None] * g3 + 1e-6)
    aij = np.where(G != 0, aij, 0)
    return np.maximum(A @ (np.maximum(G, 0) * aij).sum(0), 0), t


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "gradxinput"])
@pytest.mark.parametrize("at", ["norm1", "norm2", "output"])
def test_cams_equal_a_direct_computation_on_transformers(pair, method, at):
    cfg, hf, model, img = pair
    for stage, block in ((4, -1), (2, 0)):
        if (method, at, stage) == ("gradxinput", "output", 4):
            continue  # zero there, refused: test_gradient_x_input_vanishes_before_the_last_norm
        ev = model.explain(img, method=method, stage=stage, block=block, at=at)
        b = block % cfg.depths[stage - 1]
        ref, t = hf_cam(hf, ev.pixels, stage, b, at, None, method)
        assert ev.target == t and (ev.stage, ev.block, ev.at) == (stage, b, at)
        H, W = cfg.stage(stage).grid
        assert ev.grid.shape == (H, W) and ev.grid_stage == stage
        scale = max(np.abs(ref).max(), 1e-12)
        # Grad-CAM++'s weights G^2 / (2 G^2 + sum(A) G^3) were made for activations >= 0
        # (after a ReLU); Swin's are signed, and where sum(A) < 0 a channel whose gradient is
        # near -2 / sum(A) sits by a pole: float32's last bits of the two forwards then show
        # at 1e-4 of the map's largest value (norms), 2e-3 in the unnormalised residual stream
        tol = {"gradcam++": 2e-3 if at == "output" else 1e-4}.get(method, 2e-5)
        np.testing.assert_allclose(ev.grid.double().numpy().ravel() / scale, ref / scale,
                                   atol=tol)


def test_gradient_x_input_vanishes_before_the_last_norm(pair):
    """The final LayerNorm is scale-invariant per token, so at the last block's output
    sum_c A_c dlogit/dA_c = d/dt logit(tA) at t = 1 is 0: transformers' own gradients show it
    (to float32's noise), and explain refuses the map with that reason."""
    cfg, hf, model, img = pair
    ref, _ = hf_cam(hf, model.explain(img).pixels, 4, cfg.depths[-1] - 1, "output", None,
                    "gradxinput")
    cam, _ = hf_cam(hf, model.explain(img).pixels, 4, cfg.depths[-1] - 1, "output", None,
                    "gradcam")
    assert np.abs(ref).max() < 1e-3 * np.abs(cam).max()
    with pytest.raises(SettingsError, match="gradient x input at the last block's output is "
                                            "zero: the final LayerNorm"):
        model.explain(img, method="gradxinput", at="output")
    assert model.explain(img, method="gradxinput", at="output", block=0).grid.abs().max() > 0


def test_a_chosen_target_is_explained_not_the_top_class(pair):
    cfg, hf, model, img = pair
    top = model.explain(img)
    other = (top.target + 3) % cfg.num_classes
    ev = model.explain(img, target=other, at="norm2", stage=3)
    ref, _ = hf_cam(hf, ev.pixels, 3, cfg.depths[2] - 1, "norm2", other, "gradcam")
    assert ev.target == other
    np.testing.assert_allclose(ev.grid.double().numpy().ravel(), ref, rtol=1e-4,
                               atol=1e-5 * np.abs(ref).max())
    probs = ev.logits.softmax(-1)[0]
    assert ev.probability == pytest.approx(float(probs[other]))
    assert ev.score == pytest.approx(float(ev.logits[0, other]))


def test_image_map_is_scaled_upsampled_and_scaled_again():
    """As pytorch-grad-cam's scale_cam_image around OpenCV's bilinear resize: a 2x2 grid
    [[0, 1], [2, -5]] upsampled to 4x4, by hand (half-pixel centres, edges clamped)."""
    grid = torch.tensor([[0.0, 1.0], [2.0, -5.0]])
    out = image_map(grid, (4, 4)).double().numpy()
    relu = np.array([[0.0, 0.5], [1.0, 0.0]])  # ReLU, scaled by its max 2
    # output pixel i samples source (i + 0.5) / 2 - 0.5: -0.25, 0.25, 0.75, 1.25 -> clamped
    w = np.array([[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]])
    expect = w @ relu @ w.T
    expect = (expect - expect.min()) / (1e-7 + expect.max() - expect.min())
    np.testing.assert_allclose(out, expect, atol=1e-6)


# ------------------------------------------------ the class-conditioned rollout, densely


def dense_block(attn, grad, H, W, M, s, how, discard):
    """One block's rollout matrix as (L, L) over original token positions, written from the
    definition: fuse(A·dA) >= 0, lowest `discard` of the entries 0, (F + I)/2 rows to 1; the
    windows of the (padded) map rolled by -s, undone by hand."""
    w = attn.double() * grad.double()
    fused = {"mean": w.mean(1), "max": w.amax(1), "min": w.amin(1)}[how].clamp(min=0)
    flat = fused.reshape(-1).clone()
    k = int(flat.numel() * discard)
    if k:
        flat[flat.argsort()[:k]] = 0
    fused = flat.view_as(fused)
    R = (fused + torch.eye(M * M, dtype=fused.dtype)) / 2
    R = R / R.sum(-1, keepdim=True)
    Hp, Wp = -(-H // M) * M, -(-W // M) * M
    L = H * W
    D = torch.zeros(L, L, dtype=torch.float64)

    def token(win, slot):  # window/slot of the rolled padded map -> original token (or None)
        r = (win // (Wp // M)) * M + slot // M
        c = (win % (Wp // M)) * M + slot % M
        r, c = (r + s) % Hp, (c + s) % Wp  # rolled[i] = x[i + s]
        return r * W + c if r < H and c < W else None

    for win in range(R.shape[0]):
        for q in range(M * M):
            tq = token(win, q)
            if tq is None:
                continue
            for k_ in range(M * M):
                tk = token(win, k_)
                if tk is not None:
                    D[tq, tk] += R[win, q, k_]
    return D


def hf_rollout(hf, pixels, cfg, stage, block, how, discard):
    attns = []

    def keep(_m, _i, out):
        attns.append(out[1])

    hooks = [blk.register_forward_hook(keep)
             for layer in hf.swin.encoder.layers for blk in layer.blocks]
    logits = hf(pixel_values=pixels, output_attentions=True).logits
    for h in hooks:
        h.remove()
    t = int(logits[0].argmax())
    grads = torch.autograd.grad(logits[0, t], attns)
    blocks = [(s, b) for s in range(1, 5) for b in range(cfg.depths[s - 1])
              if (s, b) <= (stage, block)]
    H, W = cfg.stage(stage).grid
    v = torch.full((H * W,), 1.0 / (H * W), dtype=torch.float64)
    for s, b in reversed(blocks):
        geo = cfg.stage(s)
        if geo.grid != (H, W):  # the merge into stage s + 1: spread over the 2x2 children
            Hc, Wc = geo.grid
            child = torch.zeros(Hc * Wc, dtype=torch.float64)
            for i in range(H):
                for j in range(W):
                    kids = [(r, c) for r in (2 * i, 2 * i + 1) for c in (2 * j, 2 * j + 1)
                            if r < Hc and c < Wc]
                    for r, c in kids:
                        child[r * Wc + c] += v[i * W + j] / len(kids)
            v, (H, W) = child, (Hc, Wc)
        i = blocks.index((s, b))
        shift = geo.shift_size if b % 2 else 0
        v = v @ dense_block(attns[i].detach(), grads[i], H, W, geo.window_size, shift, how,
                            discard)
    return v.view(H, W)


@pytest.mark.parametrize("how,discard", [("mean", 0.9), ("max", 0.0), ("min", 0.5)])
def test_rollout_equals_a_dense_rederivation(pair, how, discard):
    cfg, hf, model, img = pair
    ev = model.explain(img, method="rollout", stage=3, block=-1, head_fusion=how,
                       discard_ratio=discard)
    ref = hf_rollout(hf, ev.pixels, cfg, 3, cfg.depths[2] - 1, how, discard)
    assert ev.grid_stage == 1 and ev.grid.shape == cfg.stage(1).grid
    assert sorted(ev.stage_maps) == [1, 2, 3]
    torch.testing.assert_close(ev.grid.double(), ref, rtol=1e-4, atol=1e-7)
    # every row of every matrix sums to 1: only the weight padding tokens take leaves the map
    assert 0.99 < float(ev.grid.sum()) <= 1 + 1e-6


# ------------------------------------------------ the model is never changed


def test_explain_leaves_the_model_and_its_explorations_alone():
    model = SwinTransformer(SMALL).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    img = picture(SMALL.img_size)
    before = model.explore(img, stage=2)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    for method in ("gradcam", "gradcam++", "gradxinput", "rollout"):
        for at in ("norm1", "norm2", "output"):
            model.explain(img, method=method, stage=2, block=1, at=at)
    after = model.explore(img, stage=2)
    assert all(not p.requires_grad and p.grad is None for p in model.parameters())
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert not any(m._forward_hooks for m in model.modules())
    for a, b in zip(before.traces, after.traces, strict=True):
        torch.testing.assert_close(a.attn, b.attn, rtol=0, atol=0)
        assert not a.attn.requires_grad and not b.attn.requires_grad
    for m in model.modules():  # the fast path's bias caches hold no tensor of a graph
        for entry in getattr(m, "_bias_cache", {}).values():
            assert not any(isinstance(t, torch.Tensor) and t.requires_grad for t in entry)


# ------------------------------------------------ settings, one sentence each


@pytest.mark.parametrize("kwargs,message", [
    (dict(method="lime"), "method must be one of 'gradcam', 'gradcam++', 'gradxinput', "
                          "'rollout', got 'lime'"),
    (dict(at="attn"), "at must be one of 'norm1', 'norm2', 'output', got 'attn'"),
    (dict(stage=2, block=2), "stage 2 has 2 blocks (0 to 1, or -1 for the last), got block 2"),
    (dict(stage=3, block=-5), "stage 3 has 4 blocks (0 to 3, or -1 for the last), got block -5"),
    (dict(block="last"), "block must be a whole number: stage 4 has 2 blocks"),
    (dict(stage=0), "stage must be from 1 to 4"),
    (dict(target=10), "target must be a class index from 0 to 9, got 10"),
    (dict(target="tabby"), "target must be a class index from 0 to 9, got 'tabby'"),
    (dict(method="rollout", discard_ratio=1), "discard_ratio must be a number from 0 up to"),
    (dict(method="rollout", head_fusion="median"), "head_fusion must be one of 'mean', 'max', "
                                                   "'min', got 'median'"),
])
def test_bad_settings_are_one_sentence(kwargs, message):
    model = SwinTransformer(SMALL).eval()
    with pytest.raises(SettingsError) as err:
        model.explain(picture(SMALL.img_size), **kwargs)
    assert message in str(err.value)
    assert err.value.field == next(k for k in ("at", "block", "stage", "target",
                                               "discard_ratio", "head_fusion", "method")
                                    if k in kwargs)


def test_a_class_by_its_imagenet_name():
    cfg = SwinConfig(name="tiny-1000", img_size=64, embed_dim=12, depths=(2, 2),
                     num_heads=(1, 2), window_size=4, num_classes=1000)
    model = SwinTransformer(cfg).eval()
    img = picture(64)
    assert model.explain(img, target="Tabby", stage=2).target == 281
    assert model.explain(img, target="281", stage=2).target == 281
    with pytest.raises(SettingsError, match=r"'cat' names 8 classes \('oystercatcher', "):
        model.explain(img, target="cat", stage=2)
    with pytest.raises(SettingsError, match="no ImageNet class is named 'zebu'"):
        model.explain(img, target="zebu", stage=2)


def test_an_evidence_pass_never_touches_another_requests_forward():
    """The app serves requests from threads with one model: an evidence pass's hooks act in its
    own thread only, so explorations beside it run as they would alone, and its maps too."""
    import threading

    model = SwinTransformer(SMALL).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    img = picture(SMALL.img_size)
    alone = model.explore(img, stage=2, evidence=True)
    want = model.explain(img, stage=3, at="norm2").grid
    errors: list[str] = []
    start = threading.Barrier(2)

    def explore_many():
        start.wait()
        for _ in range(30):
            exp = model.explore(img, stage=2)
            if not torch.equal(exp.logits, alone.logits):
                errors.append("an exploration beside the evidence pass changed")

    def explain_many():
        start.wait()
        for _ in range(30):
            got = model.explain(img, stage=3, at="norm2").grid
            if not torch.allclose(got, want, rtol=1e-5, atol=1e-7):
                errors.append("an evidence map changed beside another request")

    def guarded(fn):
        def run():
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - reported below, with its type
                errors.append(f"{type(exc).__name__}: {exc}")
        return run

    threads = [threading.Thread(target=guarded(f)) for f in (explore_many, explain_many)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    assert not any(m._forward_hooks for m in model.modules())
