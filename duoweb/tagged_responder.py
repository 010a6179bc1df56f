"""The ETag responder of a path-parameters-only route: the implementation duoweb._select chose."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duoweb._tagged_py import TaggedResponder
else:
    from duoweb import _select

    TaggedResponder = _select.load("tagged").TaggedResponder

__all__ = ["TaggedResponder"]
