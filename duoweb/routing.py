"""The route table chosen by duoweb._select, and how handler annotations pick path converters."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from duoweb._route_templates import BUILTIN_KINDS, RouteDefinitionError, build_path, parse_template

if TYPE_CHECKING:
    from duoweb._router_py import Router as RouteTable
else:
    from duoweb import _select

    #: The compiled route table (its class is ``Router`` inside the speedup modules).
    RouteTable = _select.load("router").Router

#: Converter name for each annotation a path parameter may carry.
CONVERTER_FOR_TYPE: dict[Any, str] = {
    int: "int",
    float: "float",
    uuid.UUID: "uuid",
    str: "str",
}


def template_parameters(template: str) -> dict[str, str | None]:
    """Each parameter of ``template`` with the kind it spells out (None when it does not)."""
    return {seg.name: seg.kind for seg in parse_template(template) if seg.name is not None}


__all__ = [
    "BUILTIN_KINDS",
    "CONVERTER_FOR_TYPE",
    "RouteDefinitionError",
    "RouteTable",
    "build_path",
    "template_parameters",
]
