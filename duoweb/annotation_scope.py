"""The part of a defining scope that a handler's postponed annotations need, and no more.

Registration reads the caller's locals (its frame's ``f_locals``) so that string
annotations may name classes and providers local to an app factory. Keeping that whole
mapping would keep every local of the factory alive as long as the app (a database handle,
a large configuration): :func:`annotation_scope` keeps only the names the annotations use,
including those of the dependency providers they reach.
"""

from __future__ import annotations

import ast
import inspect
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from duoweb.dependencies import Depends
from duoweb.type_guards import is_dict

__all__ = ["annotation_scope"]


def annotation_scope(
    handler: Callable[..., Any], namespace: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The entries of ``namespace`` that ``handler``'s annotations (and its providers') name.

    ``namespace`` is the registering scope's locals; None, empty or the handler's own
    module globals gives None. Names are
    found in annotation strings (``"list[Item]"``, ``"Annotated[str, Depends(token)]"``), in
    strings nested in evaluated annotations, and, for each dependency provider reached (a
    ``Depends`` default or a function the annotations name), in that provider's annotations.
    """
    if not namespace or namespace is getattr(inspect.unwrap(handler), "__globals__", None):
        return None  # module level: the handler's globals are consulted anyway
    kept: dict[str, Any] = {}
    seen: set[int] = set()
    pending: list[Any] = [handler]
    while pending:
        function = pending.pop()
        if id(function) in seen:
            continue
        seen.add(id(function))
        for name in _names_used(function):
            if name in namespace and name not in kept:
                value = kept[name] = namespace[name]
                if inspect.isfunction(value) or inspect.ismethod(value):
                    pending.append(value)
        pending.extend(_providers(function))
    return kept


def _names_used(function: Any) -> Iterator[str]:
    """Every identifier the function's annotations mention (in strings at any depth)."""
    annotations = getattr(inspect.unwrap(function), "__annotations__", None)
    if not is_dict(annotations):
        return
    for annotation in annotations.values():
        yield from _names_in(annotation)


def _names_in(annotation: Any) -> Iterator[str]:
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        try:
            tree = ast.parse(annotation, mode="eval")
        except SyntaxError:  # typing will report it; nothing to keep for it
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                yield node.id
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield from _names_in(node.value)  # a quoted name inside: "list['Item']"
        return
    for argument in typing.get_args(annotation):
        yield from _names_in(argument)
    for item in getattr(annotation, "__metadata__", ()):
        if isinstance(item, Depends):
            yield from _names_used(item.provider)


def _providers(function: Any) -> Iterator[Any]:
    """The providers of ``Depends`` defaults (and evaluated ``Annotated`` markers)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return
    for parameter in parameters:
        if isinstance(parameter.default, Depends):
            yield parameter.default.provider
        for item in getattr(parameter.annotation, "__metadata__", ()):  # evaluated Annotated
            if isinstance(item, Depends):
                yield item.provider
