"""ETags and Cache-Control from the route options and ``App(etag=True)``, in both modes.

The route options are served without a middleware layer (``duoweb.route_caching``); these
tests drive every call path they wrap (a path-parameters-only ``def`` handler called by the
wrapper itself, query/body handlers, ``async def``, inline or on the thread pool, router
middleware around them) through the WSGI and ASGI adapters.
"""

from __future__ import annotations

from typing import Any

import pytest

from duoweb import App, HTTPError, Response, Router, StreamingResponse
from duoweb.caching import cache_control, strong_etag
from duoweb.compression import CompressionMiddleware
from duoweb.cors import CORSMiddleware
from tests.conftest import MakeClient

PLAIN = {"accept-encoding": "identity"}
BIG = [{"sku": n, "title": f"product {n}"} for n in range(200)]


def _declare(app: App | Router, kind: str, inline: bool, state: dict[str, int]) -> None:
    """The same routes as ``def`` or ``async def`` handlers (no route says ``etag``)."""
    if kind == "def":

        @app.get("/version", inline=inline)
        def version() -> dict[str, int]:
            return {"version": state["version"]}

        @app.get("/items/{n}", inline=inline)
        def item(n: int) -> dict[str, int]:
            return {"n": n, "version": state["version"]}

        @app.get("/search", inline=inline)
        def search(q: str) -> list[str]:
            return [q] * state["version"]

        @app.route("/both", ["GET", "POST"], inline=inline)
        def both() -> int:
            return state["version"]

        @app.get("/off", etag=False, inline=inline)
        def off() -> int:
            return 1

        @app.get("/missing", inline=inline)
        def missing() -> int:
            raise HTTPError(404, "no such thing")

        @app.get("/stream", inline=inline)
        def stream() -> StreamingResponse:
            return StreamingResponse(iter([b"a", b"b"]))

    else:

        @app.get("/version")
        async def version_async() -> dict[str, int]:
            return {"version": state["version"]}

        @app.get("/items/{n}")
        async def item_async(n: int) -> dict[str, int]:
            return {"n": n, "version": state["version"]}

        @app.get("/search")
        async def search_async(q: str) -> list[str]:
            return [q] * state["version"]

        @app.route("/both", ["GET", "POST"])
        async def both_async() -> int:
            return state["version"]

        @app.get("/off", etag=False)
        async def off_async() -> int:
            return 1

        @app.get("/missing")
        async def missing_async() -> int:
            raise HTTPError(404, "no such thing")

        @app.get("/stream")
        async def stream_async() -> StreamingResponse:
            return StreamingResponse(iter([b"a", b"b"]))


HANDLERS = [("def", True), ("def", False), ("async def", False)]


@pytest.mark.parametrize(("kind", "inline"), HANDLERS)
def test_app_wide_etags_on_every_get_route(
    kind: str, inline: bool, make_client: MakeClient
) -> None:
    state = {"version": 1}
    app = App(etag=True)
    _declare(app, kind, inline, state)
    with make_client(app) as client:
        for path in ("/version", "/items/3", "/search?q=hat", "/both"):
            first = client.get(path)
            assert first.status_code == 200, path
            etag = first.headers["etag"]
            assert etag == strong_etag(first.content), path
            for condition in (etag, f"W/{etag}", f'"nope", {etag}', "*", f' W/"x",W/{etag} '):
                cached = client.get(path, headers={"if-none-match": condition})
                assert cached.status_code == 304, (path, condition)
                assert cached.content == b""
                assert cached.headers["etag"] == etag
                assert "content-length" not in cached.headers
                assert "content-type" not in cached.headers
            for condition in ('"nope"', etag[1:-1], '"' + etag, ""):
                missed = client.get(path, headers={"if-none-match": condition})
                assert missed.status_code == 200, (path, condition)
                assert missed.headers["etag"] == etag
            head = client.head(path)
            assert head.content == b""
            assert head.headers["etag"] == etag
            assert head.headers["content-length"] == first.headers["content-length"]
            assert client.head(path, headers={"if-none-match": etag}).status_code == 304

        old = client.get("/items/3").headers["etag"]
        state["version"] = 2  # every body changes: so do the tags
        changed = client.get("/items/3", headers={"if-none-match": old})
        assert changed.status_code == 200
        assert changed.headers["etag"] == strong_etag(changed.content) != old

        posted = client.post("/both", headers={"if-none-match": "*"})
        assert posted.status_code == 200
        assert "etag" not in posted.headers
        assert "etag" not in client.get("/off").headers
        assert client.get("/off", headers={"if-none-match": "*"}).status_code == 200
        missing = client.get("/missing", headers={"if-none-match": "*"})
        assert missing.status_code == 404
        assert "etag" not in missing.headers
        streamed = client.get("/stream", headers={"if-none-match": "*"})
        assert streamed.status_code == 200
        assert streamed.content == b"ab"
        assert "etag" not in streamed.headers


@pytest.mark.parametrize(("kind", "inline"), HANDLERS)
def test_without_the_option_no_route_is_tagged(
    kind: str, inline: bool, make_client: MakeClient
) -> None:
    app = App()
    _declare(app, kind, inline, {"version": 1})
    with make_client(app) as client:
        for path in ("/version", "/items/3", "/search?q=hat", "/both"):
            answer = client.get(path, headers={"if-none-match": "*"})
            assert answer.status_code == 200
            assert "etag" not in answer.headers


@pytest.mark.parametrize(("kind", "inline"), HANDLERS)
def test_routers_set_the_default_for_their_routes(
    kind: str, inline: bool, make_client: MakeClient
) -> None:
    app = App()
    tagged = Router(prefix="/tagged", name="tagged", etag=True)
    _declare(tagged, kind, inline, {"version": 1})
    untagged = Router(prefix="/untagged", name="untagged", etag=False)
    inner = Router(prefix="/inner")  # says nothing: the outer router decides
    _declare(inner, kind, inline, {"version": 1})
    untagged.include_router(inner)
    app.include_router(tagged)
    app.include_router(untagged)
    everywhere = App(etag=True)
    opted_out = Router(prefix="/r", etag=False)
    _declare(opted_out, kind, inline, {"version": 1})
    everywhere.include_router(opted_out)
    with make_client(app) as client:
        assert "etag" in client.get("/tagged/items/1").headers
        assert "etag" not in client.get("/tagged/off").headers  # the route's own word wins
        assert "etag" not in client.get("/untagged/inner/items/1").headers
    with make_client(everywhere) as client:
        assert "etag" not in client.get("/r/items/1").headers


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_304_and_head_carry_cache_control_and_vary_with_compression_and_cors(
    kind: str, make_client: MakeClient
) -> None:
    app = App(etag=True)
    app.middleware(CORSMiddleware(allow_origins=["https://shop.example"]))
    app.middleware(CompressionMiddleware())
    policy = cache_control(public=True, max_age=60)
    if kind == "def":

        @app.get("/rows/{page}", cache_control=policy)
        def rows(page: int) -> list[dict[str, Any]]:
            return BIG

    else:

        @app.get("/rows/{page}", cache_control=policy)
        async def rows_async(page: int) -> list[dict[str, Any]]:
            return BIG

    browser = {"origin": "https://shop.example", "accept-encoding": "gzip"}
    with make_client(app) as client:
        full = client.get("/rows/1", headers=browser)
        assert full.headers["content-encoding"] == "gzip"
        assert full.headers["etag"].startswith('W/"')  # tagged before compression: weak
        head = client.head("/rows/1", headers=browser)
        cached = client.get("/rows/1", headers={**browser, "if-none-match": full.headers["etag"]})
        assert cached.status_code == 304
        for name in ("etag", "vary", "cache-control", "access-control-allow-origin"):
            assert full.headers[name] == head.headers[name] == cached.headers[name], name
        assert full.headers["vary"] == "Accept-Encoding, Origin"
        assert full.headers["cache-control"] == "public, max-age=60"
        plain = client.get("/rows/1", headers=PLAIN)
        assert plain.headers["etag"] == strong_etag(plain.content)
        # The identity answer's strong tag revalidates the gzip one (weak comparison).
        again = client.get("/rows/1", headers={**browser, "if-none-match": plain.headers["etag"]})
        assert again.status_code == 304


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_a_handler_tag_and_cache_control_are_kept(kind: str, make_client: MakeClient) -> None:
    app = App()
    if kind == "def":

        @app.get("/own/{n}", etag=True, cache_control="no-cache")
        def own(n: int) -> Response:
            return Response(b"x", headers={"etag": f'W/"v{n}"', "cache-control": "max-age=5"})

    else:

        @app.get("/own/{n}", etag=True, cache_control="no-cache")
        async def own_async(n: int) -> Response:
            return Response(b"x", headers={"etag": f'W/"v{n}"', "cache-control": "max-age=5"})

    with make_client(app) as client:
        answer = client.get("/own/1")
        assert answer.headers["etag"] == 'W/"v1"'
        assert answer.headers["cache-control"] == "max-age=5"
        cached = client.get("/own/1", headers={"if-none-match": '"v1"'})
        assert cached.status_code == 304
        assert cached.headers["cache-control"] == "max-age=5"
        assert client.get("/own/2", headers={"if-none-match": '"v1"'}).status_code == 200


@pytest.mark.parametrize(("kind", "inline"), HANDLERS)
def test_cache_control_alone_and_on_no_content(
    kind: str, inline: bool, make_client: MakeClient
) -> None:
    app = App()
    if kind == "def":

        @app.get("/gone", cache_control="no-store", inline=inline)
        def gone() -> None:
            return None

        @app.get("/nothing", inline=inline)
        def nothing() -> None:
            return None

        @app.get("/fails", cache_control="no-store", inline=inline)
        def fails() -> int:
            raise HTTPError(409, "busy")

    else:

        @app.get("/gone", cache_control="no-store")
        async def gone_async() -> None:
            return None

        @app.get("/nothing")
        async def nothing_async() -> None:
            return None

        @app.get("/fails", cache_control="no-store")
        async def fails_async() -> int:
            raise HTTPError(409, "busy")

    with make_client(app) as client:
        no_content = client.get("/gone", headers={"if-none-match": "*"})
        assert no_content.status_code == 204
        assert no_content.headers["cache-control"] == "no-store"
        assert "etag" not in no_content.headers
        # The 204 every None result shares was not changed by the route above.
        assert "cache-control" not in client.get("/nothing").headers
        assert "cache-control" not in client.get("/fails").headers


def test_alternating_bodies_each_get_their_own_tag(make_client: MakeClient) -> None:
    app = App()

    @app.get("/items/{n}", etag=True, inline=True)
    def item(n: int) -> dict[str, int]:
        return {"n": n}

    with make_client(app) as client:
        for n in (1, 2, 1, 1, 22, 2):
            answer = client.get(f"/items/{n}")
            assert answer.headers["etag"] == strong_etag(b'{"n":%d}' % n)


def test_repeated_if_none_match_fields_are_one_list(make_client: MakeClient) -> None:
    app = App(etag=True)

    @app.get("/x")
    def x() -> int:
        return 1

    with make_client(app) as client:
        etag = client.get("/x").headers["etag"]
        fields = [("if-none-match", '"a"'), ("if-none-match", etag)]
        assert client.get("/x", headers=fields).status_code == 304
