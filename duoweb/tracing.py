"""OpenTelemetry tracing: one server span per request, named by the route template.

``app.middleware(TracingMiddleware())`` starts a ``SERVER`` span for each request, continuing
the trace of an incoming ``traceparent`` (through the globally configured propagator), with
the HTTP semantic-convention attributes; it records the exception behind a 500, and the
response carries the span's ``traceparent``. :class:`SpanContextFilter` puts the trace and
span ids on log records, beside the request id. Needs ``pip install duoweb[tracing]``
(``opentelemetry-api``); an SDK, configured by the application, exports the spans.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode

from duoweb.error_responses import UNHANDLED_EXCEPTION_KEY
from duoweb.headers import Headers
from duoweb.request_id import STATE_KEY as REQUEST_ID_KEY
from duoweb.requests import Request
from duoweb.responses import Response

__all__ = ["REQUEST_ID_ATTRIBUTE", "SpanContextFilter", "TracingMiddleware"]

#: The span attribute carrying the request id set by ``RequestIdMiddleware``.
REQUEST_ID_ATTRIBUTE: Final = "http.request.id"

_STANDARD_METHODS: Final = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")
)

SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]


class _HeaderGetter(Getter[Headers]):
    """Read propagation fields from duoweb's request headers."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        """Every value of header ``key``, or None."""
        values = carrier.getall(key)
        return values or None

    def keys(self, carrier: Headers) -> list[str]:
        """Every header name."""
        return list(carrier.keys())


_GETTER: Final = _HeaderGetter()


def _split_host(host: str | None) -> tuple[str | None, int | None]:
    """``("example.com", 8080)`` from ``"example.com:8080"``; IPv6 literals keep no brackets."""
    if not host:
        return None, None
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return host, None
        address, rest = host[1:end], host[end + 1 :]
    else:
        address, colon, rest = host.partition(":")
        rest = colon + rest
    port = rest[1:] if rest.startswith(":") else ""
    return address, int(port) if port.isdigit() and len(port) <= 5 else None


class TracingMiddleware:
    """Trace every request as one ``SERVER`` span named ``"{method} {route template}"``.

    - ``tracer_provider``: where spans go (default: the global one the SDK sets up).
    - ``propagate_response``: add the span's ``traceparent`` (and whatever else the global
      propagator injects) to every response.

    Attributes follow OpenTelemetry's HTTP server conventions: ``http.request.method``,
    ``http.route``, ``url.path``, ``url.query``, ``url.scheme``, ``server.address``,
    ``client.address``, ``user_agent.original``, ``http.response.status_code``, plus
    ``error.type`` for 5xx answers and :data:`REQUEST_ID_ATTRIBUTE` when
    ``RequestIdMiddleware`` runs before it. The span is current while the handler runs, so
    spans the handler starts are its children. It ends when the response is ready (a
    stream's body is not included). Dual-mode: ``__call__`` is the ``def`` middleware,
    ``call_async`` the ``async def`` one.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        propagate_response: bool = True,
    ) -> None:
        self.tracer = trace.get_tracer("duoweb", tracer_provider=tracer_provider)
        self.propagate_response = propagate_response

    def _start(self, request: Request) -> tuple[trace.Span, object]:
        method = request.method
        route = request.app.route_template(method, request.path)
        known = method if method in _STANDARD_METHODS else "_OTHER"
        name = known if route is None else f"{known} {route}"
        headers = request.headers
        attributes: dict[str, Any] = {
            "http.request.method": known,
            "url.path": request.path,
            "url.scheme": request.scheme,
        }
        if known != method:
            attributes["http.request.method_original"] = method
        if route is not None:
            attributes["http.route"] = route
        if request.query_string:
            attributes["url.query"] = request.query_string.decode("latin-1")
        address, port = _split_host(request.origin.host)
        if address:
            attributes["server.address"] = address
        if port is not None:
            attributes["server.port"] = port
        client = request.client
        if client is not None:
            attributes["client.address"] = client[0]
        agent = headers.get("user-agent")
        if agent is not None:
            attributes["user_agent.original"] = agent
        parent = propagate.extract(headers, getter=_GETTER)
        span = self.tracer.start_span(
            name, context=parent, kind=SpanKind.SERVER, attributes=attributes
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        return span, token

    def _finish(
        self,
        request: Request,
        span: trace.Span,
        token: object,
        response: Response | None,
        raised: BaseException | None,
    ) -> None:
        try:
            state = request.state
            request_id = state.get(REQUEST_ID_KEY)
            if request_id is not None:
                span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
            failure = raised or state.get(UNHANDLED_EXCEPTION_KEY)
            if failure is not None:
                span.record_exception(failure)
            status = 500 if response is None else response.status_code
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                error_type = type(failure).__qualname__ if failure is not None else str(status)
                span.set_attribute("error.type", error_type)
                span.set_status(Status(StatusCode.ERROR, error_type))
            if response is not None and self.propagate_response:
                carrier: dict[str, str] = {}
                propagate.inject(carrier)
                for name, value in carrier.items():
                    response.set_header(name, value)
        finally:
            otel_context.detach(token)  # type: ignore[arg-type]
            span.end()

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        span, token = self._start(request)
        try:
            response = call_next(request)
        except BaseException as exc:
            self._finish(request, span, token, None, exc)
            raise
        self._finish(request, span, token, response, None)
        return response

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        span, token = self._start(request)
        try:
            response = await call_next(request)
        except BaseException as exc:
            self._finish(request, span, token, None, exc)
            raise
        self._finish(request, span, token, response, None)
        return response


class SpanContextFilter(logging.Filter):
    """Set ``record.trace_id`` and ``record.span_id`` (hex) from the current span.

    Attach it to a logging *handler*, beside ``RequestIdFilter``: every record then carries
    the request id and the trace it belongs to. Outside a span both are ``default``.
    """

    def __init__(self, default: str = "-") -> None:
        super().__init__()
        self.default = default

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the ids; never drops a record."""
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            record.trace_id = format(span_context.trace_id, "032x")
            record.span_id = format(span_context.span_id, "016x")
        else:
            record.trace_id = record.span_id = self.default
        return True
