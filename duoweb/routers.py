"""``Router``: routes declared apart from the App, composed into it at registration time.

A Router only records its routes. ``include_router`` copies them with the prefix, tags,
dependencies, responses and middleware of every router on the way composed in, and the App
registers the copies as if they had been declared on it: the compiled route table is the
same flat table, so a route reached through any number of routers costs nothing more per
request than one declared on the App.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec

from duoweb.dependencies import Depends
from duoweb.route_decorators import RouteDecorators, RouteSpec, WebSocketSpec, checked_dependencies
from duoweb.routing import RouteDefinitionError


class Inclusion(msgspec.Struct, frozen=True):
    """What one ``include_router`` adds around every route it copies (outermost first)."""

    prefix: str = ""
    name: str | None = None
    tags: tuple[str, ...] = ()
    dependencies: tuple[Depends, ...] = ()
    responses: dict[int, Any] = {}
    middleware: tuple[Callable[..., Any], ...] = ()
    deprecated: bool = False
    include_in_schema: bool = True
    #: ETags for the routes that do not say (None: as the outer routers and the App say).
    etag: bool | None = None

    def apply(self, spec: RouteSpec) -> RouteSpec:
        """``spec`` as seen from outside this inclusion."""
        return msgspec.structs.replace(
            spec,
            path=self.prefix + spec.path,
            name=_namespaced(self.name, spec.name or _handler_name(spec.handler)),
            operation_id=_namespaced(self.name, spec.operation_id),
            tags=tuple(dict.fromkeys((*self.tags, *spec.tags))),
            dependencies=(*self.dependencies, *spec.dependencies),
            responses={**self.responses, **spec.responses},
            middleware=(*self.middleware, *spec.middleware),
            deprecated=self.deprecated or spec.deprecated,
            include_in_schema=self.include_in_schema and spec.include_in_schema,
            etag=self.etag if spec.etag is None else spec.etag,
        )

    def apply_websocket(self, spec: WebSocketSpec) -> WebSocketSpec:
        """The WebSocket route ``spec`` as seen from outside this inclusion."""
        return msgspec.structs.replace(
            spec,
            path=self.prefix + spec.path,
            name=_namespaced(self.name, spec.name or _handler_name(spec.handler)),
            dependencies=(*self.dependencies, *spec.dependencies),
            middleware=(*self.middleware, *spec.middleware),
        )


def _handler_name(handler: Callable[..., Any]) -> str:
    return str(getattr(handler, "__name__", type(handler).__name__))


def _namespaced(namespace: str | None, name: str | None) -> str | None:
    if namespace is None or name is None:
        return name
    return f"{namespace}.{name}"


def checked_prefix(prefix: str) -> str:
    """A router or mount prefix: empty, or ``/``-led with no trailing ``/``."""
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise RouteDefinitionError(
            f"prefix {prefix!r} must start with '/' and must not end with '/'"
        )
    return prefix


class Router(RouteDecorators):
    """A group of routes with a shared prefix, tags, dependencies and middleware.

    Declare routes on it with the same decorators as on ``App``, then
    ``app.include_router(router)`` (or include it in another Router, to any depth).
    ``name`` namespaces its route names: ``Router(name="users")`` makes ``get_user``
    ``users.get_user`` for ``url_for`` and the OpenAPI operationId. ``etag=True`` turns
    ETags on for its GET routes that do not say otherwise (``etag=False`` turns them off).
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        name: str | None = None,
        tags: Iterable[str] = (),
        dependencies: Iterable[Depends] = (),
        responses: Mapping[int, Any] | None = None,
        middleware: Iterable[Callable[..., Any]] = (),
        deprecated: bool = False,
        include_in_schema: bool = True,
        etag: bool | None = None,
    ) -> None:
        own = Inclusion(
            prefix=checked_prefix(prefix),
            name=name,
            tags=tuple(tags),
            dependencies=checked_dependencies(dependencies),
            responses=dict(responses or {}),
            middleware=tuple(middleware),
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            etag=etag,
        )
        #: The prefix, name, tags, dependencies... this router adds to each of its routes.
        self.own = own
        self._routes: list[RouteSpec] = []
        self._websockets: list[WebSocketSpec] = []
        self._included = False

    @property
    def prefix(self) -> str:
        """The path prefix of every route of this router."""
        return self.own.prefix

    def middleware(self, middleware: Any) -> Any:
        """Add ``middleware(request, call_next) -> Response`` around this router's routes only.

        Like App middleware (def or async def; the first added is the outermost), but it
        runs after routing, so it never sees another router's requests, 404s or 405s.
        """
        self._check_open("add middleware to")
        self.own = msgspec.structs.replace(self.own, middleware=(*self.own.middleware, middleware))
        return middleware

    def add_route(self, spec: RouteSpec) -> None:
        """Record one HTTP route (paths are relative to this router's prefix)."""
        self._check_open("add a route to")
        self._routes.append(spec)

    def add_websocket(self, spec: WebSocketSpec) -> None:
        """Record one WebSocket route."""
        self._check_open("add a route to")
        self._websockets.append(spec)

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        name: str | None = None,
        tags: Iterable[str] = (),
        dependencies: Iterable[Depends] = (),
        responses: Mapping[int, Any] | None = None,
        deprecated: bool = False,
        include_in_schema: bool = True,
    ) -> None:
        """Copy ``router``'s routes into this one, under ``prefix`` + the router's prefix.

        The keywords add to what the router itself declares; ``name`` namespaces the route
        names (``name="v2"``: ``v2.get_user``), which is how one router included twice keeps
        readable names for both copies.
        """
        self._check_open("include a router in")
        if router is self:
            raise RouteDefinitionError("a router cannot include itself")
        routes, websockets = included_routes(
            router,
            prefix=prefix,
            name=name,
            tags=tags,
            dependencies=dependencies,
            responses=responses,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
        )
        self._routes.extend(routes)
        self._websockets.extend(websockets)

    def composed_routes(self) -> tuple[list[RouteSpec], list[WebSocketSpec]]:
        """Every route of this router (and those it includes) with its own options applied.

        From then on the router is closed: a route added later would silently be missing
        wherever it was included, so that is an error.
        """
        self._included = True
        own = self.own
        return (
            [own.apply(spec) for spec in self._routes],
            [own.apply_websocket(spec) for spec in self._websockets],
        )

    def _check_open(self, action: str) -> None:
        if self._included:
            raise RouteDefinitionError(
                f"cannot {action} the router with prefix {self.prefix!r} after it was "
                "included: declare its routes first, then include it"
            )


def included_routes(
    router: Router,
    *,
    prefix: str = "",
    name: str | None = None,
    tags: Iterable[str] = (),
    dependencies: Iterable[Depends] = (),
    responses: Mapping[int, Any] | None = None,
    deprecated: bool = False,
    include_in_schema: bool = True,
) -> tuple[list[RouteSpec], list[WebSocketSpec]]:
    """``router``'s routes as one ``include_router`` call with these options copies them."""
    extra = Inclusion(
        prefix=checked_prefix(prefix),
        name=name,
        tags=tuple(tags),
        dependencies=checked_dependencies(dependencies),
        responses=dict(responses or {}),
        deprecated=deprecated,
        include_in_schema=include_in_schema,
    )
    routes, websockets = router.composed_routes()
    return (
        [extra.apply(spec) for spec in routes],
        [extra.apply_websocket(spec) for spec in websockets],
    )
