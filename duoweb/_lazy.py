"""Module-level names whose import happens on first use, so apps that never need it never pay.

``asyncio`` and ``concurrent.futures`` cost more to import than the whole WSGI core, and a
WSGI app with only ``def`` handlers never touches them; ``logging`` is needed only once
something goes wrong; a regular expression used only on an error path or with an optional
setting need not be compiled at import. A module binds a stand-in instead::

    if TYPE_CHECKING:
        import asyncio
    else:
        asyncio = lazy_import("asyncio", globals())

    logger = lazy_logger("duoweb", globals())
    _PORT = lazy_pattern(r"[0-9]{1,5}")
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import logging


class _StandIn:
    """Stands for one global of one module until its first attribute read.

    That read builds the real object and rebinds the global to it, so every later use is an
    ordinary global lookup: nothing is left on the hot path.
    """

    __slots__ = ("_binding", "_build", "_namespace")

    def __init__(self, build: Callable[[], Any], namespace: dict[str, Any], binding: str) -> None:
        self._build = build
        self._namespace = namespace
        self._binding = binding

    def __getattr__(self, attribute: str) -> Any:
        real = self._build()
        if self._namespace.get(self._binding) is self:
            self._namespace[self._binding] = real
        return getattr(real, attribute)


def lazy_import(name: str, namespace: dict[str, Any]) -> Any:
    """A stand-in for ``import name`` in ``namespace`` (a module's ``globals()``)."""
    bound = name.partition(".")[0]  # ``import a.b`` binds ``a``

    def build() -> Any:
        importlib.import_module(name)
        return sys.modules[bound]

    return _StandIn(build, namespace, bound)


def lazy_logger(name: str, namespace: dict[str, Any], binding: str = "logger") -> logging.Logger:
    """A stand-in for ``logging.getLogger(name)``, bound to ``binding`` in ``namespace``."""

    def build() -> logging.Logger:
        import logging

        return logging.getLogger(name)

    return cast("logging.Logger", _StandIn(build, namespace, binding))


class _LazyPattern:
    """``re.compile(pattern, flags)`` on the first method used; each method is then kept."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._arguments = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        value = getattr(re.compile(*self._arguments), name)
        setattr(self, name, value)  # an instance attribute: later uses skip __getattr__
        return value


def lazy_pattern(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A regular expression compiled when first used (``re.compile`` costs at import)."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))
