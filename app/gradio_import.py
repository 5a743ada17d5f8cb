"""Import Gradio without its type-stub writer: about a second of the app's start.

Why: Gradio 6's `ComponentMeta` calls `gradio.component_meta.create_or_modify_pyi` for every
component class it defines, at every import. That function reads the class's source file,
parses it with `ast` and renders a Jinja template, to keep the `.pyi` stub beside the source
in step with the class: a developer's aid for type checkers, which writes into the installed
package (when it can) and changes nothing the app does. It was about half of `import gradio`
on the 2-core machine (docs/performance.md). `skip_stub_writing` makes that one function a
no-op as the module is loaded, before any component class is defined; everything else of
Gradio is imported as it is.

Standard library only, so that app/__init__.py can call it before anything imports Gradio.
Once Gradio is imported (by a test, by a host such as a Space's runner), it does nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

MODULE = "gradio.component_meta"
STUB_WRITER = "create_or_modify_pyi"


def _no_stub(*_args, **_kwargs) -> None:
    """The stub writer's stand-in: Gradio's components stay as defined, no `.pyi` is touched."""


class _SkipStubs(importlib.abc.MetaPathFinder):
    """Finds `gradio.component_meta` as the normal path finder does, and replaces its stub
    writer once the module has run (the components that use it are defined afterwards)."""

    def find_spec(self, name, path, target=None):
        if name != MODULE:
            return None
        remove_finder()
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            if callable(getattr(module, STUB_WRITER, None)):  # a later Gradio may lack it
                setattr(module, STUB_WRITER, _no_stub)

        spec.loader.exec_module = exec_module
        return spec


def remove_finder() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _SkipStubs)]


def skip_stub_writing() -> bool:
    """Before Gradio is imported: make its stub writer a no-op when it is. Returns whether
    it will (False when Gradio's components are imported already)."""
    if MODULE in sys.modules:
        return False
    if not any(isinstance(f, _SkipStubs) for f in sys.meta_path):
        sys.meta_path.insert(0, _SkipStubs())
    return True
