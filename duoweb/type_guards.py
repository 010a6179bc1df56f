"""Type guards for untyped dicts and lists (decoded JSON, ``__annotations__``, schemas).

``isinstance(value, dict)`` on an ``Any`` value tells a type checker nothing about the keys and
items; these say what such a dict or list holds (string keys, any values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

__all__ = ["is_dict", "is_list", "is_mapping"]


def is_dict(value: object) -> TypeGuard[dict[str, Any]]:
    """True when ``value`` is a dict; typed with string keys (JSON objects, annotations)."""
    return isinstance(value, dict)


def is_list(value: object) -> TypeGuard[list[Any]]:
    """True when ``value`` is a list."""
    return isinstance(value, list)


def is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    """True when ``value`` is a Mapping; typed with string keys (JSON objects)."""
    return isinstance(value, Mapping)
