"""The route decorators ``App`` and ``Router`` share, and the route records they produce.

One module keeps both classes' options in sync: each decorator builds a ``RouteSpec`` (or a
``WebSocketSpec``) and hands it to the class's ``add_route`` / ``add_websocket``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from duoweb.annotation_scope import annotation_scope
from duoweb.dependencies import Depends

if TYPE_CHECKING:
    from duoweb.formdata import FormLimits
    from duoweb.origins import OriginRule

H = TypeVar("H", bound=Callable[..., Any])


class RouteSpec(msgspec.Struct, frozen=True):
    """One HTTP route as declared: handler, path and every option, before the App builds it."""

    handler: Callable[..., Any]
    path: str
    methods: tuple[str, ...]
    #: The route's name (None: the handler's ``__name__``).
    name: str | None = None
    status_code: int = 200
    #: None: the App's own limit.
    max_body_size: int | None = None
    inline: bool = False
    tags: tuple[str, ...] = ()
    summary: str | None = None
    description: str | None = None
    deprecated: bool = False
    operation_id: str | None = None
    include_in_schema: bool = True
    security: tuple[dict[str, tuple[str, ...]], ...] | None = None
    responses: dict[int, Any] = {}
    #: None: the App's own form limits.
    form_limits: Any = None
    #: Run before the handler (outermost router's first); their results are discarded.
    dependencies: tuple[Depends, ...] = ()
    #: Router middleware around this route only, outermost first.
    middleware: tuple[Callable[..., Any], ...] = ()
    #: ETags on the route's GET/HEAD answers (None: as its routers, then its App, say).
    etag: bool | None = None
    #: The Cache-Control value of its successful GET/HEAD answers (None: none added).
    cache_control: str | None = None
    #: The scope that applied the decorator: postponed annotations may name its locals.
    localns: Mapping[str, Any] | None = None


class WebSocketSpec(msgspec.Struct, frozen=True):
    """One WebSocket route as declared."""

    handler: Callable[..., Any]
    path: str
    name: str | None = None
    max_message_size: int = 1024 * 1024
    #: Run before the handler, with the handshake as their request; results are discarded.
    dependencies: tuple[Depends, ...] = ()
    #: Router middleware around the handshake, outermost first.
    middleware: tuple[Callable[..., Any], ...] = ()
    localns: Mapping[str, Any] | None = None
    #: The origins whose pages may open it (an ``AllowedOrigins``; None: any).
    allowed_origins: Any = None


def checked_dependencies(dependencies: Iterable[object]) -> tuple[Depends, ...]:
    """``dependencies`` as a tuple, refusing anything but ``Depends(...)`` markers."""
    found: list[Depends] = []
    for item in dependencies:
        if not isinstance(item, Depends):
            raise TypeError(f"dependencies= takes Depends(...) markers, got {item!r}")
        found.append(item)
    return tuple(found)


class RouteDecorators:
    """``route``/``get``/``post``/``put``/``patch``/``delete``/``websocket`` for a route holder."""

    def add_route(self, spec: RouteSpec) -> None:
        """Take one declared HTTP route (the App builds it, a Router records it)."""
        raise NotImplementedError

    def add_websocket(self, spec: WebSocketSpec) -> None:
        """Take one declared WebSocket route."""
        raise NotImplementedError

    def route(
        self,
        path: str,
        methods: Iterable[str] = ("GET",),
        *,
        name: str | None = None,
        status_code: int = 200,
        max_body_size: int | None = None,
        inline: bool = False,
        tags: Iterable[str] = (),
        summary: str | None = None,
        description: str | None = None,
        deprecated: bool = False,
        operation_id: str | None = None,
        include_in_schema: bool = True,
        security: Iterable[Mapping[str, Iterable[str]]] | None = None,
        responses: Mapping[int, Any] | None = None,
        form_limits: FormLimits | None = None,
        dependencies: Iterable[Depends] = (),
        etag: bool | None = None,
        cache_control: str | None = None,
    ) -> Callable[[H], H]:
        """Register the decorated handler for ``methods`` at the path template ``path``.

        ``inline=True`` runs a ``def`` handler (and its ``def`` dependencies) directly on the
        ASGI event loop instead of the thread pool: only for code that never blocks.
        ``max_body_size`` and ``form_limits`` override the app's for this route.
        ``dependencies`` run before the handler, their results discarded (an ``HTTPError``
        one raises is the answer). ``etag=True`` gives its 200 answers to GET and HEAD a strong
        ETag and answers a matching If-None-Match with 304 (``etag=False`` opts out of
        ``App(etag=True)`` / ``Router(etag=True)``); ``cache_control`` is the Cache-Control
        value of its successful answers (see ``duoweb.caching``). The other keywords describe
        the operation in the OpenAPI document.
        """
        method_tuple = tuple(dict.fromkeys(m.upper() for m in methods))
        route_dependencies = checked_dependencies(dependencies)
        if cache_control is not None:
            from duoweb.headers import check_header

            check_header("cache-control", cache_control)
        requirements = (
            None
            if security is None
            else tuple({key: tuple(scopes) for key, scopes in req.items()} for req in security)
        )

        def register(handler: H) -> H:
            # The frame applying the decorator, whichever class this method belongs to: only
            # the names the annotations use are kept (an app factory's other locals may go).
            frame = inspect.currentframe()  # this function's; f_back applied the decorator
            caller = frame.f_back if frame is not None else None
            scope = annotation_scope(handler, caller.f_locals if caller is not None else None)
            self.add_route(
                RouteSpec(
                    handler,
                    path,
                    method_tuple,
                    name=name,
                    status_code=status_code,
                    max_body_size=max_body_size,
                    inline=inline,
                    tags=tuple(tags),
                    summary=summary,
                    description=description,
                    deprecated=deprecated,
                    operation_id=operation_id,
                    include_in_schema=include_in_schema,
                    security=requirements,
                    responses=dict(responses or {}),
                    form_limits=form_limits,
                    dependencies=route_dependencies,
                    etag=etag,
                    cache_control=cache_control,
                    localns=scope,
                )
            )
            return handler

        return register

    def get(self, path: str, **options: Any) -> Callable[[H], H]:
        """Register a GET handler (HEAD is answered from it automatically)."""
        return self.route(path, ("GET",), **options)

    def post(self, path: str, **options: Any) -> Callable[[H], H]:
        """Register a POST handler."""
        return self.route(path, ("POST",), **options)

    def put(self, path: str, **options: Any) -> Callable[[H], H]:
        """Register a PUT handler."""
        return self.route(path, ("PUT",), **options)

    def patch(self, path: str, **options: Any) -> Callable[[H], H]:
        """Register a PATCH handler."""
        return self.route(path, ("PATCH",), **options)

    def delete(self, path: str, **options: Any) -> Callable[[H], H]:
        """Register a DELETE handler."""
        return self.route(path, ("DELETE",), **options)

    def websocket(
        self,
        path: str,
        *,
        name: str | None = None,
        max_message_size: int = 1024 * 1024,
        dependencies: Iterable[Depends] = (),
        allowed_origins: OriginRule | None = None,
    ) -> Callable[[H], H]:
        """Register an ``async def`` WebSocket handler at ``path`` (served under ASGI only).

        The handler takes a ``WebSocket`` parameter plus any path parameters, by name.
        ``dependencies`` run with the handshake before it; one that fails refuses the
        connection. ``allowed_origins`` (an origin, a list, ``"*"``, a regex or a predicate,
        as for CORS) refuses a handshake whose ``Origin`` header names another site
        (browsers send it; a handshake without one, from a non-browser client, is let
        through).
        """
        route_dependencies = checked_dependencies(dependencies)
        origins = None
        if allowed_origins is not None:
            from duoweb.origins import AllowedOrigins

            origins = AllowedOrigins(allowed_origins, "allowed_origins")

        def register(handler: H) -> H:
            frame = inspect.currentframe()  # this function's; f_back applied the decorator
            caller = frame.f_back if frame is not None else None
            self.add_websocket(
                WebSocketSpec(
                    handler,
                    path,
                    name=name,
                    max_message_size=max_message_size,
                    dependencies=route_dependencies,
                    localns=annotation_scope(
                        handler, caller.f_locals if caller is not None else None
                    ),
                    allowed_origins=origins,
                )
            )
            return handler

        return register
