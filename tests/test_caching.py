"""ETags, 304 Not Modified and Cache-Control, with compression and CORS, in both modes."""

from __future__ import annotations

import pytest

from duoweb import App, StreamingResponse
from duoweb.caching import (
    CacheControlMiddleware,
    ETagMiddleware,
    cache_control,
    if_none_match_hits,
    strong_etag,
)
from duoweb.compression import CompressionMiddleware
from duoweb.cors import CORSMiddleware
from tests.conftest import MakeClient

ROWS = [{"sku": n, "title": f"product {n}"} for n in range(200)]


@pytest.fixture(params=["def", "async def"])
def app(request: pytest.FixtureRequest) -> App:
    app = App()
    app.middleware(CORSMiddleware(allow_origins=["https://shop.example"]))
    app.middleware(ETagMiddleware())
    app.middleware(CacheControlMiddleware({"/catalog": cache_control(max_age=60, public=True)}))
    app.middleware(CompressionMiddleware())
    state = {"version": 1}
    if request.param == "def":

        @app.get("/catalog")
        def catalog() -> dict[str, object]:
            return {"version": state["version"], "rows": ROWS}

        @app.post("/catalog")
        def bump() -> int:
            state["version"] += 1
            return state["version"]

        @app.get("/stream")
        def stream() -> StreamingResponse:
            return StreamingResponse(iter([b"a", b"b"]))

    else:

        @app.get("/catalog")
        async def catalog_async() -> dict[str, object]:
            return {"version": state["version"], "rows": ROWS}

        @app.post("/catalog")
        async def bump_async() -> int:
            state["version"] += 1
            return state["version"]

        @app.get("/stream")
        async def stream_async() -> StreamingResponse:
            return StreamingResponse(iter([b"a", b"b"]))

    return app


PLAIN = {"accept-encoding": "identity"}


def test_a_strong_etag_from_the_body_and_304_on_a_match(app: App, make_client: MakeClient) -> None:
    with make_client(app) as client:
        first = client.get("/catalog", headers=PLAIN)
        etag = first.headers["etag"]
        assert etag == strong_etag(first.content)
        again = client.get("/catalog", headers={**PLAIN, "if-none-match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert "content-length" not in again.headers
        assert "content-type" not in again.headers
        assert again.headers["etag"] == etag
        assert (
            again.headers["cache-control"]
            == first.headers["cache-control"]
            == ("public, max-age=60")
        )
        listed = client.get("/catalog", headers={**PLAIN, "if-none-match": f'"x", W/{etag}'})
        assert listed.status_code == 304
        assert client.get("/catalog", headers={**PLAIN, "if-none-match": "*"}).status_code == 304
        other = client.get("/catalog", headers={**PLAIN, "if-none-match": '"other"'})
        assert other.status_code == 200
        assert other.json()["version"] == 1

        client.post("/catalog")  # the body changes: so does the tag
        changed = client.get("/catalog", headers={**PLAIN, "if-none-match": etag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag
        assert changed.json()["version"] == 2


def test_head_and_304_carry_the_same_validators_as_the_200(
    app: App, make_client: MakeClient
) -> None:
    asked = {"accept-encoding": "gzip", "origin": "https://shop.example"}
    with make_client(app) as client:
        full = client.get("/catalog", headers=asked)
        assert full.headers["content-encoding"] == "gzip"
        head = client.head("/catalog", headers=asked)
        assert head.content == b""
        cached = client.get("/catalog", headers={**asked, "if-none-match": full.headers["etag"]})
    assert cached.status_code == 304
    for name in ("etag", "vary", "cache-control", "access-control-allow-origin"):
        assert head.headers[name] == full.headers[name] == cached.headers[name], name
    assert full.headers["vary"] == "Accept-Encoding, Origin"


def test_each_encoding_has_its_own_tag(app: App, make_client: MakeClient) -> None:
    with make_client(app) as client:
        plain = client.get("/catalog", headers=PLAIN)
        gzipped = client.get("/catalog", headers={"accept-encoding": "gzip"})
        assert gzipped.headers["content-encoding"] == "gzip"
        assert plain.headers["etag"] != gzipped.headers["etag"]
        assert not gzipped.headers["etag"].startswith("W/")
        # The gzip body is deterministic, so its tag validates the next gzip answer.
        revalidated = client.get(
            "/catalog",
            headers={"accept-encoding": "gzip", "if-none-match": gzipped.headers["etag"]},
        )
        assert revalidated.status_code == 304
        mismatch = client.get(
            "/catalog", headers={**PLAIN, "if-none-match": gzipped.headers["etag"]}
        )
        assert mismatch.status_code == 200


def test_errors_streams_and_other_methods_get_no_tag(app: App, make_client: MakeClient) -> None:
    with make_client(app) as client:
        assert "etag" not in client.get("/nowhere").headers
        assert "etag" not in client.post("/catalog").headers
        streamed = client.get("/stream", headers={"if-none-match": "*"})
        assert streamed.status_code == 200
        assert streamed.content == b"ab"
        assert "etag" not in streamed.headers
        assert "cache-control" not in client.get("/nowhere").headers


def test_only_the_listed_routes_and_a_handler_tag_is_kept(make_client: MakeClient) -> None:
    from duoweb import Response

    app = App()
    app.middleware(ETagMiddleware(routes=["/tagged/{n}", "/own"]))

    @app.get("/tagged/{n}")
    def tagged(n: int) -> int:
        return n

    @app.get("/untagged")
    def untagged() -> int:
        return 0

    @app.get("/own")
    def own() -> Response:
        return Response(b"x", headers={"etag": 'W/"v1"'})

    with make_client(app) as client:
        assert client.get("/tagged/3").headers["etag"] == strong_etag(b"3")
        assert "etag" not in client.get("/untagged").headers
        assert client.get("/own").headers["etag"] == 'W/"v1"'
        assert client.get("/own", headers={"if-none-match": '"v1"'}).status_code == 304


def test_if_none_match_parsing() -> None:
    tag = '"abc"'
    assert if_none_match_hits('"abc"', tag)
    assert if_none_match_hits('W/"abc"', tag)
    assert if_none_match_hits(' "x" ,W/"abc"', tag)
    assert if_none_match_hits(" * ", tag)
    assert if_none_match_hits('"abc"', 'W/"abc"')
    assert not if_none_match_hits('"abcd", "ab"', tag)
    assert not if_none_match_hits("abc", tag)
    assert not if_none_match_hits("", tag)
    assert not if_none_match_hits('"' * 100_000, tag)


def test_cache_control_directives() -> None:
    assert cache_control(max_age=0, no_cache=True) == "no-cache, max-age=0"
    assert cache_control(no_store=True) == "no-store"
    assert cache_control(private=True, max_age=30, stale_while_revalidate=5) == (
        "private, max-age=30, stale-while-revalidate=5"
    )
    assert cache_control(public=True, s_maxage=600, immutable=True) == (
        "public, immutable, s-maxage=600"
    )
    with pytest.raises(ValueError, match="both public and private"):
        cache_control(public=True, private=True)
    with pytest.raises(ValueError, match="negative"):
        cache_control(max_age=-1)
    with pytest.raises(ValueError, match="at least one"):
        cache_control()


def test_cache_control_default_and_handler_choice(make_client: MakeClient) -> None:
    from duoweb import Response

    app = App()
    app.middleware(CacheControlMiddleware(default="no-store"))

    @app.get("/default")
    def default() -> int:
        return 1

    @app.get("/own")
    def own() -> Response:
        return Response(b"1", headers={"cache-control": "max-age=5"})

    with make_client(app) as client:
        assert client.get("/default").headers["cache-control"] == "no-store"
        assert client.get("/own").headers["cache-control"] == "max-age=5"


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_route_options_under_app_compression_and_cors(kind: str, make_client: MakeClient) -> None:
    from duoweb import Router

    app = App()
    app.middleware(CORSMiddleware(allow_origins=["https://shop.example"]))
    app.middleware(CompressionMiddleware())
    router = Router(prefix="/api")
    policy = cache_control(private=True, max_age=30)
    if kind == "def":

        @router.get("/rows", etag=True, cache_control=policy)
        def rows() -> list[dict[str, object]]:
            return ROWS

        @app.get("/small", etag=True)
        def small() -> dict[str, int]:
            return {"n": 1}

    else:

        @router.get("/rows", etag=True, cache_control=policy)
        async def rows_async() -> list[dict[str, object]]:
            return ROWS

        @app.get("/small", etag=True)
        async def small_async() -> dict[str, int]:
            return {"n": 1}

    app.include_router(router)
    browser = {"origin": "https://shop.example", "accept-encoding": "gzip"}
    with make_client(app) as client:
        full = client.get("/api/rows", headers=browser)
        assert full.headers["content-encoding"] == "gzip"
        assert full.headers["etag"].startswith('W/"')  # compressed inside: a weak tag
        head = client.head("/api/rows", headers=browser)
        cached = client.get("/api/rows", headers={**browser, "if-none-match": full.headers["etag"]})
        assert cached.status_code == 304
        assert cached.content == b""
        for name in ("etag", "vary", "cache-control", "access-control-allow-origin"):
            assert full.headers[name] == head.headers[name] == cached.headers[name], name
        assert full.headers["vary"] == "Accept-Encoding, Origin"
        assert full.headers["cache-control"] == "private, max-age=30"

        plain = client.get("/api/rows", headers={"accept-encoding": "identity"})
        assert plain.headers["etag"] == strong_etag(plain.content)
        assert client.post("/api/rows").status_code == 405

        # Too small to compress: the tag stays strong on the 200 and on its 304.
        tiny = client.get("/small", headers=browser)
        assert "content-encoding" not in tiny.headers
        tiny_cached = client.get(
            "/small", headers={**browser, "if-none-match": tiny.headers["etag"]}
        )
        assert tiny_cached.status_code == 304
        assert tiny_cached.headers["etag"] == tiny.headers["etag"] == strong_etag(b'{"n":1}')
        assert (
            "vary" not in tiny_cached.headers
            or "Accept-Encoding" not in tiny_cached.headers["vary"]
        )


def test_a_bad_cache_control_option_is_refused_at_registration() -> None:
    app = App()
    with pytest.raises(ValueError, match="cache-control"):
        app.get("/x", cache_control="max-age=1\r\nx-injected: 1")
