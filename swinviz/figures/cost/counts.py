"""What the cost figure counts: the parameters and FLOPs (multiply-adds, as the reference's
`flops()` counts them) of the whole model part by part, of the explored pair module by module,
and the paper's Table 1 for the published configs (docs/concepts.md, facts 9 and 10)."""

from __future__ import annotations

from ... import cost as _cost
from .._core import config_label
from .._core.words import tr

BLOCK_MODULES = ("norm1", "attn.qkv", "attn.proj", "attn.relative_position_bias_table", "norm2",
                 "mlp.fc1", "mlp.fc2")
# Swin V2's block (docs/concepts.md, facts 16-19), in its forward order: the norms follow the
# attention and the MLP, the table is the bias MLP, the keys have no bias
V2_BLOCK_MODULES = ("attn.qkv", "attn.q_bias", "attn.v_bias", "attn.logit_scale",
                    "attn.cpb_mlp", "attn.proj", "norm1", "mlp.fc1", "mlp.fc2", "norm2")


def block_modules(exp) -> tuple[str, ...]:
    """The learned modules of one block of the explored model, in forward order."""
    return V2_BLOCK_MODULES if _version(exp) == 2 else BLOCK_MODULES


def pair_order(exp) -> list[str]:
    """The rows of the pair's table: the modules, with the attention's two matrix products
    (no parameters) where they run."""
    mods = list(block_modules(exp))
    at = mods.index("attn.qkv") + (3 if _version(exp) == 2 else 1)
    return mods[:at] + [ATTN_MATMULS] + mods[at:]


def _version(exp) -> int:
    return getattr(getattr(exp, "config", None), "version", 1)
# Swin V2's model zoo (the reference repository's table, ImageNet-1k, 256 px, as printed)
PAPER_V2 = {
    "swinv2_tiny_window8_256": ("28M", "5.9G"),
    "swinv2_tiny_window16_256": ("28M", "6.6G"),
    "swinv2_small_window8_256": ("50M", "11.5G"),
    "swinv2_base_window8_256": ("88M", "20.3G"),
    "swinv2_base_window16_256": ("88M", "21.8G"),
}
# Table 1 of the paper (ImageNet-1k, parameters and FLOPs as printed) for the published configs.
PAPER = {
    "swin_tiny_patch4_window7_224": ("28M", "4.5G"),
    "swin_small_patch4_window7_224": ("50M", "8.7G"),
    "swin_base_patch4_window7_224": ("88M", "15.4G"),
    "swin_base_patch4_window12_384": ("88M", "47.0G"),
}
def parameter_rows(exp) -> list[dict]:
    """One dict per learned module of the explored pair's two blocks: name as in the model
    (`layers.{s-1}.blocks.{b}.attn.qkv`, ...), block (0 or 1 in the pair), shape text, formula
    text and count (from swinviz.cost)."""
    C, r, nH = exp.embed_dim, exp.mlp_ratio, exp.num_heads
    hid = int(C * r)
    rows = []
    v2 = _version(exp) == 2
    for b, trace in enumerate(exp.traces):
        M = trace.window_size
        G = 2 * M - 1
        bp = _cost.block_params(C, nH, M, r, version=2 if v2 else 1)
        K = _cost.CPB_HIDDEN
        shapes = {
            "attn.qkv": (f"[{3 * C}, {C}]", "C·3C"),
            "attn.q_bias": (f"[{C}]", "C"),
            "attn.v_bias": (f"[{C}]", "C"),
            "attn.logit_scale": (f"[{nH}, 1, 1]", "nH"),
            "attn.cpb_mlp": (f"[{K}, 2] + [{K}] + [{nH}, {K}]", f"2·{K} + {K} + {K}·nH"),
        } if v2 else {}
        shapes = {
            "norm1": (f"[{C}] + [{C}]", "2C"),
            "attn.qkv": (f"[{3 * C}, {C}] + [{3 * C}]", "C·3C + 3C"),
            "attn.proj": (f"[{C}, {C}] + [{C}]", "C·C + C"),
            "attn.relative_position_bias_table": (f"[{G * G}, {nH}]", "(2M−1)²·nH"),
            "norm2": (f"[{C}] + [{C}]", "2C"),
            "mlp.fc1": (f"[{hid}, {C}] + [{hid}]", "C·rC + rC"),
            "mlp.fc2": (f"[{C}, {hid}] + [{C}]", "rC·C + C"),
        } | shapes
        prefix = f"layers.{exp.stage - 1}.blocks.{exp.blocks[b]}"
        for m in block_modules(exp):
            rows.append(dict(name=f"{prefix}.{m}", block=b, module=m, shape=shapes[m][0],
                             formula=shapes[m][1], count=bp[m]))
    return rows


ATTN_MATMULS = "q·kᵀ, attn·v"  # the FLOP row of the two attention products (no parameters)
FLOP_FORMULAS = {
    "norm1": "C·HW", "attn.qkv": "nW·N·C·3C", ATTN_MATMULS: "nW·2·nH·N²·d",
    "attn.proj": "nW·N·C·C", "attn.relative_position_bias_table": "0 (a gather)",
    "norm2": "C·HW", "mlp.fc1": "HW·C·rC", "mlp.fc2": "HW·rC·C",
    # Swin V2's: the reference's flops() counts none of these (nor the bias MLP's products)
    "attn.q_bias": "0", "attn.v_bias": "0", "attn.logit_scale": "0",
    "attn.cpb_mlp": "0",
}


def module_flops(exp, block: int) -> dict[str, int]:
    """docs/concepts.md fact 10 for one block of the explored pair, module by module (the
    attention's two matrix products as their own entry, `ATTN_MATMULS`); nW counts the windows
    of the padded grid. The values sum to `swinviz.cost.block_flops`."""
    tr = exp.traces[block]
    H, W = tr.input_resolution
    C, nH, M = exp.embed_dim, exp.num_heads, tr.window_size
    N, d = M * M, C // nH
    nW = -(-H // M) * -(-W // M)
    mlp = int(2 * H * W * C * C * exp.mlp_ratio)
    out = {
        "norm1": C * H * W,
        "attn.qkv": nW * N * C * 3 * C,
        ATTN_MATMULS: nW * 2 * nH * N * N * d,
        "attn.proj": nW * N * C * C,
        "attn.relative_position_bias_table": 0,
        "norm2": C * H * W,
        "mlp.fc1": mlp // 2,
        "mlp.fc2": mlp - mlp // 2,
    }
    if _version(exp) == 2:  # the same count, V2's modules (none of its own is counted)
        del out["attn.relative_position_bias_table"]
        out.update({m: 0 for m in ("attn.q_bias", "attn.v_bias", "attn.logit_scale",
                                   "attn.cpb_mlp")})
    total = _cost.block_flops(C, (H, W), nH, M, exp.mlp_ratio)
    if sum(out.values()) != total:  # the split must be the library's count, nothing else
        raise AssertionError(f"FLOPs by module {out} do not add up to block_flops = {total}")
    return out


def block_flop_parts(exp, block: int) -> dict[str, int]:
    """The same count grouped as fact 10 writes it: norm1, attention (nW windows), MLP, norm2."""
    m = module_flops(exp, block)
    return {"norm1": m["norm1"],
            "attention": m["attn.qkv"] + m[ATTN_MATMULS] + m["attn.proj"],
            "MLP": m["mlp.fc1"] + m["mlp.fc2"], "norm2": m["norm2"]}


def model_rows(cfg, lang: str = "en") -> list[dict]:
    """The whole model, one dict per part in forward order: part (model prefix), label, stage
    (None outside the stages), grid, width, heads, window text, params, flops."""
    params, flops = _cost.model_params(cfg), _cost.model_flops(cfg)
    geo = {g.stage: g for g in cfg.stages()}
    rows = []
    for name in params:
        s = _cost.stage_of_part(name)
        g = geo.get(s)
        if name == "patch_embed":
            H = W = cfg.img_size // cfg.patch_size
            row = dict(label=tr(lang, "patch embedding"), grid=(H, W), dim=cfg.embed_dim,
                       heads="", window=tr(lang, "{p}×{p} px patches", p=cfg.patch_size))
        elif name.endswith("downsample"):
            prev = geo[s - 1]
            row = dict(label=tr(lang, "patch merge → stage {s}", s=s), grid=g.grid, dim=g.dim,
                       heads="",
                       window=f"{prev.grid[0]}×{prev.grid[1]} → {g.grid[0]}×{g.grid[1]}")
        elif name.endswith("blocks"):
            row = dict(label=tr(lang, "stage {s}: {n} blocks", s=s, n=g.depth), grid=g.grid,
                       dim=g.dim,
                       heads=str(g.num_heads),
                       window=f"M = {g.window_size}, s = {g.shift_size}")
        elif name == "norm":
            row = dict(label=tr(lang, "final norm"), grid=cfg.grids()[-1], dim=cfg.num_features,
                       heads="", window="")
        else:
            row = dict(label=tr(lang, "head ({n} classes)", n=cfg.num_classes), grid=None,
                       dim=cfg.num_features, heads="", window=tr(lang, "mean of the tokens"))
        row.update(part=name, stage=s, params=params[name], flops=flops[name])
        rows.append(row)
    return rows


def _groups(rows: list[dict]) -> list[tuple[str, int | None, int, int]]:
    """(label, stage, params, flops) per stage (its merge and blocks), the patch embedding, and
    the final norm with the head, in forward order."""
    out: dict[str, list] = {}
    for r in rows:
        key = f"stage {r['stage']}" if r["stage"] else (
            "embed" if r["part"] == "patch_embed" else "norm + head")
        out.setdefault(key, [key, r["stage"], 0, 0])
        out[key][2] += r["params"]
        out[key][3] += r["flops"]
    return [tuple(v) for v in out.values()]


def paper_check(cfg, lang: str = "en") -> str | None:
    """For a published config: its totals against the paper's Table 1, in one sentence."""
    if cfg.name in PAPER_V2:
        p, f = sum(_cost.model_params(cfg).values()), sum(_cost.model_flops(cfg).values())
        return tr(lang, "{arch}: {p} M parameters and {f} G FLOPs (the bias MLP's products not "
                  "counted, as the reference's flops() leaves them out); Swin V2's model zoo "
                  "prints {paper_p} / {paper_f}.", arch=arch_label_of(cfg), p=f"{p / 1e6:.1f}",
                  f=f"{f / 1e9:.2f}", paper_p=PAPER_V2[cfg.name][0],
                  paper_f=PAPER_V2[cfg.name][1])
    if cfg.name not in PAPER:
        return None
    p, f = sum(_cost.model_params(cfg).values()), sum(_cost.model_flops(cfg).values())
    paper_p, paper_f = PAPER[cfg.name]
    fields = dict(arch=arch_label_of(cfg), p=f"{p / 1e6:.1f}", f=f"{f / 1e9:.2f}",
                  paper_p=paper_p, paper_f=paper_f, f1=f"{f / 1e9:.1f}")
    if f"{f / 1e9:.1f}G" != paper_f:
        return tr(lang, "{arch}: {p} M parameters and {f} G FLOPs, the paper's Table 1 prints "
                  "{paper_p} / {paper_f} (the reference code's own flops() gives {f} G, as "
                  "counted here, and its README prints {f1}G).", **fields)
    return tr(lang, "{arch}: {p} M parameters and {f} G FLOPs, the paper's Table 1 prints "
              "{paper_p} / {paper_f}.", **fields)


def arch_label_of(cfg) -> str:
    """"Swin-T" and the like for a config (`_core.labels.config_label`)."""
    return config_label(cfg)
