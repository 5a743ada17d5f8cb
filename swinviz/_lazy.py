"""A package's public names, imported from their modules on first use (PEP 562).

Why: the app's page is built before torch is imported (its start, docs/performance.md), and a
package whose `__init__` imported every module would import torch with its first name. A
package lists where each name lives and hands the two module hooks this returns to Python:

    __getattr__, __dir__ = lazy_exports(__name__, {"config": ("SwinConfig", ...), ...})

`from swinviz import SwinConfig` then imports `swinviz.config` only; a name looked up once is
stored in the package, so later lookups are plain attribute reads. The package keeps its
`__all__` and, for type checkers, the same imports under `if TYPE_CHECKING:`. No name may
be a module's own name (`evidence.explain` lives in `evidence.explainer`): importing a module
sets the package's attribute of that name to the module, and the name would be lost.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from importlib.util import find_spec


def lazy_exports(package: str, modules: Mapping[str, Iterable[str]]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """`modules`: submodule (relative to `package`) -> the names it exports. Returns the
    package's `__getattr__` and `__dir__`."""
    where = {name: module for module, names in modules.items() for name in names}
    shadowed = sorted(set(where) & set(modules))
    if shadowed:  # importing the module would set the package's attribute to the module
        raise ImportError(f"{package}: a lazy name cannot be its module's name: {shadowed}")

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:  # a submodule, as `import package` used to import them all
            if name.startswith("_") or find_spec(f"{package}.{name}") is None:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            return import_module(f".{name}", package)
        value = getattr(import_module(f".{module}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
