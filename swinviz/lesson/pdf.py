"""One PDF of the slides' own PDFs, merged at the level of PDF objects.

Why not pypdf's `PdfWriter.append`: it parses every object into Python objects and writes them
back, and a Chinese slide embeds a Noto CJK font subset whose glyph-width arrays hold thousands
of numbers; merging the Chinese deck's 19 slide PDFs took 1.6-2 s that way, a fifth of the deck
(docs/performance.md). Chromium's PDFs (Skia) are plain: a classic cross-reference table, no
object streams. `merge` copies each page and every object it reaches byte for byte, renumbered
(references are rewritten in the objects' dictionaries only, never inside a stream), under one
new catalog and page tree. A PDF that is not plain in that way (an xref stream, an object
stream, an encrypted or incrementally updated file) is merged with pypdf instead, so the
result never depends on this shortcut holding.

The slides' tags (their structure tree) are not carried over, as with pypdf's `append`.
"""

from __future__ import annotations

import re
from pathlib import Path

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SUBSECTION = re.compile(rb"(\d+) (\d+)\s*\r?\n")
_OBJ_HEAD = re.compile(rb"\s*(\d+) (\d+) obj\b")
_STREAM = re.compile(rb">>\s*stream\r?\n")
_REF = re.compile(rb"(\d+) (\d+) R\b")
_PARENT = re.compile(rb"/Parent\s+\d+ \d+ R")
_TYPE_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_PAGES_REF = re.compile(rb"/Pages\s+(\d+) \d+ R")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
_MEDIABOX = re.compile(rb"/MediaBox\s*\[[^\]]*\]")
_ROOT = re.compile(rb"/Root\s+(\d+) \d+ R")


class NotPlain(ValueError):
    """A PDF this merge does not read (it is then merged with pypdf)."""


def _objects(data: bytes) -> tuple[dict[int, bytes], bytes]:
    """The file's objects by number (each one's body between "N 0 obj" and "endobj") and its
    trailer's dictionary, from the classic cross-reference table."""
    end = _STARTXREF.search(data[-1024:])
    if not end:
        raise NotPlain("no startxref")
    at = int(end.group(1))
    if not data.startswith(b"xref", at):
        raise NotPlain("not a classic cross-reference table (an xref stream)")
    pos = at + 4
    offsets: dict[int, int] = {}
    while True:
        while data[pos:pos + 1] in b" \r\n":
            pos += 1
        m = _SUBSECTION.match(data, pos)
        if not m:
            break
        first, count = int(m.group(1)), int(m.group(2))
        pos = m.end()
        for i in range(count):
            entry = data[pos:pos + 20]
            if entry[17:18] == b"n":
                offsets[first + i] = int(entry[:10])
            pos += 20
    if not data.startswith(b"trailer", pos):
        raise NotPlain("no trailer after the cross-reference table")
    trailer = data[pos:data.index(b"startxref", pos)]
    if b"/Encrypt" in trailer or b"/Prev" in trailer:
        raise NotPlain("encrypted, or updated incrementally (more than one table)")
    bounds = sorted(offsets.values()) + [at]
    following = {off: bounds[i + 1] for i, off in enumerate(bounds[:-1])}
    objects = {}
    for num, off in offsets.items():
        head = _OBJ_HEAD.match(data, off)
        if not head or int(head.group(1)) != num:
            raise NotPlain(f"object {num} is not where the table says")
        body = data[head.end():following[off]].rstrip()
        if not body.endswith(b"endobj"):
            raise NotPlain(f"object {num} does not end with endobj")
        body = body[:-6]
        if b"/ObjStm" in body[:200]:
            raise NotPlain("object streams")
        objects[num] = body
    return objects, trailer


def _split(body: bytes) -> tuple[bytes, bytes]:
    """An object's dictionary (where references are) and its stream (kept byte for byte)."""
    m = _STREAM.search(body)
    return (body, b"") if m is None else (body[:m.start() + 2], body[m.start() + 2:])


def _pages(objects: dict[int, bytes], trailer: bytes) -> list[tuple[int, bytes | None]]:
    """The file's pages in order, each with the MediaBox it inherits (None: its own)."""
    root = _ROOT.search(trailer)
    pages = root and _PAGES_REF.search(_split(objects[int(root.group(1))])[0])
    if not pages:
        raise NotPlain("no page tree")
    out: list[tuple[int, bytes | None]] = []

    def walk(num: int, box: bytes | None, depth: int) -> None:
        if depth > 32:
            raise NotPlain("page tree too deep")
        head = _split(objects[num])[0]
        own = _MEDIABOX.search(head)
        box = own.group(0) if own else box
        if _TYPE_PAGE.search(head):
            out.append((num, None if own else box))
            return
        kids = _KIDS.search(head)
        for ref in _REF.finditer(kids.group(1) if kids else b""):
            walk(int(ref.group(1)), box, depth + 1)

    walk(int(pages.group(1)), None, 0)
    return out


def _pdf_text(text: str) -> bytes:
    """A PDF text string: UTF-16 with its byte-order mark, as hex (any language)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _reached(objects: dict[int, bytes], starts: list[int]) -> list[int]:
    """The objects reached from `starts` through references (a page's /Parent aside), each
    once, in the order first reached."""
    seen: dict[int, None] = {}
    stack = list(reversed(starts))
    while stack:
        n = stack.pop()
        if n in seen or n not in objects:
            continue
        seen[n] = None
        head = _PARENT.sub(b"", _split(objects[n])[0])
        stack.extend(int(r.group(1)) for r in reversed(list(_REF.finditer(head))))
    return list(seen)


def _renumbered(head: bytes, new: dict[int, int]) -> bytes:
    """A dictionary's references to the merged file's numbers (one to an object left out:
    null)."""
    def ref(r: re.Match) -> bytes:
        n = new.get(int(r.group(1)))
        return b"null" if n is None else b"%d 0 R" % n

    return _REF.sub(ref, _PARENT.sub(b"", head))


def merge_plain(files: list[bytes], title: str) -> bytes:
    """The pages of `files` (whole PDF files, in order) in one PDF with this title. Objects 1-3
    are the new catalog, page tree and document information; the files' objects follow."""
    bodies: list[bytes] = []
    kids: list[int] = []
    for data in files:
        objects, trailer = _objects(data)
        pages = dict(_pages(objects, trailer))  # page -> the MediaBox it inherits
        order = _reached(objects, list(pages))
        new = {n: 4 + len(bodies) + i for i, n in enumerate(order)}
        for n in order:
            head, stream = _split(objects[n])
            head = _renumbered(head, new)
            if n in pages:  # a page: its parent is the new tree
                i = head.index(b"<<") + 2
                head = head[:i] + b"/Parent 2 0 R " + (pages[n] or b"") + b" " + head[i:]
            bodies.append(head + stream)
        kids += [new[p] for p in pages]
    heads = [b"<</Type /Catalog /Pages 2 0 R>>",
             b"<</Type /Pages /Count %d /Kids [%s]>>" % (
                 len(kids), b" ".join(b"%d 0 R" % k for k in kids)),
             b"<</Title " + _pdf_text(title) + b" /Producer (swinviz)>>"]
    parts = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    size = len(parts[0])
    offsets = []
    for num, body in enumerate([*heads, *bodies], start=1):
        chunk = b"%d 0 obj\n" % num + body.strip(b"\r\n") + b"\nendobj\n"
        offsets.append(size)
        parts.append(chunk)
        size += len(chunk)
    n = len(offsets) + 1
    parts.append(b"xref\n0 %d\n0000000000 65535 f \n" % n)
    parts += [b"%010d 00000 n \n" % off for off in offsets]
    parts.append(b"trailer\n<</Size %d /Root 1 0 R /Info 3 0 R>>\nstartxref\n%d\n%%%%EOF\n"
                 % (n, size))
    return b"".join(parts)


def merge(pages: list[Path], path: Path, title: str) -> Path:
    """One PDF of the slides' own PDFs (vector text), in order, written to `path`."""
    try:
        data = merge_plain([Path(p).read_bytes() for p in pages], title)
    except NotPlain:
        from pypdf import PdfWriter

        writer = PdfWriter()
        for p in pages:
            writer.append(str(p))
        writer.add_metadata({"/Title": title, "/Producer": "swinviz"})
        with open(path, "wb") as f:
            writer.write(f)
        return path
    Path(path).write_bytes(data)
    return path
