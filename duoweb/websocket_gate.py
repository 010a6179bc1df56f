"""Route, router and handler dependencies and middleware in front of a WebSocket handler.

They see the handshake as a Request. A dependency that raises, or a middleware that answers
without calling ``call_next``, refuses the connection: a close before accept, which the
server answers with 403; the handler's own ``Depends`` parameters get the providers' values.
Only WebSocket routes with dependencies or router middleware import this module.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from duoweb._lazy import lazy_logger
from duoweb._messages import asgi_request
from duoweb.asgi import ASGIRequest
from duoweb.errors import HTTPError, RequestValidationError
from duoweb.middleware import async_chain
from duoweb.responses import Response, problem_response
from duoweb.websockets import WebSocketState

if TYPE_CHECKING:
    from duoweb.app import App
    from duoweb.endpoints import WebSocketEndpoint
    from duoweb.requests import Request
    from duoweb.websockets import WebSocket

logger = lazy_logger("duoweb", globals())

#: What ``call_next`` returns to router middleware once a WebSocket session has ended.
SESSION_ENDED = 101


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _refusal(exc: Exception) -> Response:
    if isinstance(exc, RequestValidationError):
        return problem_response(HTTPError(403, "The WebSocket handshake is not valid."))
    if isinstance(exc, HTTPError):
        return problem_response(exc)
    return problem_response(HTTPError(500, "The server could not complete the request."))


async def run_guarded(app: App, endpoint: WebSocketEndpoint, websocket: WebSocket) -> None:
    """Run ``endpoint``'s dependencies and middleware, then (if they allow) its handler."""
    request = asgi_request(ASGIRequest, app, {**websocket.scope, "method": "GET"}, _no_body)
    request.path_params = websocket.path_params

    async def session(handshake: Request) -> Response:
        async with contextlib.AsyncExitStack() as stack:
            try:
                provided = await endpoint.run_dependencies(handshake, stack, app.thread_pool)
            except Exception as exc:
                if not isinstance(exc, HTTPError | RequestValidationError):
                    logger.error("dependency of WebSocket route %s failed", endpoint.name)
                return _refusal(exc)
            await app.run_websocket_handler(endpoint, websocket, provided)
        return Response(status_code=SESSION_ENDED)

    try:
        if endpoint.middleware:
            chain = async_chain(endpoint.middleware, session, app.thread_pool)
            response = await chain(request)
        else:
            response = await session(request)
    except Exception as exc:
        logger.exception("WebSocket route %s failed", endpoint.name)
        response = _refusal(exc)
    if websocket.state is WebSocketState.CONNECTING:
        if response.status_code != SESSION_ENDED:
            logger.info("WebSocket %s refused: %s", endpoint.name, response.status_code)
        await websocket.close(1008)  # before accept: the handshake is refused (403)
