"""No import cycle among duoweb's modules: each module's top-level imports form a DAG.

Imports inside functions (deferred until used) and under ``if TYPE_CHECKING:`` (never run)
are not edges: only what importing a module runs counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "duoweb"


def module_name(path: Path) -> str:
    """``duoweb/security/jwt.py`` -> ``duoweb.security.jwt`` (a package is its __init__)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def top_level_imports(tree: ast.Module, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """The modules of ``modules`` that ``name`` imports while it is being imported."""
    found: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                # ``from duoweb import _select`` imports the submodule, not the package
                # (which every submodule's import has begun already).
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
        elif isinstance(node, ast.If):
            if not is_type_checking(node.test):
                pending.extend(node.body)
            pending.extend(node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body)
            for handler in node.handlers:
                pending.extend(handler.body)
            pending.extend(node.orelse)
            pending.extend(node.finalbody)
    return found & modules


def import_graph() -> dict[str, set[str]]:
    """Every duoweb module -> the duoweb modules it imports at import time."""
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = top_level_imports(tree, name, path.name == "__init__.py", set(paths))
        graph[name] = {target for target in imports if target in paths and target != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (the first repeated last), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        trail: list[str] = []
        on_trail: set[str] = set()
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        trail.append(start)
        on_trail.add(start)
        while stack:
            node, targets = stack[-1]
            if not targets:
                stack.pop()
                trail.pop()
                on_trail.discard(node)
                done.add(node)
                continue
            target = targets.pop()
            if target in on_trail:
                return [*trail[trail.index(target) :], target]
            if target not in done:
                stack.append((target, sorted(graph[target])))
                trail.append(target)
                on_trail.add(target)
    return None


def test_duoweb_modules_import_without_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_the_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_imports_under_type_checking_and_in_functions_are_not_edges() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import duoweb.app\n"
        "from . import routing\n"
        "if TYPE_CHECKING:\n"
        "    from duoweb import asgi\n"
        "def later():\n"
        "    import duoweb.wsgi\n"
    )
    modules = {"duoweb", "duoweb.app", "duoweb.asgi", "duoweb.routing", "duoweb.wsgi"}
    found = top_level_imports(ast.parse(source), "duoweb.mounts", False, modules)
    assert found == {"duoweb.app", "duoweb.routing"}
