"""What goes out is safe: no split headers, no tracebacks, no HTML built from input."""

from __future__ import annotations

import json
import logging

import pytest

from duoweb import App, HTTPError, Request, Response
from tests.robustness.conftest import Send
from tests.robustness.inprocess import Answer, RawRequest, check_client_error_contract

SECRET = "secret-internal-detail-7f3a"
GENERIC_500 = "The server could not complete the request."


def build_app(*, debug: bool = False) -> App:
    app = App(openapi_url=None, docs_url=None, debug=debug)

    @app.get("/crlf-value")
    def crlf_value() -> Response:
        return Response("x", headers={"x-a": "1\r\nSet-Cookie: evil=1"})

    @app.get("/lf-value")
    def lf_value() -> Response:
        response = Response("x")
        response.set_header("x-a", "1\nx-evil: 1")
        return response

    @app.get("/nul-value")
    def nul_value() -> Response:
        response = Response("x")
        response.append_header("x-a", "a\x00b")
        return response

    @app.get("/bad-name")
    def bad_name() -> Response:
        return Response("x", headers=[("x-a\r\nx-evil", "1")])

    @app.get("/non-latin1-value")
    def non_latin1_value() -> Response:
        return Response("x", headers={"x-a": "\u2028"})

    @app.get("/cookie")
    def cookie(value: str = "ok") -> Response:
        response = Response("x")
        response.set_cookie("session", value)
        return response

    @app.get("/error-header")
    def error_header() -> None:
        raise HTTPError(400, "bad", headers={"x-a": "1\r\nx-evil: 1"})

    @app.get("/error-extension")
    def error_extension() -> None:
        raise HTTPError(400, "bad", extensions={"where": object()})

    @app.get("/raise")
    def fail() -> None:
        raise RuntimeError(SECRET)

    @app.get("/echo/{name}")
    def echo(name: str) -> None:
        raise HTTPError(404, f"no such thing: {name}")

    class Oops(Exception):
        pass

    @app.exception_handler(Oops)
    def broken_handler(request: Request, exc: Oops) -> Response:
        return Response("x", headers={"x-a": "\r\n"})

    @app.get("/broken-handler")
    def broken() -> None:
        raise Oops(SECRET)

    return app


APP = build_app()
DEBUG_APP = build_app(debug=True)


def _server_error(send: Send, app: App, target: bytes) -> Answer:
    answer = send(app, RawRequest(target=target))
    assert answer.status == 500, answer.body
    assert answer.header("content-type") == "application/problem+json"
    assert int(answer.header("content-length") or -1) == len(answer.body)
    return answer


@pytest.mark.parametrize(
    "target",
    [b"/crlf-value", b"/lf-value", b"/nul-value", b"/bad-name", b"/non-latin1-value"],
)
def test_a_handler_cannot_split_the_response(send: Send, target: bytes) -> None:
    answer = _server_error(send, APP, target)
    assert [name for name, _ in answer.headers] == ["content-type", "content-length"]
    assert json.loads(answer.body)["detail"] == GENERIC_500


@pytest.mark.parametrize("value", ["a\r\nb", "a;b", "a b", "\x00", "é"])
def test_unsafe_cookie_values_are_refused(send: Send, value: str) -> None:
    target = b"/cookie?value=" + value.encode().replace(b"\r", b"%0d").replace(b"\n", b"%0a")
    target = target.replace(b" ", b"%20").replace(b";", b"%3b").replace(b"\x00", b"%00")
    answer = _server_error(send, APP, target)
    assert answer.header("set-cookie") is None


@pytest.mark.parametrize("target", [b"/error-header", b"/error-extension"])
def test_an_unrenderable_http_error_is_a_500_problem(send: Send, target: bytes) -> None:
    answer = _server_error(send, APP, target)
    assert answer.header("x-a") is None
    assert b"x-evil" not in answer.body


def test_a_failing_exception_handler_is_a_generic_500(send: Send) -> None:
    answer = _server_error(send, APP, b"/broken-handler")
    assert SECRET.encode() not in answer.body
    assert answer.header("x-a") is None


def test_no_traceback_or_detail_without_debug(send: Send, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="duoweb")
    answer = _server_error(send, APP, b"/raise")
    assert json.loads(answer.body) == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": GENERIC_500,
    }
    assert SECRET.encode() not in answer.body
    assert b"Traceback" not in answer.body
    assert SECRET in caplog.text  # the detail goes to the log, not to the client


def test_debug_shows_the_traceback(send: Send) -> None:
    answer = _server_error(send, DEBUG_APP, b"/raise")
    detail = json.loads(answer.body)["detail"]
    assert "Traceback" in detail
    assert SECRET in detail


@pytest.mark.parametrize(
    "target",
    [
        b"/<script>alert(1)</script>",
        b"/%3Cscript%3Ealert(1)%3C/script%3E",
        b"/echo/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        b"/echo/%3Cimg%20src=x%20onerror=alert(1)%3E",
    ],
)
def test_errors_are_problem_json_never_html(send: Send, target: bytes) -> None:
    answer = send(APP, RawRequest(target=target))
    check_client_error_contract(answer, "GET")
    assert answer.status == 404
    assert answer.header("content-type") == "application/problem+json"
    assert not answer.body.lstrip().startswith(b"<")
    json.loads(answer.body)  # a JSON document; a browser never renders it as HTML


def test_an_echoed_method_stays_inside_json(send: Send) -> None:
    answer = send(APP, RawRequest("<script>", b"/raise"))
    check_client_error_contract(answer, "<script>")
    assert answer.status == 405
    assert json.loads(answer.body)["detail"] == "<script> is not allowed here."
