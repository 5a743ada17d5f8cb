"""Cost: learned parameters (concepts fact 9) and FLOPs (concepts fact 10), counted the
way the reference counts them (multiply-adds)."""

from __future__ import annotations


def attention_flops(dim: int, num_heads: int, N: int) -> int:
    """Multiply-adds of WindowAttention on one window of N tokens."""
    d = dim // num_heads
    return N * dim * 3 * dim + num_heads * N * d * N + num_heads * N * N * d + N * dim * dim


def block_flops(
    dim: int,
    input_resolution: tuple[int, int],
    num_heads: int,
    window_size: int,
    mlp_ratio: float = 4.0,
) -> int:
    """norm1 C·H·W + nW·attention(N) + MLP 2·H·W·C·C·r + norm2 C·H·W (concepts fact 10).

    `window_size` is the window the block really uses (after concepts fact 2)."""
    H, W = input_resolution
    N = window_size * window_size
    nW = -(-H // window_size) * -(-W // window_size)  # windows of the padded grid
    norms = 2 * dim * H * W
    mlp = int(2 * H * W * dim * dim * mlp_ratio)
    return norms + nW * attention_flops(dim, num_heads, N) + mlp


def msa_flops(h: int, w: int, dim: int) -> int:
    """The paper's Ω(MSA) = 4hwC² + 2(hw)²C (global attention over all h·w tokens)."""
    return 4 * h * w * dim * dim + 2 * (h * w) ** 2 * dim


def wmsa_flops(h: int, w: int, dim: int, window_size: int) -> int:
    """The paper's Ω(W-MSA) = 4hwC² + 2M²hwC."""
    return 4 * h * w * dim * dim + 2 * window_size**2 * h * w * dim


# the width of Swin V2's continuous position bias MLP (swinviz.v2.attention.CPB_HIDDEN, timm's)
CPB_HIDDEN = 512


def attention_params(dim: int, num_heads: int, window_size: int | tuple[int, int],
                     qkv_bias: bool = True, version: int = 1) -> dict[str, int]:
    """Learned parameters of one WindowAttention, by name (concepts fact 9). Version 2 (concepts
    facts 16-17): `qkv` without bias and `q_bias`, `v_bias` beside it (the keys have none), a
    `logit_scale` per head, and in place of the (2M-1)² x nH table the bias MLP `cpb_mlp`,
    Linear(2, 512) -> ReLU -> Linear(512, nH) without bias, whose size does not depend on the
    window."""
    mh, mw = (window_size, window_size) if isinstance(window_size, int) else window_size
    if version == 2:
        biases = {"q_bias": dim, "v_bias": dim} if qkv_bias else {}
        return {"qkv": dim * 3 * dim, **biases, "logit_scale": num_heads,
                "cpb_mlp": 2 * CPB_HIDDEN + CPB_HIDDEN + CPB_HIDDEN * num_heads,
                "proj": dim * dim + dim}
    return {
        "qkv": dim * 3 * dim + (3 * dim if qkv_bias else 0),
        "proj": dim * dim + dim,
        "relative_position_bias_table": (2 * mh - 1) * (2 * mw - 1) * num_heads,
    }


def block_params(dim: int, num_heads: int, window_size: int | tuple[int, int],
                 mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 version: int = 1) -> dict[str, int]:
    """Learned parameters of one block, by module name: norm1, attn.*, norm2, mlp.fc1, mlp.fc2
    (version 2: `attention_params`'s V2 names; its norms follow the layers, same sizes)."""
    hidden = int(dim * mlp_ratio)
    out = {"norm1": 2 * dim}
    out.update({f"attn.{k}": v for k, v in attention_params(dim, num_heads, window_size,
                                                            qkv_bias, version).items()})
    out.update({"norm2": 2 * dim, "mlp.fc1": dim * hidden + hidden, "mlp.fc2": hidden * dim + dim})
    return out


def patch_embed_params(
    embed_dim: int = 96, patch_size: int = 4, in_chans: int = 3
) -> dict[str, int]:
    """Learned parameters of PatchEmbed: conv `proj` and LayerNorm `norm`."""
    return {
        "proj": embed_dim * in_chans * patch_size * patch_size + embed_dim,
        "norm": 2 * embed_dim,
    }


def count_parameters(module) -> dict[str, int]:
    """Direct count of a module's `nn.Parameter`s, grouped by the owning submodule's name
    (`pair.blocks.0.attn.qkv` -> weight + bias)."""
    out: dict[str, int] = {}
    for name, p in module.named_parameters():
        owner = name.rsplit(".", 1)[0] if name.endswith((".weight", ".bias")) else name
        out[owner] = out.get(owner, 0) + p.numel()
    return out


# ---------------------------------------------------------------------------- the whole model
# Parts in forward order, named by the model's own module prefixes (timm's names): the patch
# embedding, then per stage s its patch merge `layers.{s-1}.downsample` (stages 2-4) and its blocks
# `layers.{s-1}.blocks`, then the final `norm` and the `head`.


def merge_params(dim: int, out_dim: int | None = None, version: int = 1) -> dict[str, int]:
    """Learned parameters of a PatchMerging from width `dim`: LayerNorm(4C) and a Linear(4C, 2C)
    without bias (docs/concepts.md, fact 13); version 2 normalises after the reduction, a
    LayerNorm(2C) (fact 19)."""
    out_dim = 2 * dim if out_dim is None else out_dim
    return {"norm": 2 * (out_dim if version == 2 else 4 * dim), "reduction": 4 * dim * out_dim}


def merge_flops(dim: int, input_resolution: tuple[int, int], out_dim: int | None = None) -> int:
    """Multiply-adds of a PatchMerging on an (H, W) grid of width `dim`, as the reference counts
    them: the norm H·W·C plus the reduction (H/2)·(W/2)·4C·2C. An odd side is padded first (one
    zero row / column), so the merged grid is ceil(H/2) x ceil(W/2) of 4C each."""
    H, W = input_resolution
    out_dim = 2 * dim if out_dim is None else out_dim
    Ho, Wo = -(-H // 2), -(-W // 2)
    return Ho * Wo * 4 * dim + Ho * Wo * 4 * dim * out_dim


def patch_embed_flops(img_size: int | tuple[int, int], patch_size: int = 4, in_chans: int = 3,
                      embed_dim: int = 96) -> int:
    """The reference's PatchEmbed.flops(): Ho·Wo·C·in_chans·p² (convolution) + Ho·Wo·C (norm)."""
    h, w = (img_size, img_size) if isinstance(img_size, int) else img_size
    Ho, Wo = h // patch_size, w // patch_size
    return Ho * Wo * embed_dim * in_chans * patch_size * patch_size + Ho * Wo * embed_dim


def _parts(cfg):
    """(part name, stage or None, kind) in forward order."""
    out = [("patch_embed", None, "embed")]
    for geo in cfg.stages():
        if geo.downsample:
            out.append((f"layers.{geo.stage - 1}.downsample", geo.stage, "merge"))
        out.append((f"layers.{geo.stage - 1}.blocks", geo.stage, "blocks"))
    out.append(("norm", None, "norm"))
    if cfg.num_classes > 0:
        out.append(("head", None, "head"))
    return out


def model_params(cfg) -> dict[str, int]:
    """Learned parameters of a whole Swin (a `SwinConfig`), by part in forward order:
    `patch_embed`, `layers.{i}.downsample` (stages 2-4), `layers.{i}.blocks`, `norm`, `head`
    (absent without a classifier). Each block uses the window its stage really uses
    (docs/concepts.md, fact 2), which sizes its bias table. Sum the values for the total."""
    stages = {g.stage: g for g in cfg.stages()}
    out: dict[str, int] = {}
    for name, s, kind in _parts(cfg):
        if kind == "embed":
            out[name] = sum(patch_embed_params(cfg.embed_dim, cfg.patch_size,
                                               cfg.in_chans).values())
        elif kind == "merge":
            out[name] = sum(merge_params(stages[s - 1].dim, stages[s].dim,
                                         cfg.version).values())
        elif kind == "blocks":
            g = stages[s]
            out[name] = g.depth * sum(block_params(g.dim, g.num_heads, g.window_size,
                                                   cfg.mlp_ratio, cfg.qkv_bias,
                                                   cfg.version).values())
        elif kind == "norm":
            out[name] = 2 * cfg.num_features
        else:
            out[name] = cfg.num_features * cfg.num_classes + cfg.num_classes
    return out


def model_flops(cfg) -> dict[str, int]:
    """Multiply-adds of a whole Swin (a `SwinConfig`) for one image, by part (the names of
    `model_params`), counted the way the reference's `flops()` counts them:

    patch embedding Ho·Wo·C·3·p² + Ho·Wo·C; every block `block_flops` (docs/concepts.md, fact 10);
    every patch merge `merge_flops`; the final norm num_features·L of the last stage; the head
    num_features·classes (no bias, no pooling counted).

    Two details differ from a literal reading of the reference, neither visible in its printed
    totals: a grid that does not split into whole windows counts the windows of the padded grid
    (the reference divides H·W by M², a fraction of a window), and the final norm counts the last
    stage's L tokens (the reference writes H₁·W₁ // 2^stages, four times that for four stages:
    0.11 MFLOPs on Swin-T's 4.5 G). Sum the values for the total.
    """
    stages = {g.stage: g for g in cfg.stages()}
    out: dict[str, int] = {}
    for name, s, kind in _parts(cfg):
        if kind == "embed":
            out[name] = patch_embed_flops(cfg.img_size, cfg.patch_size, cfg.in_chans,
                                          cfg.embed_dim)
        elif kind == "merge":
            prev = stages[s - 1]
            out[name] = merge_flops(prev.dim, prev.grid, stages[s].dim)
        elif kind == "blocks":
            g = stages[s]
            out[name] = g.depth * block_flops(g.dim, g.grid, g.num_heads, g.window_size,
                                              cfg.mlp_ratio)
        elif kind == "norm":
            H, W = stages[cfg.num_stages].grid
            out[name] = cfg.num_features * H * W
        else:
            out[name] = cfg.num_features * cfg.num_classes
    return out


def stage_of_part(name: str) -> int | None:
    """The stage (1-based) a part belongs to, as timm groups them (a merge starts the stage after
    it); None for the patch embedding, the final norm and the head."""
    if name.startswith("layers."):
        return int(name.split(".")[1]) + 1
    return None


def per_stage(parts: dict[str, int]) -> dict[str, int]:
    """`model_params` / `model_flops` grouped: "patch_embed", "stage 1" .. "stage n" (its merge
    and its blocks), "norm", "head"."""
    out: dict[str, int] = {}
    for name, v in parts.items():
        s = stage_of_part(name)
        key = name if s is None else f"stage {s}"
        out[key] = out.get(key, 0) + v
    return out
