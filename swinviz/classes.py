"""The names of the classes a classifier head predicts: ImageNet-1k's 1000, in index order."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names, in the index order of the classifier's outputs."""
    path = Path(__file__).resolve().parent / "data" / "imagenet_classes.txt"
    names = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    if len(names) != 1000:
        raise RuntimeError(f"{path} should hold 1000 class names, it holds {len(names)}")
    return names
