"""The route options ``etag=`` and ``cache_control=``: validators a route adds itself.

Built once per route at registration, and only for routes that use an option (an app that
uses none never imports this module). No middleware layer: the route's responders are
wrapped, and a path-parameters-only ``def`` handler is called straight from the wrapper.

- The ETag is a strong tag of the encoded body (``duoweb.caching.strong_etag``). Each route
  remembers its last body and tag: a body equal to the last one (bytes compared, which is
  far cheaper than hashing them) gets the same tag without being hashed again.
- If-None-Match is read straight from the protocol's request (the WSGI environ, the ASGI
  header list), without building the headers view; only a request carrying one pays for the
  comparison (RFC 9110 weak comparison, lists and ``*``).
- Only 200 answers to GET and HEAD get a tag; streams (``StreamingResponse``,
  ``FileResponse``) are left alone, since their bytes are not known before they are sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from duoweb.caching import NotModifiedResponse, if_none_match_hits, strong_etag
from duoweb.headers import check_header
from duoweb.responses import Response
from duoweb.streaming import StreamingResponse

if TYPE_CHECKING:
    from duoweb.concurrency import ThreadPool
    from duoweb.requests import Request
    from duoweb.return_types import ResponsePlan

__all__ = ["RouteCaching"]

#: The field's name as ASGI servers send it (lowercase; other cases are compared too).

SyncResponder = Callable[["Request"], Response]
AsyncResponder = Callable[["Request", "ThreadPool"], Any]


class RouteCaching:
    """One route's ETag and Cache-Control, applied around its responders."""

    __slots__ = ("_last", "cache_control", "etag", "tags_every_method")

    def __init__(self, *, etag: bool, cache_control: str | None, methods: tuple[str, ...]) -> None:
        if cache_control is not None:
            check_header("cache-control", cache_control)
        #: Tag 200 answers to GET and HEAD, answer a matching If-None-Match with 304.
        self.etag = etag
        #: The Cache-Control value of successful (2xx, 304) answers to GET and HEAD.
        self.cache_control = cache_control
        #: The route answers only GET (and HEAD): no need to look at the method per request.
        self.tags_every_method = all(m in ("GET", "HEAD") for m in methods)
        empty = b""
        self._last: tuple[bytes, str] = (empty, strong_etag(empty))

    def tag(self, body: bytes) -> str:
        """The strong ETag of ``body``, hashed only when it differs from the last body."""
        last = self._last
        if body == last[0]:
            return last[1]
        tag = strong_etag(body)
        self._last = (body, tag)  # one tuple: threads always see a matching pair
        return tag

    def finish(self, request: Request, response: Response) -> Response:
        """``response`` with the route's validators; a 304 if If-None-Match matches its tag."""
        if not self.tags_every_method and request.method not in ("GET", "HEAD"):
            return response
        status = response.status_code
        if not (200 <= status < 300) or isinstance(response, StreamingResponse):
            return self._cache_control(response)
        etag = None
        if self.etag and status == 200:
            etag = response.get_header("etag")  # a handler's own tag (a version…) is kept
            if etag is None:
                etag = self.tag(response.body)
                response.append_header("etag", etag)
        response = self._cache_control(response)
        if etag is not None:
            condition = request.header("if-none-match")
            if condition is not None and if_none_match_hits(condition, etag):
                return NotModifiedResponse(response)
        return response

    def _cache_control(self, response: Response) -> Response:
        """``response`` with the route's Cache-Control, unless it is an error or has its own."""
        policy = self.cache_control
        status = response.status_code
        if policy is None or not (200 <= status < 300) or response.get_header("cache-control"):
            return response
        if status == 204 and not response.body and not response.headers:
            # ``None`` results share one 204 object: never change it, answer with a copy.
            return Response(b"", 204, {"cache-control": policy})
        response.append_header("cache-control", policy)
        return response

    def direct(self, handler: Callable[..., Any], plan: ResponsePlan) -> SyncResponder:
        """The responder of a path-parameters-only ``def`` handler, called right here.

        What the dispatchers do for such a route (call the handler with the path parameters,
        render its result), with the validators added. An ETag-only GET route gets a
        compiled ``TaggedResponder`` (``duoweb.tagged_responder``): the tag is made where
        the body is encoded and If-None-Match read with ``request.header``, without a
        Python frame, since on ``GET /json`` one Python call costs several percent of the
        whole request.
        """
        finish = self.finish
        if self.etag and self.cache_control is None and self.tags_every_method:
            from duoweb.tagged_responder import TaggedResponder

            return TaggedResponder(handler, plan, finish).respond
        render = plan.render

        # Only Cache-Control, or other methods: the general finish is cheap enough.
        def respond_finished(request: Request) -> Response:
            result = handler(**request.path_params)
            response = result if isinstance(result, Response) else render(result)
            return finish(request, response)

        return respond_finished

    def wrap(
        self, respond_sync: SyncResponder, respond_async: AsyncResponder
    ) -> tuple[SyncResponder, AsyncResponder]:
        """A route's responder pair, each answer finished with the validators."""
        finish = self.finish

        def finished_sync(request: Request) -> Response:
            return finish(request, respond_sync(request))

        async def finished_async(request: Request, pool: ThreadPool) -> Response:
            return finish(request, await respond_async(request, pool))

        return finished_sync, finished_async
