"""The security schemes and requirements of operations, found in their routes' dependency graphs.

Every provider a route runs is a node of ``endpoint.nodes`` (the handler's dependencies,
those of its dependencies, and route-level ones), each with the keys of the providers it
needs. A node whose provider is a security scheme (``openapi_security_kind == "scheme"``)
is declared; a guard (``"scopes"``) adds its scopes to the OAuth2 schemes below it. Providers
are recognised by that attribute, so this module imports nothing of duoweb.security.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from duoweb.dependency_graph import DependencyNode
    from duoweb.endpoints import Endpoint

#: Scheme types whose requirement lists scopes (OpenAPI 3.0 allows no others).
SCOPED_TYPES = ("oauth2", "openIdConnect")


def security_provider(node: DependencyNode, kind: str) -> Any | None:
    """The scheme or guard this node runs, if it is one of ``kind``.

    The key is the provider the route declared: an overridden scheme is still documented.
    """
    for candidate in (node.key, node.provider):
        if getattr(candidate, "openapi_security_kind", None) == kind:
            return candidate
    return None


def is_security_node(node: DependencyNode) -> bool:
    """True for a scheme's node: its one parameter is the credential, not an API parameter."""
    return security_provider(node, "scheme") is not None


def is_guard_node(node: DependencyNode) -> bool:
    """True for a scope guard's node (it may answer 403)."""
    return security_provider(node, "scopes") is not None


class SecurityRegistry:
    """The document's ``components.securitySchemes``: one name per distinct scheme."""

    def __init__(self, declared: dict[str, Any]) -> None:
        #: Name -> Security Scheme Object; the app's own ``security_schemes`` come first.
        self.schemes: dict[str, Any] = dict(declared)

    def name_of(self, scheme: Any) -> str:
        """The component name of ``scheme``: its own, numbered when another scheme has it."""
        body = scheme.openapi_scheme()
        base: str = scheme.scheme_name
        candidate, counter = base, 1
        while True:
            known = self.schemes.get(candidate)
            if known is None:
                self.schemes[candidate] = body
                return candidate
            if known == body:
                return candidate
            counter += 1
            candidate = f"{base}{counter}"

    def requirements(self, endpoint: Endpoint) -> list[dict[str, list[str]]] | None:
        """The operation's ``security``: None when its graph holds no scheme.

        All schemes the route requires are needed together; each optional one
        (``auto_error=False``) adds an alternative, and so does going without it.
        """
        nodes = endpoint.nodes
        schemes: dict[int, Any] = {}
        for node in nodes:
            scheme = security_provider(node, "scheme")
            if scheme is not None:
                schemes.setdefault(id(scheme), scheme)
        if not schemes:
            return None
        scopes = _scopes_below_guards(nodes)
        required: dict[str, list[str]] = {}
        optional: list[tuple[str, list[str]]] = []
        for key, scheme in schemes.items():
            name = self.name_of(scheme)
            listed = scopes.get(key, []) if scheme.openapi_scheme()["type"] in SCOPED_TYPES else []
            if scheme.auto_error:
                required[name] = list(dict.fromkeys([*required.get(name, []), *listed]))
            else:
                optional.append((name, listed))
        if not optional:
            return [required]
        found = [{**required, name: listed} for name, listed in optional]
        found.append(required)
        return found


def _scopes_below_guards(nodes: list[DependencyNode]) -> dict[int, list[str]]:
    """id(scheme) -> the scopes of every guard that (indirectly) depends on it."""
    by_key = {node.key: node for node in nodes}
    found: dict[int, list[str]] = {}
    for node in nodes:
        guard = security_provider(node, "scopes")
        if guard is None:
            continue
        stack = [key for _, key in node.needs]
        seen: set[int] = set()
        while stack:
            below = by_key.get(stack.pop())
            if below is None or id(below) in seen:
                continue
            seen.add(id(below))
            scheme = security_provider(below, "scheme")
            if scheme is not None:
                held = found.setdefault(id(scheme), [])
                held.extend(scope for scope in guard.scopes if scope not in held)
            stack.extend(key for _, key in below.needs)
    return found
