"""The queue library's import graph: no module of it imports the rest of relayarr, and no
two of its modules import each other, even only for type checking (a loop is a sign that a
part takes a whole it should not need, as the worker once took the JobQueue)."""

from __future__ import annotations

import ast
from collections.abc import Collection
from pathlib import Path

import relayarr.jobqueue

PACKAGE = "relayarr.jobqueue"
ROOT = Path(relayarr.jobqueue.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def imported(path: Path, modules: Collection[str] = ()) -> set[str]:
    """Every relayarr module ``path`` imports, anywhere in it (TYPE_CHECKING blocks too).
    ``from package import name`` counts as importing the submodule when ``name`` is one
    of ``modules``, else the package."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if submodule in modules else node.module)
    return {name for name in names if name.split(".")[0] == "relayarr"}


def graph() -> dict[str, set[str]]:
    """Each module of the library -> the modules of the library it imports."""
    modules = {module_name(path): path for path in ROOT.rglob("*.py")}
    return {
        name: {target for target in imported(path, set(modules)) if target in modules} - {name}
        for name, path in modules.items()
    }


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_library_never_imports_the_rest_of_relayarr() -> None:
    outside = {
        module_name(path): sorted(name for name in imported(path) if not name.startswith(PACKAGE))
        for path in ROOT.rglob("*.py")
    }
    assert {name: found for name, found in outside.items() if found} == {}


def test_no_modules_of_the_library_import_each_other() -> None:
    assert cycle(graph()) is None


def test_the_check_finds_a_loop() -> None:
    edges = {f"{PACKAGE}.a": {f"{PACKAGE}.b"}, f"{PACKAGE}.b": {f"{PACKAGE}.a"}}
    assert cycle(edges) == [f"{PACKAGE}.a", f"{PACKAGE}.b", f"{PACKAGE}.a"]
