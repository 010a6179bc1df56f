"""Every kind of bad input a client controls, in-process, in both modes: a 4xx, never a 5xx.

Requests go straight to the WSGI/ASGI callables (tests/robustness/inprocess.py) so that the
method, path, query and header bytes arrive exactly as a server would pass them; what only
a real server can show (framing, slow clients, disconnects) is in test_wire.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

import benchmarks.app as reference
from duoweb import App, Request
from tests.robustness.conftest import Send
from tests.robustness.inprocess import (
    Answer,
    RawRequest,
    call_asgi,
    call_wsgi,
    check_client_error_contract,
    scope_for,
)
from tests.robustness.kinds_app import build_app

KINDS = build_app()
JSON = ((b"content-type", b"application/json"),)
BIG = b"1" * 5000  # beyond Python's default 4300-digit int-from-text limit
HUGE = b"9" * 30  # beyond 64 bits, within the digit limit


def _ok(send: Send, app: App, request: RawRequest, *statuses: int) -> Answer:
    answer = send(app, request)
    check_client_error_contract(answer, request.method)
    assert answer.status in statuses, (answer.status, answer.body[:300])
    return answer


def _value(answer: Answer) -> object:
    return json.loads(answer.body)["v"]


# --- limits -------------------------------------------------------------------------------


def test_body_over_the_limit_is_413(send: Send) -> None:
    declared = RawRequest("POST", b"/b/raw", body=b"x" * 4097)
    assert _ok(send, KINDS, declared, 413).header("content-type") == "application/problem+json"
    chunked = RawRequest("POST", b"/b/raw", body=b"x" * 4097, chunked=True)
    _ok(send, KINDS, chunked, 413)
    _ok(send, KINDS, RawRequest("POST", b"/b/raw", body=b"x" * 4096), 200)


def test_query_parameter_count_is_bounded(send: Send) -> None:
    at_limit = b"/request?" + b"&".join([b"a=1"] * 1000)
    _ok(send, KINDS, RawRequest(target=at_limit), 200)
    over = b"/request?" + b"&".join([b"a=1"] * 1001)
    answer = _ok(send, KINDS, RawRequest(target=over), 400)
    assert b"query parameters" in answer.body
    _ok(send, KINDS, RawRequest(target=b"/request?" + b"&" * 100_000), 200)  # empty: free


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (b"/b/json", b"[" * 100_000),
        (b"/b/json", b'{"a":' * 50_000),
        (b"/b/struct", b'{"x":1,"y":1,"children":' + b'[{"x":1,"y":1,"children":' * 5000),
        (b"/b/pydantic", b'{"name":' + b"[" * 10_000),
        (b"/items", b'{"name":"a","price":1,"tags":' + b"[" * 100_000),
    ],
    ids=["json-array", "json-object", "struct", "pydantic", "reference-items"],
)
def test_deeply_nested_json_is_4xx(send: Send, path: bytes, body: bytes) -> None:
    """400 when the nesting is hit while parsing; 422 when a typed model refuses it earlier."""
    app = reference.app if path == b"/items" else KINDS
    _ok(send, app, RawRequest("POST", path, JSON, body), 400, 422)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (b"/b/json", BIG, 400),
        (b"/b/json", b"-" + BIG, 400),
        (b"/b/json", b"1e400", 400),
        (b"/b/json", b"[" + b"0." + BIG + b"e-99999999999]", 200),  # underflows to 0.0
        (b"/b/struct", b'{"x":' + BIG + b',"y":1}', 422),
        (b"/b/struct", b'{"x":' + HUGE + b',"y":1}', 200),  # msgspec: big ints are ints
        (b"/b/struct", b'{"x":1,"y":1e400}', 422),
        (b"/b/struct", b'{"x":1,"y":' + BIG + b"}", 422),
        (b"/b/pydantic", b'{"name":"a","count":' + BIG + b"}", 400),
        (b"/b/pydantic", b'{"name":"a","count":"' + BIG + b'"}', 422),
        (b"/b/pydantic", b'{"name":"a","price":1e400}', 422),
        (b"/b/pydantic", b'{"name":"a","amount":1e999999999}', 422),
        (b"/b/dataclass", b'{"left":' + BIG + b',"right":"x"}', 422),
        (b"/b/typeddict", b'{"key":"k","value":' + BIG + b"}", 422),
        (b"/items", b'{"name":"a","price":' + BIG + b"}", 4),
        (b"/items", b'{"name":"a","price":1e400}', 4),
        (b"/items", b'{"name":"a","price":-' + HUGE + b"}", 422),
    ],
)
def test_huge_numbers_in_the_body_are_4xx(
    send: Send, path: bytes, body: bytes, status: int
) -> None:
    """``4`` stands for 400 or 422: the reference app's model library decides which."""
    app = reference.app if path == b"/items" else KINDS
    statuses = (400, 422) if status == 4 else (status,)
    _ok(send, app, RawRequest("POST", path, JSON, body), *statuses)


@pytest.mark.parametrize(
    "target",
    [
        b"/q?i=" + BIG,
        b"/q?bounded=" + HUGE,
        b"/q?f=" + BIG,
        b"/q?f=1e400",
        b"/q?many=1&many=" + BIG,
        b"/q?td=" + BIG,
        b"/q?td=P99999999999999999D",
        b"/q?d=" + BIG,
        b"/q?dt=" + BIG,
        b"/search?q=x&limit=" + BIG,
        b"/search?q=x&limit=" + HUGE,
    ],
)
def test_huge_numbers_in_the_query_are_422(send: Send, target: bytes) -> None:
    app = reference.app if target.startswith(b"/search") else KINDS
    _ok(send, app, RawRequest(target=target), 422)


def test_huge_numbers_in_headers_and_cookies_are_422(send: Send) -> None:
    header = RawRequest(target=b"/h", headers=((b"x-number", BIG),))
    _ok(send, KINDS, header, 422)
    cookie = RawRequest(target=b"/h", headers=((b"cookie", b"visits=" + BIG),))
    _ok(send, KINDS, cookie, 422)


def test_huge_int_message_does_not_leak_interpreter_details(send: Send) -> None:
    answer = _ok(send, KINDS, RawRequest(target=b"/q?i=" + BIG), 422)
    assert b"set_int_max_str_digits" not in answer.body
    assert b"4300" not in answer.body


@pytest.mark.parametrize(
    "target",
    [
        b"/p/int/" + BIG,
        b"/p/int/" + HUGE,
        b"/p/int/-" + HUGE,
        b"/p/float/" + BIG,
        b"/p/float/1e400",
        b"/p/float/nan",
        b"/p/float/inf",
        b"/api/v1/r7/" + HUGE,
    ],
)
def test_huge_numbers_in_the_path_do_not_match(send: Send, target: bytes) -> None:
    app = reference.app if target.startswith(b"/api") else KINDS
    _ok(send, app, RawRequest(target=target), 404)


def test_path_length_is_bounded(send: Send) -> None:
    _ok(send, KINDS, RawRequest(target=b"/" + b"a" * 8191), 404)
    answer = _ok(send, KINDS, RawRequest(target=b"/" + b"a" * 8192), 414)
    assert b"8192" in answer.body
    small = build_app(max_path_length=100)
    _ok(send, small, RawRequest(target=b"/p/str/" + b"a" * 93), 200)
    _ok(send, small, RawRequest(target=b"/p/str/" + b"a" * 94), 414)
    # The bound is on the decoded path: percent-escapes count as what they decode to.
    _ok(send, small, RawRequest(target=b"/p/str/" + b"%61" * 93), 200)


def test_many_and_large_headers_reach_the_app_harmlessly(send: Send) -> None:
    """The app has no header limits of its own: the server's are in test_wire.py."""
    many = tuple((f"x-h{i}".encode(), b"v") for i in range(2000))
    _ok(send, KINDS, RawRequest(target=b"/request", headers=many), 200)
    large = ((b"x-text", b"a" * 1_000_000), (b"cookie", b"session=" + b"b" * 1_000_000))
    _ok(send, KINDS, RawRequest(target=b"/h", headers=large), 200)
    accept = ((b"accept", b"text/*;q=0." + b"0" * 100_000 + b", " * 10_000),)
    _ok(send, KINDS, RawRequest(target=b"/request", headers=accept), 200)


# --- paths and queries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "value"),
    [
        (b"/p/str/%zz", "%zz"),  # malformed escapes stay as written
        (b"/p/str/%", "%"),
        (b"/p/str/%4", "%4"),
        (b"/p/str/%ff%fe", "\ufffd\ufffd"),  # invalid UTF-8
        (b"/p/str/%c0%af", "\ufffd\ufffd"),  # overlong "/" is not a slash
        (b"/p/str/%e0%80%af", "\ufffd\ufffd\ufffd"),  # 3-byte overlong "/"
        (b"/p/str/%c0%ae%c0%ae", "\ufffd\ufffd\ufffd\ufffd"),  # overlong ".." is not ".."
        (b"/p/str/%ed%a0%80", "\ufffd\ufffd\ufffd"),  # a UTF-16 surrogate in UTF-8
        (b"/p/str/%f4%90%80%80", "\ufffd\ufffd\ufffd\ufffd"),  # beyond U+10FFFF
        (b"/p/str/a%00b", "a\x00b"),  # NUL is data
        (b"/p/str/%e6%97%a5", "\u65e5"),
        (b"/p/path/a/%2e%2e/b", "a/../b"),  # no normalization: literal segments
    ],
)
def test_odd_path_bytes_are_data_not_errors(send: Send, target: bytes, value: str) -> None:
    assert _value(_ok(send, KINDS, RawRequest(target=target), 200)) == value


@pytest.mark.parametrize(
    "target",
    [
        b"/p/str/%2f",  # an encoded slash splits the segment after decoding: not this route
        b"/<script>alert(1)</script>",
        b"//",
        b"",
        b"*",
        b"p/str/x",
        b"/p/int/%ff",
        b"/p/uuid/%00",
    ],
)
def test_unroutable_paths_are_404(send: Send, target: bytes) -> None:
    answer = _ok(send, KINDS, RawRequest(target=target), 404)
    assert b"<script>" not in answer.body


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        (b"s=%ff%fe", "s", "\ufffd\ufffd"),
        (b"s=%c0%af", "s", "\ufffd\ufffd"),
        (b"s=%zz%", "s", "%zz%"),
        (b"s=a%00b", "s", "a\x00b"),
        (b"s=\xff", "s", "\ufffd"),  # raw 8-bit (servers refuse it; the app survives it)
        (b"s=1&s=2", "s", "1"),
        (b"s", "s", ""),
        (b"i=-0", "i", 0),
        (b"many=1&many=2&many=9223372036854775807", "many", [1, 2, 2**63 - 1]),
        (b"dec=sNaN", "dec", "sNaN"),
        (b"dec=1e999999999", "dec", "1E+999999999"),
    ],
)
def test_odd_query_values_are_decoded_not_fatal(
    send: Send, query: bytes, field: str, value: object
) -> None:
    answer = _ok(send, KINDS, RawRequest(target=b"/q?" + query), 200)
    assert json.loads(answer.body)[field] == value


@pytest.mark.parametrize(
    "query",
    [
        b"i=1.0",
        b"i=%2B1",
        b"i=%201",
        b"i=1_000",
        b"many=1&many=" + HUGE,  # beyond signed 64 bits (issue 20: an unbounded int)
        b"i=" + HUGE,
        b"i=%d9%a3",  # ARABIC-INDIC DIGIT THREE
        b"b=maybe",
        b"u=%00",
        b"color=green",
        b"lit=c",
        b"pattern=%3Cscript%3E",
        b"pattern=" + b"a" * 100,
        b"bounded=6",
        b"f=nan%00",
        b"dt=2024-13-01",
        b"t=25:00",
    ],
)
def test_invalid_query_values_are_422(send: Send, query: bytes) -> None:
    answer = _ok(send, KINDS, RawRequest(target=b"/q?" + query), 422)
    assert b"<script>" not in answer.body  # validation messages do not echo the input


def test_header_and_cookie_bytes_are_latin1_data(send: Send) -> None:
    headers = (
        (b"x-text", b"a\x00b\xff\x7f"),
        (b"x-list", b'a, "b,c", , d'),
        (b"cookie", b'session="\x00\xff"; visits=3; ; =x; junk'),
    )
    answer = _ok(send, KINDS, RawRequest(target=b"/h", headers=headers), 200)
    assert json.loads(answer.body) == {
        "x_text": "a\x00b\xff\x7f",
        "x_number": 0,
        "x_list": ["a", '"b,c"', "d"],
        "session": "\x00\xff",
        "visits": 3,
    }


def test_a_dependency_sees_hostile_header_bytes_safely(send: Send) -> None:
    request = RawRequest(target=b"/dep/1", headers=((b"x-token", b"\r\xff\x00"),))
    assert json.loads(_ok(send, KINDS, request, 200).body) == {"item": 1, "token": "\r\xff\x00"}


# --- methods ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    ["get", "Get", "FOO", "X" * 10_000, "", "GE\x00T", "GET ", "<script>", "ÿ", "CONNECT"],
)
def test_odd_methods_are_405_with_allow(send: Send, method: str) -> None:
    answer = _ok(send, reference.app, RawRequest(method, b"/json"), 405)
    assert answer.header("allow") == "GET, HEAD, OPTIONS"


def test_options_and_head_are_answered_for_any_route(send: Send) -> None:
    options = _ok(send, reference.app, RawRequest("OPTIONS", b"/json"), 204)
    assert options.header("allow") == "GET, HEAD, OPTIONS"
    head = _ok(send, reference.app, RawRequest("HEAD", b"/json"), 200)
    assert head.body == b""


# --- bodies and framing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "length",
    [b"-1", b"+3", b"0x3", b" 3", b"3 ", b"3.0", b"3,3", b"3, 4", b"", b"\xd9\xa3", b"1" * 5000],
)
def test_malformed_content_length_is_400(send: Send, length: bytes) -> None:
    request = RawRequest("POST", b"/b/raw", ((b"content-length", length),), b"abc")
    if length == b"":  # an empty CONTENT_LENGTH means "absent" (PEP 3333); ASGI sees ""
        answer = send(KINDS, request)
        check_client_error_contract(answer, "POST")
        assert answer.status in (200, 400)
        return
    _ok(send, KINDS, request, 400)


def test_repeated_content_length_fields_are_400(send: Send) -> None:
    twice = ((b"content-length", b"3"), (b"content-length", b"3"))
    _ok(send, KINDS, RawRequest("POST", b"/b/raw", twice, b"abc"), 400)
    conflicting = ((b"content-length", b"3"), (b"content-length", b"4"))
    _ok(send, KINDS, RawRequest("POST", b"/b/raw", conflicting, b"abcd"), 400)


def test_content_length_beyond_64_bits_is_413(send: Send) -> None:
    request = RawRequest("POST", b"/b/raw", ((b"content-length", HUGE),), b"abc")
    _ok(send, KINDS, request, 413)


def test_chunked_bodies_are_read_whole(send: Send) -> None:
    request = RawRequest("POST", b"/b/raw", body=b"0123456789" * 10, chunked=True)
    assert _ok(send, KINDS, request, 200).body == b"0123456789" * 10


BAD_UTF8 = {
    "invalid-start": b"\xff",
    "overlong": b"\xc0\xaf",
    "surrogate": b"\xed\xa0\x80",
    "beyond-unicode": b"\xf4\x90\x80\x80",
    "truncated": b"\xe6\x97",
}
INVALID_UTF8_JSON = [
    *((b"/b/json", b'"' + bad + b'"', name) for name, bad in BAD_UTF8.items()),
    (b"/b/json", b'{"\xff":1}', "json-key"),
    (b"/b/struct", b'{"x":1,"y":1,"tags":["a\xff"]}', "struct-field"),
    (b"/b/typeddict", b'{"key":"\xc0\xaf","value":1}', "typeddict-field"),
    (b"/b/list", b'[{"x":1,"y":1,"tags":["\xed\xa0\x80"]}]', "list-of-structs"),
    (b"/items", b'{"name":"\xff","price":1}', "reference-items"),
]


@pytest.mark.parametrize(
    ("path", "body"),
    [(path, body) for path, body, _ in INVALID_UTF8_JSON],
    ids=[name for _, _, name in INVALID_UTF8_JSON],
)
def test_invalid_utf8_inside_json_strings_is_400(send: Send, path: bytes, body: bytes) -> None:
    app = reference.app if path == b"/items" else KINDS
    _ok(send, app, RawRequest("POST", path, JSON, body), 400)


def test_invalid_utf8_inside_json_for_pydantic_is_400(send: Send) -> None:
    body = b'{"name":"\xff\xc0\xaf"}'
    _ok(send, KINDS, RawRequest("POST", b"/b/pydantic", JSON, body), 400)


@pytest.mark.parametrize(
    "body",
    [b"", b"\xef\xbb\xbf{}", b"\x00", b"{", b'{"x":1,"y":1,}', b"NaN", b'{"x":1,"y":1}x'],
)
def test_malformed_json_is_400_or_422(send: Send, body: bytes) -> None:
    _ok(send, KINDS, RawRequest("POST", b"/b/struct", JSON, body), 400, 422)


@pytest.mark.parametrize(
    "content_type",
    [b"", b"text/plain", b"application/json-seq", b"application/jsonx", b"\xff/\xff", b";;;"],
)
def test_wrong_content_type_is_415(send: Send, content_type: bytes) -> None:
    request = RawRequest("POST", b"/b/struct", ((b"content-type", content_type),), b"{}")
    _ok(send, KINDS, request, 415)


# --- truncated bodies never reach a handler ------------------------------------------------


def _recording_app(calls: list[bytes]) -> App:
    app = App(openapi_url=None, docs_url=None)

    @app.post("/record")
    def record(request: Request) -> int:
        calls.append(request.body)
        return len(request.body)

    return app


def test_wsgi_truncated_body_is_400_without_calling_the_handler() -> None:
    calls: list[bytes] = []
    request = RawRequest("POST", b"/record", ((b"content-length", b"100"),), b"only-some")
    answer = call_wsgi(_recording_app(calls), request)
    check_client_error_contract(answer, "POST")
    assert answer.status == 400
    assert calls == []


def test_asgi_disconnect_mid_body_sends_nothing_and_skips_the_handler() -> None:
    calls: list[bytes] = []
    sent: list[dict[str, object]] = []
    messages: Iterator[dict[str, object]] = iter(
        [
            {"type": "http.request", "body": b"part", "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, object]:
        return next(messages)

    async def send_message(message: dict[str, object]) -> None:
        sent.append(message)

    request = RawRequest("POST", b"/record", ((b"content-length", b"100"),))
    asyncio.run(_recording_app(calls).asgi(scope_for(request), receive, send_message))
    assert sent == []
    assert calls == []


# --- both modes agree ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_requests() -> list[RawRequest]:
    return [
        RawRequest(target=b"/p/str/%ff%c0%af%00%zz"),
        RawRequest(target=b"/q?s=%ff&i=" + HUGE + b"&f=1e308&many=1&many=x"),
        RawRequest(target=b"/h", headers=((b"x-number", b"-0"), (b"x-list", b"a,,b"))),
        RawRequest("POST", b"/b/struct", JSON, b'{"x":1,"y":2,"tags":["\\u0000"]}'),
        RawRequest("POST", b"/b/json", JSON, b"[" * 5000),
        RawRequest("PATCH", b"/p/int/1"),
    ]


def test_both_modes_give_the_same_answers(hostile_requests: list[RawRequest]) -> None:
    for request in hostile_requests:
        wsgi = call_wsgi(KINDS, request)
        asgi = call_asgi(KINDS, request)
        assert (wsgi.status, wsgi.body) == (asgi.status, asgi.body), request
        assert wsgi.header("content-type") == asgi.header("content-type"), request
