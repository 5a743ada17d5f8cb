"""The class-evidence tab's own control: which class the Grad-CAM maps explain.

After each run the picker offers the run's top-5 classes (the maps come with the run, for the
top class); choosing another, or typing any ImageNet class name or index, runs one evidence pass
(`swinviz.evidence.gather`: a forward and a backward pass, no new exploration) and redraws the
figure. The pass runs where the run does (on ZeroGPU in the GPU's process) and only when its
memory fits the request's limit (`app.budget.evidence_fits`).
"""

from __future__ import annotations

import logging

import gradio as gr

from swinviz.config import SettingsError

from .budget import evidence_fits
from .plotting import build_plots
from .runs import EVIDENCE
from .session import EXPECTED, Shown, message, user_error
from .state import load_cached_model

KIND = EVIDENCE
log = logging.getLogger("swinviz.app")
PICKER_LABEL = "Class to explain: one of the top 5, or type an ImageNet class (name or index)"


def choice_label(index: int, name: str | None) -> str:
    """How the picker shows a class: "tabby (281)"."""
    return f"{name or 'class'} ({index})"


def parse_choice(text) -> int | str | None:
    """The picker's value as a target: "tabby (281)" -> 281, "tabby" -> "tabby", "" -> None
    (the top class)."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    head, _, tail = text.rpartition(" (")
    if head and tail.endswith(")") and tail[:-1].isdigit():
        return int(tail[:-1])
    return text


def evidence_picker() -> gr.Dropdown:
    """The picker, shown above the class-evidence figure (`#evidence-class`)."""
    return gr.Dropdown(choices=[], value=None, allow_custom_value=True, label=PICKER_LABEL,
                       elem_id="evidence-class", interactive=False, filterable=True)


def wire_evidence(c, **model_kw) -> None:
    """A class chosen or typed in the page's picker (`c.evidence_class`): one evidence pass
    and the figure (a model call: in the runs' concurrency group, `model_kw`)."""
    box = c.evidence_class
    box.input(explain_class, [c.view, c.block, c.head, c.template, box, c.lesson.lang],
              [c.plots[KIND]],
              api_visibility="private", show_progress="minimal", **model_kw)


def picker(view) -> dict:
    """The picker after a run: its top-5 classes, the one the maps explain selected."""
    exp = getattr(view, "exp", None)
    top = (exp.top5 or []) if exp is not None else []
    choices = [choice_label(i, n) for i, n, _ in top]
    ev = getattr(exp, "evidence", None)
    value = choice_label(ev.target, ev.target_name) if ev is not None else None
    return gr.update(choices=choices, value=value, interactive=exp is not None)


def evidence_on_device(settings, image, target, stage: int, block: int):
    """The one model call of this tab: plain arguments in (settings, the exploration's input
    image, the class, where), the EvidenceSet out (its maps on the CPU)."""
    # here, not at the top: the page is built before torch is imported (app/__init__.py)
    from swinviz.evidence.choices import class_names
    from swinviz.evidence.gather import gather
    from swinviz.image.prepare import to_tensor

    model = load_cached_model(settings, device="auto")
    names = class_names(model.config.num_classes)
    pixels = to_tensor(image).to(model.device, model.dtype)  # exactly the run's input
    return gather(model, pixels, target, stage=stage, block=block, names=names)


_evidence_call = evidence_on_device
try:  # ZeroGPU on Hugging Face Spaces: borrow a GPU for the model call only
    import spaces  # type: ignore[import-not-found]

    from .runs import GPU_DURATION_S

    _evidence_call = spaces.GPU(duration=GPU_DURATION_S)(evidence_on_device)
except ImportError:
    pass


def class_asked(cfg, text) -> int | str | None:
    """The class a person asked for (the picker's text, the API's `target`), checked for the
    model's head before any work: an index or an ImageNet name; None (empty) for the top
    class. A gr.Error with one sentence otherwise."""
    if cfg.num_classes <= 0:
        raise user_error("This model has no classifier head, so there is no class to explain.")
    from swinviz.evidence.choices import check_target  # torch: not at the page's build

    try:
        return check_target(parse_choice(text), cfg.num_classes)
    except SettingsError as exc:
        raise user_error(message(exc)) from None


def api_target(settings, text) -> int | str | None:
    """/explore's `target` for a run of `settings` (ModelSettings): empty is the top class."""
    if text is None or not str(text).strip():
        return None
    return class_asked(settings.config(), text)


def complete(view) -> None:
    """The evidence pass a page run left for after its first figure (`View.evidence_due`):
    run now, into the run's exploration, before the class-evidence figure is drawn. Nothing
    when none is due or the run is gone; a failure leaves the figure its sentence."""
    due = getattr(view, "evidence_due", None)
    exp = view.held.exp if due is not None else None
    if exp is None:
        return
    view.evidence_due = None
    try:
        exp.evidence = _evidence_call(view.settings, exp.image, due[0], exp.stage,
                                      exp.blocks[1])
    except EXPECTED as exc:
        exp.evidence_note = message(exc)
    except Exception as exc:  # a bug: the other tabs' figures still come, the figure says why
        log.exception("evidence pass failed")
        exp.evidence_note = f"the evidence pass failed ({type(exc).__name__})"
    view.held.refresh()


def explain_class(view, block, head, template, text, lang="en"):
    """The picker changed (the view controls' values as the page sends them, the picker's
    text and the page's language): the maps for that class, then the figure. Returns its
    PlotData."""
    if view is None or view.exp is None:
        raise user_error("Run the model on an image first; then pick a class to explain.")
    shown = Shown.parse(view, block, head, template, lang)
    exp = view.exp
    cfg = view.settings.config()
    target = class_asked(cfg, text)
    view.evidence_due = None  # the class asked for wins over the run's own pass
    skipped = evidence_fits(cfg, exp.stage, exp.pair)
    if skipped:
        raise user_error(f"No class evidence here: {skipped}.")
    try:
        exp.evidence = _evidence_call(view.settings, exp.image, target, exp.stage,
                                      exp.blocks[1])
    except EXPECTED as exc:
        raise user_error(message(exc)) from None
    view.held.refresh()
    return build_plots(view, [KIND], **shown.options())[0]
