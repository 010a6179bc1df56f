"""Types of the compiled router: the same API as its pure twin, duoweb._router_py."""

from duoweb._route_templates import RouteDefinitionError as RouteDefinitionError
from duoweb._router_py import PRIORITY as PRIORITY
from duoweb._router_py import Router as Router

__all__ = ["PRIORITY", "RouteDefinitionError", "Router"]
