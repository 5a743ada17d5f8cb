"""Forward hooks that act for one thread only.

The app serves several requests with one model: a hook on a shared module would also see the
forward passes of other requests (and of `model.without(...)`'s models, which share the same
norms). `own_hooks` registers hooks that act only in the thread that registered them and
removes them when it leaves, so an evidence pass never touches another request's tensors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def own_hooks(pairs: list[tuple[nn.Module, Callable]]) -> Iterator[None]:
    """pairs: (module, fn(output) -> new output or None); fn runs only in this thread."""
    me = threading.get_ident()

    def wrap(fn):
        def hook(_module, _inputs, out):
            return fn(out) if threading.get_ident() == me else None
        return hook

    handles = [module.register_forward_hook(wrap(fn)) for module, fn in pairs]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
