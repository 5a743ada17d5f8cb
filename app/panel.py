"""What the page says about a run and its settings: the badge (stage, grid, windows, weights,
timing, prediction), the budget line, the query caption and the presets of the settings panel;
and the page's introduction and style sheet."""

from __future__ import annotations

from swinviz import SettingsError
from swinviz.budget import human
from swinviz.settings import parse_stage_pair, removed_text, whole

from .budget import check_budget, request_limit_mb
from .picture import resolved_query
from .session import EXPECTED, View, parse_block, sentence
from .settings import (
    DEFAULT_EMBED_DIM,
    DEFAULT_HEADS,
    DEFAULT_MODEL,
    DEFAULT_SHIFT,
    DEFAULT_SIZE,
    DEFAULT_WINDOW,
    MODELS,
    model_defaults,
    parse_model,
    parse_settings,
)
from .words import every_language_json, say

# Presets of the page's model settings (the accordion): name -> label and values (weights
# None: the model's default weights). The models' own presets carry their own settings
# (`model_defaults`).
PRESETS: dict[str, dict] = {
    "swin-t": dict(label="Swin-T (224 px, window 7, shift 3)", model="swin-t",
                   **model_defaults("swin-t"), weights=None, stage="1", pair="0"),
    "swinv2-t": dict(label="Swin V2-T (256 px, window 8, shift 4)", model="swinv2-t",
                     **model_defaults("swinv2-t"), weights=None, stage="1", pair="0"),
    "6x6": dict(label="the 6x6 example (24 px, window 3, shift 1)", model="swin-t",
                img_size=24, window_size=3, shift_size=1, weights="random",
                embed_dim=DEFAULT_EMBED_DIM, num_heads=DEFAULT_HEADS, stage="1", pair="0"),
}

INTRO = """\
# swinviz · the shifted windows of the Swin Transformer
Upload a photo (or click an example). It is cut into **4x4-pixel patches (tokens)** and run
through a whole Swin-T; the page shows one **pair of blocks** of one **stage** (stage 1, pair 0
first): the pair's **first block** lets each token attend only to the tokens of its own regular
window (W-MSA); its **second block** does the same with the windows **shifted** by a few tokens
(SW-MSA), so information crosses the window borders. Later stages work on coarser tokens (8, 16,
32 px). Every picture is drawn from the model's own tensors. **Click the image on the right** to
pick a query token; the tabs below follow the data's path through the two blocks. **New to
Swin?** The **Lesson** tab walks through the idea one step at a time (English or 中文).
"""

CSS = """
#badge { font-size: 0.95em; }
#weights-notice { border-left: 4px solid #E69F00; background: #fff8e6; padding: 6px 12px;
                  border-radius: 4px; }
#run-mark { display: none !important; }  /* app.instant.RAN: for the page's scripts */
#status { border-left: 4px solid #D55E00; background: #fff4ec; padding: 6px 12px;
          border-radius: 4px; }
/* the dark theme (?__theme=dark): dark boxes under its light text */
.dark #weights-notice { background: #3a2e10; }
.dark #status { background: #3d2414; }
.explain { font-size: 0.95em; line-height: 1.45; }
#query-image img { image-rendering: pixelated; cursor: crosshair; }
/* the label and the fullscreen button sit in a strip above the clickable image, not over its
   top rows (where they took the clicks meant for those patches) */
#query-image .image-container { padding-top: 30px; }
#query-image label.float { pointer-events: none; }
"""



def preset_of(img_size=DEFAULT_SIZE, window_size=DEFAULT_WINDOW, shift_size=DEFAULT_SHIFT,
              weights=None, embed_dim=DEFAULT_EMBED_DIM, num_heads=DEFAULT_HEADS,
              model=DEFAULT_MODEL) -> str | None:
    """The name of the preset these model settings are (the Presets box shows it), or None:
    custom settings. A preset's weights None are its model's default weights. The stage and
    pair are what the page shows, not model settings: they are not compared."""
    from .state import default_weights_source

    try:
        name = parse_model(model)
        mine = (name, whole("input size", img_size), whole("window size", window_size),
                whole("shift", shift_size), whole("embedding width", embed_dim),
                whole("number of heads", num_heads))
    except SettingsError:
        return None
    for preset, p in PRESETS.items():
        theirs = (p["model"], int(p["img_size"]), p["window_size"], p["shift_size"],
                  p["embed_dim"], p["num_heads"])
        if mine == theirs and weights == (p["weights"]
                                          or default_weights_source(MODELS[p["model"]])):
            return preset
    return None


def prediction_text(exp, lang: str = "en") -> str:
    """The top-5 classes as one markdown line; says when they mean nothing (random weights)."""
    top5 = getattr(exp, "top5", None)
    if not top5:
        return ""
    classes = " · ".join(f"{name} {100 * p:.1f}%" for _, name, p in top5)
    line = say(lang, "**Prediction (top 5):** {classes}", classes=classes)
    if not getattr(exp, "pretrained", False):
        line += say(lang, " *(meaningless with random weights)*")
    return line


def weights_text(weights: str, lang: str = "en") -> str:
    """The weights a model runs (`SwinTransformer.weights`: "random (seed 0)", the Hub's
    name, a file) in the page's language: random weights and their seed said, names as
    they are."""
    import re

    seeded = re.fullmatch(r"random \(seed (-?\d+)\)", str(weights))
    return say(lang, "random (seed {seed})", seed=seeded[1]) if seeded else str(weights)


PRE_RUN = "Upload an image (or click an example) to run the model."  # the badge before a run


def badge(view: View | None, lang: str = "en") -> str:
    """Stage and pair, device, weights in use, token grid, windows, shift (and fact 2), heads,
    the model run's time, the prediction, in the page's language (app.words)."""
    if view is None:
        return say(lang, PRE_RUN)
    exp, st = view.exp, view.settings
    H, W = exp.grid
    M, s = exp.window_size, exp.shift_size
    nW = exp.num_windows
    b0, b1 = exp.blocks
    windows = ("**Windows:** 1 window of {M}x{M}, no shift" if nW == 1 and s == 0 else
               "**Windows:** {nW} windows of {M}x{M}, no shift" if s == 0 else
               "**Windows:** {nW} windows of {M}x{M}, shift {s}")
    parts = [
        say(lang, "**Stage {stage}, pair {pair}** (blocks {b0} and {b1})", stage=exp.stage,
            pair=exp.pair, b0=b0, b1=b1),
        say(lang, "**Tokens:** {H}x{W} ({p}x{p} px each, {size}x{size} px input)", H=H, W=W,
            p=exp.patch_size, size=st.img_size),
        say(lang, windows, nW=nW, M=M, s=s),
        say(lang, "**Heads:** {nH} x {d} channels", nH=exp.num_heads,
            d=exp.embed_dim // exp.num_heads),
        say(lang, "**Model:** {model}", model=st.label),
        say(lang, "**Weights:** {weights}", weights=weights_text(exp.weights, lang)),
        say(lang, "**Device:** {device}", device=exp.device),
        say(lang, "**Model run:** {ms} ms", ms=f"{view.run_ms:.0f}"),
    ]
    if exp.without:
        parts.insert(1, say(lang, "**What if:** without {parts} in every block",
                            parts=removed_text(exp.without)))
    line = " · ".join(parts)
    if nW == 1 and s == 0 and "shift" not in exp.without:
        Mr, _ = st.requested
        why = (say(lang, "The window you asked for ({M}x{M}) covers the whole {H}x{W} token "
                         "grid", M=Mr, H=H, W=W)
               if exp.stage == 1 and st.capped else
               say(lang, "One {M}x{M} window covers the whole {H}x{W} token grid of stage "
                         "{stage}", M=M, H=H, W=W, stage=exp.stage))
        line += "\n\n*" + say(
            lang, "{why}, so both blocks use that one window and neither shifts "
                  "(docs/concepts.md, fact 2): nothing needs shifting when one window already "
                  "sees everything, as at stage 4 of Swin-T at 224 px.", why=why) + "*"
    pred = prediction_text(exp, lang)
    if pred:
        line += "\n\n" + pred
    return line


def budget_line(img_size=None, window_size=None, shift_size=None, weights=None,
                checkpoint=None, seed=0, embed_dim=None, num_heads=None, stage=1, pair=0,
                without=None, model=None, lang: str = "en") -> str:
    """One line for the settings panel, in the page's language: what a run with these settings
    needs against the per-request limit, or why it will not run (the same sentence the run
    would give, as the library says it). The parts a run leaves out (`without`) change no
    memory: the same tensors, other values."""
    try:
        settings = parse_settings(img_size, window_size, shift_size, weights, checkpoint, seed,
                                  embed_dim, num_heads, model)
        cfg = settings.config()
        s, p = parse_stage_pair(cfg, stage, pair)
        est = check_budget(cfg, s, p)
    except EXPECTED as exc:
        return say(lang, "**These settings will not run:** {why}", why=sentence(str(exc)))
    return say(lang, "This run needs about {need} of the {limit} MB each request may use; its "
                     "figures send about {send}.", need=human(est.total),
               limit=f"{request_limit_mb():g}", send=human(est.payload))


def query_caption(view: View | None, block=1, lang: str = "en") -> str:
    """Where the query is (app/access.py reads its row, column and grid in either language)."""
    if view is None:
        return ""
    r, c = resolved_query(view)
    try:
        b = parse_block(block)
    except SettingsError:
        b = 1
    exp = view.exp
    number = exp.blocks[b]
    name = say(lang, "block {n} (regular windows)" if b == 0
               else "block {n} (shifted windows)" if exp.shift_size
               else "block {n} (one window, no shift)", n=number)
    return say(lang, "**Query patch:** row {r}, column {c} of stage {stage}'s {H}x{W} tokens "
                     "({p}x{p} px each; yellow square in the ring). The outlined, bright area "
                     "is its window in {name}: the only patches it can attend to in that "
                     "block. Click anywhere on the image to pick another patch; Shift+click "
                     "adds a patch to a query set.",
               r=r, c=c, stage=exp.stage, H=exp.grid[0], W=exp.grid[1], p=exp.patch_size,
               name=name) + _query_set(view, lang)


def _query_set(view: View, lang: str) -> str:
    """The caption's sentence on the patches added to the query (none: "")."""
    if not view.added:
        return ""
    shown = ", ".join(f"({r}, {c})" for r, c in view.added[:8])
    return " " + say(lang, "**Query set:** the query and {patches}{more} (small yellow "
                           "squares): the attention figure sums their attention. Shift+click "
                           "one again to take it out; a plain click starts a new set.",
                     patches=shown, more=f" … (+{len(view.added) - 8})"
                     if len(view.added) > 8 else "")


def pre_run_badge_js() -> str:
    """The page's language switch, on the page's side, for the badge before a run: the badge
    in the new language where it still says PRE_RUN (in any language), else as it is (a run's
    badge: `app.events.on_language` says it again from the server). Said on the page at the
    switch, not by the server: a server's answer written before the run had answered could
    arrive after it and put PRE_RUN over the run's badge (a link with lang=zh did, 1 in 8
    under load)."""
    return ("(lang, shown) => { const said = SAID; return Object.values(said).includes("
            "(shown || '').trim()) ? (said[lang] || said.en) : shown; }"
            ).replace("SAID", every_language_json(PRE_RUN))
