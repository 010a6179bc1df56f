"""The answers given before any handler runs: 414, 404, 405, 204 for OPTIONS, 426 and 501."""

from __future__ import annotations

from collections.abc import Sized
from typing import TYPE_CHECKING, Any

from duoweb._lazy import lazy_logger
from duoweb.errors import HTTPError
from duoweb.requests import Request
from duoweb.responses import Response, problem_response

if TYPE_CHECKING:
    from duoweb.routing import RouteTable

logger = lazy_logger("duoweb", globals())


def path_too_long(limit: int) -> Response:
    """The 414 answer to a path longer than ``limit`` characters."""
    return problem_response(HTTPError(414, f"The path is longer than {limit} characters."))


class Unrouted:
    """Answers requests no HTTP route takes, knowing the app's WebSocket routes."""

    __slots__ = ("_warned_wsgi", "websocket_endpoints", "websocket_router")

    def __init__(self, websocket_router: RouteTable[Any], websocket_endpoints: Sized) -> None:
        #: The app's WebSocket route table and its routes (empty: no lookup is made).
        self.websocket_router = websocket_router
        self.websocket_endpoints = websocket_endpoints
        self._warned_wsgi = False

    def answer(self, request: Request, allowed: tuple[str, ...] | None, *, asgi: bool) -> Response:
        """404, 405 + Allow, 204 + Allow for OPTIONS; 426/501 at a WebSocket route's path.

        ``allowed`` is the router's answer: None when no route has this path, else the
        methods the path's routes take.
        """
        method = request.method
        if allowed is None:
            if (
                self.websocket_endpoints
                and self.websocket_router.match("GET", request.path)[0] is not None
            ):
                return self.websocket_over_http(asgi=asgi)
            return problem_response(HTTPError(404, "No route matches this path."))
        allow = ", ".join(allowed)
        if method == "OPTIONS":
            return Response(status_code=204, headers={"allow": allow})
        return problem_response(
            HTTPError(405, f"{method} is not allowed here.", headers={"allow": allow})
        )

    def websocket_over_http(self, *, asgi: bool) -> Response:
        """426 Upgrade under ASGI; 501 under WSGI, which cannot serve WebSockets (warned once)."""
        if asgi:
            return problem_response(
                HTTPError(426, "This is a WebSocket endpoint.", headers={"upgrade": "websocket"})
            )
        if not self._warned_wsgi:
            self._warned_wsgi = True
            logger.warning("a WebSocket route was requested, but WSGI cannot serve WebSockets")
        return problem_response(
            HTTPError(
                501,
                "WebSocket routes need an ASGI server (e.g. hypercorn module:app.asgi); "
                "this app is being served through WSGI.",
            )
        )
