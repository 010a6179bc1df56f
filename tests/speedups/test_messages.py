"""The request/response cores: every test runs against the compiled module and its twin."""

from __future__ import annotations

import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duoweb import _messages_py as pure
from duoweb._header_errors import UnsafeHeader
from tests.speedups.conftest import implementation

PROFILE = settings(
    max_examples=int(os.environ.get("DUOWEB_HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
environ_text = st.text(alphabet=st.characters(max_codepoint=0x2FFF), max_size=40)


def request_classes(impl: ModuleType) -> tuple[type[Any], type[Any]]:
    """A WSGI-shaped and an ASGI-shaped request class over ``impl``'s core, as duoweb has."""

    class WSGIShaped(impl.RequestCore):  # type: ignore[misc,name-defined]
        __slots__ = ("environ",)

    class ASGIShaped(impl.RequestCore):  # type: ignore[misc,name-defined]
        __slots__ = ("receive", "scope")

    return WSGIShaped, ASGIShaped


def response_class(impl: ModuleType, media_type: str | None) -> type[Any]:
    """A response class over ``impl``'s core with a class-level Content-Type, as Response has."""

    class Shaped(impl.ResponseCore):  # type: ignore[misc,name-defined]
        __slots__ = ()
        _default_content_type = None if media_type is None else impl.content_type_field(media_type)

    return Shaped


def fields(request: Any) -> tuple[Any, ...]:
    """Every core field of a request, to compare two requests."""
    return (
        request.method,
        request.path,
        request.query_string,
        request.path_params,
        request.body,
        request._state,
        request._origin,
        request._headers,
        request._query,
        request._cookies,
    )


# --- requests --------------------------------------------------------------------------------


def test_wsgi_request_reads_the_environ(messages_impl: ModuleType) -> None:
    wsgi_shaped, _ = request_classes(messages_impl)
    app = object()
    environ = {"REQUEST_METHOD": "PATCH", "PATH_INFO": "/a/b", "QUERY_STRING": "x=1&y=%20"}
    request = messages_impl.wsgi_request(wsgi_shaped, app, environ)
    assert type(request) is wsgi_shaped
    assert request.app is app
    assert request.environ is environ
    assert fields(request) == ("PATCH", "/a/b", b"x=1&y=%20", {}, b"", *[None] * 5)


def test_wsgi_request_defaults_when_the_server_omits_keys(messages_impl: ModuleType) -> None:
    wsgi_shaped, _ = request_classes(messages_impl)
    request = messages_impl.wsgi_request(wsgi_shaped, None, {"REQUEST_METHOD": "GET"})
    assert (request.path, request.query_string) == ("", b"")
    with pytest.raises(KeyError):
        messages_impl.wsgi_request(wsgi_shaped, None, {"PATH_INFO": "/"})


@pytest.mark.parametrize(
    ("path_info", "path"),
    [
        ("/caf\xc3\xa9", "/café"),  # UTF-8 bytes carried as latin-1 text (PEP 3333)
        ("/\xff\xfe", "/\ufffd\ufffd"),  # invalid UTF-8 is replaced, as ASGI servers do
        ("/snow\u2603", "/snow\u2603"),  # a server that already decoded the path
    ],
)
def test_wsgi_paths_are_decoded_like_asgi_servers_do(
    messages_impl: ModuleType, path_info: str, path: str
) -> None:
    wsgi_shaped, _ = request_classes(messages_impl)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path_info}
    assert messages_impl.wsgi_request(wsgi_shaped, None, environ).path == path
    assert messages_impl.decode_path_info(path_info) == path


def test_wsgi_query_strings_become_bytes(messages_impl: ModuleType) -> None:
    wsgi_shaped, _ = request_classes(messages_impl)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": "q=\xe9\u20ac"}
    # latin-1 text is the bytes the client sent; anything wider cannot be, and is replaced
    assert messages_impl.wsgi_request(wsgi_shaped, None, environ).query_string == b"q=\xe9?"


def test_asgi_request_reads_the_scope(messages_impl: ModuleType) -> None:
    _, asgi_shaped = request_classes(messages_impl)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    scope = {"method": "POST", "path": "/api/items", "root_path": "/api", "query_string": b"a=1"}
    request = messages_impl.asgi_request(asgi_shaped, "app", scope, receive)
    assert request.scope is scope
    assert request.receive is receive
    assert request.app == "app"
    assert fields(request) == ("POST", "/items", b"a=1", {}, b"", *[None] * 5)
    bare = messages_impl.asgi_request(asgi_shaped, None, {"method": "GET", "path": "/x"}, receive)
    assert (bare.path, bare.query_string) == ("/x", b"")
    other_root = {"method": "GET", "path": "/elsewhere", "root_path": "/api"}
    assert messages_impl.asgi_request(asgi_shaped, None, other_root, receive).path == "/elsewhere"


def test_request_core_init_and_fresh_state_per_request(messages_impl: ModuleType) -> None:
    first = messages_impl.RequestCore("app", "GET", "/", b"")
    second = messages_impl.RequestCore("app", "GET", "/", b"")
    assert fields(first) == ("GET", "/", b"", {}, b"", *[None] * 5)
    first.path_params["id"] = 1
    assert second.path_params == {}  # never a shared dict
    with pytest.raises(AttributeError):
        first.not_a_field = 1


# --- responses -------------------------------------------------------------------------------


def test_response_body_from_bytes_text_and_buffers(messages_impl: ModuleType) -> None:
    shaped = response_class(messages_impl, None)
    assert shaped(b"raw").body == b"raw"
    assert shaped("caf\xe9").body == "caf\xe9".encode()
    assert shaped(bytearray(b"buf")).body == b"buf"
    assert shaped().body == b""


@pytest.mark.parametrize("status", [99, 1000, -200])
def test_response_status_must_have_three_digits(messages_impl: ModuleType, status: int) -> None:
    with pytest.raises(ValueError, match="three digits"):
        response_class(messages_impl, None)(b"", status)


def test_response_content_type_from_class_or_argument(messages_impl: ModuleType) -> None:
    text = response_class(messages_impl, "text/plain")
    assert text("x")._headers == [("content-type", "text/plain; charset=utf-8")]
    explicit = text("x", media_type="text/csv; charset=latin-1")
    assert explicit._headers == [("content-type", "text/csv; charset=latin-1")]
    assert response_class(messages_impl, None)("x")._headers == []
    with pytest.raises(UnsafeHeader):
        text("x", media_type="text/plain\r\nx-injected: 1")


def test_response_headers_from_mapping_or_pairs(messages_impl: ModuleType) -> None:
    shaped = response_class(messages_impl, None)
    from_mapping = shaped(b"", 200, {"X-One": "1", "x-two": "2"})
    from_pairs = shaped(b"", 200, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert from_mapping._headers == [("x-one", "1"), ("x-two", "2")]
    assert from_pairs._headers == [("set-cookie", "a=1"), ("set-cookie", "b=2")]
    with pytest.raises(UnsafeHeader):
        shaped(b"", 200, {"x-bad": "a\nb"})


def test_header_list_adds_content_length_only_where_allowed(messages_impl: ModuleType) -> None:
    shaped = response_class(messages_impl, "application/json")
    ok = shaped(b"{}", 201)
    sent = ok.header_list()
    assert sent == [("content-type", "application/json"), ("content-length", "2")]
    sent.append(("x-later", "1"))
    assert ok.header_list() == [("content-type", "application/json"), ("content-length", "2")]
    for status in (100, 101, 199, 204, 304):
        assert ("content-length", "0") not in shaped(b"", status).header_list()


@pytest.mark.parametrize("length", [0, 1, 13, 4095, 4096, 4097, 70000])
def test_content_length_is_the_body_length_each_time(
    messages_impl: ModuleType, length: int
) -> None:
    shaped = response_class(messages_impl, None)
    for _ in range(2):  # the compiled core keeps small lengths' fields: the second is a reuse
        response = shaped(b"x" * length, 200, [("x-a", "1")])
        assert response.header_list() == [("x-a", "1"), ("content-length", str(length))]
        assert response.asgi_header_list() == [
            (b"x-a", b"1"),
            (b"content-length", str(length).encode()),
        ]
        assert response._headers == [("x-a", "1")]


def test_header_list_defers_to_a_subclass_override(messages_impl: ModuleType) -> None:
    class Overriding(response_class(messages_impl, None)):  # type: ignore[misc]
        __slots__ = ()

        def header_list(self) -> list[tuple[str, str]]:
            return [("x-own", "1")]

    response = Overriding(b"abc", 200)
    assert response.header_list() == [("x-own", "1")]
    # Called the way the compiled WSGI core calls it, through the core's own method:
    assert messages_impl.ResponseCore.header_list(response) == [("content-length", "3")]


def test_asgi_header_list_is_the_header_list_encoded(messages_impl: ModuleType) -> None:
    shaped = response_class(messages_impl, "text/plain")
    response = shaped("café", 200, {"X-Name": "caf\xe9"})
    assert response.asgi_header_list() == [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"x-name", b"caf\xe9"),
        (b"content-length", b"5"),
    ]
    assert shaped(b"", 204).asgi_header_list() == [(b"content-type", b"text/plain; charset=utf-8")]


def test_trusted_responses_take_their_parts_as_given(messages_impl: ModuleType) -> None:
    shaped = response_class(messages_impl, "text/plain")
    headers = [("content-type", "application/json")]
    response = shaped.from_checked_parts(201, b"{}", headers)
    assert type(response) is shaped
    assert (response.status_code, response.body, response._headers) == (201, b"{}", headers)
    assert response._headers is headers
    assert response.header_list() == [*headers, ("content-length", "2")]


def test_encode_fields_gives_the_latin_1_bytes_of_each_field(messages_impl: ModuleType) -> None:
    cached = messages_impl.content_type_field("text/csv")
    fields = [cached, ("x-name", "caf\xe9"), ("content-type", "text/csv; charset=utf-8")]
    assert messages_impl.encode_fields(fields) == [
        (b"content-type", b"text/csv; charset=utf-8"),
        (b"x-name", b"caf\xe9"),
        (b"content-type", b"text/csv; charset=utf-8"),
    ]
    assert messages_impl.encode_fields([]) == []


# --- properties of each implementation, and the two agree ---------------------------------


@pytest.fixture(scope="module")
def both() -> tuple[ModuleType, ModuleType]:
    """The pure twin and the compiled module."""
    return pure, implementation("messages", "compiled")


@PROFILE
@given(
    status=st.one_of(st.sampled_from([101, 199, 200, 204, 304]), st.integers(100, 999)),
    headers=st.lists(st.tuples(st.sampled_from(["x-a", "vary", "content-type"]), environ_text)),
    media_type=st.one_of(st.none(), st.sampled_from(["text/plain", "application/json"])),
)
def test_asgi_header_list_is_always_the_encoded_header_list(
    both: tuple[ModuleType, ModuleType],
    status: int,
    headers: list[tuple[str, str]],
    media_type: str | None,
) -> None:
    for impl in both:
        try:
            response = response_class(impl, None)(b"body", status, headers, media_type)
        except ValueError:  # an unsafe value or one outside latin-1, refused when added
            continue
        expected = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in response.header_list()]
        assert response.asgi_header_list() == expected


def outcome(call: Callable[[], Any]) -> Any:
    """What a call returns, or the type and message of what it raises."""
    try:
        return ("ok", call())
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))


@PROFILE
@given(
    method=environ_text,
    path=environ_text,
    query=st.one_of(st.none(), environ_text),
)
def test_wsgi_request_agrees(
    both: tuple[ModuleType, ModuleType], method: str, path: str, query: str | None
) -> None:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path}
    if query is not None:
        environ["QUERY_STRING"] = query
    made = [fields(impl.wsgi_request(request_classes(impl)[0], None, environ)) for impl in both]
    assert made[0] == made[1]


@PROFILE
@given(
    path=environ_text,
    root=environ_text,
    query=st.binary(max_size=20),
)
def test_asgi_request_agrees(
    both: tuple[ModuleType, ModuleType], path: str, root: str, query: bytes
) -> None:
    scope = {"method": "GET", "path": path, "root_path": root, "query_string": query}
    made = [fields(impl.asgi_request(request_classes(impl)[1], None, scope, None)) for impl in both]
    assert made[0] == made[1]


@PROFILE
@given(
    content=st.one_of(st.binary(max_size=30), st.text(max_size=30)),
    status=st.integers(min_value=-5, max_value=1100),
    headers=st.lists(st.tuples(environ_text, environ_text), max_size=3),
    media_type=st.one_of(st.none(), environ_text),
)
def test_responses_agree(
    both: tuple[ModuleType, ModuleType],
    content: bytes | str,
    status: int,
    headers: list[tuple[str, str]],
    media_type: str | None,
) -> None:
    def build(impl: ModuleType) -> Any:
        response = response_class(impl, "text/plain")(content, status, headers, media_type)
        return (
            response.status_code,
            response.body,
            response.header_list(),
            response.asgi_header_list(),
        )

    assert outcome(lambda: build(both[0])) == outcome(lambda: build(both[1]))
