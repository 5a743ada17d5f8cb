"""How much memory one exploration needs and how large its figures are, from its settings alone.

    est = estimate(cfg, stage=3, pair=2)      # pure arithmetic, no tensor is made
    est.total, est.payload, est.held           # bytes
    check_budget(cfg, stage, pair)             # BudgetError (a SettingsError) when over the limit

Why: a window at or above the token grid becomes one window over the whole grid (docs/concepts.md,
fact 2), and the traced attention grows with the square of the window's tokens N = M·M: a
224 px input with window 1000 is one window of 3136 tokens, whose scores and probabilities are
3·3136²·4 bytes = 118 MB each, and whose attention figure holds 30 million numbers. Every caller
that runs the model for someone else (the app, a script serving requests) checks the settings
here first and refuses, with a sentence naming the limit and a setting that fits, what would
not fit.

The terms (B = 1 image; per stage: L = H·W tokens, C channels, nH heads, N = M² tokens per window,
nW windows of the padded grid; 4 bytes per float32 number):

- model: every parameter (swinviz.cost's counts), the relative_position_index buffer of each
  block (N² int64), the bias + mask each block caches for its fast path (nW·nH·N² for a shifted
  block, nH·N² for a regular one); oneDNN's linears read the weights as they are (nothing is
  packed: `swinviz.backends.onednn`).
- run (the peak of `SwinTransformer.explore` beyond the model): the traced pair keeps scores and
  probabilities of both blocks, S = nW·nH·N²·4 bytes each (4·S), while the second block also
  holds its logits and q, k, v, the padded, rolled and partitioned copies of its input (~12·L·C·4)
  and the MLP hidden layer (4·L·C·4, twice with GELU); every block before the pair runs traced
  too (for the rollout) while the previous block's trace is still referenced; the rollout chain
  keeps each block's head-averaged attention (nW·N²·4); the blocks after the pair run on the fast
  path (attention nW·nH·N²·4, twice through scaled_dot_product_attention); the image (PIL, 3 bytes
  a pixel) and its normalised pixels (12 bytes a pixel).
- payload: the figures of one response as JSON (Plotly sends arrays as base64: ~5.3 bytes a
  float32, ~2.7 an int16): the attention matrices of every head of a window (nH·N² numbers and
  4 int16 of hover data each: the larger of a panel a head and the tiles' 7 uint8 a cell) and
  the gathered bias of every head (nH·N²), the mask and relative position tables (N² each),
  the maps over the stage's tokens (L) and over stage 1's patches, the image drawn in several
  figures (PNG, base64: at most 4 bytes a pixel a copy), the attention figure's click pack for
  the page (`click_pack_bytes`), plus a fixed part (axes, titles, text).
- figures: building and serialising them: FIGURE_FACTOR times the payload (numpy arrays, base64
  copies, the JSON text, Gradio's copy of the response), and the masks figure's check, which
  recomputes block 1's probabilities over every window in float64 (~12·S).
- held: what a session keeps between clicks (the app drops the activations, see
  `app.state.slim_exploration`): the pair's scores and probabilities (4·S), bias, mask, region
  ids, the rollout chain, the logits, the image, and what the figures cache on the traces (the
  head-mean attention in float64, 2·nW·N²·4 bytes a block, and window geometry).

The coefficients were measured (tests/test_budget.py checks the estimate against the real
tensors, the real JSON and the peak RSS of a subprocess); every term is rounded up.

The limits are the caller's: `check_budget` takes them (and the names of the settings that set
them, for the sentence). The app's serving policy (its limits, read once from the environment)
is `app.limits` and `app.budget`; the command line's is its own default (CLI_REQUEST_MB, through
`swinviz.environment.request_mb`). Every constant of the code modelled here is imported from
that code (`swinviz.backends.switches`), not restated; tests/test_budget.py fails if one drifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .backends import switches
from .config import SettingsError, SwinConfig, check_stage_pair, get_config, short
from .cost import block_params, patch_embed_params
from .environment import REQUEST_MB

# The command line runs one exploration on the user's own machine, not two at once for
# visitors beside a model cache: its default limit is larger than a server's
# (its environment variable, swinviz.environment.REQUEST_MB, still wins).
CLI_REQUEST_MB = 4096.0
DEFAULT_RESPONSE_MB = 64.0  # figures one response may send to a browser
MB = 1024 * 1024

F32 = 4  # bytes of one float32 number
I64 = 8
# payload coefficients, bytes per number drawn (measured on noise images, rounded up)
PAYLOAD_FIXED = 400_000  # axes, titles, colour scales, hover templates, text of every figure
PAYLOAD_PER_PIXEL = 32  # the image in the windows, shift, attention and flow figures (PNG, base64)
PAYLOAD_PER_TOKEN = 90  # maps over the stage's tokens (windows, regions, flow, attention)
PAYLOAD_PER_PATCH = 24  # maps over stage 1's patches (rollout down to the image)
PAYLOAD_PER_HEAD_PAIR = 40  # per head and (query, key): attention matrix + hover, gathered bias
PAYLOAD_PER_PAIR = 48  # per (query, key): the mask (5 windows), relative position tables
PAYLOAD_PER_WINDOW = 500  # window numbers and outlines
FIGURE_FACTOR = 6  # memory to build and serialise the figures, per byte of payload
FIGURE_CHECK_FACTOR = 12  # the masks figure's check: float64 copies of block 1's scores, per S
RUN_FIXED = 64 * MB  # code pages, thread stacks and temporaries the first run maps
# The attention figure's click pack (app/instant.py), the numbers the page redraws the figure from
# on a click, is not sent when its arrays would pass this size before compression.
PACK_MAX_BYTES = 8 * MB


def click_pack_bytes(nW: int, nH: int, N: int) -> int:
    """Bytes the attention figure's click pack adds to a response for a pair of nW windows of
    N tokens and nH heads: its arrays (the selected block's probabilities of every head as
    float16 or uint16, the other block's, the printed row and the scores as 2 bytes a number,
    per-row scales, window orders and region ids as 4) in base64 (4/3), with zlib's output
    taken as no smaller than its input; 0 when the arrays pass PACK_MAX_BYTES (no pack is
    sent: the page's clicks then go to the server)."""
    big = nW * nH * N * N * 2 + 3 * nW * N * N * 2
    if big > PACK_MAX_BYTES:
        return 0
    rows = nW * nH * N * 4 + 6 * nW * N * 4 + 4 * nW * N * 4 + N * N * 4 + N * 4
    return math.ceil((big + rows) * 4 / 3) + 4096
MODEL_SLACK = 0.25  # building a model: initialisation temporaries, allocator slack


class BudgetError(SettingsError):
    """Settings whose run would need more memory (or send more) than one request may."""


@dataclass(frozen=True)
class Estimate:
    """Bytes one exploration needs, from its settings (see the module docstring for the terms).

    model: the model's parameters, buffers and caches; run: the peak of `explore` beyond the
    model; figures: building and serialising one response's figures; payload: the response's
    figures as JSON; held: what a session keeps between clicks (a slimmed exploration and the
    figures' caches on it); exploration: the tensors and image of the Exploration `explore`
    returns (before slimming). total = model + run + figures.
    """

    config: SwinConfig
    stage: int
    pair: int
    model: int
    run: int
    figures: int
    payload: int
    held: int
    exploration: int
    terms: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def total(self) -> int:
        return self.model + self.run + self.figures

    @property
    def request(self) -> int:
        """What one request needs beyond a model already loaded: run + figures."""
        return self.run + self.figures


@dataclass(frozen=True)
class _Stage:
    L: int  # tokens (H·W)
    Lp: int  # tokens of the padded grid
    C: int
    nH: int
    N: int
    nW: int
    shift: int
    depth: int
    hidden: int

    @property
    def S(self) -> int:
        """Bytes of one (nW, nH, N, N) float32 tensor: a traced block's scores or probabilities."""
        return self.nW * self.nH * self.N * self.N * F32

    @property
    def A(self) -> int:
        """Bytes of one (nW, N, N) float32 tensor: head-averaged attention, the mask."""
        return self.nW * self.N * self.N * F32

    @property
    def X(self) -> int:
        return self.Lp * self.C * F32


def _stages(cfg: SwinConfig) -> list[_Stage]:
    out = []
    for geo in cfg.stages():
        H, W = geo.grid
        M = geo.window_size
        Hp, Wp = -(-H // M) * M, -(-W // M) * M
        out.append(_Stage(L=H * W, Lp=Hp * Wp, C=geo.dim, nH=geo.num_heads, N=M * M,
                          nW=geo.num_windows, shift=geo.shift_size, depth=geo.depth,
                          hidden=int(geo.dim * cfg.mlp_ratio)))
    return out


def model_bytes(cfg: SwinConfig) -> int:
    """The model in memory: parameters, index buffers and the caches its fast path fills."""
    cfg = get_config(cfg)
    params = sum(patch_embed_params(cfg.embed_dim, cfg.patch_size, cfg.in_chans).values())
    extra = 0
    prev = cfg.embed_dim
    for i, st in enumerate(_stages(cfg)):
        geo = cfg.stage(i + 1)
        if i:
            params += 2 * 4 * prev + 4 * prev * st.C  # downsample: norm, reduction (no bias)
        per_block = sum(block_params(st.C, st.nH, geo.window_size, cfg.mlp_ratio,
                                     cfg.qkv_bias).values())
        params += st.depth * per_block
        extra += st.depth * st.N * st.N * I64  # relative_position_index
        shifted = st.depth // 2 if st.shift else 0
        extra += shifted * st.S + (st.depth - shifted) * st.nH * st.N * st.N * F32
        prev = st.C
    params += 2 * cfg.num_features + cfg.num_features * cfg.num_classes + cfg.num_classes
    return int(params * F32 * (1 + MODEL_SLACK)) + extra


def _traced_block(st: _Stage) -> int:
    """A block run with return_trace=True, while it runs: scores and logits/probabilities,
    the gathered bias, q, k, v and the copies of its input, the MLP."""
    return (2 * st.S + st.nH * st.N * st.N * F32 + st.A + 12 * st.X
            + 2 * st.L * st.hidden * F32 + 4 * st.L * st.C * F32)


def _kept_trace(st: _Stage) -> int:
    """What a finished traced block still holds: scores, probabilities, bias, input, output."""
    return 2 * st.S + st.nH * st.N * st.N * F32 + 2 * st.L * st.C * F32


def _fast_block(st: _Stage) -> int:
    """A block on the fast path: attention (twice through SDPA for windows of more than
    `switches.CPU_BMM_MAX_TOKENS` tokens, once through batched GEMMs for smaller ones),
    q, k, v and the copies of its input, the MLP."""
    attn = st.nW * st.nH * st.N * st.N * F32 * (1 if st.N <= switches.CPU_BMM_MAX_TOKENS else 2)
    return attn + 10 * st.X + 2 * st.L * st.hidden * F32


def _graph_block(st: _Stage) -> int:
    """A block on the fast path while autograd records (the evidence pass,
    `swinviz.evidence.gather`): what it saves for the backward pass, its probabilities and
    scores, the inputs of its norms and linears, the MLP's hidden activations."""
    return st.S + 6 * st.X + st.L * st.hidden * F32


def _evidence(sts: list[_Stage]) -> int:
    """The evidence pass: the graph from stage 1's last block to the head, and the backward
    pass through the largest block (its gradients beside what it saved)."""
    graph = _graph_block(sts[0]) + sum(st.depth * _graph_block(st) for st in sts[1:])
    return graph + max(_fast_block(st) for st in sts)


def estimate(cfg: SwinConfig | str, stage: int = 1, pair: int = 0, *,
             evidence: bool = False) -> Estimate:
    """Memory and payload of `model.explore(image, stage=stage, pair=pair)` and its figures;
    evidence=True: of `explore(..., evidence=True)`, whose backward pass counts.

    Pure arithmetic on the config; SettingsError for a stage or pair the model lacks.
    """
    cfg = get_config(cfg)
    s, p = check_stage_pair(cfg, stage, pair)
    sts = _stages(cfg)
    cur = sts[s - 1]
    img = cfg.img_size * cfg.img_size
    image = img * (3 + 3 * F32) + 2 * img * 3  # PIL image, pixels, the resize's copies

    # the rollout chain: one head-averaged attention per block up to the pair's second block
    chain_blocks = [(st, b) for i, st in enumerate(sts[:s])
                    for b in range(st.depth if i < s - 1 else 2 * p + 2)]
    chain = sum(st.A for st, _ in chain_blocks)
    # before the pair: each block traced while the previous block's trace is still referenced
    before = [st for st, _ in chain_blocks[:-2]]
    peak_before, prev = 0, None
    for st in before:
        peak_before = max(peak_before, _traced_block(st) + (_kept_trace(prev) if prev else 0))
        prev = st
    # the pair: the previous trace (or block 2p's) still referenced while a pair block runs
    pair_peak = max(_kept_trace(prev) if prev else 0, _kept_trace(cur)) + _traced_block(cur)
    traces = 2 * _kept_trace(cur)
    # after the pair (prediction, and the pair once on the fast path to time it)
    after = [cur] + [st for i, st in enumerate(sts) if i >= s - 1]
    fast_peak = traces + max(_fast_block(st) for st in after)
    # the evidence pass, after the pair, while its traces are kept
    evidence = traces + _evidence(sts) if evidence else 0
    run = RUN_FIXED + image + chain + max(peak_before, pair_peak, fast_peak, evidence)

    L1 = sts[0].L
    payload = (PAYLOAD_FIXED + PAYLOAD_PER_PIXEL * img + PAYLOAD_PER_TOKEN * cur.Lp
               + PAYLOAD_PER_PATCH * L1 + PAYLOAD_PER_WINDOW * cur.nW
               + cur.N * cur.N * (PAYLOAD_PER_HEAD_PAIR * cur.nH + PAYLOAD_PER_PAIR)
               + click_pack_bytes(cur.nW, cur.nH, cur.N))
    # the figures cache on each trace its head-mean attention (float64) and window geometry,
    # and encoded copies of the image (base64 PNG: at most 4 bytes a pixel)
    figure_caches = 2 * (2 * cur.A + 6 * cur.Lp * I64)
    # the class evidence's maps: one per stage and three at the explored block, float32
    evidence_maps = (sum(st.L for st in sts) + 3 * cur.L) * F32
    held = (2 * (2 * cur.S + cur.nH * cur.N * cur.N * F32 + cur.Lp * I64) + cur.A + chain
            + figure_caches + evidence_maps + img * (3 + 4) + cfg.num_classes * F32
            + 256 * 1024)
    # explore's Exploration: all of that but the figures' caches, plus the pixels, the pair's
    # input and output, and each traced block's input and output
    exploration = (held - figure_caches + img * 3 * F32
                   + 6 * cur.L * cur.C * F32)
    model = model_bytes(cfg)
    figures = FIGURE_FACTOR * payload + FIGURE_CHECK_FACTOR * cur.S
    terms = {"model": model, "image": image, "chain": chain, "before_pair": peak_before,
             "pair": pair_peak, "after_pair": fast_peak, "evidence": evidence,
             "scores_or_probs": cur.S,
             "figures": figures}
    return Estimate(cfg, s, p, model=model, run=run, figures=figures, payload=payload,
                    held=held, exploration=exploration, terms=terms)


def human(nbytes: float) -> str:
    """Bytes for a sentence: "3.1 GB", "480 MB", "12 MB"; "3.2e+13 GB" past a million GB."""
    if nbytes >= 1e6 * 1024 * MB:
        return f"{short(int(nbytes) // (1024 * MB))} GB"
    mb = nbytes / MB
    if mb >= 1000:
        return f"{mb / 1024:.1f} GB"
    return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.1f} MB"


# settings tried, in order, for "a setting that fits"
SUGGEST_WINDOWS = (14, 12, 8, 7, 4)
SUGGEST_SIZES = (448, 384, 336, 224, 112, 56)
SUGGEST_WIDTHS = (384, 192, 96)


def _variants(cfg: SwinConfig):
    """(phrase, config) for single changes that make a run smaller."""
    grid = cfg.img_size // cfg.patch_size
    M_eff = min(cfg.window_size, grid)
    for M in SUGGEST_WINDOWS:
        if M < M_eff and grid % M == 0:
            try:
                yield f"a window of {M}", cfg.with_settings(window_size=M, shift_size=M // 2)
            except SettingsError:
                pass
    for size in SUGGEST_SIZES:
        if size < cfg.img_size and (size // cfg.patch_size) % min(M_eff, size // cfg.patch_size) \
                == 0:
            try:
                yield f"an input size of {size}", cfg.with_settings(img_size=size)
            except SettingsError:
                pass
    heads = cfg.num_heads[0]
    for C in SUGGEST_WIDTHS:
        if C < cfg.embed_dim:
            h = max(1, min(heads, C // 32))
            while C % h:
                h -= 1
            try:
                yield (f"a width of {C} with {h} heads",
                       cfg.with_settings(embed_dim=C, num_heads=h))
            except SettingsError:
                pass
    for h in (3, 1):
        if h < heads and cfg.embed_dim % h == 0:
            try:
                yield f"a number of heads of {h}", cfg.with_settings(num_heads=h)
            except SettingsError:
                pass


# what each suggestion changes (the first words of its phrase), and how a sentence names it
CHANGES = {"window": "a window", "size": "an input size", "width": "a width",
           "heads": "a number"}
_CHANGE_WORDS = {"size": "input size", "window": "window", "width": "width",
                 "heads": "number of heads"}


def fits(est: Estimate, limit_mb: float, response_mb: float) -> bool:
    return est.total <= limit_mb * MB and est.payload <= response_mb * MB


def suggestions(cfg: SwinConfig, stage: int = 1, pair: int = 0, *, limit_mb: float,
                response_mb: float = DEFAULT_RESPONSE_MB, most: int = 2,
                vary: tuple[str, ...] = tuple(CHANGES), evidence: bool = False) -> list[str]:
    """Up to `most` phrases ("a window of 14", "an input size of 224") naming one change each
    that brings the run within the limits (the largest that fits of each kind); when no single
    change is enough, one phrase combining them ("a width of 96 with 3 heads and a window of 7").
    vary: the settings the caller can change (keys of CHANGES; the command line has no width).
    """
    allowed = tuple(CHANGES[k] for k in vary)

    def ok(alt: SwinConfig) -> bool:
        try:
            return fits(estimate(alt, stage, pair, evidence=evidence), limit_mb, response_mb)
        except SettingsError:  # the stage or pair does not exist at that size
            return False

    cfg = get_config(cfg)
    found: list[str] = []
    kinds: set[str] = set()
    for phrase, alt in _variants(cfg):
        kind = phrase.split(" of ")[0]
        if kind in allowed and kind not in kinds and ok(alt):
            found.append(phrase)
            kinds.add(kind)
            if len(found) >= most:
                break
    if found:
        return found
    # one change at a time is not enough: Swin-T's own settings, one after the other
    steps, cur = [], cfg
    for phrase, changes in (("a width of 96 with 3 heads", dict(embed_dim=96, num_heads=3)),
                            ("a window of 7", dict(window_size=7, shift_size=3)),
                            ("an input size of 224", dict(img_size=224))):
        field_ = next(iter(changes))
        if getattr(cur, field_) <= changes[field_] or not phrase.startswith(allowed):
            continue
        try:
            cur = cur.with_settings(**changes)
        except SettingsError:
            continue
        steps.append(phrase)
        if ok(cur):
            return [" and ".join(steps)]
    return []


def check_budget(cfg: SwinConfig | str, stage: int = 1, pair: int = 0, *, limit_mb: float,
                 response_mb: float = DEFAULT_RESPONSE_MB, request_name: str = REQUEST_MB,
                 response_name: str | None = None, include_model: bool = True,
                 vary: tuple[str, ...] = tuple(CHANGES), evidence: bool = False) -> Estimate:
    """The estimate when the run fits the per-request limits; else BudgetError whose message
    names the need, the limit (and the variable that sets it) and settings that fit.

    include_model=False leaves the model out (for a caller whose model is already loaded and
    counted elsewhere). vary: the settings the suggestions may change (see `suggestions`).
    evidence: the run computes the class evidence too (its backward pass counts).
    """
    cfg = get_config(cfg)
    est = estimate(cfg, stage, pair, evidence=evidence)
    limit_mb, response_mb = float(limit_mb), float(response_mb)
    need = est.total if include_model else est.request
    problems = []
    if need > limit_mb * MB:
        problems.append(f"this run needs about {human(need)}, over the {limit_mb:g} MB "
                        f"per-request limit ({request_name})")
    if est.payload > response_mb * MB:
        problems.append(f"its figures would send about {human(est.payload)} to the browser, over "
                        f"the {response_mb:g} MB per-response limit"
                        + (f" ({response_name})" if response_name else ""))
    if not problems:
        return est
    alts = suggestions(cfg, est.stage, est.pair, limit_mb=limit_mb, response_mb=response_mb,
                       vary=vary, evidence=evidence)
    if alts:
        tail = f"; {' or '.join(alts)} fits"
        if len(alts) == 1 and " and " in alts[0]:
            tail = f"; {alts[0]} fit"
    else:
        words = [_CHANGE_WORDS[k] for k in _CHANGE_WORDS if k in vary]
        tail = ("; choose a smaller " + ", ".join(words[:-1]) + " or " * (len(words) > 1)
                + words[-1])
    raise BudgetError(" and ".join(problems) + tail)


__all__ = ["BudgetError", "Estimate", "check_budget", "estimate", "human", "model_bytes",
           "suggestions"]
