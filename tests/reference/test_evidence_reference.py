"""Class evidence against the implementations people use (run by scripts/reference.sh, in the
environment with torchvision): pytorch-grad-cam's GradCAM and GradCAMPlusPlus with the usual Swin
reshape agree with `model.explain`'s image map (correlation > 0.99 at image size, on swinviz's
model and on timm's), and Grad-CAM computed directly on timm's SwinTransformer with the same
weights equals `.grid` at norm1, norm2 and the output, at stages 3 and 4, for the top class and a
chosen one."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

import swinviz

ARCH = "swin_tiny_patch4_window7_224"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """timm's Swin-T with every weight random and large enough that a mix-up shows, and
    swinviz's model loaded from timm's state dict through the real loader."""
    torch.manual_seed(0)
    ref = timm.create_model(ARCH, pretrained=False).eval()
    with torch.no_grad():
        for name, p in ref.named_parameters():
            scale = 1.0 if "relative_position_bias_table" in name else 0.05
            offset = 1.0 if "norm" in name and name.endswith("weight") else 0.0
            p.copy_(torch.randn_like(p) * scale + offset)
    path = tmp_path_factory.mktemp("ckpt") / "timm_swin_t.pth"
    torch.save(ref.state_dict(), path)
    ours = swinviz.load_model(path, arch=ARCH, device="cpu")
    rng = np.random.default_rng(7)
    img = Image.fromarray((rng.random((256, 300, 3)) * 255).astype(np.uint8))
    return ref, ours, img


def timm_block(ref, stage, block, at):
    blk = ref.layers[stage - 1].blocks[block]
    return blk if at == "output" else getattr(blk, at)


def timm_to_nchw(t, side):
    """timm's Swin blocks work on (B, H, W, C), but norm2 sees (B, L, C)."""
    return t.permute(0, 3, 1, 2) if t.ndim == 4 else tokens_to_nchw(t, side)


def tokens_to_nchw(t, side):
    """swinviz's blocks work on (B, L, C), as transformers' do: the usual Swin reshape."""
    return t.reshape(t.shape[0], side, side, t.shape[2]).permute(0, 3, 1, 2)


def corr(a, b):
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


@pytest.mark.parametrize("stage", [3, 4])
@pytest.mark.parametrize("at", ["norm1", "norm2", "output"])
def test_gradcam_equals_a_direct_computation_on_timm(models, stage, at):
    ref, ours, img = models
    block = -1 if at != "output" or stage != 4 else 0
    ev = ours.explain(img, stage=stage, block=block, at=at)
    held = []

    def keep(_module, _inputs, out):
        out.retain_grad()
        held.append(out)

    handle = timm_block(ref, stage, block, at).register_forward_hook(keep)
    logits = ref(ev.pixels.clone().requires_grad_(True))
    handle.remove()
    assert int(logits[0].argmax()) == ev.target
    logits[0, ev.target].backward()
    C = held[0].shape[-1]  # timm's norm1 and output are (1, H, W, C), its norm2 (1, L, C)
    A = held[0][0].detach().double().reshape(-1, C)
    G = held[0].grad[0].double().reshape(-1, C)
    cam = torch.relu(A @ G.mean(0)).view(ev.grid.shape)
    torch.testing.assert_close(ev.grid.double(), cam, rtol=1e-4, atol=1e-4 * float(cam.max()))


@pytest.mark.parametrize("method,cls", [("gradcam", GradCAM), ("gradcam++", GradCAMPlusPlus)])
@pytest.mark.parametrize("at", ["norm1", "norm2"])
def test_pytorch_grad_cam_agrees_on_both_models(models, method, cls, at):
    ref, ours, img = models
    chosen = 281
    for stage in (3, 4):
        ev = ours.explain(img, method=method, stage=stage, at=at, target=chosen)
        side = ours.config.stage(stage).grid[0]
        trainable = swinviz.load_model("random", arch=ARCH, device="cpu")
        trainable.load_state_dict(ours.state_dict())
        for p in trainable.parameters():  # pytorch-grad-cam needs a graph from the weights
            p.requires_grad_(True)
        runs = [
            (trainable, getattr(trainable.layers[stage - 1].blocks[-1], at),
             lambda t, s=side: tokens_to_nchw(t, s)),
            (ref, timm_block(ref, stage, -1, at), lambda t, s=side: timm_to_nchw(t, s)),
        ]
        for model, layer, reshape in runs:
            with cls(model=model, target_layers=[layer], reshape_transform=reshape) as cam:
                theirs = cam(input_tensor=ev.pixels, targets=[ClassifierOutputTarget(chosen)])[0]
            assert theirs.shape == tuple(ev.image_map.shape)
            assert corr(theirs, ev.image_map.numpy()) > 0.99
            # the same scaling and OpenCV-style bilinear resize: equal, not just alike
            np.testing.assert_allclose(theirs, ev.image_map.numpy(), atol=1e-4)
        assert ev.target == chosen
