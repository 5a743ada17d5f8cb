"""Zips of exported files (the page's figures zip and lecture deck): files that are compressed
already are stored as they are, the rest deflated."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

# compressed already: stored as they are (deflating a deck's PNGs again took half a second)
STORED_SUFFIXES = frozenset({".png", ".gif", ".jpg", ".jpeg", ".webp", ".pdf", ".pptx", ".zip"})


def zip_files(paths: Iterable[Path], zip_path: str | Path, root: Path | None = None) -> Path:
    """Pack files into one zip, by name (by their path under `root`); returns its path."""
    zip_path = Path(zip_path)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in map(Path, paths):
            zf.write(p, arcname=str(p.relative_to(root)) if root else p.name, compress_type=(
                zipfile.ZIP_STORED if p.suffix.lower() in STORED_SUFFIXES else None))
    return zip_path
