"""Settings as a person types them, checked once: whole numbers, choices, text, the stage and
pair, the query patch, the block, the head, the template, and `Settings`, the one checked object
they make together (used by the command line and the app alike). Every "got ..." echoes the
value through `swinviz.config.short`, and every refusal is a SettingsError whose sentence names
the field and what it takes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .config import SettingsError, SwinConfig, check_stage_pair, short, whole

PARTS = ("shift", "mask", "bias")  # what a counterfactual model may leave out, in this order
PART_NAMES = {"shift": "the shift", "mask": "the mask", "bias": "the relative position bias"}


def removed_text(parts) -> str:
    """("mask", "bias") -> "the mask and the relative position bias" (in PARTS order)."""
    names = [PART_NAMES[p] for p in PARTS if p in parts]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def parse_parts(parts) -> tuple[str, ...]:
    """The parts to leave out, in PARTS order, from names ("mask", "bias"), one text of names
    joined by commas ("mask,bias"), a list of them, or None / "" (none). Anything else is a
    SettingsError (a ValueError) naming the three."""
    if parts is None:
        return ()
    if isinstance(parts, str):
        parts = parts.split(",")
    if not isinstance(parts, Iterable):
        raise SettingsError(f"without takes parts from {', '.join(PARTS)}, got {short(parts)}",
                            "without")
    names = []
    for part in parts:
        name = part.strip().lower() if isinstance(part, str) else part
        if name == "":
            continue
        if name not in PARTS:
            raise SettingsError(f"unknown part {short(part)} to leave out; the parts are "
                                f"{', '.join(repr(p) for p in PARTS)} (any of them)", "without")
        names.append(name)
    return tuple(p for p in PARTS if p in names)


def text_choice(name: str, value, choices, default: str, aliases: dict | None = None) -> str:
    """One of `choices` from a widget or API value (None or "" -> default); anything that is
    not text, or not one of them, is a SettingsError naming the choices."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str):
        raise SettingsError(f"{name} must be one of {', '.join(choices)} (as text), "
                            f"got {short(value)}")
    key = value.strip().lower()
    key = (aliases or {}).get(key, key)
    if key not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {short(value)}")
    return key


def optional_text(name: str, value) -> str | None:
    """Text or nothing (None, ""); anything else is a SettingsError."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{name} must be text, got {short(value)}")
    return value.strip() or None


def parse_stage_pair(cfg: SwinConfig, stage, pair) -> tuple[int, int]:
    """(stage, pair) inside the model (stage 1-4, pair 0..pairs-1); SettingsError naming the
    range otherwise. None or "" mean stage 1 / pair 0."""
    stage = 1 if stage is None or (isinstance(stage, str) and not stage.strip()) else stage
    pair = 0 if pair is None or (isinstance(pair, str) and not pair.strip()) else pair
    for name, value in (("stage", stage), ("pair", pair)):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise SettingsError(f"{name} must be a whole number, got {short(value)}")
    return check_stage_pair(cfg, stage, pair)


def parse_query(query, grid: tuple[int, int]) -> tuple[int, int] | None:
    """The query patch as (row, col) on the explored stage's token grid, from "r,c", "(r, c)",
    [r, c] or None / "" (the figures' default patch); SettingsError otherwise."""
    if query is None or (isinstance(query, str) and not query.strip()):
        return None
    H, W = grid
    if isinstance(query, str):
        parts = query.strip().strip("()[]").replace(";", ",").split(",")
    elif isinstance(query, (list, tuple)):
        parts = list(query)
    else:
        parts = None
    if parts is None or len(parts) != 2:
        raise SettingsError(f"query must be a token as \"row,col\" (e.g. \"{H // 2},{W // 2}\"), "
                            f"got {short(query)}")
    r = whole("query row", parts[0])
    c = whole("query column", parts[1])
    if not (0 <= r < H and 0 <= c < W):
        raise SettingsError(f"query ({short(r)}, {short(c)}) is outside the {H}x{W} token grid "
                            f"of this stage "
                            f"(rows 0 to {H - 1}, columns 0 to {W - 1})")
    return r, c


MAX_QUERY_SET = 64  # patches in a query set (the query and those added to it, shift-click)


def parse_query_set(query, grid: tuple[int, int]) -> tuple[tuple[int, int] | None,
                                                            tuple[tuple[int, int], ...]]:
    """The query patch and the patches added to it (a query set, whose attention the attention
    figure sums): from "r,c;r,c;..." (the first is the query), a list of [r, c] pairs, or any
    single patch `parse_query` takes. Repeats are dropped; at most MAX_QUERY_SET patches (counted
    before any is parsed); SettingsError otherwise. Returns (query, added)."""
    if isinstance(query, str) and ";" in query and "," in query:
        parts = [p for p in query.split(";", MAX_QUERY_SET) if p.strip()]
    elif isinstance(query, (list, tuple)) and query and \
            all(isinstance(p, (list, tuple)) for p in query):
        parts = list(query[:MAX_QUERY_SET + 1])
    else:
        return parse_query(query, grid), ()
    if len(parts) > MAX_QUERY_SET:
        raise SettingsError(f"query names more than {MAX_QUERY_SET} patches; a query set holds "
                            f"at most {MAX_QUERY_SET}")
    patches = tuple(dict.fromkeys(parse_query(p, grid) for p in parts))
    if None in patches:
        raise SettingsError(f"every patch of a query set is \"row,col\", got {short(query)}")
    return (patches[0], patches[1:]) if patches else (None, ())


ALL_HEADS = "all"  # the head value that draws every head side by side
TEMPLATES = ("default", "lecture", "narrow")  # swinviz.figures' templates (a test checks)


def parse_block(block) -> int:
    """0 (the pair's first block, W-MSA) or 1 (its second block, SW-MSA); anything else
    (0.5, "inf", a list) is a SettingsError."""
    msg = "block must be 0 (the pair's first block, W-MSA) or 1 (its second block, SW-MSA)"
    try:
        b = whole("block", block)
    except SettingsError:
        raise SettingsError(f"{msg}, got {short(block)}") from None
    if b not in (0, 1):
        raise SettingsError(f"{msg}, got {b}")
    return b


def parse_head(head, num_heads: int, stage: int | None = None) -> int | None:
    """A head as a widget or the API gives it ("all", "0", 1, "head 2") -> its index, or None
    for all heads; the range is the explored stage's heads."""
    if head is None or (isinstance(head, str) and head.strip().lower() in (
            "", ALL_HEADS, "all heads", "none")):
        return None
    where = f" (stage {stage} has {num_heads} heads)" if stage is not None else ""
    if isinstance(head, str):
        head = head.strip().lower().removeprefix("head").strip()
    try:
        h = whole("head", head)
    except SettingsError:
        raise SettingsError(f"head must be a whole number from 0 to {num_heads - 1}{where} or "
                            f"'all', got {short(head)}") from None
    if not 0 <= h < num_heads:
        raise SettingsError(f"head must be from 0 to {num_heads - 1}{where} or 'all', got {h}")
    return h


def parse_template(template) -> str:
    """"default", "lecture" or "narrow" (None or "" -> "default")."""
    return text_choice("template", template, TEMPLATES, "default")


def _field(name: str, parse, *args):
    """parse(*args), its SettingsError marked with the field it refused (`SettingsError.field`)."""
    try:
        return parse(*args)
    except SettingsError as e:
        e.field = e.field or name
        raise


@dataclass(frozen=True)
class Settings:
    """One exploration's settings, every field checked: the model (`config`, a validated
    SwinConfig), the traced pair (`stage` 1-4 as the paper numbers them, `pair` p: blocks 2p
    and 2p+1), and what the figures show (`query` (row, col) on the stage's token grid or None
    for the figures' default patch, `added` the patches added to it (a query set, summed in
    the attention figure), `block` 0 / 1, `head` or None for all heads, `template`),
    and `without`: the parts the model leaves out in every block ("shift", "mask", "bias";
    () for Swin as it is, `SwinTransformer.without`).

    Built once, by `Settings.parse` (from values as a person or a widget gives them), and then
    only read: the command line builds it from its options, the app from its components
    (`app.settings.from_components`).
    """

    config: SwinConfig
    stage: int = 1
    pair: int = 0
    query: tuple[int, int] | None = None
    block: int = 1
    head: int | None = 0
    template: str = "default"
    without: tuple[str, ...] = ()
    added: tuple[tuple[int, int], ...] = ()

    @classmethod
    def parse(cls, config: SwinConfig, *, stage=1, pair=0, query=None, block=1, head="0",
              template="default", without=None) -> Settings:
        """Check every value against the model (SettingsError with its sentence): the stage and
        pair it has, a query (or a query set, "r,c;r,c", `parse_query_set`) inside the stage's
        grid, a block of the pair, one of the stage's heads (or "all"), a template."""
        s, p = parse_stage_pair(config, stage, pair)
        geo = config.stage(s)
        q, added = _field("query", parse_query_set, query, geo.grid)
        return cls(config, s, p, q,
                   _field("block", parse_block, block),
                   _field("head", parse_head, head, geo.num_heads, s),
                   _field("template", parse_template, template),
                   _field("without", parse_parts, without), added)

    def figure_options(self) -> dict:
        """What `swinviz.figures.make_figure` takes (the lecture takes its query)."""
        return dict(block=self.block, head=self.head, query=self.query, added=self.added,
                    template=self.template)
