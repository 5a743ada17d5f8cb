"""Checking a command line: argv -> `FigureSettings`, every value checked before any work
(`figure_settings`); a bad one is a UsageError (or SettingsError / ImageError) with one sentence
that names the option.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from pathlib import Path

from ..config import expanduser, short
from ..settings import MAX_QUERY_SET, Settings
from .args import (
    COMMANDS,
    MAX_SIZE,
    MAX_WIDTH,
    MIN_WIDTH,
    WEIGHTS,
    FigureSettings,
    UsageError,
    _attach_dash_values,
    _with_preset,
    build_parser,
)


def _whole(option: str, text: str, lo: int, hi: int | None, what: str) -> int:
    """`text` as a whole number in lo..hi (hi None: no upper bound), else a UsageError that
    says what `option` takes (`what`, e.g. "a whole number of pixels from 1 to 1024")."""
    t = text.strip()
    if re.fullmatch(r"[+-]?\d{1,18}", t):
        v = int(t)
        if v >= lo and (hi is None or v <= hi):
            return v
    raise UsageError(f"{option} must be {what}, got {short(text)}")


def parse_query(text: str | None):
    """"12,40" -> (12, 40); "-1,3" -> (-1, 3) (the grid check refuses it with the grid size);
    a query set, "12,40;3,3" -> [(12, 40), (3, 3)] (the attention figure sums its attention)."""
    if text is None:
        return None
    groups = text.split(";", MAX_QUERY_SET)
    patches = []
    for group in groups if len(groups) <= MAX_QUERY_SET else ():
        parts = group.split(",")
        if len(parts) != 2 or not all(re.fullmatch(r"\s*[+-]?\d{1,9}\s*", v) for v in parts):
            break
        patches.append(tuple(int(v) for v in parts))
    else:
        if patches:
            return patches[0] if len(patches) == 1 else patches
    raise UsageError(f"--query must be ROW,COL (two whole numbers, e.g. 20,25), or a query set "
                     f"of up to {MAX_QUERY_SET} such patches split by ';' (20,25;3,3), got "
                     f"{short(text)}")


def _check_out(text: str) -> Path:
    """The output folder: an existing folder, or one that can be created (no file in the way).
    The nearest folder that exists must take a new folder: one is made there and removed
    again (a permission check alone says yes to root, and on /proc or a read-only disk)."""
    if not text.strip():
        raise UsageError("--out must name a folder for the figures, got an empty path")
    shown = short(text, 200, quote=False)
    try:
        out = Path(expanduser(text))
        is_file = out.exists() and not out.is_dir()
        probe = out.absolute()
        while not probe.exists():  # the nearest existing folder above must take a new folder
            probe = probe.parent
    except (OSError, ValueError) as e:  # a name too long, a NUL byte
        why = getattr(e, "strerror", None) or "not a usable path"
        raise UsageError(f"--out '{shown}' cannot be used as a folder ({why})") from None
    if is_file:
        raise UsageError(f"--out '{shown}' is a file, not a folder; give a folder for the "
                         "figures (it is created if missing)")
    where = short(str(probe), 200, quote=False)
    if not probe.is_dir():
        raise UsageError(f"--out '{shown}' cannot be created: '{where}' is a file, not a folder")
    verb = "written" if probe == out.absolute() else "created"
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--out '{shown}' cannot be {verb}: '{where}' is not writable")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".swinviz-", dir=probe))
    except OSError as e:
        raise UsageError(f"--out '{shown}' cannot be {verb}: no folder can be made in "
                         f"'{where}' ({e.strerror or 'refused'})") from None
    return out


def _check_weights(text: str) -> str | Path:
    if text in WEIGHTS:
        return text
    try:
        path = Path(expanduser(text))
        found = path.exists()
    except (OSError, ValueError):  # a name too long, a NUL byte
        found = False
    if not found:
        raise UsageError(f"--weights must be auto, random, hub or an existing checkpoint file "
                         f"or folder, and nothing was found at {short(text)}")
    return path


def _check_image(text: str) -> str:
    """Refuse a missing file or a non-image from its header alone (nothing is decoded when it
    is fine); the messages are `swinviz.image`'s own."""
    from PIL import Image

    from ..image import MAX_BYTES, MAX_PIXELS, check_file, open_image

    path = expanduser(text)  # a str: Path() would fold "http://" into "http:/"
    check_file(path)  # a regular file, from os.stat: opening a named pipe would block
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
        if 0 < w * h <= MAX_PIXELS and os.path.getsize(path) <= MAX_BYTES:
            return path
    except Exception:
        pass
    open_image(path)  # a file the header check refused: raises ImageError saying why
    return path


def _selection(cfg, a, query, size: int) -> Settings:
    """--stage, --pair, --query, --block, --head and --template, checked by the one settings
    object the library and the app use (`swinviz.settings.Settings.parse`); a refusal is a
    UsageError worded as the option (`_as_option`)."""
    from ..config import SettingsError

    try:
        return Settings.parse(cfg, stage=a.stage, pair=a.pair, query=query, block=a.block,
                              head=a.head, template=a.template, without=a.without)
    except SettingsError as e:
        raise UsageError(_as_option(e, cfg, a, size)) from None


def _as_option(e, cfg, a, size: int) -> str:
    """`Settings.parse`'s sentence for the option it refused (`SettingsError.field`): most
    read "--" + the sentence; the pair names its stage's pairs, the query its grid as the
    command line gives it (ROW,COL and the input size). Wording only: the check was made."""
    from ..config import check_stage_pair

    if e.field == "pair":
        stage, _ = check_stage_pair(cfg, a.stage, 0)
        pairs = cfg.depths[stage - 1] // 2
        if str(e).startswith("pair"):  # not a whole number
            which = (f"0 (stage {stage} has one block pair)" if pairs == 1 else
                     f"a whole number from 0 to {pairs - 1} (stage {stage} has {pairs} block "
                     "pairs)")
            return f"--pair must be {which}, got {short(a.pair)}"
        return f"--pair {short(a.pair.strip(), quote=False)}: {e}"
    if e.field == "query":  # a ROW,COL of whole numbers (parse_query) outside the grid
        stage, _ = check_stage_pair(cfg, a.stage, a.pair)
        H, W = cfg.stage(stage).grid
        patches = parse_query(a.query)
        patches = patches if isinstance(patches, list) else [patches]
        r, c = next((q for q in patches if not (0 <= q[0] < H and 0 <= q[1] < W)), patches[0])
        where = (f"token grid of a {size} px input" if stage == 1 else
                 f"token grid of stage {stage} ({size} px input)")
        rows = (f"ROW and COL must be from 0 to {H - 1}" if H == W else
                f"ROW must be from 0 to {H - 1} and COL from 0 to {W - 1}")
        return f"--query {r},{c} is outside the {H}x{W} {where}; {rows}"
    if e.field == "without":  # its sentence does not start with the field's name
        return f"--without: {e}"
    return f"--{e}"


def _check_target(cfg, text: str | None) -> int | str | None:
    """--target as the evidence figure's class: an index of the model's head or an ImageNet
    name (`swinviz.evidence`'s one rule), checked before the model is built."""
    if text is None:
        return None
    from ..config import SettingsError
    from ..evidence.choices import check_target

    if cfg.num_classes <= 0:
        raise UsageError("--target needs a model with a classifier head")
    try:
        return check_target(text, cfg.num_classes)
    except SettingsError as e:
        text = str(e)
        raise UsageError(f"--{text}" if text.startswith("target ") else f"--target: {text}"
                         ) from None


def _check_budget(cfg, stage: int, pair: int, evidence: bool = False) -> None:
    """The memory the run needs, estimated from its settings by `swinviz.budget` as the app
    does, against $SWINVIZ_REQUEST_MB (default CLI_REQUEST_MB: one run on this machine) and
    the figures' size against DEFAULT_RESPONSE_MB; over either, a UsageError naming the options
    that fit ("--window 14 or --size 448 fits")."""
    from ..budget import CLI_REQUEST_MB, BudgetError, check_budget
    from ..config import SettingsError
    from ..environment import request_mb

    try:
        check_budget(cfg, stage, pair, limit_mb=request_mb(CLI_REQUEST_MB, SettingsError),
                     vary=("window", "size"), evidence=evidence)
    except BudgetError as e:
        text = re.sub(r"\ban input size of (\d+)", r"--size \1", str(e))
        raise UsageError(re.sub(r"\ba window of (\d+)", r"--window \1", text)) from None


def _check_lang(lang: str) -> str:
    """--lang, checked by the lesson's list of languages (the figures speak the same ones)."""
    from ..lesson import check_lang

    try:
        return check_lang(lang)
    except ValueError as e:
        raise UsageError(f"--lang: {short(str(e), 200, quote=False)}") from None


def _check_deck(a) -> tuple[str, str]:
    """The lecture's --lang and --theme, checked by the lesson's own lists."""
    from ..lesson import check_lang, get_theme

    try:
        check_lang(a.lang)
    except ValueError as e:
        raise UsageError(f"--lang: {short(str(e), 200, quote=False)}") from None
    try:
        get_theme(a.theme)
    except ValueError as e:
        raise UsageError(f"--theme: {short(str(e), 200, quote=False)}") from None
    return a.lang, a.theme


def figure_settings(argv: list[str]) -> FigureSettings:
    """argv of `figures` or `lecture` (e.g. ["figures", "cat.jpg", "--out", "figs"]) -> checked
    settings.

    Checks run in this order: each value on its own (the preset fills what is not given), the
    architecture, then the model settings together (`swinviz.model.check_settings`; a grid
    that does not split into whole windows is padded), the selection against that model (stage,
    pair, a query inside the stage's token grid, block, a head of the stage, template) by the
    one `Settings.parse` (`_selection`), the memory the run needs (`_check_budget`), the
    device, and last the files (the image's header, the output folder, the weights). Nothing
    is built or decoded. Raises UsageError, or SettingsError /
    ImageError, each with one sentence.
    """
    from ..config import SettingsError, get_config
    from ..export import parse_formats
    from ..figures import KINDS
    from ..model import check_settings, config_for, resolve_device

    parser = build_parser()
    a = parser.parse_args(_attach_dash_values(argv, parser))
    if a.command not in COMMANDS:
        raise UsageError(f"unknown command {a.command!r}; use figures, lecture or bench")
    a = _with_preset(a)

    lecture = a.command == "lecture"
    try:
        formats = ("png",) if lecture else parse_formats(a.format)
    except ValueError as e:
        detail = str(e) if len(str(e)) <= 200 else (
            f"unknown export format(s) {short(a.format)}; choose from png, svg")
        raise UsageError(f"--format: {detail}") from None
    try:
        base = get_config(a.arch)
    except SettingsError as e:
        raise UsageError(f"--arch: {e}") from None
    size = base.img_size if a.size is None else _whole(
        "--size", a.size, 1, MAX_SIZE, f"a whole number of pixels from 1 to {MAX_SIZE} (e.g. 224)")
    window = base.window_size if a.window is None else _whole(
        "--window", a.window, 1, None, "a whole number of tokens, at least 1 (e.g. 7)")
    shift = None if a.shift is None else _whole(
        "--shift", a.shift, 0, None, "a whole number of tokens, 0 or more (e.g. 3)")
    width = _whole("--width", a.width, MIN_WIDTH, MAX_WIDTH,
                   f"a whole number of pixels from {MIN_WIDTH} to {MAX_WIDTH} (e.g. 1600)")
    query = parse_query(a.query)
    kinds = KINDS
    if not lecture and a.kinds is not None:
        kinds = tuple(dict.fromkeys(k.strip() for k in a.kinds.split(",") if k.strip()))
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            named = short(", ".join(unknown), quote=False)
            bad = f"unknown figure kind(s) {named}" if unknown else "no figure kind"
            raise UsageError(f"--kinds names {bad}; choose from {', '.join(KINDS)}")

    # the model settings together: the arch's own width and heads (a token grid that does not
    # split into whole windows is padded, as the blocks do, and the figures show the padding)
    check_settings(size, window, shift, base.embed_dim, base.num_heads[0], arch=base)
    cfg = config_for(base, img_size=size, window_size=window, shift_size=shift)
    view = _selection(cfg, a, query, size)
    if lecture and view.without:
        raise UsageError("--without is for the figures command: the lecture teaches Swin with "
                         "every part (its slides say what the shift, the mask and the bias do)")
    target = None if lecture else _check_target(cfg, a.target)
    _check_budget(cfg, view.stage, view.pair, evidence="evidence" in kinds)
    device = str(resolve_device(a.device))
    lang, theme = _check_deck(a) if lecture else (_check_lang(a.lang), "light")

    return FigureSettings(
        image=_check_image(a.image), out=_check_out(a.out), formats=formats, size=size,
        window=window, shift=shift, weights=_check_weights(a.weights), query=view.query,
        block=view.block, head=view.head, template=view.template, width=width, kinds=kinds,
        device=device, command=a.command, arch=base.name, stage=view.stage, pair=view.pair,
        preset=a.preset, lang=lang, theme=theme, view=view, target=target,
    )
