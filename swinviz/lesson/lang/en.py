"""The lesson in English. Every step's words: a title, the slide's lines `body(n, r)`, the
speaker notes `notes(n, r)` (n: `LessonNumbers`, r: `Readings` at the step's query), and the
page's own labels. Each sentence is said for the exploration it is given: what holds at stage 1
but not at stage 4 (one window, no shift) is said only where it holds."""

from __future__ import annotations

import numpy as np

from ...figures._core.labels import PAIRS
from ...figures._core.text import si

NAME = "English"

UI = {
    "lesson": "Lesson",
    "deck_title": "Swin Transformer: shifted-window attention",
    "step_of": "step {k} of {n}",
    "prev": "◀ Previous",
    "next": "Next ▶",
    "random": "random weights",
    "code": "The reference code",
    "try": "Try this",
    "deeper": "In full: the {tab} tab",
    "footer": "swinviz · {arch}, stage {stage}",
    "query": "query token",
    "block0": "block {b} (W-MSA)",
    "block1_shift": "block {b} (SW-MSA, shift {s})",
    "block1_plain": "block {b} (W-MSA: shift 0)",
    "after0": "after block {b}",
    "after1": "after block {b}",
    "paper_view": "the paper: windows move right and down by {s}",
    "code_view": "the code: tokens roll up and left by {s}",
    "rolled": "rolled: the windows are cut here",
    "back": "rolled back: every token in its place",
    "region": "region",
    "last_grid": "{H}×{W} · M = {M} · shift {s}",
    "labelled": "{what}: {value}",
    "region_corner": "region · rows {r0}–{r1}, columns {c0}–{c1}",
    "mask_of": "mask of window {w} (-100 dark, 0 light)",
    "index_m3": "index, M = 3 (9 tokens)",
    "index_m": "index, M = {M} ({N} tokens)",
    "bias_of": "head {h}'s bias table, {k}×{k} offsets",
    "global": "global attention",
    "windowed": "windowed attention",
    "proj_part": "4hwC² (projections)",
    "attn_part": "attention products",
    "stage_cols": ("stage", "tokens", "C", "heads", "window", "shift"),
    "table_cols": ("", "parameters", "FLOPs"),
    "this_model": "this model",
    "paper_t1": "paper, Table 1",
    "no_paper": "not in Table 1",
    "ln": "LayerNorm", "mlp": "MLP", "add": "+",
    "leak_map": "without the mask: weight on other regions",
    "no_mask_map": "no mask to leave out",
    "reach_map": "reach after {k} pairs: blue {b} without the shift, + orange {a} with it",
    "reach_same": "reach after {k} pairs: {b}, with or without a shift",
    "cam_map": "Grad-CAM of “{cls}”, block {b}",
    "reads_map": "where ({r}, {c}) reads, block {b}",
    "no_evidence": "no class evidence for this run",
    "v2_cols": ("one block of this stage", "Swin V1", "Swin V2"),
    "v2_logit": "attention logit",
    # table cells: a no-break space keeps "(M = 7)" whole when the table wraps its cells
    "v2_bias": "position bias: learned numbers (M\u00a0=\u00a0{M})",
    "v2_bigger": "a window of M\u00a0=\u00a0{M}",
    "v2_same": "the same MLP",
    "v2_norms": "LayerNorm",
    "v2_before": "before attention, MLP",
    "v2_after": "after them",
    "v2_block": "parameters of the block",
}

TRY = {
    "corner": "Move the query to the corner",
    "boundary": "Move the query onto a window border",
    "middle": "Move the query to the middle",
    "stage1": "Go to stage 1",
    "stage4": "Go to stage 4",
}




def _tokens(k: int) -> str:
    return f"{k} token{'' if k == 1 else 's'}"


def _why_no_shift(n) -> str:
    if n.one:
        return (f"one {n.M}×{n.M} window already covers the whole {n.H}×{n.W} grid, so there "
                f"is nothing to shift")
    return "the shift is set to 0"


def _title(n, r):
    lines = [f"{n.arch}: an image of {n.img_w}×{n.img_h} px, explored at stage {n.stage}, "
             f"blocks {n.b0} and {n.b1}.",
             "One idea a slide: the problem, each fix, and what it costs.",
             "Every picture is drawn from this run's own tensors."]
    if n.random:
        lines.append("The weights are random: shapes and masks are exact, learned numbers "
                     "are noise.")
    return lines


def _patches(n, r):
    first = n.stages[0].px if n.stages else n.p
    lines = [f"The image is cut into {first}×{first}-pixel patches, one token each."]
    if n.stage > 1:
        lines.append(f"At stage {n.stage}, after {n.stage - 1} patch merge"
                     f"{'s' if n.stage > 2 else ''}, a token stands for {n.p}×{n.p} pixels: "
                     f"a {n.H}×{n.W} grid of tokens.")
    else:
        lines.append(f"A {n.H}×{n.W} grid of tokens.")
    lines.append(f"Each token holds C = {n.C} numbers at stage {n.stage}.")
    lines.append(f"Yellow: token ({n.query[0]}, {n.query[1]}), the query the lesson follows.")
    return lines


def _cost(n, r):
    lines = ["Global attention: Ω(MSA) = 4hwC² + 2(hw)²C.",
             "Windowed attention: Ω(W-MSA) = 4hwC² + 2M²hwC.",
             f"Here h·w = {n.H}·{n.W} = {n.hw}, C = {n.C}, M = {n.M}: "
             f"{si(n.msa)} against {si(n.wmsa)} multiply-adds: global costs {n.ratio:.1f}× "
             f"windowed."]
    if n.padded:
        lines.append(f"The windows are cut from the grid padded to {n.Hp}×{n.Wp}, so W-MSA "
                     f"computes {si(n.wmsa_run)}: global costs {n.msa / n.wmsa_run:.1f}× what "
                     f"the blocks compute (the cost figure's ×); the formula, like the "
                     f"reference's flops(), counts the image's {n.hw} tokens only.")
    if n.one:
        lines.append(f"At this stage one window covers the grid (M² = {n.N} ≥ hw = {n.hw}): "
                     f"windows save nothing here; they pay off on large grids.")
    else:
        lines.append("The (hw)² term grows with the square of the tokens; the M²hw term only "
                     "in proportion to them.")
    return lines


def _windows(n, r):
    windows = "1 window" if n.nW == 1 else f"{n.nW} windows"
    lines = [f"Block {n.b0} cuts the {n.Hp}×{n.Wp} grid into {windows} of "
             f"{n.M}×{n.M} = {n.N} tokens.",
             f"Attention happens only inside a window: each token meets {n.N - 1} others, "
             f"never more."]
    if n.padded:
        lines.append(f"{n.H}×{n.W} is not a multiple of {n.M}: the grid is padded to "
                     f"{n.Hp}×{n.Wp} with zero tokens first.")
    if not n.one:
        lines.append("Problem: tokens on either side of a window border never meet.")
    return lines


def _block(n, r):
    shifted = (f"then block {n.b1}: the same with SW-MSA (windows shifted by {n.s})"
               if n.s else f"then block {n.b1}: the same with W-MSA again ({_why_no_shift(n)})")
    return ["A Swin block: LayerNorm → window attention → add, LayerNorm → MLP → add.",
            f"Blocks come in pairs: first W-MSA (regular windows), {shifted}.",
            f"The shapes stay (B, {n.hw}, {n.C}) from block input to output."]


def _shift(n, r):
    if n.s == 0:
        return [f"Block {n.b1} does not shift: {_why_no_shift(n)}.",
                f"Its windows are block {n.b0}'s; the roll is skipped.",
                "Go to stage 1 (or the 6x6 example) to see the roll."]
    return [f"Block {n.b1} shifts the windows by s = {_tokens(n.s)}.",
            "The paper draws the windows moved right and down; the code rolls the tokens up "
            "and left and cuts the same regular windows.",
            "Both give the same groups; the strips that leave at the top and left come back "
            "at the bottom and right."]


def _regions(n, r):
    if n.s == 0:
        return [f"Without a shift the reference builds no img_mask (attn_mask = None): "
                f"{_why_no_shift(n)}, and no window mixes pieces from opposite sides."]
    return ["The slice loop numbers 9 regions 0..8 on the rolled map, row by row.",
            f"Bands: [0, {n.Hp - n.M}), [{n.Hp - n.M}, {n.Hp - n.s}), [{n.Hp - n.s}, {n.Hp}) "
            f"on each axis.",
            "Tokens with the same id were neighbours before the roll.",
            "Windows in the last row or column mix ids: pieces that wrapped around.",
            *(["Veiled grey: the padding's zero tokens, rolled with the rest; they get ids too."]
              if n.padded else [])]


def _mask(n, r):
    if n.s == 0:
        return [f"No mask in block {n.b1}: {_why_no_shift(n)}, so no window holds "
                f"wrapped-around pieces; only the relative position bias is added to the "
                f"scores."]
    lines = ["mask_windows.unsqueeze(1) − mask_windows.unsqueeze(2): 0 where two tokens share "
             "a region, not 0 elsewhere.",
             "masked_fill turns every non-zero into −100, added to the scores before softmax.",
             "exp(−100) ≈ 3.7e-44: the weight only approaches 0, below anything float32 can add "
             "to 1."]
    if r.masked_max is not None:
        lines.append(f"In this run the largest masked weight is {r.masked_max:.1e}.")
    return lines


def _relpos(n, r):
    k = 2 * n.M - 1
    if n.M == 3:  # the picture's one panel is this model's index
        return ["Pairs of tokens with the same offset (Δrow, Δcol) share one bias entry.",
                "This model's M = 3: 9×9 pairs, 5×5 = 25 offsets, 12 on the diagonal "
                "(offset 0, 0).",
                "The index is fixed; only the table it reads is learned."]
    return ["Pairs of tokens with the same offset (Δrow, Δcol) share one bias entry.",
            "Left: the index for M = 3: 9×9 pairs, 5×5 = 25 offsets, 12 on the diagonal "
            "(offset 0, 0).",
            f"Right: this model's M = {n.M}: {n.N}×{n.N} pairs read {k}×{k} = {n.table} "
            f"entries.",
            "The index is fixed; only the table it reads is learned."]


def _bias(n, r):
    lines = [f"Each of the {n.heads} heads learns its own table of {n.table} numbers, "
             f"one per offset.",
             f"Head 0's bias over a window's pairs runs from {r.bias_lo:+.3f} to "
             f"{r.bias_hi:+.3f} (the same in every window); it is added to every score before "
             f"the softmax."]
    if n.random:
        lines.append("These weights are random: the pattern is noise and says nothing about "
                     "near or far tokens.")
    else:
        lines.append("Look for rows, columns or the centre standing out: what this head "
                     "learned to add by offset alone.")
    return lines


def _attention(n, r):
    q = f"({r.query[0]}, {r.query[1]})"
    lines = [f"Query {q}: its weights over its window, block {n.b0} then block {n.b1} "
             f"(mean of {n.heads} heads)."]
    if n.s == 0:
        lines.append(f"Both blocks use the same window ({_why_no_shift(n)}): only their "
                     f"weights differ.")
    elif r.windows_joined > 1:
        lines.append(f"Block {n.b1}'s shifted window joins {r.windows_joined} of block "
                     f"{n.b0}'s windows: {r.cross_share:.0%} of the query's weight goes to "
                     f"tokens it could not see before.")
    else:
        lines.append(f"This query's shifted group stays inside one of block {n.b0}'s windows "
                     f"(the mask keeps wrapped-around pieces apart); move it onto a border.")
    if n.random:
        lines.append("Random weights: the numbers are exact for this model, the pattern "
                     "is noise.")
    return lines


def _rollback(n, r):
    if n.s == 0:
        return [f"Nothing to roll back: block {n.b1} did not shift ({_why_no_shift(n)})."]
    return [f"After attention the windows are merged back and rolled by +{n.s}: "
            f"every token returns to its place.",
            "The shift is temporary: positions in the image never change, only which tokens "
            "share a window.",
            "Roll −s before, roll +s after: the pair's output is in image order."]


def _flow(n, r):
    lines = [f"After block {n.b0}, {r.reach0} tokens can influence the query (its window)."]
    if n.s == 0 or r.reach1 == r.reach0:
        why = (_why_no_shift(n) if n.s == 0 else
               "its shifted group lies inside one window (the mask stops the wrap)")
        lines.append(f"After block {n.b1}: still {r.reach1}: {why}.")
    else:
        lines.append(f"After block {n.b1}: {r.reach1} tokens, from {r.windows_joined} windows: "
                     f"the shift carries information across borders.")
        lines.append("Like passing a note through neighbours: every pair reaches further, "
                     "no token ever leaves its place.")
    return lines


def _whatif(n, r):
    q = f"({r.query[0]}, {r.query[1]})"
    if r.leak is None:
        lines = [f"Without the mask: nothing changes here; with no shift there is no mask "
                 f"({_why_no_shift(n)})."]
    elif r.leak < 1e-6:
        lines = [f"Without the mask: query {q}'s window holds one region, so nothing leaks; "
                 f"a window of the last row or column puts up to {r.leak_max:.0%} of its weight "
                 f"on keys from the far side of the image."]
    else:
        lines = [f"Without the mask: query {q} puts {r.leak:.0%} of its weight on keys the roll "
                 f"brought in from the far side of the image (up to {r.leak_max:.0%} in one "
                 f"window)."]
    if r.reach_shift is None:
        lines.append(f"Without the shift: nothing changes either; {r.reach_flat} tokens reach "
                     f"the query.")
    else:
        lines.append(f"Without the shift: after {PAIRS} pairs only {r.reach_flat} tokens reach the "
                     f"query (its window); with it, {r.reach_shift}.")
    lines.append(f"Without the bias: {r.bias_moved:.1%} of the query's weight moves; attention "
                 f"then sees content only, not where a key sits.")
    if n.random:
        lines.append("Random weights: how much moves means nothing; that it moves, and where, "
                     "is the mechanics.")
    return lines


def _merging(n, r):
    lines = ["Patch merging: each 2×2 group of tokens is concatenated (4C) and projected to 2C.",
             "The grid halves (an odd side gets a row or column of zeros first), the channels "
             "double; the window stays M×M tokens where the grid holds it."]
    if n.stages:
        lines.append(" → ".join(f"{s.H}×{s.W}" for s in n.stages)
                     + " tokens; C " + " → ".join(str(s.dim) for s in n.stages) + ".")
    return lines


def _last(n, r):
    if not n.stages:
        return ["A stage whose grid fits in one window uses that window and no shift."]
    last = n.stages[-1]
    if n.last_fits:
        fit = (f"one {last.M}×{last.M} window covers its {last.H}×{last.W} grid"
               if last.M >= min(last.H, last.W) else "its shift is set to 0")
        whole = ("Its grid is a single token: attention there is that token with itself."
                 if last.H * last.W == 1 else "Every token already attends to every other: a "
                 "window that is the whole grid is global attention.")
        return [f"Stage {last.stage}: {fit}.",
                "The code then sets the shift to 0: both blocks are plain W-MSA, with no mask.",
                whole]
    return [f"Stage {last.stage}: {last.H}×{last.W} tokens in windows of {last.M}×{last.M}, "
            f"shift {last.s}: even the last stage shifts at this input size."]


def _table(n, r):
    lines = []
    if n.params is not None:
        lines.append(f"{n.arch}: {n.params / 1e6:.1f} M parameters, {n.flops / 1e9:.2f} G "
                     f"FLOPs (multiply-adds), counted as the reference's flops() counts them.")
    lines.append("The paper's Table 1: Swin-T 28M / 4.5G, Swin-S 50M / 8.7G, "
                 "Swin-B 88M / 15.4G (224 px).")
    lines.append("Windows made this possible: linear cost in the number of tokens.")
    return lines


def _evidence(n, r):
    q = f"({r.query[0]}, {r.query[1]})"
    if r.evidence_class is None:
        return ["Attention says where a token reads; it does not say why the model chose a "
                "class.", "This run has no class evidence (Grad-CAM needs one more forward and "
                "backward pass)."]
    lines = [f"Grad-CAM of “{r.evidence_class}” ({r.evidence_p:.1%}): the block's activations "
             f"weighted by the gradient of that class's logit.",
             f"The attention of query {q} is where that token reads: the same for every class."]
    if np.isfinite(r.evidence_agree):
        lines.append(f"Inside the query's window the two agree at r = {r.evidence_agree:.2f} "
                     f"here: attention is not explanation.")
    elif r.evidence_flat:
        lines.append("Inside the query's window the class evidence is 0 on every token (after "
                     "the ReLU): no token there raises the class, so there is no agreement to "
                     "measure; attention is still not explanation.")
    if n.random:
        lines.append("Random weights: neither map says anything about this image yet.")
    return lines


def _v2(n, r):
    from ..numbers import grouped, v2_change

    d = v2_change(n.C, n.heads, n.M)
    return ["Swin V2 keeps the windows, the shift and the mask, and changes the three parts "
            "inside the block.",
            "Attention: the cosine of q and k times a learned temperature per head (at most "
            "100), instead of q·kᵀ/√d: the logits stay bounded however large the model.",
            f"Position bias: a small MLP over log-spaced offsets instead of the table. Here "
            f"(M = {n.M}, {n.heads} heads) its {grouped(d.mlp)} numbers replace the table's "
            f"{grouped(d.table)}, "
            f"and give a bias for any window: a {2 * n.M}×{2 * n.M} window would need a new "
            f"table of {grouped(d.table_2m)}.",
            "Norms: after attention and after the MLP, not before (res-post-norm)."]


NO_SHIFT_NOTES = {
    "windows": lambda n, r: "window_partition is a reshape and a permute. Here the windows "
    "already cover everything a token can reach at this stage.",
    "block": lambda n, r: "Pre-norm residual blocks as in ViT. In this pair both blocks run "
    "W-MSA: there is nothing to shift.",
    "shift": lambda n, r: "Nothing rolls in this pair. Show stage 1 (or the 6x6 example) for "
    "the cyclic shift.",
    "regions": lambda n, r: "The reference builds img_mask only when it shifts; here "
    "attn_mask is None.",
    "mask": lambda n, r: "No mask here: only the bias is added to the scores before the "
    "softmax.",
    "attention": lambda n, r: "Both blocks see the same window; compare their weights, which "
    "differ only through their own parameters.",
    "rollback": lambda n, r: "No roll, so nothing to undo: the blocks read and write tokens in "
    "image order.",
    "flow": lambda n, r: "Without a shift the reach does not grow inside this pair; the "
    "earlier stages built it up.",
}

STEPS = {
    "title": dict(title="Swin Transformer: shifted-window attention", body=_title,
                  notes=lambda n, r: "We follow one image through one pair of Swin blocks. Each "
                  "slide shows one idea, drawn from this run."),
    "patches": dict(title="The image and its patches", body=_patches,
                    notes=lambda n, r: "Swin starts like ViT: the image becomes a grid of "
                    "tokens, one per patch. Unlike ViT it keeps the grid: every later step "
                    "works on rows and columns."),
    "cost": dict(title="Why windows: the cost of global attention", body=_cost,
                 notes=lambda n, r: "Read the two formulas term by term: the projections cost "
                 "the same; only the attention products differ. Replace (hw)² by M²·hw and the "
                 "cost becomes linear in the number of tokens."),
    "windows": dict(title="W-MSA: attention inside windows", body=_windows,
                    notes=lambda n, r: "window_partition is a reshape and a permute: no data is "
                    "copied between windows. Ask: what about two neighbours on either side of a "
                    "border?"),
    "block": dict(title="The Swin block, in pairs", body=_block,
                  notes=lambda n, r: "Pre-norm residual blocks as in ViT; the only change is "
                  "which attention runs. The pair is the unit: regular windows, then shifted."),
    "shift": dict(title="The cyclic shift", body=_shift,
                  notes=lambda n, r: "The paper's picture and the code look opposite: windows "
                  "move right/down in the paper, tokens roll up/left in the code. Relative to "
                  "each other it is the same move, and the roll keeps the number of windows."),
    "regions": dict(title="Region ids: the slice loop", body=_regions,
                    notes=lambda n, r: "img_mask is built once, on the rolled map. Three bands "
                    "per axis give nine regions; ids only matter inside a window that mixes "
                    "them."),
    "mask": dict(title="The mask: −100 before the softmax", body=_mask,
                 notes=lambda n, r: "The difference of region ids is zero exactly for pairs from "
                 "the same region. Adding −100 does not set a weight to zero: it makes it about "
                 "exp(−100) times the others, which float32 cannot tell from zero when summed."),
    "relpos": dict(title="The relative position index", body=_relpos,
                   notes=lambda n, r: "Attention itself ignores order; the bias gives it back, "
                   "by offset only. The index table is a buffer, the same in every window and "
                   "every block with this M."),
    "bias": dict(title="The relative position bias", body=_bias,
                 notes=lambda n, r: "The table has (2M−1)² rows and one column per head; the "
                 "index gathers an N×N bias from it. Do not read preferences from random "
                 "weights."),
    "attention": dict(title=lambda n: "Attention of a query on a window border" if n.s
                      else "Attention of a query in both blocks", body=_attention,
                      notes=lambda n, r: "Put the two blocks side by side: the same query, two "
                      "different windows. Where the shifted window crosses the old border, "
                      "information crosses too."),
    "rollback": dict(title="The roll back", body=_rollback,
                     notes=lambda n, r: "torch.roll with +s undoes −s exactly. The next block "
                     "sees tokens in image order and cuts regular windows again."),
    "flow": dict(title="Information flow across the pair", body=_flow,
                 notes=lambda n, r: "Count the tokens that can influence the query: one window "
                 "after W-MSA, a larger area after SW-MSA. Without the shift the count would "
                 "never grow."),
    "whatif": dict(title="Why each part: leave one out", body=_whatif,
                   notes=lambda n, r: "Each number is this pair's own tensors with one term left "
                   "out, for the same input. In the page, the What if boxes run the whole model "
                   "without a part and compare its prediction with Swin's."),
    "merging": dict(title="Patch merging and the stages", body=_merging,
                    notes=lambda n, r: "Merging is Swin's pooling: a hierarchy like a CNN's, so "
                    "the same windows see a larger part of the image at each stage."),
    "last": dict(title=lambda n: "The last stage: one window, no shift" if n.last_fits
                 else "The last stage", body=_last,
                 notes=lambda n, r: "The reference checks min(input_resolution) <= window_size "
                 "and then drops the shift: there is nothing to connect."),
    "evidence": dict(title="Attention is not explanation", body=_evidence,
                     notes=lambda n, r: "Grad-CAM asks the class; attention does not. Hook "
                     "norm1 of a block, weigh each channel by the mean gradient of the logit, "
                     "sum and keep the positive part. The Class evidence tab shows it at every "
                     "stage and for any class."),
    "v2": dict(title="What Swin V2 changed in the block", body=_v2,
               notes=lambda n, r: "Run python -m swinviz figures IMAGE --arch swinv2-t to see "
               "the same figures for Swin V2: its cost table counts the bias MLP's parameters, "
               + ("and the windows, shift and mask are the ones of this lesson." if n.s else
                  "and the windows are the ones of this lesson (no shift and no mask at this "
                  "stage).")),
    "table": dict(title="What it costs: the paper's Table 1", body=_table,
                  notes=lambda n, r: "The counts here add up every block, merge and the head the "
                  "way the reference's flops() does; the paper rounds them."),
}
