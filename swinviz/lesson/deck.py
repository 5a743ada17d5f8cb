"""The lesson as a 16:9 deck a lecturer projects as it is:

    paths = write_lecture(exp, "deck", lang="zh", theme="dark")
    # deck/01-title.png ... 16-table.png (1920 x 1080), deck/lecture.pptx (speaker notes on
    # every slide, text as text), deck/lecture.pdf (one 16:9 page size, text as text),
    # deck/cyclic-shift.gif and its steps deck/shift-frames/NN.png

The slides' figures are rendered in one browser session (swinviz.export): each slide as PNG
and as a PDF page; the PPTX's image of a slide is its picture's box cut from the slide's PNG
(the words are text boxes there).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from . import i18n
from .slides import H_PX, MARGIN, TEXT_W, VISUAL_X, VISUAL_Y, W_PX, Lesson, wrap_code
from .steps import STEPS, slide_file
from .theme import MIN_PX

PPTX_NAME, PDF_NAME, GIF_NAME, FRAMES_DIR = ("lecture.pptx", "lecture.pdf", "cyclic-shift.gif",
                                             "shift-frames")
SLIDE_EMU = (12_192_000, 6_858_000)  # a 16:9 slide, 13.333 x 7.5 in (PowerPoint's default)
EMU_PX = SLIDE_EMU[0] // W_PX  # EMU per slide pixel (6350: 1920 px across)


def deck_steps() -> int:
    """How many progress steps `write_lecture` reports: each slide built, each file rendered
    (PNG and PDF of a slide), the PPTX, the PDF, the GIF."""
    return len(STEPS) * 3 + 3


def lecture_files() -> list[str]:
    """The names `write_lecture` writes, in order (the GIF's frames folder aside)."""
    return [slide_file(k) for k in range(len(STEPS))] + [PPTX_NAME, PDF_NAME, GIF_NAME]


def write_lecture(exp, out_dir: str | Path, *, lang: str = "en", theme: str = "light",
                  query: tuple[int, int] | None = None, exporter=None,
                  progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write the lesson's deck for exploration `exp` into out_dir; returns the paths in
    `lecture_files` order. `exporter`: a swinviz.export.Exporter to reuse (None: one is
    started). Raises swinviz.export.ExportError when the slides cannot be rendered."""
    from .. import export

    lesson = Lesson(exp, lang=lang, theme=theme)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tick = progress or (lambda _: None)
    slides = {}
    for k, step in enumerate(STEPS):
        slides[slide_file(k)[:-4]] = lesson.slide(k, query)
        tick(f"{step.name} built")
    # the GIF is drawn while the browser renders the slides (it needs none of them)
    gif_done: dict = {}
    gif_thread = threading.Thread(target=lambda: gif_done.update(path=_gif_or_error(exp, out)),
                                  name="swinviz-deck-gif", daemon=True)
    gif_thread.start()
    try:  # the GIF's thread is waited for whatever happens here
        with tempfile.TemporaryDirectory(prefix="swinviz-deck-") as tmp:
            tmp = Path(tmp)
            own = exporter is None
            ex = export.Exporter() if own else exporter
            try:
                ex.export(slides, tmp, ("png", "pdf"), width=W_PX, progress=tick)
            finally:
                if own:
                    ex.close()
            pngs = []
            (tmp / "pictures").mkdir()
            box = (VISUAL_X[0], VISUAL_Y[0], VISUAL_X[1], VISUAL_Y[1])
            for k in range(len(STEPS)):
                name = slide_file(k)
                with Image.open(tmp / name) as im:  # the picture's box, pixel for pixel
                    im.crop(box).save(tmp / "pictures" / name)
                pngs.append(Path(shutil.move(tmp / name, out / name)))
            pptx = write_pptx(lesson, tmp / "pictures", out / PPTX_NAME, query)
            tick(PPTX_NAME)
            pdf = merge_pdf([tmp / f"{slide_file(k)[:-4]}.pdf" for k in range(len(STEPS))],
                            out / PDF_NAME, i18n.ui(lang, "deck_title"))
            tick(PDF_NAME)
    finally:
        gif_thread.join()
    gif = gif_done["path"]
    if isinstance(gif, BaseException):
        raise gif
    tick(GIF_NAME)
    return [*pngs, pptx, pdf, gif]


def _gif_or_error(exp, out: Path):
    """`_write_gif`, its exception returned (the deck's thread raises it)."""
    try:
        return _write_gif(exp, out)
    except BaseException as exc:  # noqa: BLE001  (handed to the caller, raised there)
        return exc


def _write_gif(exp, out: Path) -> Path:
    """The cyclic shift as a GIF with frames between the steps, and the steps as PNGs (for
    slide software) in FRAMES_DIR."""
    from ..animation import GIF_BETWEEN, save_gif, shift_animation

    frames = shift_animation(exp, between=GIF_BETWEEN)
    gif = save_gif(frames, out / GIF_NAME, between=GIF_BETWEEN)
    folder = out / FRAMES_DIR
    folder.mkdir(exist_ok=True)
    for i, frame in enumerate(frames[::GIF_BETWEEN + 1]):
        frame.save(folder / f"{i:02d}.png")
    return gif


def merge_pdf(pages: list[Path], path: Path, title: str) -> Path:
    """One PDF of the slides' own PDFs (vector text), in order (`swinviz.lesson.pdf`)."""
    from . import pdf

    return pdf.merge(pages, path, title)


def _font(run, size_px: float, color: str, family: str, bold: bool = False) -> None:
    """A run's font: px on the 1920-px slide -> points on the 13.333-in slide; `family` the
    theme's list: its first name for Latin text, its second for East Asian text."""
    from pptx.dml.color import RGBColor
    from pptx.oxml.ns import qn
    from pptx.util import Pt

    f = run.font
    f.size = Pt(size_px * EMU_PX / 12700)  # 12700 EMU a point
    f.bold = bold
    names = [x.strip() for x in family.split(",")]
    f.name = names[0]
    f.color.rgb = RGBColor.from_string(color.lstrip("#"))
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:ea", "a:cs"):
        el = rpr.find(qn(tag))
        if el is None:
            el = rpr.makeelement(qn(tag), {})
            rpr.append(el)
        el.set("typeface", names[1] if len(names) > 1 else names[0])


def _box(slide, x, y, w, h, lines, size, color, family, bold=False, fill=None):
    from pptx.dml.color import RGBColor
    from pptx.util import Emu

    emu = EMU_PX
    shape = slide.shapes.add_textbox(Emu(x * emu), Emu(y * emu), Emu(w * emu), Emu(h * emu))
    tf = shape.text_frame
    tf.word_wrap = True
    if fill:
        shape.fill.solid()
        shape.fill.fore_color.rgb = RGBColor.from_string(fill.lstrip("#"))
    for i, line in enumerate(lines):
        para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        run = para.add_run()
        run.text = line
        _font(run, size, color, family, bold)
    return shape


def write_pptx(lesson: Lesson, pictures: Path, path: Path, query=None) -> Path:
    """The deck as PowerPoint: 16:9, per slide a title, the lines and the code as text boxes,
    the picture as an image, the random-weights badge, the footer and the slide's number
    ("3 / 19", as on the PNG and PDF slides), and the speaker notes."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Emu

    from .theme import FONT, MONO

    family, mono = FONT, MONO
    t = lesson.theme
    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(SLIDE_EMU[0]), Emu(SLIDE_EMU[1])
    emu = EMU_PX
    for k in range(len(STEPS)):
        text = lesson.text(k, query)
        slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank
        slide.background.fill.solid()
        slide.background.fill.fore_color.rgb = RGBColor.from_string(t.bg.lstrip("#"))
        _box(slide, MARGIN, 36, W_PX - 2 * MARGIN - 320, 130, [text.title], 46, t.ink, family,
             bold=True)
        _box(slide, MARGIN, 170, TEXT_W, 560, [f"• {line}" for line in text.body], 28, t.ink,
             family)
        if lesson.code(k):
            code = [w for line in lesson.code(k)
                    for w in wrap_code(line, int(TEXT_W / (0.6 * MIN_PX)))]
            _box(slide, MARGIN - 16, H_PX - 110 - 34 * len(code), TEXT_W + 32, 34 * len(code) + 30,
                 code, MIN_PX, t.ink, mono, fill=t.panel)
        badge = lesson.badge(k)
        if badge:
            _box(slide, W_PX - MARGIN - 260, 40, 260, 50, [badge], MIN_PX, "#111111", family,
                 fill=t.badge)
        _box(slide, MARGIN, H_PX - 72, 900, 40,
             [i18n.ui(lesson.lang, "footer", arch=lesson.numbers.arch,
                      stage=lesson.numbers.stage)], MIN_PX, t.muted, family)
        number = _box(slide, W_PX - MARGIN - 200, H_PX - 72, 200, 40,
                      [f"{k + 1} / {len(STEPS)}"], MIN_PX, t.muted, family)
        number.text_frame.paragraphs[0].alignment = PP_ALIGN.RIGHT  # as the slide's own
        pic = pictures / f"{slide_file(k)[:-4]}.png"
        slide.shapes.add_picture(str(pic), Emu(VISUAL_X[0] * emu), Emu(VISUAL_Y[0] * emu),
                                 width=Emu((VISUAL_X[1] - VISUAL_X[0]) * emu))
        slide.notes_slide.notes_text_frame.text = text.notes
    prs.save(str(path))
    return path
