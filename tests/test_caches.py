"""No stale results: every cache (bias + mask, the fast path's gather rows) follows its inputs'
values, whatever the tensors' addresses or version counters say; the oneDNN linears read the
current weights; and the oneDNN switch."""

import os
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from swinviz import SwinBlockPair, SwinTransformerBlock, WindowAttention
from swinviz import backends as kernels
from swinviz.backends import onednn, switches
from swinviz.block import Mlp, init_weights
from swinviz.windows import relative_position_index

MODES = {"no_grad": torch.no_grad, "inference_mode": torch.inference_mode}


def reference_attention(wa, x, mask):
    """softmax(q kᵀ * scale + bias + mask) v, then proj, from plain ops on the current weights:
    x (B_, N, C), mask (nW, N, N) or None -> (B_, N, C)."""
    B_, N, C = x.shape
    nH = wa.num_heads
    q, k, v = F.linear(x, wa.qkv.weight, wa.qkv.bias).view(B_, N, 3, nH, -1).permute(2, 0, 3, 1, 4)
    index = relative_position_index(wa.window_size).view(-1)
    bias = wa.relative_position_bias_table[index].view(N, N, nH).permute(2, 0, 1)
    logits = (q * wa.scale) @ k.transpose(-2, -1) + bias  # B_, nH, N, N
    if mask is not None:
        nW = mask.shape[0]
        logits = (logits.view(B_ // nW, nW, nH, N, N) + mask[:, None]).view(B_, nH, N, N)
    out = (logits.softmax(-1) @ v).transpose(1, 2).reshape(B_, N, C)
    return F.linear(out, wa.proj.weight, wa.proj.bias)


def reference_mlp(mlp, x):
    return F.linear(F.gelu(F.linear(x, mlp.fc1.weight, mlp.fc1.bias)), mlp.fc2.weight, mlp.fc2.bias)


def random_mask(nW, N):
    """A fresh (nW, N, N) mask of 0 / -100."""
    return torch.where(torch.rand(nW, N, N) < 0.5, -100.0, 0.0)


def make_attention(C, M, nH, seed=0):
    torch.manual_seed(seed)
    wa = WindowAttention(C, M, nH)
    init_weights(wa)
    with torch.no_grad():
        wa.relative_position_bias_table.normal_(0, 1)  # a bias that matters
    return wa.eval()


@pytest.fixture
def onednn_calls(monkeypatch):
    """Counts the oneDNN linear calls, plain and with a residual add (the ops still run)."""
    calls = []
    for name in ("_ONEDNN_LINEAR", "_ONEDNN_LINEAR_ADD"):
        real = getattr(onednn, name)
        if real is not None:
            def spy(*args, real=real):
                calls.append(args[0].shape)
                return real(*args)

            monkeypatch.setattr(onednn, name, spy)
    return calls


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("M", [7, 9])  # 49 tokens: the CPU's batched GEMMs; 81: SDPA
def test_a_fresh_mask_on_every_call(M, mode):
    """300 calls, each with a newly built mask (new tensors reuse freed addresses and start at
    version 0; inference tensors have no version at all): every output is that mask's."""
    nW, B, C, N = 4, 2, 16, M * M
    wa = make_attention(C, M, 2)
    x = torch.randn(B * nW, N, C)
    wrong = []
    with MODES[mode]():
        for i in range(300):
            mask = random_mask(nW, N)
            got, ref = wa(x, mask=mask), reference_attention(wa, x, mask)
            if not torch.allclose(got, ref, rtol=0, atol=1e-5):
                wrong.append(i)
            del mask, got, ref  # the next mask may take this one's memory
    assert wrong == [], f"{len(wrong)} of 300 calls gave another mask's output"


@pytest.mark.parametrize("mode", MODES)
def test_the_callers_mask_edited_in_place_is_seen(mode):
    nW, M, C = 4, 7, 16
    wa = make_attention(C, M, 2)
    x = torch.randn(2 * nW, M * M, C)
    with MODES[mode]():
        mask = random_mask(nW, M * M)
        first = wa(x, mask=mask)
        mask.data.copy_(random_mask(nW, M * M))  # behind autograd's back
        torch.testing.assert_close(wa(x, mask=mask), reference_attention(wa, x, mask),
                                   rtol=0, atol=1e-5)
        mask.zero_()
        torch.testing.assert_close(wa(x, mask=mask), reference_attention(wa, x, None),
                                   rtol=0, atol=1e-5)
    assert not torch.allclose(first, wa(x, mask=mask).detach())


def test_data_writes_to_the_bias_table_and_attention_weights_are_seen(onednn_calls):
    """64 windows of 49 tokens: qkv and proj run in oneDNN."""
    nW, M, C = 64, 7, 32
    wa = make_attention(C, M, 2)
    x = torch.randn(nW, M * M, C)
    mask = random_mask(nW, M * M)
    edits = {
        "bias table": lambda: wa.relative_position_bias_table.data.add_(
            torch.randn_like(wa.relative_position_bias_table)),
        "qkv weight": lambda: wa.qkv.weight.data.mul_(-1.5),
        "qkv bias": lambda: wa.qkv.bias.data.add_(0.3),
        "proj weight": lambda: wa.proj.weight.data.copy_(torch.randn_like(wa.proj.weight)),
        "proj weight replaced": lambda: setattr(wa.proj.weight, "data",
                                                torch.randn_like(wa.proj.weight)),
    }
    with torch.no_grad():
        for m in (None, mask):
            before = wa(x, mask=m)
            torch.testing.assert_close(before, reference_attention(wa, x, m), rtol=0, atol=1e-5)
        for name, edit in edits.items():
            edit()
            for m in (None, mask):
                got = wa(x, mask=m)
                torch.testing.assert_close(got, reference_attention(wa, x, m), rtol=0, atol=1e-5,
                                           msg=f"after a .data write to the {name}")
            assert not torch.allclose(got, before), name
            before = got
    if kernels.onednn_enabled():
        assert len(onednn_calls) > 0  # the oneDNN path was the one tested


def test_data_writes_to_the_mlp_weights_are_seen(onednn_calls):
    torch.manual_seed(0)
    mlp = Mlp(32, 128).eval()
    x = torch.randn(1, 3136, 32)
    with torch.no_grad():
        before = mlp(x)
        torch.testing.assert_close(before, reference_mlp(mlp, x), rtol=0, atol=1e-5)
        for layer in (mlp.fc1, mlp.fc2):
            layer.weight.data.mul_(-2.0)
            got = mlp(x)
            torch.testing.assert_close(got, reference_mlp(mlp, x), rtol=0, atol=1e-5)
            assert not torch.allclose(got, before)
            before = got
    if kernels.onednn_enabled():
        assert len(onednn_calls) > 0


def make_block(seed):
    """A shifted-window block on 56x56 tokens (3136 rows: the oneDNN linears), eval."""
    torch.manual_seed(seed)
    blk = SwinTransformerBlock(32, (56, 56), 2, window_size=7, shift_size=3)
    init_weights(blk)
    for p in blk.parameters():
        p.data.add_(0.1 * torch.randn_like(p))  # biases and norms that matter
    return blk.eval()


def fresh_reference(blk, x):
    """The same block's output computed by a new block (no caches) with the current state."""
    ref = SwinTransformerBlock(32, (56, 56), 2, window_size=7, shift_size=3).eval()
    ref.load_state_dict({k: v.clone() for k, v in blk.state_dict().items()})
    return reference_block(ref, x)


def reference_block(blk, x):
    """The block with plain linears, through its traced path."""
    with kernels.use_onednn(False):
        return blk(x, return_trace=True)[0]


@pytest.mark.parametrize("mode", MODES)
def test_load_state_dict_is_seen(mode):
    """Other weights loaded in place (under inference mode into inference tensors, whose
    version counter does not move) reach the fast path."""
    ctx = MODES[mode]
    x = torch.randn(1, 3136, 32)
    with ctx():
        blk = make_block(0)
        other = make_block(1)
        first = blk(x)
        blk.load_state_dict(other.state_dict())
        got = blk(x)
    assert blk.attn.qkv.weight.is_inference() == (mode == "inference_mode")
    with torch.no_grad():
        torch.testing.assert_close(got, reference_block(other, x), rtol=0, atol=1e-5)
    assert not torch.allclose(first, got)


def test_inference_tensors_edited_in_place_are_seen():
    """Parameters made under inference mode (no version counter), edited in place."""
    x = torch.randn(1, 3136, 32)
    with torch.inference_mode():
        blk = make_block(0)
        before = blk(x)
        edits = [
            blk.attn.relative_position_bias_table, blk.attn.qkv.weight, blk.attn.proj.weight,
            blk.mlp.fc1.weight, blk.mlp.fc2.weight,
        ]
        for p in edits:
            p.mul_(-1.5)
            got = blk(x)
            torch.testing.assert_close(got, fresh_reference(blk, x), rtol=0, atol=1e-5)
            assert not torch.allclose(got, before)
            before = got


def test_caches_follow_a_module_used_across_modes():
    """Cached tensors made under inference mode serve no_grad calls and autograd calls, and the
    other way round."""
    nW, M, C = 64, 7, 32
    wa = make_attention(C, M, 2)
    x = torch.randn(nW, M * M, C)
    mask = random_mask(nW, M * M)
    for ctx in (torch.inference_mode, torch.no_grad, nullcontext, torch.inference_mode):
        with ctx():
            got = wa(x, mask=mask)
        with torch.no_grad():
            torch.testing.assert_close(got.detach(), reference_attention(wa, x, mask),
                                       rtol=0, atol=1e-5)
        with torch.no_grad():
            wa.qkv.weight.mul_(0.9)


@pytest.mark.skipif(not kernels.onednn_available(), reason="this torch has no oneDNN linear")
def test_the_switch_turns_the_private_ops_off(monkeypatch, onednn_calls):
    torch.manual_seed(0)
    layer = torch.nn.Linear(32, 64)
    x = torch.randn(3136, 32)
    xb = x.view(1, 3136, 32)
    mlp, blk = Mlp(32, 128).eval(), make_block(0)
    with torch.no_grad():
        kernels.fused_linear(x, layer, gelu=True)
        assert len(onednn_calls) == 1  # on by default

        def refuse(*args):
            raise AssertionError("a private oneDNN op was called")

        for name in ("_ONEDNN_LINEAR", "_ONEDNN_LINEAR_ADD"):
            monkeypatch.setattr(onednn, name, refuse)
        with kernels.use_onednn(False):
            assert not kernels.onednn_enabled()
            # exactly the plain layers
            for gelu in (False, True):
                plain = F.gelu(layer(x)) if gelu else layer(x)
                assert torch.equal(kernels.fused_linear(x, layer, gelu=gelu), plain)
            res = torch.randn(3136, 64)
            assert torch.equal(kernels.fused_linear(x, layer, residual=res), layer(x) + res)
            assert torch.equal(mlp(xb), mlp.fc2(F.gelu(mlp.fc1(xb))))
            off = blk(xb)
        rows = switches.ONEDNN_MIN_ROWS
        monkeypatch.setattr(switches, "ONEDNN_MIN_ROWS", 10**9)  # the plain branch, switch on
        assert torch.equal(off, blk(xb))
        monkeypatch.setattr(switches, "ONEDNN_MIN_ROWS", rows)
        assert kernels.onednn_enabled()  # restored on leaving
        with pytest.raises(AssertionError, match="private oneDNN op"):
            kernels.fused_linear(x, layer)
        with pytest.raises(AssertionError, match="private oneDNN op"):
            kernels.fused_linear(x, layer, residual=torch.zeros(3136, 64))


def test_set_onednn_returns_the_previous_setting():
    assert kernels.set_onednn(False) is True
    try:
        assert kernels.set_onednn(False) is False
        assert not kernels.onednn_enabled()
        with pytest.raises(RuntimeError):
            with kernels.use_onednn(True):
                assert kernels.onednn_enabled() == kernels.onednn_available()
                raise RuntimeError
        assert not kernels.onednn_enabled()  # restored even after an error
    finally:
        kernels.set_onednn(True)


@pytest.mark.parametrize("value,enabled,warns", [("0", False, False), ("off", False, False),
                                                 ("1", True, False), ("maybe", True, True)])
def test_the_environment_variable(value, enabled, warns):
    code = ("import warnings; warnings.simplefilter('always'); "
            "from swinviz.backends import switches as k; print(k.onednn)")
    env = {**os.environ, "SWINVIZ_ONEDNN": value}
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(enabled)
    assert ("SWINVIZ_ONEDNN='maybe' is not understood" in run.stderr) == warns


def test_the_shared_mask_is_never_handed_out():
    """Every block of one geometry shares one cached mask; what callers get (the `attn_mask`
    property, a trace's mask) is their own copy, so editing it cannot change any block."""
    from swinviz import SwinBlockPair

    torch.manual_seed(0)
    pair = SwinBlockPair(24, (12, 12), 2, window_size=4).eval()
    x = torch.randn(1, 144, 24)
    with torch.no_grad():
        before = pair(x)
        _, traces = pair(x, return_trace=True)
        traces[1].mask.fill_(0.0)
        pair.blocks[1].attn_mask.fill_(0.0)
        after = pair(x)
    torch.testing.assert_close(after, before, rtol=0, atol=0)


def test_geometry_cached_under_inference_mode_still_serves_autograd():
    """The cached gather index and mask are shared by every block of one geometry; one built
    during an inference-mode run must not break a later run that records gradients."""
    from swinviz import SwinBlockPair

    pair = SwinBlockPair(24, (10, 11), 2, window_size=4)  # a geometry no other test uses
    x = torch.randn(1, 110, 24)
    with torch.inference_mode():
        pair(x)
    y = pair(x.clone().requires_grad_())
    y.sum().backward()
    assert pair.blocks[1].attn.qkv.weight.grad is not None


def test_the_head_merge_rows_follow_the_inverse_order_they_are_given():
    """The fast path's merge-heads gather rows are cached per inverse order's values: another
    order of the same length, or the same tensor edited in place, gets its own rows."""
    from swinviz.backends.attention import cached_rows
    from swinviz.windows import inverse_order, window_order

    def direct(inv, nH, N):
        rows = []
        for j in inv.tolist():
            w, n = divmod(j, N)
            rows += [(w * nH + h) * N + n for h in range(nH)]
        return torch.tensor(rows)

    plain = inverse_order(window_order(8, 8, 4, 0), 64)
    shifted = inverse_order(window_order(8, 8, 4, 2), 64)
    assert not torch.equal(plain, shifted)
    for inv in (plain, shifted, plain):
        assert torch.equal(cached_rows("merge", inv, 2, 16), direct(inv, 2, 16))
    # a pair's two orders (same length) are both kept: no rebuilding on every call
    first = [cached_rows("merge", plain, 2, 16), cached_rows("merge", shifted, 2, 16)]
    again = [cached_rows("merge", plain.clone(), 2, 16), cached_rows("merge", shifted, 2, 16)]
    assert all(a is b for a, b in zip(first, again, strict=True))
    mine = plain.clone()
    assert torch.equal(cached_rows("merge", mine, 3, 16), direct(plain, 3, 16))
    mine.copy_(shifted)  # the same tensor, new values
    assert torch.equal(cached_rows("merge", mine, 3, 16), direct(shifted, 3, 16))


def test_the_blocks_geometry_is_handed_out_as_copies():
    """`geometry()` gives copies: editing them cannot reach the block's own order and mask,
    which the bias + mask cache matches by identity (never read, never changed)."""
    torch.manual_seed(0)
    pair = SwinBlockPair(32, (8, 8), 2, window_size=4)
    init_weights(pair)
    pair.eval()
    x = torch.randn(1, 64, 32)
    blk = pair.blocks[1]
    with torch.no_grad():
        before = pair(x)
        order, inv, mask = blk.geometry()
        assert mask is not None and not blk.owns(mask, "cpu")
        assert blk.owns(blk._geometry()[2], "cpu")
        mask.zero_()
        order.copy_(order.flip(0))
        assert torch.equal(pair(x), before)
        assert torch.equal(blk.attn_mask, blk._geometry()[2]) and blk.attn_mask.abs().max() > 0
