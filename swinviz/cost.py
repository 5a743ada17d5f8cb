"""Cost of the block pair: learned parameters (SPEC fact 9) and FLOPs (SPEC fact 10), counted the
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
    """norm1 C·H·W + nW·attention(N) + MLP 2·H·W·C·C·r + norm2 C·H·W (SPEC fact 10).

    `window_size` is the window the block really uses (after SPEC fact 2)."""
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


def attention_params(dim: int, num_heads: int, window_size: int | tuple[int, int],
                     qkv_bias: bool = True) -> dict[str, int]:
    """Learned parameters of one WindowAttention, by name (SPEC fact 9)."""
    mh, mw = (window_size, window_size) if isinstance(window_size, int) else window_size
    return {
        "qkv": dim * 3 * dim + (3 * dim if qkv_bias else 0),
        "proj": dim * dim + dim,
        "relative_position_bias_table": (2 * mh - 1) * (2 * mw - 1) * num_heads,
    }


def block_params(dim: int, num_heads: int, window_size: int | tuple[int, int],
                 mlp_ratio: float = 4.0, qkv_bias: bool = True) -> dict[str, int]:
    """Learned parameters of one block, by module name: norm1, attn.*, norm2, mlp.fc1, mlp.fc2."""
    hidden = int(dim * mlp_ratio)
    out = {"norm1": 2 * dim}
    out.update({f"attn.{k}": v for k, v in attention_params(dim, num_heads, window_size,
                                                            qkv_bias).items()})
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
