"""The block pair: fast path == traced path, masks do their job, the window rule, trace contents."""

import pytest
import torch

import swinviz.backends as kernels
from swinviz import SwinBlockPair, SwinTransformerBlock, WindowAttention, attention_mask
from swinviz.backends import switches, window_kernel
from swinviz.block import init_weights
from swinviz.windows import window_of_token


def make_pair(C=96, H=56, W=56, nH=3, M=7, s=None, seed=0):
    torch.manual_seed(seed)
    pair = SwinBlockPair(C, (H, W), nH, window_size=M, shift_size=s)
    init_weights(pair)
    return pair.eval()


@pytest.mark.parametrize(
    "C,H,W,nH,M,s,B",
    [(96, 56, 56, 3, 7, None, 1), (96, 56, 56, 3, 7, 1, 2), (192, 28, 28, 6, 7, None, 1),
     (48, 24, 24, 2, 12, 6, 1), (32, 12, 8, 4, 4, 2, 3), (16, 6, 6, 2, 3, 1, 2),
     (24, 7, 7, 3, 7, 3, 1)],
)
def test_fast_equals_traced(C, H, W, nH, M, s, B):
    pair = make_pair(C, H, W, nH, M, s)
    x = torch.randn(B, H * W, C)
    with torch.no_grad():
        fast = pair(x)
        traced, traces = pair(x, return_trace=True)
    assert fast.shape == (B, H * W, C)
    torch.testing.assert_close(fast, traced, rtol=0, atol=1e-5)
    assert len(traces) == 2
    assert traces[0].shift_size == 0
    # the block-level outputs chain: block 1's input is block 0's output
    torch.testing.assert_close(traces[1].x_in, traces[0].x_out)


def test_fast_path_cache_follows_weight_changes():
    pair = make_pair(32, 12, 12, 2, 4)
    x = torch.randn(1, 144, 32)
    with torch.no_grad():
        before = pair(x)
        state = {k: v + 0.05 * torch.randn_like(v) for k, v in pair.state_dict().items()}
        pair.load_state_dict(state)
        after_fast = pair(x)
        after_traced, _ = pair(x, return_trace=True)
    assert not torch.allclose(before, after_fast)
    torch.testing.assert_close(after_fast, after_traced, rtol=0, atol=1e-5)


def test_trace_contents_and_masked_probabilities():
    H = W = 56
    M, s, nH = 7, 3, 3
    pair = make_pair(96, H, W, nH, M)
    x = torch.randn(1, H * W, 96)
    with torch.no_grad():
        _, (t0, t1) = pair(x, return_trace=True)
    nW, N = (H // M) * (W // M), M * M
    for t in (t0, t1):
        assert t.attn.shape == (nW, nH, N, N)
        assert t.scores.shape == (nW, nH, N, N)
        assert t.bias.shape == (nH, N, N)
        assert t.window_size == M and t.input_resolution == (H, W)
        torch.testing.assert_close(t.attn.sum(-1), torch.ones(nW, nH, N), rtol=0, atol=1e-5)
        # dict-style access, as the spec words it
        assert t["attn"] is t.attn
    assert t0.mask is None and t0.shift_size == 0
    assert t1.shift_size == s
    assert torch.equal(t1.mask, attention_mask(H, W, M, s))
    masked = (t1.mask != 0).unsqueeze(1).expand_as(t1.attn)
    assert masked.any()
    assert t1.attn[masked].max().item() < 1e-20
    # probabilities are softmax(scores + bias + mask)
    logits = t1.scores + t1.bias.unsqueeze(0) + t1.mask.unsqueeze(1)
    torch.testing.assert_close(logits.softmax(-1), t1.attn, rtol=0, atol=1e-6)


def test_trace_windows_are_in_rolled_partition_order():
    # a token's row in attn is the slot window_of_token gives, in the rolled map
    H = W = 12
    M, s = 4, 2
    pair = make_pair(16, H, W, 2, M, s)
    x = torch.randn(1, H * W, 16)
    with torch.no_grad():
        _, (_, t1) = pair(x, return_trace=True)
    wt = window_of_token(H, W, M, s)
    # token (0, 0) and token (H-1, W-1) were neighbours across the wrap, but different regions:
    w_a, k_a = wt[0, 0].tolist()
    w_b, k_b = wt[H - 1, W - 1].tolist()
    assert w_a == w_b  # the roll put them in one window (the corner window)
    assert t1.region_ids[0, 0] != t1.region_ids[H - 1, W - 1]
    assert t1.attn[w_a, :, k_a, k_b].max().item() < 1e-20


def test_window_covers_grid_means_no_shift():
    blk = SwinTransformerBlock(24, (7, 7), 3, window_size=7, shift_size=3)
    assert (blk.window_size, blk.shift_size) == (7, 0)
    assert blk.attn_mask is None
    blk = SwinTransformerBlock(24, (5, 5), 3, window_size=7, shift_size=3)
    assert (blk.window_size, blk.shift_size) == (5, 0)
    pair = SwinBlockPair(24, (7, 7), 3, window_size=7)
    assert [b.shift_size for b in pair.blocks] == [0, 0]


def test_pair_default_shift_is_half_window():
    pair = SwinBlockPair(24, (24, 24), 3, window_size=6)
    assert [b.shift_size for b in pair.blocks] == [0, 3]
    assert isinstance(pair.blocks, torch.nn.ModuleList)


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="shift_size"):
        SwinTransformerBlock(24, (56, 56), 3, window_size=7, shift_size=7)
    with pytest.raises(ValueError, match="does not divide"):
        WindowAttention(25, 7, 3)
    blk = SwinTransformerBlock(24, (14, 14), 3, window_size=7)
    with pytest.raises(ValueError, match="tokens"):
        blk(torch.randn(1, 100, 24))


def test_parameter_names_follow_the_reference():
    pair = SwinBlockPair(96, (56, 56), 3, 7)
    names = {k for k in pair.state_dict()}
    for i in range(2):
        for p in ("norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
                  "attn.proj.weight", "attn.proj.bias", "attn.relative_position_bias_table",
                  "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias",
                  "mlp.fc2.weight", "mlp.fc2.bias"):
            assert f"blocks.{i}.{p}" in names
    assert len(names) == 26  # nothing else (no stale buffers)
    assert pair.blocks[0].attn.relative_position_bias_table.shape == (169, 3)


def test_window_attention_alone_matches_formula():
    torch.manual_seed(1)
    wa = WindowAttention(16, 3, 2).eval()
    x = torch.randn(4, 9, 16)
    mask = attention_mask(6, 6, 3, 1)
    with torch.no_grad():
        fast = wa(x, mask=mask)
        traced, t = wa(x, mask=mask, return_trace=True)
        q, k, v = wa.qkv(x).reshape(4, 9, 3, 2, 8).permute(2, 0, 3, 1, 4)
        logits = (q * 8**-0.5) @ k.transpose(-2, -1) + wa.relative_position_bias() + mask[:, None]
        ref = wa.proj((logits.softmax(-1) @ v).transpose(1, 2).reshape(4, 9, 16))
    torch.testing.assert_close(fast, ref, rtol=0, atol=1e-5)
    torch.testing.assert_close(traced, ref, rtol=0, atol=1e-5)
    assert t["bias"].shape == (2, 9, 9)


@pytest.mark.parametrize("bias,gelu,add", [(True, False, False), (True, True, False),
                                           (False, False, False), (True, False, True),
                                           (False, False, True)])
def test_fused_linear_equals_the_plain_layer(monkeypatch, bias, gelu, add):
    from swinviz.backends import fused_linear

    monkeypatch.setattr(switches, "ONEDNN_MIN_ROWS", 1)  # the oneDNN call even for 21 rows
    torch.manual_seed(0)
    layer = torch.nn.Linear(24, 40, bias=bias)
    x = torch.randn(3, 7, 24)
    res = torch.randn(3, 7, 40) if add else None
    with torch.no_grad():
        ref = layer(x)
        ref = torch.nn.functional.gelu(ref) if gelu else ref
        ref = ref + res if add else ref
        got = fused_linear(x, layer, gelu=gelu, residual=res)
        if add:  # a strided residual (a transposed view) is read right too
            t = res.transpose(0, 1).contiguous().transpose(0, 1)
            torch.testing.assert_close(fused_linear(x, layer, residual=t), ref, rtol=0,
                                       atol=1e-5)
    torch.testing.assert_close(got, ref, rtol=0, atol=1e-5)
    # with autograd on it is the plain layer, and gradients flow
    y = fused_linear(x, layer, gelu=gelu, residual=res).sum()
    y.backward()
    assert layer.weight.grad is not None


def test_fused_linear_refuses_gelu_and_a_residual_together():
    from swinviz.backends import fused_linear

    layer = torch.nn.Linear(4, 4)
    with pytest.raises(ValueError, match="fuses GELU or a residual add, not both"):
        fused_linear(torch.randn(2, 4), layer, gelu=True, residual=torch.randn(2, 4))


def test_fused_linear_follows_the_weights(monkeypatch):
    """oneDNN runs on the layer's weight: loading other weights (in place, as
    load_state_dict does, or by replacing the Parameter) must reach the output."""
    from swinviz.backends import fused_linear

    if not kernels.onednn_available():
        pytest.skip("this torch has no oneDNN linear")
    monkeypatch.setattr(switches, "ONEDNN_MIN_ROWS", 1)
    torch.manual_seed(0)
    layer = torch.nn.Linear(24, 40)
    x = torch.randn(5, 24)
    with torch.no_grad():
        first = fused_linear(x, layer)
        torch.testing.assert_close(first, layer(x), rtol=0, atol=1e-5)
        other = torch.nn.Linear(24, 40)
        layer.load_state_dict(other.state_dict())  # copies in place: same storage
        torch.testing.assert_close(fused_linear(x, layer), other(x), rtol=0, atol=1e-5)
        layer.weight = torch.nn.Parameter(torch.randn(40, 24))  # a new tensor
        torch.testing.assert_close(fused_linear(x, layer), layer(x), rtol=0, atol=1e-5)
    assert not torch.allclose(first, fused_linear(x, layer).detach())


def test_traced_path_with_autograd_matches_and_backpropagates():
    pair = make_pair(16, 6, 6, 2, 3, 1)
    x = torch.randn(1, 36, 16, requires_grad=True)
    with torch.no_grad():
        ref, ref_traces = pair(x, return_trace=True)
    for p in pair.parameters():
        p.requires_grad_(True)
    y, traces = pair(x, return_trace=True)
    torch.testing.assert_close(y, ref, rtol=0, atol=1e-6)
    torch.testing.assert_close(traces[1].attn, ref_traces[1].attn, rtol=0, atol=1e-7)
    y.sum().backward()
    assert x.grad is not None and pair.blocks[1].attn.relative_position_bias_table.grad is not None


def hf_block_weights(ours: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """One block's weights in transformers>=5 names (q, k, v split from qkv)."""
    sd = {}
    for p in ("weight", "bias"):
        q, k, v = ours[f"attn.qkv.{p}"].chunk(3, dim=0)
        sd.update({f"attention.q_proj.{p}": q, f"attention.k_proj.{p}": k,
                   f"attention.v_proj.{p}": v, f"attention.o_proj.{p}": ours[f"attn.proj.{p}"],
                   f"layernorm_before.{p}": ours[f"norm1.{p}"],
                   f"layernorm_after.{p}": ours[f"norm2.{p}"],
                   f"mlp.fc1.{p}": ours[f"mlp.fc1.{p}"], f"mlp.fc2.{p}": ours[f"mlp.fc2.{p}"]})
    sd["attention.relative_position_bias.relative_position_bias_table"] = ours[
        "attn.relative_position_bias_table"]
    return sd


def _copy_into_transformers_layer(blk, layer) -> None:
    """Our block's weights into a transformers SwinLayer (q, k, v split from qkv)."""
    weights = hf_block_weights(blk.state_dict())
    own = layer.state_dict()
    assert set(weights) <= set(own), set(weights) - set(own)
    layer.load_state_dict({k: v.detach().clone() for k, v in weights.items()}, strict=False)


@pytest.mark.parametrize("H,W,M,s", [(10, 13, 4, 2), (30, 30, 7, 3), (6, 11, 4, 2), (9, 9, 4, 1)])
def test_padding_matches_transformers(H, W, M, s):
    """H or W not a multiple of the window: pad bottom/right to whole windows, then roll, as
    transformers' SwinLayer does; fast and traced paths both equal it."""
    pytest.importorskip("transformers")
    from transformers import SwinConfig
    from transformers.models.swin.modeling_swin import SwinLayer

    C, nH = 24, 3
    pair = make_pair(C, H, W, nH, M, s)
    config = SwinConfig(embed_dim=C, window_size=M, num_heads=[nH], depths=[2])
    config._attn_implementation = "eager"
    x = torch.randn(2, H * W, C)
    for blk in pair.blocks:
        assert blk.padded_resolution == (-(-H // blk.window_size) * blk.window_size,
                                         -(-W // blk.window_size) * blk.window_size)
        layer = SwinLayer(config, C, (H, W), nH, shift_size=blk.shift_size).eval()
        _copy_into_transformers_layer(blk, layer)
        with torch.no_grad():
            ref = layer(x, (H, W))[0]
            fast = blk(x)
            traced, t = blk(x, return_trace=True)
        torch.testing.assert_close(fast, ref, rtol=0, atol=1e-5)
        torch.testing.assert_close(traced, ref, rtol=0, atol=1e-5)
        Hp, Wp = blk.padded_resolution
        nW = (Hp // blk.window_size) * (Wp // blk.window_size)
        assert t.attn.shape == (2 * nW, nH, blk.window_size**2, blk.window_size**2)
        assert t.region_ids.shape == (Hp, Wp)


@pytest.mark.parametrize("kernel", ["fused", "bmm", "bmm, scores as (queries, keys)", "sdpa"])
@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("H,W", [(12, 8), (10, 13)])  # whole windows; padded to 12 x 16
def test_every_cpu_attention_kernel_equals_traced(monkeypatch, kernel_on_any_cpu, kernel, B, H,
                                                  W):
    """The fast path's CPU kernels (the fused C window attention on token rows; batched GEMMs on
    gathered head rows, with the scores as (keys, queries) or as (queries, keys); fused SDPA on
    gathered tokens) give the traced answer, with and without the mask, for one image and for a
    batch (bias + mask repeated per image), on whole and on padded windows."""
    if kernel == "fused" and window_kernel._c_compiler() is None:
        pytest.skip("no C compiler")
    monkeypatch.setattr(switches, "fused_attention", kernel == "fused")
    monkeypatch.setattr(switches, "CPU_BMM_MAX_TOKENS", 0 if kernel == "sdpa" else 64)
    monkeypatch.setattr(switches, "TRANSPOSED_SCORES", kernel == "bmm")
    pair = make_pair(32, H, W, 4, 4, 2)
    x = torch.randn(B, H * W, 32)
    with torch.no_grad():
        cores = {pair.blocks[0].attn.backend(x).name}
    assert cores == {kernel.replace("bmm", "gemms")}
    with torch.no_grad():
        fast = pair(x)
        traced, _ = pair(x, return_trace=True)
        again = pair(x)  # from the cached bias
    torch.testing.assert_close(fast, traced, rtol=0, atol=1e-5)
    assert torch.equal(fast, again)


def test_fast_path_with_autograd_backpropagates():
    """Outside no_grad the fast path takes autograd-safe kernels (no in-place softmax, no oneDNN
    call) and gives the same answer."""
    pair = make_pair(16, 6, 6, 2, 3, 1)
    x = torch.randn(2, 36, 16)
    with torch.no_grad():
        ref = pair(x)
    y = pair(x)
    assert y.requires_grad
    torch.testing.assert_close(y, ref, rtol=0, atol=1e-6)
    y.sum().backward()
    assert pair.blocks[1].attn.relative_position_bias_table.grad is not None


def test_onednn_threshold_does_not_change_the_answer(monkeypatch):
    """Fused oneDNN linears (many tokens) and the plain layers (few) agree."""

    pair = make_pair(32, 16, 16, 2, 4)
    x = torch.randn(1, 256, 32)
    with torch.no_grad():
        monkeypatch.setattr(switches, "ONEDNN_MIN_ROWS", 1)
        fused = pair(x)
        monkeypatch.setattr(switches, "ONEDNN_MIN_ROWS", 10**9)
        plain = pair(x)
    torch.testing.assert_close(fused, plain, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "C,H,W,nH,M,s,B",
    [(32, 12, 12, 2, 4, 2, 1),  # unshifted and shifted, whole windows
     (24, 10, 13, 3, 4, 2, 1),  # padded to 12 x 16, shifted
     (48, 24, 24, 2, 12, 6, 2),  # 144-token windows: where SDPA would run; two images
     (24, 7, 7, 3, 7, 3, 1)],  # one window: the shift drops to 0
)
def test_fast_path_hands_out_the_traced_head_mean_attention(C, H, W, nH, M, s, B):
    """attn_out gets each block's head-averaged probabilities, (B*nW, N, N) float32 in partition
    order: the traced attention's mean over heads; the output is unchanged."""
    pair = make_pair(C, H, W, nH, M, s)
    with torch.no_grad():
        for blk in pair.blocks:
            blk.attn.relative_position_bias_table.normal_(0, 1)  # a bias that shapes attention
    x = torch.randn(B, H * W, C)
    with torch.inference_mode():
        for blk in pair.blocks:
            got: list[torch.Tensor] = []
            fast = blk(x, attn_out=got)
            traced, t = blk(x, return_trace=True)
            (attn,) = got
            Hp, Wp = blk.padded_resolution
            nW, N = (Hp // blk.window_size) * (Wp // blk.window_size), blk.window_size**2
            assert attn.shape == (B * nW, N, N) and attn.dtype == torch.float32
            torch.testing.assert_close(attn, t.attn.mean(1), rtol=0, atol=1e-6)
            torch.testing.assert_close(fast, traced, rtol=0, atol=1e-5)
            torch.testing.assert_close(fast, blk(x), rtol=0, atol=1e-5)
            x = fast


def test_attn_out_with_autograd_and_on_the_traced_path():
    """attn_out works outside no_grad (no in-place softmax; the output still backpropagates) and
    with return_trace (the trace's own mean over heads)."""
    pair = make_pair(16, 6, 6, 2, 3, 1)
    x = torch.randn(1, 36, 16)
    blk = pair.blocks[1]
    got: list[torch.Tensor] = []
    y = blk(x, attn_out=got)
    _, t = blk(x, return_trace=True, attn_out=got)
    assert y.requires_grad and not got[0].requires_grad
    torch.testing.assert_close(got[0], t.attn.detach().mean(1), rtol=0, atol=1e-6)
    assert torch.equal(got[1], t.attn.detach().mean(1))
    y.sum().backward()
    assert blk.attn.qkv.weight.grad is not None


# stages of 24 (padded to 28: shifted and padded windows), 12 (padded to 14), 6 (one window, no
# shift) and 3 tokens a side
EXPLORE_CFG = dict(img_size=96, embed_dim=24, num_heads=2, window_size=7, num_classes=10)


@pytest.mark.parametrize("stage,pair", [(3, 1), (4, 0)])
def test_explore_runs_the_blocks_before_the_pair_fast(monkeypatch, stage, pair):
    """explore's chain before the pair comes from the fast path (no block before the pair is
    traced) and equals the chain of the traced blocks; its tokens equal the traced ones."""
    from swinviz import load_model
    from swinviz.rollout import BlockAttention

    model = load_model(arch="swin-t", device="cpu", **EXPLORE_CFG)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("relative_position_bias_table"):
                p.normal_(0, 1)
    image = torch.rand(96, 96, 3).mul(255).to(torch.uint8).numpy()

    traced_calls = []
    real = SwinTransformerBlock.forward

    def spy(self, x, return_trace=False, **kw):
        traced_calls.append((self, return_trace))
        return real(self, x, return_trace=return_trace, **kw)

    monkeypatch.setattr(SwinTransformerBlock, "forward", spy)
    exp = model.explore(image, stage=stage, pair=pair, predict=False)
    monkeypatch.setattr(SwinTransformerBlock, "forward", real)
    pair_blocks = set(model.pair_blocks(stage, pair))
    assert all(not traced for blk, traced in traced_calls if blk not in pair_blocks)

    # the traced chain, computed here from the same pixels
    chain = []
    with torch.inference_mode():
        x = model.patch_embed(exp.pixels)
        for i, layer in enumerate(model.layers[:stage]):
            x = layer.downsample(x)
            for b in range(2 * pair if i == stage - 1 else len(layer.blocks)):
                x, t = layer.blocks[b](x, return_trace=True)
                chain.append(BlockAttention.from_trace(i + 1, b, t))
    assert len(exp.chain) == len(chain) + 2
    for got, want in zip(exp.chain, chain, strict=False):
        assert (got.stage, got.block, got.grid, got.window_size, got.shift_size) == (
            want.stage, want.block, want.grid, want.window_size, want.shift_size)
        torch.testing.assert_close(got.attn, want.attn, rtol=0, atol=1e-6)
    torch.testing.assert_close(exp.tokens, x, rtol=0, atol=1e-5)
