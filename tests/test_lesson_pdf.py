"""The deck's merged PDF (swinviz.lesson.pdf): the slides' own PDFs copied object by object,
checked against pypdf's reading and merging, and against the slides' own renders."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from swinviz.lesson import pdf


def tiny_pdf(text: bytes, box_on_tree: bool = False) -> bytes:
    """A hand-made one-page PDF (classic cross-reference table): its MediaBox on the page or,
    inherited, on the page tree; its content stream holds bytes that look like a reference."""
    content = b"% 4 0 R stays as it is\nBT /F1 12 Tf 10 50 Td (" + text + b") Tj ET"
    box = b" /MediaBox [0 0 200 100]"
    objs = [b"<</Type /Catalog /Pages 2 0 R>>",
            b"<</Type /Pages /Count 1 /Kids [3 0 R]" + (box if box_on_tree else b"") + b">>",
            b"<</Type /Page /Parent 2 0 R" + (b"" if box_on_tree else box)
            + b" /Resources <</Font <</F1 4 0 R>>>> /Contents 5 0 R>>",
            b"<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>",
            b"<</Length %d>> stream\n" % len(content) + content + b"\nendstream"]
    out, offsets = [b"%PDF-1.4\n"], []
    for i, body in enumerate(objs, start=1):
        offsets.append(sum(map(len, out)))
        out.append(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    at = sum(map(len, out))
    out.append(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    out += [b"%010d 00000 n \n" % o for o in offsets]
    out.append(b"trailer\n<</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n"
               % (len(objs) + 1, at))
    return b"".join(out)


def test_pages_in_order_with_their_boxes_text_and_streams(tmp_path):
    files = [tiny_pdf(b"one"), tiny_pdf(b"two", box_on_tree=True), tiny_pdf(b"three")]
    merged = tmp_path / "m.pdf"
    merged.write_bytes(pdf.merge_plain(files, "Swin 的移位窗口注意力"))
    reader = PdfReader(str(merged), strict=True)
    assert [p.extract_text() for p in reader.pages] == ["one", "two", "three"]
    assert [list(p.mediabox) for p in reader.pages] == [[0, 0, 200, 100]] * 3  # inherited too
    assert reader.metadata.title == "Swin 的移位窗口注意力"
    for page, text in zip(reader.pages, (b"one", b"two", b"three"), strict=True):
        assert page.get_contents().get_data().startswith(b"% 4 0 R stays as it is\n")
        assert text in page.get_contents().get_data()
    # every page's font is its own file's, renumbered (no reference left dangling)
    fonts = [p["/Resources"]["/Font"]["/F1"].indirect_reference.idnum for p in reader.pages]
    assert len(set(fonts)) == 3


def test_a_pdf_it_does_not_read_is_merged_with_pypdf(tmp_path):
    """An xref stream (here: a file whose table is not where startxref says) is not read by
    the plain merge; `merge` then uses pypdf, and the pages are the same."""
    bad = tiny_pdf(b"two").replace(b"\nxref\n", b"\nXREF\n")
    with pytest.raises(pdf.NotPlain):
        pdf.merge_plain([tiny_pdf(b"one"), bad], "t")
    updated = tiny_pdf(b"two").replace(b"/Root 1 0 R>>", b"/Root 1 0 R /Prev 9>>")
    with pytest.raises(pdf.NotPlain, match="incrementally"):  # only the last table is read
        pdf.merge_plain([updated], "t")
    paths = []
    for i, data in enumerate((tiny_pdf(b"one"), tiny_pdf(b"two"))):
        paths.append(tmp_path / f"{i}.pdf")
        paths[-1].write_bytes(data)
    w = PdfWriter(clone_from=str(paths[1]))  # pypdf writes its own file: still plain
    with open(paths[1], "wb") as f:
        w.write(f)
    out = pdf.merge(paths, tmp_path / "m.pdf", "t")
    assert [p.extract_text() for p in PdfReader(str(out)).pages] == ["one", "two"]
    paths[1].write_bytes(bad)
    out = pdf.merge(paths, tmp_path / "m2.pdf", "t")  # pypdf's merge
    assert [p.extract_text() for p in PdfReader(str(out)).pages] == ["one", "two"]


@pytest.mark.browser
def test_chromium_slides_merge_to_the_same_pages_as_pypdf(tmp_path, exp_s1):
    """Three Chinese slides rendered by Chromium: the merged PDF's pages have the slides'
    own text and size, and (with poppler's pdftoppm) render to the same pixels."""
    from conftest import require_browser

    from swinviz.export import Exporter, find_browser
    from swinviz.lesson import Lesson
    from swinviz.lesson.deck import W_PX

    require_browser(find_browser(), "Chrome or Chromium")
    lesson = Lesson(exp_s1, lang="zh")
    slides = {f"s{k}": lesson.slide(k, None) for k in (0, 5, 9)}
    with Exporter() as ex:
        paths = sorted(ex.export(slides, tmp_path, ("pdf",), width=W_PX))
    merged = pdf.merge(paths, tmp_path / "merged.pdf", "Swin 课程")
    assert merged.read_bytes() == pdf.merge_plain([p.read_bytes() for p in paths], "Swin 课程")
    reader = PdfReader(str(merged), strict=True)
    assert len(reader.pages) == 3 and reader.metadata.title == "Swin 课程"
    for path, page in zip(paths, reader.pages, strict=True):
        own = PdfReader(str(path)).pages[0]
        assert page.extract_text() == own.extract_text() and page.extract_text().strip()
        assert page.mediabox == own.mediabox
    if shutil.which("pdftoppm") is None:
        return
    for i, path in enumerate(paths, start=1):
        def render(src, page, stem):
            subprocess.run(["pdftoppm", "-r", "24", "-png", "-f", str(page), "-l", str(page),
                            "-singlefile", str(src), str(tmp_path / stem)], check=True)
            return np.asarray(Image.open(tmp_path / f"{stem}.png").convert("RGB"))
        assert np.array_equal(render(path, 1, f"own{i}"), render(merged, i, f"merged{i}"))
