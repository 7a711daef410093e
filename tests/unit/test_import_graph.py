"""No import circles in the package: no two modules import each other, directly or in a loop.

The graph is built from the source (ast), not by importing it, so it sees every import: at module
level, inside functions (the lazy imports that keep start-up light) and under TYPE_CHECKING.
All of them count. A lazy import breaks the circle only at run time; the two modules still
cannot be understood, typed or moved one without the other, and the first refactor that hoists
the import turns it into an ImportError. A module importing its own package's `__init__` (which
Python does implicitly) is not an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import anagnorisis_tui

PACKAGE = Path(anagnorisis_tui.__file__).parent
NAME = PACKAGE.name


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = [NAME, *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules `module` imports, anywhere in its source."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    targets: set[str | None] = set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(resolve(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                # `from package import module` names a module; `from module import name` not.
                full = f"{source}.{alias.name}"
                targets.add(full if full in modules else resolve(source))
    return {t for t in targets if t and t != module and not module.startswith(t + ".")}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imported(m, p, modules) for m, p in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_circles():
    graph = import_graph()
    assert len(graph) > 100  # the whole package was read
    loops = circles(graph)
    described = ["  " + " <-> ".join(c) for c in loops]
    assert not loops, "modules that import each other:\n" + "\n".join(described)


def test_the_graph_sees_lazy_and_type_only_imports():
    """The checker itself: a function-level import and a TYPE_CHECKING one both make edges."""
    graph = import_graph()
    # ui/app.py imports the viewer screen inside open_viewer (lazily).
    assert f"{NAME}.ui.screens.viewer" in graph[f"{NAME}.ui.app"]
    # ui/host.py imports Jobs for the type checker only.
    assert f"{NAME}.ui.jobs" in graph[f"{NAME}.ui.host"]
    # And a loop made of such edges is found.
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_app_satisfies_the_protocol_screens_see_it_through(settings):
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.ui.app import make_app
    from anagnorisis_tui.ui.host import AppHost

    library = Library(settings)
    try:
        app = make_app(settings, library=library, graphics="unicode", scan_on_start=False)
        assert isinstance(app, AppHost)
    finally:
        library.close()
