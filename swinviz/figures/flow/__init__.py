"""Information flow. Which input patches can influence the chosen patch after the pair's first
block, after the pair and after k pairs, and where attention rollout puts the model's attention
weight, back through every block and patch merge to the image.

The reach sets and the rollout are computed in `flow.reach`; this module draws them: the reach
steps and the stage's own rollout map as tiles of one subplot (`tile_grid`; one subplot, because a
click redraws the figure in the page and plotly's time grows with its subplots), and the
rollout on the image below.
"""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

from ...windows import (
    padded_size,
    window_region_ids,
)
from .._core import (
    fast_figure,
    footnote,
    get_template,
    style_layout,
    token_geometry,
    top_title,
    where,
    wrap_text,
)
from .._core.words import tr
from .panels import (
    MARGIN_L,
    MARGIN_R,
    Flow,
    image_panel,
    overlays,
    plot_width,
    reach_panels,
    stage_panel,
    star_trace,
    tile_axes,
    tile_grid,
)
from .reach import (
    ROLLOUT_FLOOR,
    reach_matrix,
    reach_sets,
    rollout,
    rollout_row,
    stage_maps,
    visibility_groups,
)

__all__ = ["MAX_PAIRS", "ROLLOUT_FLOOR", "figure", "reach_matrix", "reach_sets", "rollout",
           "rollout_row", "stage_maps", "visibility_groups"]

MAX_PAIRS = 4  # the figure's small multiples; the pure functions take any k >= 0


def _weights(exp, lang: str = "en") -> str:
    """What the rollout's weights are: 'random weights' for an untrained model (`exp.pretrained`
    False), else 'pretrained weights' (a checkpoint from the Hub or a file)."""
    return tr(lang, "pretrained weights" if exp.pretrained else "random weights")


def _masked_window(exp, query) -> bool:
    """True when the query's window in the pair's second block mixes region ids, i.e. the
    attention mask hides some of its keys (keys that wrapped around the edge); False without a
    shift."""
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    if s == 0:
        return False
    _, wot = token_geometry(H, W, M, s, bool(getattr(exp.traces[1], "roll_first", False)))
    ids = window_region_ids(*padded_size(H, W, M), M, s).numpy()[wot[query][0]]
    return bool((ids != ids[0]).any())


def _later_pairs_text(exp, k: int, lang: str = "en") -> str:
    """The footnote's sentence on pairs 2..k: what the panels show, and what really follows the
    pair in the model (more pairs of this stage, patch merging into the next stage, or nothing
    at the last pair of the last stage)."""
    L = lang
    text = (tr(L, "Pair 2 shows what repeating this same pair at this resolution would do "
                  "(reach depends on windows and masks only).") if k == 2 else
            tr(L, "Pairs 2–{k} show what repeating this same pair at this resolution would do "
                  "(reach depends on windows and masks only).", k=k))
    geo = exp.geometry
    if geo is None:
        return text
    more = geo.pairs - exp.pair - 1
    last = exp.stage == exp.config.num_stages
    if more > 0:
        if L == "en":
            text += (f" In Swin, stage {exp.stage} has {more} more pair{'s' if more > 1 else ''} "
                     f"after this one at this resolution (same windows, their own weights)")
        else:
            text += tr(L, " In Swin, stage {stage} has {more} more pairs after this one at this "
                          "resolution (same windows, their own weights)", stage=exp.stage,
                       more=more)
        text += (tr(L, "; it is the last stage.") if last else
                 tr(L, "; after them patch merging leads to stage {next}.", next=exp.stage + 1))
    elif last:
        text += tr(L, " In Swin this is the last pair of the last stage (stage {stage}): no "
                      "block follows it.", stage=exp.stage)
    else:
        text += tr(L, " In Swin the later pairs run after patch merging, in stage {next}.",
                   next=exp.stage + 1)
    return text


def _titles(f: Flow) -> list[str]:
    """Subplot titles: each reach step with its count of patches (and how many it adds), the
    stage's own rollout, and the rollout on the image (or on the first traced stage)."""
    exp, H, W = f.exp, f.H, f.W
    b0, b1 = f.names
    L = f.L
    names = [tr(L, "after {b}", b=b0)]
    names += [tr(L, "after {b} (1 pair)", b=b1)]
    names += [tr(L, "{i} pairs, same pair repeated", i=i) for i in range(2, f.k + 1)]
    counts = f.counts
    titles = [tr(L, "{name}<br>{n} of {total} patches", name=nm, n=n_, total=H * W)
              + (f" (+{n_ - counts[i - 1]})" if i else "")
              for i, (nm, n_) in enumerate(zip(names, counts, strict=True))]
    n_blocks = len(exp.chain)
    if f.show_stage:
        titles.append(tr(L, "rollout back to the start of stage {stage}<br>(its {H}×{W} tokens)",
                         stage=exp.stage, H=H, W=W))
    p1 = f.p1
    titles.append(tr(L, "rollout to the image: stage 1's {p}×{p}-px patches<br>({n} blocks, "
                        "{weights}, mean over heads)", p=p1, n=n_blocks,
                     weights=_weights(exp, L)) if f.to_image else
                  tr(L, "rollout through the {n} traced blocks<br>(stage {stage} tokens)",
                     n=n_blocks, stage=f.map_stages[-1]))
    return titles


def _notes(f: Flow, template: str) -> tuple[dict, int]:
    """The footnote under the plots (what reach and rollout are, padding, the quiet second
    block, later pairs) and the bottom margin it needs, the same from patch to patch."""
    exp, r, c, t, k = f.exp, f.r, f.c, f.t, f.k
    H, W, M, s = f.H, f.W, exp.window_size, exp.shift_size
    b0, b1 = f.names
    L = f.L
    counts = f.counts
    lines = [tr(
        L, "Reach: the input patches that can influence token ({r}, {c}) of stage {stage}, from "
        "window membership and masks only (weights ignored); colour = the step at which a patch "
        "joins; grid: the {M}×{M} windows of {b0}.", r=r, c=c, stage=exp.stage, M=M, b0=b0),
    ]
    if (H, W) != padded_size(H, W, M):
        Hp, Wp = padded_size(H, W, M)
        lines.append(tr(L, "The {H}×{W} grid is padded to {Hp}×{Wp} inside each block: the zero "
                           "tokens carry nothing, so reach and rollout leave them out (weight a "
                           "query gives them leaves the picture).", H=H, W=W, Hp=Hp, Wp=Wp))
    # the sentence some patches get: the pair's second block adds nothing for them (always
    # with s = 0); its longest form, for the room under the plots
    if s == 0:
        quiet = longest = (
            tr(L, "The pair's second block adds nothing for this patch: with no shift (s = 0) "
                  "{b1} uses the same windows as {b0} (one window covers the whole grid, so no "
                  "mask).", b0=b0, b1=b1) if M >= min(H, W) else
            tr(L, "The pair's second block adds nothing for this patch: with no shift (s = 0) "
                  "{b1} uses the same windows as {b0}.", b0=b0, b1=b1))
    else:
        quiet = tr(L, "The pair's second block adds nothing for this patch: every key {b1} lets "
                      "it see (same region id) was already in its first window.", b1=b1)
        longest = tr(L, "The pair's second block adds nothing for this patch: every key {b1} "
                        "lets it see (same region id) was already in its first window; the keys "
                        "that wrapped around the edge are masked.", b1=b1)
        if counts[1] == counts[0] and _masked_window(exp, (r, c)):
            quiet = longest
    if counts[1] == counts[0]:
        lines.append(quiet)
    if k > 1:
        lines.append(_later_pairs_text(exp, k, L))
    lines.append(
        tr(L, "Rollout (Abnar & Zuidema): a row vector v starts at the query and goes back "
              "through every block from {b1} of stage {stage} to stage 1, block 0: v ← 0.5·vA + "
              "0.5·v (A = the block's head-mean attention in original positions, the shift "
              "undone; the residual as 0.5·I); across a patch merge a merged token's weight is "
              "spread equally over its 2×2 children.", b1=b1, stage=exp.stage)
        if f.to_image else
        tr(L, "Rollout (Abnar & Zuidema): a row vector v starts at the query and goes back "
              "through every block from {b1} of stage {stage} to block {b} of stage {first}: v "
              "← 0.5·vA + 0.5·v (A = the block's head-mean attention in original positions, the "
              "shift undone; the residual as 0.5·I); across a patch merge a merged token's "
              "weight is spread equally over its 2×2 children.", b1=b1, stage=exp.stage,
              b=exp.chain[0].block, first=exp.chain[0].stage))
    lines.append(tr(L, "The query's own cells (its residual weight) are off the colour scale; "
                       "weights below 1e-12 (only via masked keys) are left clear."))
    width = int((t.width - 80) / (0.56 * (t.font_size - 1)))
    text = "<br>".join(wrap_text(line, width) for line in lines)
    rows = text.count("<br>") + 1
    if counts[1] != counts[0]:  # room for the sentence above all the same: the panels stay put
        rows += wrap_text(longest, width).count("<br>") + 1  # from patch to patch (a click)
    elif quiet != longest:
        rows += wrap_text(longest, width).count("<br>") - wrap_text(quiet, width).count("<br>")
    return footnote(text, template, lines=rows)


def figure(exp, sel) -> go.Figure:
    """Reach after block 0, after the pair and after k pairs and the stage's own rollout map
    (tiles of one subplot, `tile_grid`), and the rollout back to the image (one wide panel
    below)."""
    t = get_template(sel.template)
    k = int(sel.k_pairs)
    if not 1 <= k <= MAX_PAIRS:
        raise ValueError(f"k_pairs must be in 1..{MAX_PAIRS}, got {sel.k_pairs}")
    H, W = exp.grid
    r, c = sel.query
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(f"query patch ({r}, {c}) is outside the {H}x{W} token grid")
    sets = reach_sets(H, W, exp.window_size, exp.shift_size, (r, c), k,
                      bool(getattr(exp.traces[1], "roll_first", False)))
    maps, map_stages = stage_maps(exp, (r, c))
    f = Flow(exp, t, k, r, c, sets, maps, map_stages, sel.lang)
    titles = _titles(f)
    tiles = tile_grid(f, titles[:-1])
    # the plots' heights in px: the tiles at the template's width, the picture as wide as the
    # plots, between them the tiles' tick labels and axis title and the picture's title
    from .._core.text import lines_px, rewrap_lines

    plot_w = plot_width(f)
    image_title = rewrap_lines(titles[-1], t.font_size, 0.95 * plot_w)
    grid_px = tiles.shape[0] * tiles.px
    H1, W1 = maps[-1].shape
    image_px = plot_w * H1 / W1
    between = 4.6 * t.font_size + lines_px(image_title, t.font_size) + 12
    plots = grid_px + between + image_px
    f = dataclasses.replace(f, grid_frac=grid_px / plots)
    layout = dict(
        xaxis=dict(domain=[0, 1], anchor="y"), yaxis=dict(domain=[1 - f.grid_frac, 1],
                                                          anchor="x"),
        xaxis2=dict(domain=[0, 1], anchor="y2"), yaxis2=dict(domain=[0, image_px / plots],
                                                             anchor="x2"),
        annotations=[dict(text=image_title, xref="x2 domain", yref="y2 domain", x=0.5, y=1,
                          xanchor="center", yanchor="bottom", yshift=4, showarrow=False,
                          font=dict(size=t.font_size))])
    data = overlays(f, tiles)
    reach_panels(f, data, tiles)
    if f.show_stage:
        stage_panel(f, data, tiles.origin[k + 1])
    data.append(data.pop(len(tiles.origin)))  # the window grid over the maps
    data.append(star_trace(f, tiles))
    tile_axes(f, layout, tiles)
    bar = dict(title=dict(text=tr(f.L, "rollout<br>weight"), side="top"), thickness=14,
               len=0.9 * image_px / plots, y=0, yanchor="bottom", x=1.01)
    image_panel(f, data, layout, ("x2", "y2"), bar)
    note, bottom = _notes(f, sel.template)
    layout["annotations"].append(note)
    style_layout(layout, sel.template, height=int(plots), title=tr(
        f.L, "Information flow into token ({r}, {c}), {where}: reach and attention rollout",
        r=r, c=c, where=where(exp, f.L)))
    layout["margin"].update(l=MARGIN_L, b=bottom, r=MARGIN_R)
    top_title(layout, sel.template, below=0, gap=12)  # the top margin for the title ...
    layout["height"] = int(plots + layout["margin"]["t"] + bottom)
    top_title(layout, sel.template, below=0, gap=12)  # ... and the title placed in it
    layout["showlegend"] = False
    if f.cols == 1:  # a phone's column of tiles keeps its shape (`_core.narrow.restack`)
        layout["meta"] = {**layout.get("meta", {}), "tall_panels": ["xaxis"]}
    return fast_figure(data, layout)
