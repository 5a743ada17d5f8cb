"""Memos on an Exploration: a click that redraws a figure reuses the images and geometry the
figures of that exploration already built (`cached`), or of the latest query only
(`cached_latest`), so a session's store does not grow with its clicks."""

from __future__ import annotations


def cached(obj, key, make):
    """`make()` memoised on `obj` (an Exploration) under `key`, so a click that redraws a figure
    does not re-encode the same image or rebuild the same geometry."""
    store = obj.__dict__.setdefault("_figure_cache", {})
    if key not in store:
        store[key] = make()
    return store[key]


def cached_latest(obj, key, arg, make):
    """`make()` memoised on `obj` for the latest `arg` only (say a query token): the figures of
    one click share it, and the store holds one entry per key however many clicks follow."""
    store = obj.__dict__.setdefault("_figure_cache", {})
    hit = store.get(key)
    if hit is None or hit[0] != arg:
        hit = store[key] = (arg, make())
    return hit[1]
