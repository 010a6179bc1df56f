"""Each pure-Python twin and its compiled module offer the same API.

The pairs are not listed here: they are read from duoweb._select.SPEEDUP_MODULES and checked
against the selection modules (the duoweb modules that call ``_select.load(name)``) and the
``.pyx`` files, so a new pair is covered as soon as it is wired in. For each pair: the same
public names, each the same kind of thing, classes with the same public members, and the
same signatures wherever inspect can read the compiled one (annotations aside: Cython's are
C types). Behaviour is what the other tests in this folder compare.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import types
from pathlib import Path
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

import pytest

import duoweb
from duoweb._select import SPEEDUP_MODULES
from tests.speedups.conftest import implementation

PACKAGE = Path(duoweb.__file__).parent

# What a class has by being a Python class, a Cython extension type or generic.
CLASS_MACHINERY = frozenset(
    {
        "__abstractmethods__",
        "__annotations__",
        "__dict__",
        "__doc__",
        "__module__",
        "__orig_bases__",
        "__parameters__",
        "__slots__",
        "__weakref__",
    }
)


def _load_call(node: ast.AST) -> str | None:
    """The name in a ``_select.load("name")`` call, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "load"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "_select"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def selection_modules() -> dict[str, tuple[str, set[str]]]:
    """Hot-path name -> (the duoweb module that selects its implementation, the names it takes).

    Read from the source: a module calls ``_select.load(name)`` and reads names off the result,
    as ``_select.load(name).X`` or ``_impl = _select.load(name)`` then ``_impl.X``.
    """
    found: dict[str, tuple[str, set[str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        loaded = [name for node in ast.walk(tree) if (name := _load_call(node)) is not None]
        if not loaded:
            continue
        taken = {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and (
                (isinstance(node.value, ast.Name) and node.value.id == "_impl")
                or _load_call(node.value) is not None
            )
        }
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for name in loaded:
            found[name] = (module, taken)
    return found


def type_only(value: object) -> bool:
    """True for a name that exists only for type checkers: a type variable or alias."""
    return isinstance(value, TypeVar | ParamSpec | types.GenericAlias | types.UnionType) or (
        type(value).__module__ == "typing"
    )


def public_names(module: ModuleType) -> set[str]:
    """``__all__``, or else the public names the module defines; type-only names aside."""
    listed = getattr(module, "__all__", None)
    if listed is None:
        listed = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
        ]
    return {name for name in listed if not type_only(getattr(module, name))}


def signature(function: Any) -> inspect.Signature | None:
    """The signature inspect reads, or None when it cannot (a C method without one)."""
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):
        return None


def shape(sig: inspect.Signature) -> list[tuple[str, Any, Any]]:
    """Parameter names, kinds and defaults: what a caller sees, without annotations."""
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def pair(name: str) -> tuple[ModuleType, ModuleType]:
    return implementation(name, "pure"), implementation(name, "compiled")


def test_every_compiled_module_has_a_twin_and_a_selection_module() -> None:
    pyx = {f"duoweb._speedups.{path.stem}" for path in (PACKAGE / "_speedups").glob("*.pyx")}
    assert {compiled for compiled, _pure in SPEEDUP_MODULES.values()} == pyx
    assert set(selection_modules()) == set(SPEEDUP_MODULES)
    for _compiled, pure in SPEEDUP_MODULES.values():
        assert importlib.util.find_spec(pure) is not None, pure


@pytest.mark.parametrize("name", sorted(SPEEDUP_MODULES))
def test_same_public_names(name: str) -> None:
    pure, compiled = pair(name)
    assert public_names(compiled) == public_names(pure)


@pytest.mark.parametrize("name", sorted(SPEEDUP_MODULES))
def test_what_the_selection_module_takes_exists_in_both(name: str) -> None:
    _module, taken = selection_modules()[name]
    pure, compiled = pair(name)
    assert taken
    assert {attribute for attribute in taken if not hasattr(pure, attribute)} == set()
    assert {attribute for attribute in taken if not hasattr(compiled, attribute)} == set()


@pytest.mark.parametrize("name", sorted(SPEEDUP_MODULES))
def test_same_kinds_members_and_signatures(name: str) -> None:
    pure, compiled = pair(name)
    for public in sorted(public_names(pure) & public_names(compiled)):
        ours, theirs = getattr(pure, public), getattr(compiled, public)
        if ours is theirs:  # shared, e.g. an exception class both import
            continue
        assert isinstance(theirs, type) == isinstance(ours, type), public
        if isinstance(ours, type):
            check_class(public, ours, theirs)
        else:
            assert callable(theirs) == callable(ours), public
            check_signature(public, ours, theirs)


def check_class(name: str, ours: type, theirs: type) -> None:
    """Same public members; every special method the twin defines exists compiled too."""
    public = {member for member in dir(ours) if not member.startswith("_")}
    assert {member for member in dir(theirs) if not member.startswith("_")} == public, name
    special = {
        member for member in vars(ours) if member.startswith("__") and member not in CLASS_MACHINERY
    }
    assert {member for member in special if not hasattr(theirs, member)} == set(), name
    for member in sorted(public | special):
        mine = inspect.getattr_static(ours, member)
        other = inspect.getattr_static(theirs, member)
        if isinstance(mine, classmethod | staticmethod):
            check_signature(f"{name}.{member}", getattr(ours, member), getattr(theirs, member))
        elif inspect.isfunction(mine):
            if not isinstance(other, types.WrapperDescriptorType):  # a C slot: (*args, **kwargs)
                check_signature(f"{name}.{member}", mine, other)
        elif inspect.isroutine(mine):  # inherited from a builtin base, e.g. a tuple's count
            assert inspect.isroutine(other), f"{name}.{member}"
        else:  # data: an attribute, slot or property, never a method on one side only
            assert not callable(other) or isinstance(other, type), f"{name}.{member}"


def check_signature(name: str, ours: Any, theirs: Any) -> None:
    compiled = signature(theirs)
    if compiled is None:  # a C method that does not carry one (binding=False)
        return
    pure = signature(ours)
    assert pure is not None, name
    assert shape(compiled) == shape(pure), name


def test_signatures_are_read_for_most_of_the_compiled_api() -> None:
    # Guards the test above against passing because inspect reads nothing compiled.
    read = 0
    for name in SPEEDUP_MODULES:
        compiled = implementation(name, "compiled")
        for public in public_names(compiled):
            value = getattr(compiled, public)
            if callable(value) and not isinstance(value, type):
                read += signature(value) is not None
    assert read >= 10
