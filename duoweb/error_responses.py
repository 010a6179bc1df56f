"""Exceptions raised while answering a request, turned into responses.

The app's exception handlers (``App.exception_handler``) are looked up along the exception's
MRO; without one, a validation error goes through the app's validation renderer (if any), an
``HTTPError`` becomes its problem+json answer and anything else a logged 500.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from duoweb._lazy import lazy_logger
from duoweb.concurrency import run_on_thread_loop
from duoweb.encoding import json_encode
from duoweb.errors import HTTPError, RequestValidationError, ValidationErrorItem
from duoweb.requests import Request
from duoweb.responses import Response, problem_response

#: A function answering one kind of exception: ``handler(request, exc) -> Response``.
ExceptionHandler = Callable[[Request, Any], "Response | Awaitable[Response]"]

#: The ``request.state`` key holding an exception the app answered with a 500.
UNHANDLED_EXCEPTION_KEY = "unhandled_exception"

logger = lazy_logger("duoweb", globals())


class ValidationRenderer(NamedTuple):
    """The app's own rendering of validation errors: status, media type and body function."""

    status: int
    media_type: str
    render: Callable[[list[ValidationErrorItem]], Any]


def internal_error() -> Response:
    """The 500 answer that tells the client nothing about the failure."""
    return problem_response(HTTPError(500, "The server could not complete the request."))


class ErrorResponder:
    """Turns an exception raised while answering a request into the app's response for it."""

    __slots__ = ("_cache", "debug", "handlers", "validation_renderer")

    def __init__(self, *, debug: bool = False) -> None:
        #: Include exception details in 500 responses. Never enable in production.
        self.debug = debug
        #: The registered exception handlers, by exception class.
        self.handlers: dict[type[BaseException], ExceptionHandler] = {}
        #: The app-wide rendering of request validation errors (None: problem+json).
        self.validation_renderer: ValidationRenderer | None = None
        self._cache: dict[type[BaseException], ExceptionHandler | None] = {}

    def add_handler(self, exc_type: type[BaseException], handler: ExceptionHandler) -> None:
        """Answer exceptions of ``exc_type`` (and its subclasses) with ``handler``."""
        self.handlers[exc_type] = handler
        self._cache.clear()

    def find_handler(self, exc_type: type[BaseException]) -> ExceptionHandler | None:
        """The handler registered for ``exc_type`` or its nearest base class, if any."""
        try:
            return self._cache[exc_type]
        except KeyError:
            pass
        found = None
        for klass in exc_type.__mro__:
            found = self.handlers.get(klass)
            if found is not None:
                break
        self._cache[exc_type] = found
        return found

    def default_response(self, request: Request, exc: Exception) -> Response:
        """The answer to ``exc`` when no exception handler takes it."""
        renderer = self.validation_renderer
        if isinstance(exc, RequestValidationError) and renderer is not None:
            try:
                body = json_encode(renderer.render(exc.errors))
            except Exception as failure:
                return _handler_failed(exc, failure)
            return Response(body, status_code=renderer.status, media_type=renderer.media_type)
        if isinstance(exc, HTTPError):
            try:
                return problem_response(exc)
            except Exception as failure:  # unsafe headers, extensions msgspec cannot encode
                logger.error("cannot render %r as a problem response", exc, exc_info=failure)
                return internal_error()
        # Observers outside the handler (tracing, error reporters) find it there.
        request.state[UNHANDLED_EXCEPTION_KEY] = exc
        logger.error("unhandled exception in %s %s", request.method, request.path, exc_info=exc)
        if self.debug:
            import traceback

            detail = "".join(traceback.format_exception(exc))
            return problem_response(HTTPError(500, detail))
        return internal_error()

    def respond_sync(self, request: Request, exc: Exception) -> Response:
        """The answer to ``exc`` (WSGI mode: an async handler runs on the thread's loop)."""
        request.background = None  # the handler failed: the tasks it added are dropped
        handler = self.find_handler(type(exc))
        if handler is None:
            return self.default_response(request, exc)
        try:
            result = handler(request, exc)
            if inspect.isawaitable(result):
                result = run_on_thread_loop(_as_coroutine(result))
            return _checked_response(handler, result)
        except Exception as failure:
            return _handler_failed(exc, failure)

    async def respond_async(self, request: Request, exc: Exception) -> Response:
        """The answer to ``exc`` on the event loop (ASGI mode)."""
        request.background = None  # the handler failed: the tasks it added are dropped
        handler = self.find_handler(type(exc))
        if handler is None:
            return self.default_response(request, exc)
        try:
            result = handler(request, exc)
            if inspect.isawaitable(result):
                result = await result
            return _checked_response(handler, result)
        except Exception as failure:
            return _handler_failed(exc, failure)


def _handler_failed(exc: Exception, failure: Exception) -> Response:
    logger.error("exception handler for %s failed", type(exc).__name__, exc_info=failure)
    return internal_error()


def _checked_response(handler: Any, result: Any) -> Response:
    if not isinstance(result, Response):
        raise TypeError(f"exception handler {handler!r} returned {result!r}, not a Response")
    return result


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
