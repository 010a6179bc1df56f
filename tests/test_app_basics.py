"""The request path end to end, in both modes: routing, typing, returns, errors."""

from __future__ import annotations

import uuid

import pytest

from duoweb import App, HTTPError, PlainTextResponse, Request, Response
from tests.conftest import MakeClient


def build_app() -> App:
    app = App()

    @app.get("/users/{user_id}")
    def get_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/async-users/{user_id}")
    async def get_user_async(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/things/{thing_id}")
    def get_thing(thing_id: uuid.UUID) -> dict[str, str]:
        return {"id": str(thing_id), "kind": type(thing_id).__name__}

    @app.get("/ratio/{value}")
    def get_ratio(value: float) -> dict[str, float]:
        return {"value": value}

    @app.get("/files/{rest:path}")
    def get_file(rest: str) -> dict[str, str]:
        return {"rest": rest}

    @app.get("/names/{name}")
    def get_name(name: str) -> dict[str, str]:
        return {"name": name}

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(request.body, media_type="application/octet-stream")

    @app.post("/sync-echo")
    def sync_echo(request: Request) -> Response:
        return Response(request.body, media_type="application/octet-stream")

    @app.delete("/nothing")
    def nothing() -> None:
        return None

    @app.get("/text")
    def text() -> PlainTextResponse:
        return PlainTextResponse("héllo")

    @app.get("/teapot")
    def teapot() -> None:
        raise HTTPError(418, "short and stout", extensions={"spout": True})

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    @app.get("/async-boom")
    async def async_boom() -> None:
        raise RuntimeError("secret internal detail")

    @app.post("/created", status_code=201)
    def created() -> list[int]:
        return [1, 2, 3]

    return app


def test_int_path_parameter_is_converted(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.get("/users/42")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"id": 42}
        assert client.get("/async-users/-7").json() == {"id": -7}


@pytest.mark.parametrize(
    "bad", ["abc", "+5", "1_000", "%20", "4.0", "٣", "9223372036854775808", ""]
)
def test_int_that_does_not_convert_is_404(make_client: MakeClient, bad: str) -> None:
    with make_client(build_app()) as client:
        response = client.get(f"/users/{bad}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404


def test_int_range_is_signed_64_bits(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        assert client.get("/users/9223372036854775807").json() == {"id": 2**63 - 1}
        assert client.get("/users/-9223372036854775808").json() == {"id": -(2**63)}


def test_uuid_float_str_and_path_parameters(make_client: MakeClient) -> None:
    value = uuid.uuid4()
    with make_client(build_app()) as client:
        assert client.get(f"/things/{str(value).upper()}").json() == {
            "id": str(value),
            "kind": "UUID",
        }
        assert client.get("/things/not-a-uuid").status_code == 404
        assert client.get("/ratio/2.5").json() == {"value": 2.5}
        assert client.get("/ratio/nan").status_code == 404
        assert client.get("/files/a/b/c.txt").json() == {"rest": "a/b/c.txt"}
        assert client.get("/names/caf%C3%A9").json() == {"name": "café"}


def test_no_path_normalization(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        assert client.get("/users/1/").status_code == 404
        assert client.get("//users/1").status_code == 404
        literal = {"raw_path": b"/users/../users/1"}
        assert client.get("/", extensions=literal).status_code == 404
        dots = client.get("/", extensions={"raw_path": b"/files/x/../y"})
        assert dots.json() == {"rest": "x/../y"}


def test_body_is_read_for_sync_and_async_handlers(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        for path in ("/echo", "/sync-echo"):
            response = client.post(path, content=b"\x00binary\xff")
            assert response.status_code == 200
            assert response.content == b"\x00binary\xff"
            assert response.headers["content-length"] == "8"


def test_none_is_204_without_body(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.delete("/nothing")
        assert response.status_code == 204
        assert response.content == b""
        assert "content-length" not in response.headers


def test_route_status_code_and_text(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.post("/created")
        assert response.status_code == 201
        assert response.json() == [1, 2, 3]
        text = client.get("/text")
        assert text.headers["content-type"] == "text/plain; charset=utf-8"
        assert text.text == "héllo"


def test_unknown_path_is_404_problem(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.get("/nowhere")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["type"] == "about:blank"
        assert body["title"] == "Not Found"
        assert body["status"] == 404


def test_wrong_method_is_405_with_allow(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.post("/users/1")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"
        assert response.json()["status"] == 405


def test_head_is_answered_from_get_without_body(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        get = client.get("/users/5")
        head = client.head("/users/5")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["content-length"] == get.headers["content-length"]


def test_options_is_answered_with_allow(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.options("/echo")
        assert response.status_code == 204
        assert response.headers["allow"] == "OPTIONS, POST"
        assert client.options("/nowhere").status_code == 404


def test_http_error_becomes_problem(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.get("/teapot")
        assert response.status_code == 418
        assert response.json() == {
            "type": "about:blank",
            "title": "I'm a Teapot",
            "status": 418,
            "detail": "short and stout",
            "spout": True,
        }


@pytest.mark.parametrize("path", ["/boom", "/async-boom"])
def test_unhandled_exception_is_500_without_traceback(
    make_client: MakeClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with make_client(build_app()) as client:
        response = client.get(path)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["title"] == "Internal Server Error"
    assert any("secret internal detail" in str(r.exc_info) for r in caplog.records)


def test_exception_handler_answers_by_type(make_client: MakeClient) -> None:
    app = App()

    class OutOfStock(Exception):
        pass

    @app.exception_handler(OutOfStock)
    async def out_of_stock(request: Request, exc: OutOfStock) -> Response:
        return Response(f"sorry: {request.path}", status_code=409, media_type="text/plain")

    @app.get("/buy")
    def buy() -> None:
        raise OutOfStock

    with make_client(app) as client:
        response = client.get("/buy")
        assert response.status_code == 409
        assert response.text == "sorry: /buy"


def test_debug_mode_shows_the_exception(make_client: MakeClient) -> None:
    app = App(debug=True)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("visible in debug")

    with make_client(app) as client:
        assert "visible in debug" in client.get("/boom").json()["detail"]


def test_request_gives_query_headers_cookies_and_json(make_client: MakeClient) -> None:
    app = App()

    @app.post("/inspect/{item}")
    def inspect_request(request: Request, item: str) -> dict[str, object]:
        return {
            "method": request.method,
            "path": request.path,
            "item": item,
            "params": request.path_params,
            "q": request.query.getall("q"),
            "agent": request.headers.get("x-agent"),
            "cookie": request.cookies.get("session"),
            "json": request.json(),
            "type": request.content_type[0],
            "scheme": request.scheme,
        }

    with make_client(app) as client:
        response = client.post(
            "/inspect/box?q=1&q=two+words",
            json={"a": [1, 2]},
            headers={"X-Agent": "tester", "Cookie": "session=abc; other=1"},
        )
        assert response.json() == {
            "method": "POST",
            "path": "/inspect/box",
            "item": "box",
            "params": {"item": "box"},
            "q": ["1", "two words"],
            "agent": "tester",
            "cookie": "abc",
            "json": {"a": [1, 2]},
            "type": "application/json",
            "scheme": "http",
        }


def test_malformed_json_via_request_is_400(make_client: MakeClient) -> None:
    app = App()

    @app.post("/j")
    def j(request: Request) -> object:
        return request.json()

    with make_client(app) as client:
        response = client.post("/j", content=b"{nope", headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"


def test_url_for_and_routes() -> None:
    app = build_app()
    assert app.url_for("get_user", user_id=7) == "/users/7"
    assert app.url_for("get_file", rest="a b/c") == "/files/a%20b/c"
    with pytest.raises(LookupError):
        app.url_for("missing")
    rows = {(r.method, r.path, r.name, r.is_async) for r in app.routes()}
    assert ("GET", "/users/{user_id}", "get_user", False) in rows
    assert ("POST", "/echo", "echo", True) in rows
