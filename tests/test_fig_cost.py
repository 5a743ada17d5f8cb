"""Cost of the whole model: swinviz.cost's parameter counts equal the model's own nn.Parameters
(Swin-T, -S, -B, -B 384), its FLOPs reproduce the paper's Table 1 and the model's own block
counts, and the cost figure shows exactly those numbers for any stage and pair."""

import numpy as np
import pytest
from figure_checks import assert_table_fits, plain
from PIL import Image

from swinviz import cost
from swinviz.config import ARCHS, get_config
from swinviz.figures import Selection, make_figure
from swinviz.figures import cost as fc
from swinviz.figures._core import get_template
from swinviz.model import SwinTransformer


def picture():
    rng = np.random.default_rng(17)
    return Image.fromarray(rng.integers(0, 256, (40, 48, 3)).astype(np.uint8))


def by_part(model, parts):
    """The model's own parameter count, grouped by the parts of `cost.model_params`."""
    out = dict.fromkeys(parts, 0)
    for name, p in model.named_parameters():
        owner = [k for k in parts if name.startswith(k + ".")]
        assert len(owner) == 1, name
        out[owner[0]] += p.numel()
    return out


# (arch, parameters in millions as the paper prints them, FLOPs in G as the paper prints them)
TABLE_1 = [("swin-t", 28, "4.5"), ("swin-s", 50, "8.7"), ("swin-b", 88, "15.4"),
           ("swin-b-384", 88, "47.0")]


@pytest.mark.parametrize("arch", [a for a, _, _ in TABLE_1])
def test_model_params_are_the_models_own(arch):
    cfg = get_config(arch)
    model = SwinTransformer(cfg)  # no weights needed: only the shapes are counted
    counted = cost.model_params(cfg)
    assert by_part(model, counted) == counted
    assert sum(counted.values()) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("arch, params_m, flops_g", TABLE_1)
def test_model_totals_against_table_1(arch, params_m, flops_g):
    cfg = get_config(arch)
    p = sum(cost.model_params(cfg).values())
    f = sum(cost.model_flops(cfg).values())
    assert round(p / 1e6) == params_m
    if arch != "swin-b-384":
        assert f"{f / 1e9:.1f}" == flops_g
    else:
        # The reference's flops() gives 47.10 G (its README prints 47.1G); the paper prints
        # 47.0G. Counted as the reference counts it, that is what we get:
        assert f"{f / 1e9:.2f}" == "47.10"
        assert abs(f / 1e9 - float(flops_g)) < 0.15


def test_model_flops_by_the_reference_formulas():
    cfg = ARCHS["swin_tiny_patch4_window7_224"]
    f = cost.model_flops(cfg)
    assert list(f) == ["patch_embed", "layers.0.blocks", "layers.1.downsample",
                       "layers.1.blocks", "layers.2.downsample", "layers.2.blocks",
                       "layers.3.downsample", "layers.3.blocks", "norm", "head"]
    assert f["patch_embed"] == 56 * 56 * 96 * 3 * 4 * 4 + 56 * 56 * 96
    for i, (H, C) in enumerate([(56, 96), (28, 192), (14, 384)], start=1):
        # PatchMerging.flops(): H·W·C + (H/2)·(W/2)·4C·2C
        assert f[f"layers.{i}.downsample"] == H * H * C + (H // 2) ** 2 * 4 * C * 2 * C
    assert f["norm"] == 768 * 7 * 7
    assert f["head"] == 768 * 1000
    # one Swin-T stage-1 block by hand (fact 10): 2 norms, 64 windows of 49, MLP ratio 4
    C, L, N, nH = 96, 56 * 56, 49, 3
    one = 2 * C * L + 64 * (N * C * 3 * C + 2 * nH * N * (C // nH) * N + N * C * C) \
        + 2 * L * C * C * 4
    assert f["layers.0.blocks"] == 2 * one
    assert cost.per_stage(f)["stage 2"] == f["layers.1.downsample"] + f["layers.1.blocks"]


@pytest.mark.parametrize("img_size", [224, 200])
def test_model_flops_blocks_are_the_models_blocks(img_size):
    cfg = get_config("swin-t").with_settings(img_size=img_size)
    model = SwinTransformer(cfg)
    f = cost.model_flops(cfg)
    for i, layer in enumerate(model.layers):
        assert f[f"layers.{i}.blocks"] == sum(blk.flops() for blk in layer.blocks)
    assert "head" not in cost.model_params(cfg.with_settings(num_classes=0))


@pytest.fixture(scope="module")
def swin_t(swin, explored):
    settings = dict(seed=0, device="cpu")
    places = ((1, 0), (3, 2), (4, 0))
    return swin(**settings), {(s, p): explored(picture(), settings, stage=s, pair=p)
                              for s, p in places}


@pytest.fixture(scope="module")
def model6(swin, explored):
    settings = dict(img_size=24, window_size=3, embed_dim=48, num_heads=4, seed=0, device="cpu")
    return swin(**settings), explored(picture(), settings)


def number(cell: str) -> int:
    return int(cell.replace("<b>", "").replace("</b>", "").replace("\u00a0", ""))


@pytest.mark.parametrize("sp", [(1, 0), (3, 2), (4, 0)])
def test_pair_parameters_are_the_models(swin_t, sp):
    model, exps = swin_t
    exp = exps[sp]
    direct = cost.count_parameters(model)
    rows = fc.parameter_rows(exp)
    s, p = sp
    assert {r["name"] for r in rows} == {
        f"layers.{s - 1}.blocks.{b}.{m}" for b in (2 * p, 2 * p + 1) for m in fc.BLOCK_MODULES}
    for r in rows:
        assert r["count"] == direct[r["name"]]
    fig = fc.figure(exp, Selection().resolved(exp))
    table = next(t for t in fig.data if t.name == "parameters")
    names, _, _, per_block, _, _ = table.cells.values
    for i, m in enumerate(names[:-1]):
        want = direct.get(f"layers.{s - 1}.blocks.{2 * p}.{m}", 0)  # q·kᵀ, attn·v: none
        assert number(per_block[i]) == want
    block = model.layers[s - 1].blocks[2 * p]
    assert number(per_block[-1]) == sum(q.numel() for q in block.parameters())


@pytest.mark.parametrize("sp", [(1, 0), (3, 2), (4, 0)])
def test_model_table_and_bars(swin_t, sp):
    model, exps = swin_t
    exp = exps[sp]
    fig = fc.figure(exp, Selection().resolved(exp))
    table = next(t for t in fig.data if t.name == "model")
    params, flops = cost.model_params(model.config), cost.model_flops(model.config)
    assert list(table.meta["parts"]) == list(params)
    assert list(table.meta["params"]) == list(params.values())
    assert list(table.meta["flops"]) == list(flops.values())
    cells = table.cells.values
    assert number(cells[6][-1]) == sum(q.numel() for q in model.parameters())
    assert number(cells[6][-1]) == 28_288_354
    # the explored stage's rows are highlighted, and only they
    fills = table.cells.fill.color[0]
    stages = [cost.stage_of_part(p) for p in params]
    assert [f == fc.HIGHLIGHT for f in fills[:-1]] == [st == exp.stage for st in stages]
    # per-stage bars: the sums of the parts, the explored stage in its own colour
    bar = next(t for t in fig.data if t.name == "FLOPs per stage")
    grouped = cost.per_stage(flops)
    assert list(bar.y) == [grouped["patch_embed"]] + [grouped[f"stage {i}"] for i in (1, 2, 3, 4)] \
        + [grouped["norm"] + grouped["head"]]
    assert [c == fc.EXPLORED for c in bar.marker.color] == [i == exp.stage for i in
                                                             (0, 1, 2, 3, 4, 0)]


@pytest.mark.parametrize("sp", [(1, 0), (3, 2), (4, 0)])
def test_pair_flops_are_the_blocks_own(swin_t, sp):
    model, exps = swin_t
    exp = exps[sp]
    s, p = sp
    fig = fc.figure(exp, Selection().resolved(exp))
    table = next(t for t in fig.data if t.name == "parameters")
    for b in (0, 1):
        blk = model.layers[s - 1].blocks[2 * p + b]
        assert sum(fc.module_flops(exp, b).values()) == blk.flops()
        assert sum(fc.block_flop_parts(exp, b).values()) == blk.flops()
        assert sum(table.meta["flops"][b]) == blk.flops()
    # W-MSA against global MSA, one block of every stage, by the paper's formulas
    for name, fn in (("global MSA", cost.msa_flops), ("W-MSA", None)):
        bars = next(t for t in fig.data if t.meta == name)
        for g, y in zip(model.config.stages(), bars.y, strict=True):
            want = (fn(*g.grid, g.dim) if fn else
                    cost.wmsa_flops(*g.grid, g.dim, g.window_size))
            assert y == want


def test_notes_times_paper_and_no_shift(swin_t):
    _, exps = swin_t
    exp = exps[(1, 0)]
    text = " ".join(a.text for a in make_figure("cost", exp).layout.annotations)
    for k in ("before_pair", "pair_traced", "pair_fast"):
        assert f"{exp.timings_ms[k]:.1f} ms" in text
    assert exp.device in text
    assert "Table 1 prints 28M / 4.5G" in text and "28.3 M parameters and 4.49 G" in text
    assert "Why no shift" not in text
    exp = exps[(4, 0)]
    assert exp.shift_size == 0 and exp.window_size == 7
    fig = make_figure("cost", exp)
    text = " ".join(a.text for a in fig.layout.annotations)
    assert "Why no shift in stage 4?" in text and "covers the whole 7×7 grid" in text
    assert "stage 4, blocks 0 and 1" in fig.layout.title.text


def test_paper_check_names_the_readme_for_b384():
    text = fc.paper_check(get_config("swin-b-384"))
    assert "Table 1 prints 88M / 47.0G" in text and "47.10 G" in text and "README" in text
    assert fc.paper_check(get_config("swin-t").with_settings(img_size=200)) is None


@pytest.mark.parametrize("template", ["default", "lecture"])
def test_templates(model6, template):
    _, exp = model6
    fig = make_figure("cost", exp, template=template)
    assert fig.layout.meta["template"] == template
    assert "Cost" in fig.layout.title.text
    fig.to_json()


def test_bad_selections(model6):
    _, exp = model6
    with pytest.raises(ValueError):
        make_figure("cost", exp, template="slides")
    with pytest.raises(ValueError):
        make_figure("cost", exp, head=4)


@pytest.mark.parametrize("template", ["default", "lecture"])
@pytest.mark.parametrize("sp", [(1, 0), (4, 0)])
def test_tables_cut_nothing_and_labels_fit(swin_t, sp, template):
    _, exps = swin_t
    fig = make_figure("cost", exps[sp], template=template)
    tables = [t for t in fig.data if t.type == "table"]
    assert [t.name for t in tables] == ["model", "parameters"]
    for table in tables:
        assert_table_fits(fig, table)
    # the bars' category labels (and the numbers on them) do not run into their neighbours
    width = fig.layout.width or get_template(template).width
    plot_w = width - fig.layout.margin.l - fig.layout.margin.r
    for bar in (t for t in fig.data if t.type == "bar"):
        ax = fig.layout[bar.xaxis.replace("x", "xaxis")]
        slot = plot_w * (ax.domain[1] - ax.domain[0]) / len(bar.x)
        labels = [line for x in bar.x for line in plain(x).split("\n")]
        widest = max(len(line.strip()) for line in labels)
        assert widest * 0.6 * ax.tickfont.size <= slot, (bar.x, ax.tickfont.size, slot)
        if bar.text is not None:
            assert max(map(len, bar.text)) * 0.6 * bar.textfont.size <= slot
    # the log axis is labelled at its own values, in full (no bare "2" for 2G)
    msa = next(t for t in fig.data if t.meta == "global MSA")
    ax = fig.layout[msa.yaxis.replace("y", "yaxis")]
    assert ax.type == "log" and ax.tickvals is not None and len(ax.tickvals) >= 2
    for v, label in zip(ax.tickvals, ax.ticktext, strict=True):
        assert label[-1] in "kMG" and float(label[:-1]) * 1e3 ** "kMG".index(label[-1]) * 1e3 \
            == pytest.approx(v)
    lo, hi = ax.range
    assert all(10 ** lo <= v <= 10 ** hi for v in ax.tickvals)


V2_ARCHS = [name for name, c in ARCHS.items() if c.version == 2]


@pytest.mark.parametrize("arch", V2_ARCHS)
def test_swin_v2_params_are_the_models_own(arch):
    """Swin V2's own modules (issue 26): q and v biases without a k bias, a logit scale per head,
    the bias MLP in place of the table, the merge's norm after its reduction; counted by part,
    they are the built model's (timm's swinv2_tiny_window8_256: 28 347 154)."""
    from swinviz import load_model

    model = load_model("random", arch=arch)
    counted = cost.model_params(model.config)
    assert by_part(model, counted) == counted
    assert sum(counted.values()) == sum(p.numel() for p in model.parameters())
    if arch == "swinv2_tiny_window8_256":
        assert sum(counted.values()) == 28_347_154


@pytest.mark.parametrize("arch", sorted(fc.PAPER_V2))
def test_swin_v2_totals_against_its_model_zoo(arch):
    cfg = get_config(arch)
    p, f = sum(cost.model_params(cfg).values()), sum(cost.model_flops(cfg).values())
    paper_p, paper_f = fc.PAPER_V2[arch]
    assert f"{round(p / 1e6)}M" == paper_p and f"{f / 1e9:.1f}G" == paper_f
    assert f"model zoo prints {paper_p} / {paper_f}" in fc.paper_check(cfg)


def test_swin_v2_pair_table_is_its_blocks_own(swin, explored):
    """The cost figure of a V2 exploration: the pair's rows are V2's modules with the model's
    own counts (the bias MLP's two layers together), and the FLOPs are its blocks' flops()."""
    model = swin(arch="swinv2-t")
    exp = explored(picture(), dict(arch="swinv2-t"), stage=2, predict=False)
    direct = cost.count_parameters(model)
    rows = fc.parameter_rows(exp)
    assert [r["module"] for r in rows if r["block"] == 0] == list(fc.V2_BLOCK_MODULES)
    for r in rows:
        assert r["count"] == sum(v for k, v in direct.items()
                                 if k == r["name"] or k.startswith(r["name"] + ".")), r["name"]
    fig = fc.figure(exp, Selection().resolved(exp))
    table = next(t for t in fig.data if t.name == "parameters")
    names, _, _, per_block, _, _ = table.cells.values
    assert "attn.relative_position_bias_table" not in names and "attn.cpb_mlp" in names
    block = model.layers[1].blocks[0]
    assert number(per_block[-1]) == sum(q.numel() for q in block.parameters())
    for b in (0, 1):
        assert sum(table.meta["flops"][b]) == model.layers[1].blocks[b].flops()


def test_on_a_padded_grid_w_msa_is_what_the_blocks_compute(exp_padded):
    """At 200 px (a 50x50 grid in 7x7 windows) the blocks attend on the grid padded to 56x56:
    the W-MSA bar of the explored stage is the module table's attention (qkv, the two products,
    proj), and the "×" compares global attention on the 2500 tokens with that (it compared
    with the formula on 2500 tokens, ×11.2, while the table counted 3136 slots)."""
    from swinviz.figures.cost.counts import ATTN_MATMULS, module_flops

    fig = make_figure("cost", exp_padded)
    w_msa = next(t for t in fig.data if t.meta == "W-MSA")
    m = module_flops(exp_padded, 1)
    attention = m["attn.qkv"] + m[ATTN_MATMULS] + m["attn.proj"]
    assert w_msa.y[0] == attention == cost.wmsa_flops(56, 56, 96, 7)
    assert list(w_msa.customdata) == ["56×56", "28×28", "14×14", "7×7"]
    ratio = next(t for t in fig.data if t.name == "MSA / W-MSA").text[0]
    assert ratio == f"×{cost.msa_flops(50, 50, 96) / attention:.1f}" == "×8.9"
