"""The bearer token check and the credential gate: both implementations agree, on any input."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duoweb.errors import HTTPError

B64TOKEN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"


def reference(credential: str) -> str | None:
    """RFC 6750 read the plain way: ``Bearer`` (any case), a space, then the b64token."""
    if not credential:
        return ""
    scheme, _, token = credential.partition(" ")
    if scheme.lower() != "bearer":
        return ""
    token = token.strip(" \t")
    body = token.rstrip("=")
    if body and all(char in B64TOKEN for char in body):
        return token
    return None


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        ("", ""),
        ("Basic dTpw", ""),
        ("Bearerabc", ""),
        ("Bear", ""),
        ("Bearer\tabc", ""),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer    ", None),
        ("Bearer ==", None),
        ("Bearer a b", None),
        ("Bearer abc=def", None),
        ("Bearer abc =", None),
        ("Bearer t\u00e9", None),
        ("Bearer t\u0101", None),
        ("Bearer t\U0001f600", None),
        ("Bearer abc", "abc"),
        ("bEaReR abc.DEF-_~+/9==", "abc.DEF-_~+/9=="),
        ("Bearer  \t tok= \t", "tok="),
        ("B\u00e9arer abc", ""),
        ("\u0181earer abc", ""),
    ],
)
def test_bearer_token(credentials_impl: ModuleType, credential: str, expected: str | None) -> None:
    assert credentials_impl.bearer_token(credential) == expected
    assert reference(credential) == expected


prefixes = st.sampled_from(["Bearer ", "bearer ", "BEARER  ", "Bearer", "Basic ", "", "Bearer\t"])
tokens = st.text(alphabet=B64TOKEN + "= \t\u00e9\u0101\U0001f600,\"'") | st.text()


@given(prefix=prefixes, token=tokens)
def test_bearer_token_matches_the_plain_reading(prefix: str, token: str) -> None:
    from tests.speedups.conftest import implementation

    expected = reference(prefix + token)
    for kind in ("pure", "compiled"):
        assert implementation("credentials", kind).bearer_token(prefix + token) == expected


class Scheme:
    """What a gate asks of a scheme: its answers for a missing and a malformed credential."""

    def __init__(self, auto_error: bool) -> None:
        self.auto_error = auto_error

    def absent(self) -> Any:
        if self.auto_error:
            raise HTTPError(401, "missing")
        return None

    def malformed(self) -> HTTPError:
        return HTTPError(401, "malformed")


class HeaderOnly:
    """A request that answers ``header()`` only."""

    def __init__(self, value: str | None) -> None:
        self.value = value
        self.asked: list[str] = []

    def header(self, name: str) -> str | None:
        self.asked.append(name)
        return self.value


def test_a_gate_needs_a_known_check(credentials_impl: ModuleType) -> None:
    with pytest.raises(ValueError, match="unknown credential check"):
        credentials_impl.CredentialGate(Scheme(True), "authorization", 7, print, ())


@pytest.mark.parametrize(
    ("value", "check", "auto_error", "expected"),
    [
        ("Bearer abc", "BEARER", True, "abc"),
        ("Basic abc", "BEARER", True, "missing"),
        ("Basic abc", "BEARER", False, None),
        (None, "BEARER", False, None),
        ("", "BEARER", True, "missing"),
        ("Bearer a b", "BEARER", False, "malformed"),
        ("Bearer a b", "PLAIN", True, "Bearer a b"),
        (None, "PLAIN", True, "missing"),
        ("", "PLAIN", False, None),
    ],
)
def test_a_gate_reads_its_header(
    credentials_impl: ModuleType, value: str | None, check: str, auto_error: bool, expected: Any
) -> None:
    kind = getattr(credentials_impl, check)
    gate = credentials_impl.CredentialGate(Scheme(auto_error), "x-cred", kind, print, ())
    request = HeaderOnly(value)
    if expected in ("missing", "malformed"):
        with pytest.raises(HTTPError, match=expected):
            gate.credential(request)
    else:
        assert gate.credential(request) == expected
    assert request.asked == ["x-cred"]
    assert check.lower() in repr(gate)


def test_a_gate_calls_the_handler_with_the_captures_and_the_credential(
    credentials_impl: ModuleType,
) -> None:
    calls: list[dict[str, Any]] = []

    def handler(**arguments: Any) -> str:
        calls.append(arguments)
        return "done"

    def gate(names: tuple[str, ...]) -> Any:
        return credentials_impl.CredentialGate(
            Scheme(True), "x", credentials_impl.PLAIN, handler, names
        )

    passing = gate(("a", "b", "key"))
    assert passing.call({"a": 1, "b": 2}, HeaderOnly("k")) == "done"
    gate(("a",)).call({"a": 1}, HeaderOnly("k"))
    gate(()).call({}, HeaderOnly("k"))
    many = tuple(f"p{index}" for index in range(10))
    gate(many).call({name: 0 for name in many[:-1]}, HeaderOnly("k"))
    assert calls == [
        {"a": 1, "b": 2, "key": "k"},
        {"a": 1},
        {},
        {**{name: 0 for name in many[:-1]}, "p9": "k"},
    ]
    with pytest.raises(HTTPError, match="missing"):
        passing.call({"a": 1, "b": 2}, HeaderOnly(None))
    assert len(calls) == 4  # a refused credential never reaches the handler
    assert passing.handler is handler
    assert "by keyword" in repr(passing)


def test_a_gate_passes_a_lone_credential_by_position(credentials_impl: ModuleType) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def handler(*values: Any, **named: Any) -> str:
        calls.append((values, named))
        return "done"

    def gate(names: tuple[str, ...]) -> Any:
        return credentials_impl.CredentialGate(
            Scheme(True), "x", credentials_impl.PLAIN, handler, names, True
        )

    assert gate(("key",)).call({}, HeaderOnly("k")) == "done"
    gate(()).call({}, HeaderOnly("k"))
    gate(("a", "key")).call({"a": 1}, HeaderOnly("k"))  # with captures: by keyword
    assert calls == [(("k",), {}), ((), {}), ((), {"a": 1, "key": "k"})]
    assert "by position" in repr(gate(()))


# --- the gate's own header read, compared with request.header() on real requests ---------


#: The requests below belong to no app (the gate never asks for it).
NO_APP: Any = None


def asgi_requests(fields: Any) -> Any:
    """An ASGIRequest whose scope carries ``fields`` as its headers."""
    from duoweb._messages import asgi_request
    from duoweb.asgi import ASGIRequest

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": fields}
    return asgi_request(ASGIRequest, NO_APP, scope, receive)


def wsgi_requests(environ: dict[str, Any]) -> Any:
    """A WSGIRequest for ``environ`` (a GET of / plus the given keys)."""
    from duoweb._messages import wsgi_request
    from duoweb.wsgi import WSGIRequest

    return wsgi_request(WSGIRequest, NO_APP, {"REQUEST_METHOD": "GET", "PATH_INFO": "/", **environ})


def outcome(read: Callable[..., Any], *arguments: Any) -> Any:
    """What a read gives: its value, or the kind of error and its message."""
    try:
        return ("value", read(*arguments))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


def through_header(request: Any, name: str, check: int, auto_error: bool, pure: Any) -> Any:
    """The gate's answer worked out from ``request.header(name)``, as the general path does."""
    scheme = Scheme(auto_error)

    def read() -> Any:
        value = request.header(name)
        if not value:
            return scheme.absent()
        if check == pure.PLAIN:
            return value
        token = pure.bearer_token(value)
        if token:
            return token
        if token is None:
            raise scheme.malformed()
        return scheme.absent()

    return outcome(read)


NAMES = ["authorization", "Authorization", "X-API-Key", "content-type", "x_key", "x-cl\u00e9"]
ASGI_FIELDS: list[Any] = [
    [],
    [(b"authorization", b"Bearer abc")],
    [(b"host", b"h"), (b"AuthoriZation", b"bearer  tok== ")],
    [(b"authorization", b"Bearer abc"), (b"authorization", b"Bearer def")],
    [(b"authorization", b"Bearer abc"), (b"x", b"y"), (b"Authorization", b"x"), (b"a", b"b")],
    [(b"authorization", b"Bearer t\xe9")],
    [(b"authorization", b"t\xe9")],
    [(b"authorization", b"")],
    [(b"authorization", b"Basic dTpw")],
    [(b"authorizatio", b"Bearer abc"), (b"authorizations", b"Bearer abc")],
    [(b"x-api-key", b"k3y"), (b"X-Api-Key", b"two")],
    [(b"x-api-key", b"Bearer abc"), (b"content-type", b"")],
    [(b"content-type", b"application/json")],
    [(b"x_key", b"k"), (b"x-cl\xe9", b"v")],
    [(b"authorization", "Bearer abc")],  # not bytes: the same TypeError
    [(b"x", b"y"), [b"authorization", b"Bearer abc"]],  # a list pair
    ((b"authorization", b"Bearer tuple"),),  # a tuple of pairs
    [(b"authorization", b"Bearer abc", b"extra")],
]
ENVIRONS: list[dict[str, Any]] = [
    {},
    {"HTTP_AUTHORIZATION": "Bearer abc"},
    {"HTTP_AUTHORIZATION": "bearer  tok== "},
    {"HTTP_AUTHORIZATION": "Bearer t\xe9"},
    {"HTTP_AUTHORIZATION": "Bearer t\u20ac"},
    {"HTTP_AUTHORIZATION": ""},
    {"HTTP_AUTHORIZATION": b"Bearer abc"},  # not text: no header
    {"HTTP_X_API_KEY": "k3y", "HTTP_AUTHORIZATION": "Basic dTpw"},
    {"CONTENT_TYPE": "", "HTTP_CONTENT_TYPE": "no"},
    {"CONTENT_TYPE": "application/json"},
    {"HTTP_X_KEY": "k", "HTTP_X_CL\u00c9": "v"},
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("check", ["PLAIN", "BEARER"])
@pytest.mark.parametrize("auto_error", [True, False])
def test_a_gate_reads_a_request_as_request_header_does(
    credentials_impl: ModuleType, name: str, check: str, auto_error: bool
) -> None:
    from duoweb import _credentials_py as pure

    kind = getattr(credentials_impl, check)
    gate = credentials_impl.CredentialGate(Scheme(auto_error), name, kind, print, ())
    made = [asgi_requests(fields) for fields in ASGI_FIELDS]
    made += [wsgi_requests(environ) for environ in ENVIRONS]
    for request in made:
        expected = through_header(request, name, kind, auto_error, pure)
        assert outcome(gate.credential, request) == expected, (name, request)
    for request in made:  # the same once the request has built its headers view
        if outcome(getattr, request, "headers")[0] == "value":
            expected = through_header(request, name, kind, auto_error, pure)
            assert outcome(gate.credential, request) == expected


def test_a_gate_asks_a_request_with_its_own_header_method(credentials_impl: ModuleType) -> None:
    from duoweb._messages import wsgi_request
    from duoweb.wsgi import WSGIRequest

    class Rewritten(WSGIRequest):
        def header(self, name: str) -> str | None:
            return "Bearer rewritten"

    gate = credentials_impl.CredentialGate(
        Scheme(True), "authorization", credentials_impl.BEARER, print, ()
    )
    stock = wsgi_requests({"HTTP_AUTHORIZATION": "Bearer stock"})
    assert gate.credential(stock) == "stock"
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_AUTHORIZATION": "Bearer stock"}
    rewritten = wsgi_request(Rewritten, NO_APP, environ)
    assert gate.credential(rewritten) == "rewritten"
    assert gate.credential(stock) == "stock"
