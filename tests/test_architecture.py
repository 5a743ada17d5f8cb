"""The house rules of the code (docs/architecture.md), checked on the source as text:

- no import cycle among the modules of `swinviz/` and `app/`, counting imports inside functions;
- no module over 500 lines, no function over 120 lines;
- `SWINVIZ_*` environment variables named in at most two modules (the library's switches and
  the server's config);
- no figure kind imports another kind (shared parts live in `swinviz/figures/_core/`);
- the library never imports gradio.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("swinviz", "app")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 120


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every Python module of the packages."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _is_package(name: str, mods: dict[str, Path]) -> bool:
    return mods[name].name == "__init__.py"


def imports_of(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """The project modules `name` imports anywhere in its file (functions included)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if _is_package(name, mods) else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in mods:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                add(full if full in mods else module)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_counting_imports_inside_functions():
    mods = modules()
    graph = {name: imports_of(name, path, mods) for name, path in mods.items()}
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


# A language's table of the figures' words (swinviz/figures/lang/<code>.py: one dict literal,
# an English msgid and its sentence an entry) is data, one file a language by design: it grows
# with the figures' sentences, not with code.
WORD_TABLES = "swinviz.figures.lang."


def test_no_module_over_500_lines():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
            and not name.startswith(WORD_TABLES)}
    assert not long, long


def test_a_word_table_is_one_dict_literal_and_nothing_else():
    import ast

    tables = {n: p for n, p in modules().items() if n.startswith(WORD_TABLES)}
    assert tables
    for name, path in tables.items():
        body = [node for node in ast.parse(path.read_text()).body
                if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
                and not isinstance(node, ast.ImportFrom)]
        assert len(body) == 1 and isinstance(body[0], ast.AnnAssign), name
        assert isinstance(body[0].value, ast.Dict), name
        assert all(isinstance(v, ast.Constant) and isinstance(v.value, str)
                   for v in [*body[0].value.keys, *body[0].value.values]), name


def test_no_function_over_120_lines():
    long = {}
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{name}.{node.name}"] = n
    assert not long, long


def _docstrings(tree) -> set[int]:
    """ids of the docstring nodes of a module, its classes and functions."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def test_environment_variables_are_named_in_two_modules_at_most():
    """Counted in the code (every string but docstrings): the library's switches and the
    server's config read the environment; everyone else imports their values and names."""
    named = set()
    for name, path in modules().items():
        tree = ast.parse(path.read_text())
        docs = _docstrings(tree)
        if any(isinstance(node, ast.Constant) and isinstance(node.value, str)
               and id(node) not in docs and re.search(r"SWINVIZ_[A-Z]", node.value)
               for node in ast.walk(tree)):
            named.add(name)
    assert len(named) <= 2, sorted(named)


def test_no_figure_kind_imports_another_kind():
    from swinviz.figures import KINDS

    mods = modules()
    kind_modules = {f"swinviz.figures.{k}" for k in KINDS} & set(mods)
    crossing = {name: sorted(imports_of(name, mods[name], mods) & kind_modules)
                for name in kind_modules}
    crossing = {k: v for k, v in crossing.items() if v}
    assert not crossing, crossing


@pytest.mark.parametrize("pkg", ["swinviz"])
def test_the_library_never_imports_gradio(pkg):
    for path in sorted((ROOT / pkg).rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "gradio" for n in names), path
