"""The responder of an ETag route with a path-parameters-only ``def`` handler: the pure twin.

``duoweb._speedups._tagged`` compiles the same API; ``duoweb.route_caching`` builds one per
such route. It does what the dispatchers do for a direct route (call the handler with the
path parameters, encode its result) and tags the body where it is encoded, so an ETag
costs the route no Python call more than the dispatcher's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from duoweb.caching import NotModifiedResponse, if_none_match_hits, strong_etag
from duoweb.responses import JSON_HEADERS, Response
from duoweb.return_types import ENCODE_ERRORS

if TYPE_CHECKING:
    from duoweb.requests import Request
    from duoweb.return_types import ResponsePlan

__all__ = ["TaggedResponder"]

(CONTENT_TYPE_FIELD,) = JSON_HEADERS


class TaggedResponder:
    """Answers one route's requests with a strong ETag, and 304 to a matching If-None-Match.

    - ``handler`` takes only the route's path parameters (by name) and is called here;
    - a result that is a Response or None is rendered by ``plan`` and handed to ``finish``
      (the route's general validator step);
    - any other result is encoded by ``plan``; a 200 gets the strong tag of its body. The
      last body and its tag are kept: an equal body (compared as bytes, far cheaper than
      hashing it) reuses the tag;
    - If-None-Match is compared only when the request carries one (an exact match at once,
      anything else by ``caching.if_none_match_hits``).
    """

    __slots__ = ("_encode", "_finish", "_handler", "_last", "_plan", "_status")

    def __init__(
        self,
        handler: Callable[..., Any],
        plan: ResponsePlan,
        finish: Callable[[Request, Response], Response],
    ) -> None:
        self._handler = handler
        self._plan = plan
        self._encode = plan.encoder
        self._status = plan.status_code
        self._finish = finish
        empty = b""
        # One tuple (body, tag, the ETag field): threads always see a matching set.
        tag = strong_etag(empty)
        self._last: tuple[bytes, str, tuple[str, str]] = (empty, tag, ("etag", tag))

    def respond(self, request: Request) -> Response:
        """The answer to ``request``: the handler's result, tagged, or a 304."""
        result = self._handler(**request.path_params)
        plan = self._plan
        if isinstance(result, Response) or result is None:
            return self._finish(request, plan.render(result))
        try:
            body = self._encode(result)
        except ENCODE_ERRORS as exc:
            raise plan.broken(exc) from exc
        status = self._status
        if status != 200:
            return Response.from_checked_parts(status, body, [CONTENT_TYPE_FIELD])
        last = self._last
        if body != last[0]:
            tag = strong_etag(body)
            last = self._last = (body, tag, ("etag", tag))
        response = Response.from_checked_parts(200, body, [CONTENT_TYPE_FIELD, last[2]])
        condition = request.header("if-none-match")
        if condition is None:
            return response
        if condition == last[1] or if_none_match_hits(condition, last[1]):
            return NotModifiedResponse(response)
        return response
