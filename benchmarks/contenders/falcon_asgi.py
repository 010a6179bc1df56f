"""Falcon (ASGI): the same resources as the WSGI app, with ``async def`` responders."""

from __future__ import annotations

import itertools

import falcon
import falcon.asgi

from benchmarks.contenders._handwritten import MAX_BODY, item_errors, parse_limit

_ids = itertools.count(1)


class Plaintext:
    """``GET /plaintext``."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Answer with a fixed text."""
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class Hello:
    """``GET /json``."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Answer with a fixed object."""
        resp.media = {"message": "Hello, World!"}


class RouteK:
    """``GET /api/v1/r{k}/{id:int}``, one instance per k."""

    def __init__(self, k: int) -> None:
        self.k = k

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, id: int) -> None:
        """Echo the route number and the id."""
        resp.media = {"route": self.k, "id": id}


class Search:
    """``GET /search?q=&limit=``."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Echo q and limit."""
        q = req.get_param("q")
        if q is None:
            raise falcon.HTTPUnprocessableEntity(description="query parameter q is required")
        limit = parse_limit(req.get_param("limit"))
        if limit is None:
            raise falcon.HTTPUnprocessableEntity(description="limit must be an integer in 1..100")
        resp.media = {"q": q, "limit": limit}


class Items:
    """``POST /items``."""

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Validate the item and echo it with a new id."""
        if (req.content_length or 0) > MAX_BODY:
            raise falcon.HTTPContentTooLarge()
        if req.content_type is None or not req.content_type.startswith(falcon.MEDIA_JSON):
            raise falcon.HTTPUnsupportedMediaType()
        data = await req.get_media()  # malformed JSON -> 400 MediaMalformedError
        errors = item_errors(data)
        if errors:
            raise falcon.HTTPUnprocessableEntity(description="; ".join(errors))
        resp.status = falcon.HTTP_201
        resp.media = {
            "id": next(_ids),
            "name": data["name"],
            "price": data["price"],
            "tags": data.get("tags", []),
        }


def build() -> falcon.asgi.App:
    """The Falcon ASGI app with all reference routes."""
    app = falcon.asgi.App()
    app.add_route("/plaintext", Plaintext())
    app.add_route("/json", Hello())
    for k in range(100):
        app.add_route(f"/api/v1/r{k}/{{id:int}}", RouteK(k))
    app.add_route("/search", Search())
    app.add_route("/items", Items())
    return app


asgi = build()
