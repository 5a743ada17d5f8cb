"""Shapes: every tensor shape on the way through a block, for the current settings.

One table, one row per step, from the image to the block's output: the code that runs, the
shape with numbers and with symbols, what the step does, and where the number comes from: the
trace's own tensors (`.shape` of pixels, tokens, the block's input / output, scores, bias, mask,
attn) or, for tensors the trace does not keep, the settings (the same arithmetic the model does).
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from ..windows import padded_size
from ._core import (
    block_name,
    fast_figure,
    fit_columns,
    get_template,
    keep_columns,
    style_layout,
    sup_lines,
    table_px,
    top_title,
)
from ._core.words import tr

TRACE_FILL = "#e8f1fa"  # rows whose shape is read from a trace tensor
ATTN_FILL = "#fdf0e0"  # rows inside the window attention (settings)
SKIP_COLOR = "#999999"
@dataclass(frozen=True)
class Step:
    """One row of the shapes table."""

    step: str
    code: str
    shape: tuple[int, ...] | None  # None: the step does not run in this block
    symbols: str
    what: str
    source: str  # "trace" or "settings"
    part: str = ""  # "attn" for the window attention rows


def fmt(shape: tuple[int, ...] | None) -> str:
    return "—" if shape is None else "(" + ", ".join(str(int(v)) for v in shape) + ")"


def _sub(k: int) -> str:
    """Subscript digits: 2 -> "₂"."""
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


@dataclass(frozen=True)
class _Dims:
    """The numbers one block's shapes are made of (its trace and settings)."""

    B: int
    Ht: int  # the block's token grid
    Wt: int
    Hp: int  # the grid the windows are cut from (padded to whole windows)
    Wp: int
    M: int
    s: int
    C: int
    nH: int
    hidden: int  # the MLP's width
    x_in: tuple
    skip: str  # what a step says when the block does not shift
    nopad: str  # what a step says when the grid splits into whole windows
    lg: str = "en"  # the language of the steps' words

    @property
    def padded(self) -> bool:
        return (self.Hp, self.Wp) != (self.Ht, self.Wt)

    @property
    def N(self) -> int:
        return self.M * self.M

    @property
    def nW(self) -> int:
        return (self.Hp // self.M) * (self.Wp // self.M)

    @property
    def d(self) -> int:
        return self.C // self.nH

    @property
    def grid(self) -> str:
        """The map's symbols between the roll and the crop: padded or not."""
        return "(B, Hp, Wp, C)" if self.padded else "(B, Ht, Wt, C)"


def _dims(exp, block: int, lg: str = "en") -> _Dims:
    """The numbers of `block`'s shapes, from its trace and the exploration's settings."""
    t = exp.traces[block]
    Ht, Wt = t.input_resolution
    M, s = t.window_size, t.shift_size
    Hp, Wp = padded_size(Ht, Wt, M)  # the grid the windows are cut from
    C = exp.embed_dim
    return _Dims(B=exp.pixels.shape[0], Ht=Ht, Wt=Wt, Hp=Hp, Wp=Wp, M=M, s=s, C=C,
                 nH=t.num_heads, hidden=int(C * exp.mlp_ratio), x_in=tuple(t.x_in.shape),
                 skip=tr(lg, "skipped in {b} (s = 0)", b=block_name(block, exp, lg)),
                 nopad=tr(lg, "no padding: {H}×{W} splits into whole {M}×{M} windows", H=Ht,
                          W=Wt, M=M), lg=lg)


def _to_the_pair(exp, block: int, lg: str = "en") -> list[Step]:
    """From the image to the block's input: patch embedding, the stages and merges before the
    explored one, the blocks before the pair, and block 0 when the table is block 1's."""
    p = exp.patch_size
    B, _, Hi, Wi = exp.pixels.shape
    C = exp.embed_dim
    stage, pair = int(getattr(exp, "stage", 1)), int(getattr(exp, "pair", 0))
    cfg = getattr(exp, "config", None)
    p1 = cfg.patch_size if cfg is not None else p
    C1 = cfg.embed_dim if cfg is not None else C
    H1, W1 = Hi // p1, Wi // p1
    b0 = 2 * pair

    rows = [
        Step(tr(lg, "image"), "pixels", tuple(exp.pixels.shape), "(B, 3, H, W)",
             tr(lg, "the RGB image, {H}×{W} px, normalised with ImageNet's mean and std", H=Hi,
                W=Wi), "trace"),
        Step("patch_embed.proj", f"Conv2d(3, {C1}, kernel {p1}, stride {p1})",
             (B, C1, H1, W1), f"(B, C, H/{p1}, W/{p1})",
             tr(lg, "each {p}×{p} patch becomes C = {C} numbers", p=p1, C=C1), "settings"),
    ]
    if stage == 1:
        rows.append(Step("tokens", "flatten(2).transpose(1, 2); patch_embed.norm",
                         tuple(exp.tokens.shape) if pair == 0 else (B, H1 * W1, C1),
                         "(B, L, C)", tr(lg, "L = {H}·{W} = {L} tokens in row-major order, "
                                         "LayerNorm", H=H1, W=W1, L=H1 * W1),
                         "trace" if pair == 0 else "settings"))
    else:
        rows.append(Step("tokens", "flatten(2).transpose(1, 2); patch_embed.norm",
                         (B, H1 * W1, C1), "(B, L₁, C)",
                         tr(lg, "stage 1's {H}×{W} = {L} tokens, LayerNorm", H=H1, W=W1,
                            L=H1 * W1), "settings"))
        rows += _earlier_stages(cfg, stage, B, lg)
    if pair > 0:
        rows.append(Step(tr(lg, "blocks 0–{b}", b=b0 - 1), f"layers.{stage - 1}.blocks[:{b0}]",
                         tuple(exp.tokens.shape), "(B, L, C)",
                         tr(lg, "the {n} blocks of stage {stage} before this pair; their output "
                                "is the pair's input", n=b0, stage=stage), "trace"))
    if block == 1:
        rows.append(Step(block_name(0, exp, lg), f"blocks[{b0}](x)", _dims(exp, 1).x_in,
                         "(B, L, C)", tr(lg, "the whole first block of the pair (regular "
                                             "windows); its output is this block's input"),
                         "trace"))
    return rows


def _earlier_stages(cfg, stage: int, B: int, lg: str = "en") -> list[Step]:
    """Each stage before the explored one, and the patch merge that follows it."""
    rows = []
    grids = cfg.grids() if cfg is not None else []
    for k in range(1, stage):
        g = cfg.stage(k)
        rows.append(Step(tr(lg, "stage {k}", k=k), f"layers.{k - 1}.blocks (×{g.depth})",
                         (B, g.grid[0] * g.grid[1], g.dim), f"(B, L{_sub(k)}, C{_sub(k)})",
                         tr(lg, "{n} blocks on {H}×{W} tokens of width {C}", n=g.depth,
                            H=g.grid[0], W=g.grid[1], C=g.dim), "settings"))
        nxt = cfg.stage(k + 1)
        h, w = grids[k - 1]
        rows.append(Step(tr(lg, "patch merge → stage {k}", k=k + 1), f"layers.{k}.downsample",
                         (B, nxt.grid[0] * nxt.grid[1], nxt.dim),
                         f"(B, L{_sub(k + 1)}, 2C{_sub(k)})",
                         tr(lg, "2×2 neighbours concatenated (4·{C}), LayerNorm, Linear to {C2}: "
                                "{h}×{w} → {h2}×{w2}", C=g.dim, C2=nxt.dim, h=h, w=w,
                            h2=nxt.grid[0], w2=nxt.grid[1])
                         + (tr(lg, " (odd side padded first)") if h % 2 or w % 2 else ""),
                         "settings"))
    return rows


def _into_windows(D: _Dims) -> list[Step]:
    """Norm, back on the grid, pad, roll (concepts fact 3), cut into windows of N tokens."""
    B, Ht, Wt, Hp, Wp, M, s, C, N, nW = (D.B, D.Ht, D.Wt, D.Hp, D.Wp, D.M, D.s, D.C, D.N,
                                         D.nW)
    padded, shifted, lg = D.padded, s > 0, D.lg
    return [
        Step("shortcut, norm1", "shortcut = x; x = norm1(x)", D.x_in, "(B, L, C)",
             tr(lg, "keep x for the residual; LayerNorm over C"), "trace"),
        Step("view", "x.view(B, H, W, C)", (B, Ht, Wt, C), "(B, Ht, Wt, C)",
             tr(lg, "tokens back on their grid"), "settings"),
        Step("pad", f"F.pad(x, (0, 0, 0, {Wp - Wt}, 0, {Hp - Ht}))",
             (B, Hp, Wp, C) if padded else None, "(B, Hp, Wp, C)",
             tr(lg, "zeros at the bottom and right to whole windows: {H}×{W} → {Hp}×{Wp}, "
                    "before the roll", H=Ht, W=Wt, Hp=Hp, Wp=Wp) if padded else D.nopad,
             "settings"),
        Step("roll", f"torch.roll(x, ({-s}, {-s}), dims=(1, 2))",
             (B, Hp, Wp, C) if shifted else None, D.grid,
             tr(lg, "cyclic shift: patches move up and left by s = {s}", s=s) if shifted
             else D.skip,
             "settings"),
        Step("window_partition", f"window_partition(x, {M})", (nW * B, M, M, C),
             "(nW·B, M, M, C)", tr(lg, "cut into nW = {a}·{b} = {nW} windows of {M}×{M}",
                                   a=Hp // M, b=Wp // M, nW=nW, M=M),
             "settings"),
        Step("view", f"x_windows.view(-1, {N}, C)", (nW * B, N, C), "(nW·B, N, C)",
             tr(lg, "N = {M}·{M} = {N} tokens per window", M=M, N=N), "settings"),
    ]


def _window_attention(D: _Dims, t) -> list[Step]:
    """Inside WindowAttention (concepts fact 8): qkv, heads, scores + bias + mask, softmax."""
    B, M, C, N, nW, nH, d = D.B, D.M, D.C, D.N, D.nW, D.nH, D.d
    lg = D.lg
    return [
        Step("qkv", f"attn.qkv: Linear({C}, {3 * C})", (nW * B, N, 3 * C), "(nW·B, N, 3C)",
             tr(lg, "queries, keys and values in one matrix product"), "settings", "attn"),
        Step("reshape, permute", f"reshape(B_, N, 3, {nH}, {d}).permute(2, 0, 3, 1, 4)",
             (3, nW * B, nH, N, d), "(3, nW·B, nH, N, d)",
             tr(lg, "split into q, k, v and {nH} heads of d = {C}/{nH} = {d}", nH=nH, C=C, d=d),
             "settings", "attn"),
        Step("scores", "(q · d^-0.5) @ k.transpose(-2, -1)", tuple(t.scores.shape),
             "(nW·B, nH, N, N)",
             tr(lg, "content logits: every query against every key of its window"),
             "trace", "attn"),
        Step("+ bias", "relative_position_bias_table[index]", tuple(t.bias.shape), "(nH, N, N)",
             tr(lg, "relative position bias from a ({G}·{G} = {GG}, {nH}) table, broadcast over "
                    "windows", G=2 * M - 1, GG=(2 * M - 1) ** 2, nH=nH), "trace", "attn"),
        Step("+ mask", f"mask.unsqueeze(1).unsqueeze(0): (1, {nW}, 1, {N}, {N})",
             tuple(t.mask.shape) if t.mask is not None else None, "(nW, N, N)",
             tr(lg, "0 / −100 per window, broadcast as (1, nW, 1, N, N) over (B, nW, nH, N, N)")
             if t.mask is not None else (D.skip.replace("skipped", "no mask") if lg == "en" else
                                         tr(lg, "no mask (s = 0)")), "trace", "attn"),
        Step("softmax", "logits.softmax(dim=-1)", tuple(t.attn.shape), "(nW·B, nH, N, N)",
             tr(lg, "attention weights: each row sums to 1"), "trace", "attn"),
        Step("attn @ v", "attn @ v", (nW * B, nH, N, d), "(nW·B, nH, N, d)",
             tr(lg, "weighted sum of the values, per head"), "settings", "attn"),
        Step("merge heads", f"transpose(1, 2).reshape(B_, {N}, {C})", (nW * B, N, C),
             "(nW·B, N, C)", tr(lg, "heads side by side again"), "settings", "attn"),
        Step("proj", f"attn.proj: Linear({C}, {C})", (nW * B, N, C), "(nW·B, N, C)",
             tr(lg, "mix the heads"), "settings", "attn"),
    ]


def _out_of_windows(exp, block: int, D: _Dims, t) -> list[Step]:
    """Windows back into one map, roll back, crop, first residual, then the MLP."""
    B, Ht, Wt, Hp, Wp, M, s, C, hidden = (D.B, D.Ht, D.Wt, D.Hp, D.Wp, D.M, D.s, D.C,
                                          D.hidden)
    padded, shifted, lg = D.padded, s > 0, D.lg
    L = Ht * Wt
    return [
        Step("window_reverse", f"window_reverse(x, {M}, {Hp}, {Wp})", (B, Hp, Wp, C),
             D.grid, tr(lg, "windows back into one map"), "settings"),
        Step("roll back", f"torch.roll(x, ({s}, {s}), dims=(1, 2))",
             (B, Hp, Wp, C) if shifted else None, D.grid,
             tr(lg, "every patch back in its original place") if shifted else D.skip,
             "settings"),
        Step("crop", f"x[:, :{Ht}, :{Wt}]", (B, Ht, Wt, C) if padded else None,
             "(B, Ht, Wt, C)", tr(lg, "the padding cut off again") if padded else D.nopad,
             "settings"),
        Step("view", f"x.view(B, {L}, C)", (B, L, C), "(B, L, C)", tr(lg, "a sequence again"),
             "settings"),
        Step("+ shortcut", "x = shortcut + x", (B, L, C), "(B, L, C)", tr(lg, "first residual"),
             "settings"),
        Step("norm2, mlp.fc1, GELU", f"Linear({C}, {hidden})", (B, L, hidden), "(B, L, 4C)",
             tr(lg, "MLP hidden layer, ratio {r}", r=f"{exp.mlp_ratio:g}"), "settings"),
        Step("mlp.fc2, + residual", f"x = x + Linear({hidden}, {C})(…)", tuple(t.x_out.shape),
             "(B, L, C)", tr(lg, "output of {b}", b=block_name(block, exp, lg)), "trace"),
    ]


def steps(exp, block: int, lang: str = "en") -> list[Step]:
    """The rows of the table for `block` (0 or 1): from the image to the block's input, into
    windows, the window attention, and out of the windows to the block's output."""
    if block not in (0, 1):
        raise ValueError(f"block must be 0 or 1, got {block}")
    t = exp.traces[block]
    D = _dims(exp, block, lang)
    return (_to_the_pair(exp, block, lang) + _into_windows(D) + _window_attention(D, t)
            + _out_of_windows(exp, block, D, t))


def figure(exp, sel) -> go.Figure:
    """One table of `steps(exp, sel.block)`: code, shape in numbers and symbols, what the step
    does, and whether the shape is read from the trace or computed from the settings."""
    sel = sel.resolved(exp)
    tpl = get_template(sel.template)
    block = sel.block
    t = exp.traces[block]
    lg = sel.lang
    rows = steps(exp, block, lg)
    M, s = t.window_size, t.shift_size
    C, nH = exp.embed_dim, t.num_heads
    H, W = exp.pixels.shape[-2:]
    Ht, Wt = t.input_resolution
    Hp, Wp = padded_size(Ht, Wt, M)
    nW = (Hp // M) * (Wp // M)

    fills, colors = [], []
    for r in rows:
        fills.append(TRACE_FILL if r.source == "trace" else ATTN_FILL if r.part else "white")
        colors.append(SKIP_COLOR if r.shape is None else "#222")
    cell_h = int(tpl.font_size * 2.0)
    header = [tr(lg, x) for x in ("<b>step</b>", "<b>code</b>", "<b>shape</b>", "<b>symbols</b>",
                                  "<b>what it does</b>", "<b>from</b>")]
    cols = [
        [f"<b>{r.step}</b>" for r in rows],
        [r.code for r in rows],
        [f"<b>{fmt(r.shape)}</b>" if r.source == "trace" and r.shape else fmt(r.shape)
         for r in rows],
        [r.symbols for r in rows],
        [r.what for r in rows],
        [tr(lg, r.source) if r.shape is not None else "—" for r in rows],
    ]
    one_line = ((2, 3), (2,), ())  # shapes (and symbols) on one line, where that fits
    if tpl.name == "narrow":  # a phone's column: each step and its shape
        header, cols = keep_columns((0, 2), header, cols)
        one_line = ((1,), ())
    head_size, cell_size = tpl.font_size, max(10, tpl.font_size - 1)
    # shapes (and symbols) on one line where that does not make the table taller
    widths = min((fit_columns(header, cols, head_size, cell_size, tpl.width - 40, first=f)
                  for f in one_line),
                 key=lambda w: table_px(header, cols, w, head_size, cell_size, cell_h, cell_h))
    table = dict(
        type="table", columnwidth=[round(w, 1) for w in widths],
        header=dict(values=header, fill=dict(color="#dde3ea"), align="left",
                    font=dict(size=head_size, color="#222"), height=cell_h),
        cells=dict(values=cols, align="left", height=cell_h,
                   fill=dict(color=[fills] * len(cols)),
                   font=dict(size=cell_size, color=[colors] * len(cols)),
                   line=dict(color="#e3e3e3", width=1)),
        name=f"shapes {block_name(block)}",  # the pair's first / second block
        meta=dict(shapes=[fmt(r.shape) for r in rows], steps=[r.step for r in rows],
                  sources=[r.source for r in rows]),
    )
    shift = (tr(lg, "shift s = {s}", s=s) if s else tr(lg, "no shift") if block == 0 else
             tr(lg, "no shift (one window covers the grid)") if M >= min(Ht, Wt)
             else tr(lg, "no shift (s = 0)"))
    pad = tr(lg, " (padded to {Hp}×{Wp})", Hp=Hp, Wp=Wp) if (Hp, Wp) != (Ht, Wt) else ""
    if lg == "en":
        sub = (f"{H}×{W} image → stage {exp.stage}'s {Ht}×{Wt} tokens{pad}, C = {C}, "
               f"nH = {nH} heads of d = {C // nH}, window M = {M} (N = {M * M}), "
               f"nW = {nW} window{'s' if nW > 1 else ''}, {shift}, batch B = 1.")
    else:
        sub = tr(lg, "{H}×{W} image → stage {stage}'s {Ht}×{Wt} tokens{pad}, C = {C}, nH = {nH} "
                 "heads of d = {d}, window M = {M} (N = {N}), nW = {nW} windows, {shift}, batch "
                 "B = 1.", H=H, W=W, stage=exp.stage, Ht=Ht, Wt=Wt, pad=pad, C=C, nH=nH,
                 d=C // nH, M=M, N=M * M, nW=nW, shift=shift)
    title = (tr(lg, "Tensor shapes through {b}, stage {stage}", b=block_name(block, exp, lg),
                stage=exp.stage)
             + sup_lines(sub, tpl)
             + sup_lines(tr(lg, "Blue rows: shapes read from the trace's tensors; the others "
                            "follow from the settings; orange: inside the window attention."),
                         tpl))
    layout: dict = {}
    style_layout(layout, sel.template, title=title, height=0)
    top_title(layout, tpl, below=0)
    layout["margin"].update(l=20, r=20, b=20)
    body = table_px(header, cols, widths, head_size, cell_size, cell_h, cell_h)
    layout["height"] = layout["margin"]["t"] + body + 20 + 20
    top_title(layout, tpl, below=0)  # again, for the final height
    layout["height"] = layout["margin"]["t"] + body + 20 + 20  # the table's room, whatever
    return fast_figure([table], layout)


