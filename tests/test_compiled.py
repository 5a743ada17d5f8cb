"""swinviz.backends.compiled: the compiled fast path equals the traced path, follows weight
changes (no frozen weights unless asked), and falls back to eager with one warning where inductor
cannot run."""

import warnings

import pytest
import torch

from swinviz import SwinBlockPair
from swinviz.backends import compiled
from swinviz.block import init_weights
from swinviz.config import SwinConfig
from swinviz.model import SwinTransformer

# grids of 10 (padded to 12 with M = 4, shifted), then 5 (padded to 8, shifted)
TINY = SwinConfig(name="tiny-test", img_size=40, embed_dim=16, depths=(2, 2), num_heads=(2, 4),
                  window_size=4, num_classes=7)


def tiny_model(seed=0):
    torch.manual_seed(seed)
    model = SwinTransformer(TINY)
    init_weights(model)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("relative_position_bias_table"):
                p.normal_(0, 1)  # a bias that shapes attention
    return model.eval()


def traced_logits(model, pixels):
    """The model through every block's traced path (the reference's steps one by one)."""
    with torch.inference_mode():
        x = model.patch_embed(pixels)
        for layer in model.layers:
            x = layer.downsample(x)
            for blk in layer.blocks:
                x, _ = blk(x, return_trace=True)
        return model.forward_head(model.norm(x))


def needs_inductor():
    reason = compiled.compile_unavailable("cpu")
    if reason:
        pytest.skip(reason)


@pytest.mark.slow
def test_compiled_model_equals_traced_and_follows_weight_changes():
    """One compile of a small model with padded, shifted windows in both stages: the compiled
    logits equal the traced ones; after load_state_dict the next call gives the new model's
    answer (the weights are read on every call, never frozen in)."""
    needs_inductor()
    model = tiny_model()
    pixels = torch.randn(1, 3, 40, 40)
    fast = compiled.compiled_forward(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no fall-back here
        got = fast(pixels)
    assert fast.compiled and set(fast.compile_seconds) == {((1, 3, 40, 40), torch.float32,
                                                           torch.device("cpu"))}
    torch.testing.assert_close(got, traced_logits(model, pixels), rtol=0, atol=1e-5)

    other = tiny_model(seed=1)
    model.load_state_dict(other.state_dict())
    again = fast(pixels)
    assert not torch.allclose(again, got)
    torch.testing.assert_close(again, traced_logits(other, pixels), rtol=0, atol=1e-5)

    # one shifted block's bias table edited in place: the bias + mask the wrapper makes outside
    # the compiled graph (cached) follow it
    with torch.no_grad():
        model.layers[1].blocks[1].attn.relative_position_bias_table.mul_(-2.0)
    third = fast(pixels)
    assert not torch.allclose(third, again)
    torch.testing.assert_close(third, traced_logits(model, pixels), rtol=0, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("C,H,nH,M", [(96, 56, 3, 7), (96, 96, 3, 12), (192, 28, 6, 7),
                                      (32, 30, 2, 7)])  # the bench's shapes; 30: padded to 35
def test_compiled_pair_equals_traced(C, H, nH, M):
    needs_inductor()
    torch.manual_seed(0)
    pair = SwinBlockPair(C, (H, H), nH, window_size=M)
    init_weights(pair)
    pair.eval()
    x = torch.randn(1, H * H, C)
    got = compiled.compiled_forward(pair)(x)
    with torch.inference_mode():
        traced, _ = pair(x, return_trace=True)
    torch.testing.assert_close(got, traced, rtol=0, atol=1e-5)


def test_no_cpp_compiler_means_eager_with_one_warning(monkeypatch):
    monkeypatch.setattr(compiled, "cpp_compiler", lambda: None)
    calls = []
    monkeypatch.setattr(torch, "compile", lambda *a, **k: calls.append(a))
    model = tiny_model()
    pixels = torch.randn(1, 3, 40, 40)
    with pytest.warns(RuntimeWarning, match="needs a C.. compiler for the CPU and none was found"):
        fast = compiled.compiled_forward(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fast(pixels)
    assert not fast.compiled and not calls
    with torch.inference_mode():
        torch.testing.assert_close(got, model(pixels), rtol=0, atol=0)


def test_a_failing_compile_falls_back_once(monkeypatch):
    """The compile raising on the first call: one warning naming the error, the eager answer,
    and no further attempt."""
    attempts = []

    def broken(*args, **kwargs):
        def run(x, addends):
            attempts.append(x.shape)
            raise RuntimeError("C++ compile error: cc1plus killed")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    model = tiny_model()
    pixels = torch.randn(1, 3, 40, 40)
    fast = compiled.compiled_forward(model)
    with pytest.warns(RuntimeWarning, match="compiling failed: RuntimeError: C.. compile error"):
        got = fast(pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = fast(pixels)
    assert len(attempts) == 1 and not fast.compiled
    with torch.inference_mode():
        ref = model(pixels)
    torch.testing.assert_close(got, ref, rtol=0, atol=0)
    torch.testing.assert_close(again, ref, rtol=0, atol=0)


def test_a_wrong_input_gets_the_models_own_error_and_no_compile(monkeypatch):
    calls = []
    monkeypatch.setattr(torch, "compile", lambda m, **k: (lambda x: calls.append(x) or m(x)))
    monkeypatch.setattr(compiled, "compile_unavailable", lambda device="cpu": None)
    fast = compiled.compiled_forward(tiny_model())
    with pytest.raises(ValueError, match="input image is 32x32, this embedding expects"):
        fast(torch.randn(1, 3, 32, 32))
    assert not calls and fast.compiled
    pair = SwinBlockPair(16, (8, 8), 2, window_size=4).eval()
    with pytest.raises(ValueError, match="input has 60 tokens, expected H.W = 8.8 = 64"):
        compiled.compiled_forward(pair)(torch.randn(1, 60, 16))
    assert not calls


def test_geometry_is_owned_and_freeze_compiles_a_private_copy(monkeypatch):
    """The wrapper's gather orders and masks are its own copies (editing the block's shared
    mask through it is impossible), and freeze=True compiles a copy of the module, so the
    weights folded in cannot be the module's own tensors."""
    seen = []
    monkeypatch.setattr(torch, "compile", lambda m, **k: seen.append((m, k)) or m)
    monkeypatch.setattr(compiled, "compile_unavailable", lambda device="cpu": None)
    model = tiny_model()
    fast = compiled.compiled_forward(model)
    blk = model.layers[0].blocks[1]
    order, inv, mask = fast.graph.geometry.get(1)
    cached = blk._geometry()
    assert torch.equal(order, cached[0]) and torch.equal(mask, cached[2])
    assert mask.data_ptr() != cached[2].data_ptr() and order.data_ptr() != cached[0].data_ptr()
    qkv_rows, merge_rows = fast.graph.geometry.rows(1)  # made from its own order and inverse
    want_qkv, want_merge = blk.fast_rows(cached[0], cached[1])
    assert torch.equal(qkv_rows, want_qkv) and torch.equal(merge_rows, want_merge)
    assert seen[0][0] is fast.graph and seen[0][0].module is model
    assert seen[0][1]["options"] is None and seen[0][1]["dynamic"] is False

    frozen = compiled.compiled_forward(model, freeze=True)
    graph, kwargs = seen[1]
    assert graph.module is not model and kwargs["options"] == {"freezing": True}
    theirs = dict(graph.module.named_parameters())
    for name, p in model.named_parameters():
        assert torch.equal(theirs[name], p) and theirs[name].data_ptr() != p.data_ptr()
    pixels = torch.randn(1, 3, 40, 40)
    before = frozen(pixels)
    with torch.no_grad():
        model.head.fc.bias.add_(1.0)  # the snapshot does not follow, as documented
    torch.testing.assert_close(frozen(pixels), before, rtol=0, atol=0)
    assert isinstance(model.compiled(), compiled.CompiledForward)  # the model's own entry


@pytest.mark.slow
def test_each_compiled_module_compiles_even_past_the_shared_recompile_limit(monkeypatch):
    """Every compiled module's graph runs FastGraph.forward's code; torch counts recompiles of
    one code object together and, past its limit, runs eager without a word. Each wrapper has
    its own entries: with a limit of 1, two modules of different shapes both compile."""
    needs_inductor()
    import torch._dynamo.config as dynamo_config
    from torch._dynamo.utils import counters

    monkeypatch.setattr(dynamo_config, "recompile_limit", 1)
    torch._dynamo.reset()
    graphs = []
    for H in (8, 12):
        pair = SwinBlockPair(16, (H, H), 2, window_size=4).eval()
        x = torch.randn(1, H * H, 16)
        got = compiled.compiled_forward(pair)(x)
        graphs.append(counters["stats"]["unique_graphs"])
        with torch.inference_mode():
            torch.testing.assert_close(got, pair(x, return_trace=True)[0], rtol=0, atol=1e-5)
    assert graphs[1] == graphs[0] + 1


def test_swin_v2_says_it_has_no_fast_path_and_runs_its_own_forward():
    """Issue 26: Swin V2's blocks have no fused fast path; `compiled()` says so in one warning
    (before, inductor was tried and failed with an AttributeError about `forward_fast`) and
    returns the model's own output."""
    from swinviz import load_model

    model = load_model("random", arch="swinv2-t", img_size=64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fast = model.compiled()
    said = [str(w.message) for w in caught if "swinviz" in str(w.message)]
    assert len(said) == 1 and "Swin V2's blocks have no fast path to compile" in said[0]
    assert "forward_fast" not in said[0] and not fast.compiled
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        assert torch.equal(fast(x), model(x))
