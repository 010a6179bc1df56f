"""Property tests: compiled and pure parsers agree on arbitrary input; pure agrees with peers."""

from __future__ import annotations

import os
import string
from collections.abc import Callable
from http.cookies import SimpleCookie
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header, parse_cookie, parse_options_header

from duoweb import _headers_py as pure
from tests.speedups.conftest import implementation

settings.register_profile(
    "duoweb-headers",
    max_examples=int(os.environ.get("DUOWEB_HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PROFILE = settings.get_profile("duoweb-headers")

TCHARS = "!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits
COOKIE_OCTETS = "".join(
    chr(c)
    for c in range(0x21, 0x7F)
    if c == 0x21 or 0x23 <= c <= 0x2B or 0x2D <= c <= 0x3A or 0x3C <= c <= 0x5B or c >= 0x5D
)
# Characters that steer every parser into its interesting branches.
NASTY = ' \t,;="\\/*%+&qQ.01a-Z\r\n\x00\x7f\xe9\xff\u0100\u20ac'


@pytest.fixture(scope="module")
def compiled() -> ModuleType:
    return implementation("headers", "compiled")


def outcome(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """The result of a call, or the type of the exception it raised, for comparison."""
    try:
        return ("ok", normalize(call(*args, **kwargs)))
    except Exception as exc:
        return ("raised", type(exc))


def normalize(value: Any) -> Any:
    """Turn Headers/QueryParams results into plain data (the two classes differ by module)."""
    if type(value).__name__ == "QueryParams":
        return ("QueryParams", value.multi_items(), dict(value.items()), list(value))
    if type(value).__name__ == "Headers":
        return ("Headers", dict(value.items()), {n: value.getall(n) for n in value})
    return value


def agree(compiled: ModuleType, name: str, *args: Any, **kwargs: Any) -> None:
    expected = outcome(getattr(pure, name), *args, **kwargs)
    assert outcome(getattr(compiled, name), *args, **kwargs) == expected


texts = st.text(alphabet=st.sampled_from(NASTY), max_size=40) | st.text(max_size=40)


# -- compiled == pure on arbitrary input -----------------------------------------------------


@PROFILE
@given(raw=st.binary(max_size=80) | texts, max_params=st.integers(-3, 12) | st.just(1000))
def test_parse_query_agrees(compiled: ModuleType, raw: bytes | str, max_params: int) -> None:
    agree(compiled, "parse_query", raw, max_params)


@PROFILE
@given(
    raw=st.lists(
        st.text(alphabet="a=&+%0123456789abcdefABCDEF\xe9 ;", max_size=6).map(str), max_size=8
    ).map("&".join)
)
def test_parse_query_structured_agrees(compiled: ModuleType, raw: str) -> None:
    agree(compiled, "parse_query", raw)
    agree(compiled, "parse_query", raw.encode("utf-8"))
    agree(compiled, "parse_query", raw.encode("latin-1"))


def test_parse_query_odd_arguments_agree(compiled: ModuleType) -> None:
    for raw in (None, 5, bytearray(b"a=1"), memoryview(b"a=1"), "\ud800=1&a=\udcff"):
        agree(compiled, "parse_query", raw)
    for bound in (2.5, "3", None, 2**70, -(2**70), True):
        agree(compiled, "parse_query", "a&b&c", bound)
    agree(compiled, "parse_query", "a=1&" * 600)  # larger than the compiled stack buffer
    agree(compiled, "parse_query", "a=%41+&" * 600)


@PROFILE
@given(value=texts)
def test_text_parsers_agree(compiled: ModuleType, value: str) -> None:
    for name in ("parse_content_type", "parse_content_length", "parse_accept", "parse_cookie"):
        agree(compiled, name, value)
    agree(compiled, "check_header", "X-Test", value)
    agree(compiled, "check_header", value, "ok")
    agree(compiled, "encode_headers", [(value, value)])
    agree(compiled, "Headers", [(value, value)])


def test_text_parsers_reject_non_str_alike(compiled: ModuleType) -> None:
    for name in ("parse_content_type", "parse_content_length", "parse_accept", "parse_cookie"):
        for bad in (None, b"a/b", 5):
            agree(compiled, name, bad)
    agree(compiled, "check_header", b"a", "b")
    agree(compiled, "encode_headers", [("a", "b", "c")])
    agree(compiled, "encode_headers", None)


media_texts = st.lists(
    st.text(alphabet=st.sampled_from('ab/*;= \t,"\\qQ.01\xe9'), max_size=12), max_size=6
).map(",".join)


@PROFILE
@given(value=media_texts)
def test_media_parsers_agree_on_structured_input(compiled: ModuleType, value: str) -> None:
    agree(compiled, "parse_content_type", value)
    agree(compiled, "parse_accept", value)


@PROFILE
@given(
    accept=st.none() | media_texts | st.sampled_from(["*/*", "a/*;q=0", "a/b;x=1", "a/b, */*;q=0"]),
    offers=st.lists(
        st.sampled_from(["a/b", "a/c", "b/b", "A/B", "a/b;x=1", "a/b;x=2", "bad", "*/*", "a/*"]),
        max_size=4,
    ),
)
def test_best_match_agrees(compiled: ModuleType, accept: str | None, offers: list[str]) -> None:
    agree(compiled, "best_match", accept, offers)


def test_best_match_odd_arguments_agree(compiled: ModuleType) -> None:
    agree(compiled, "best_match", 5, ["a/b"])
    agree(compiled, "best_match", "a/b", [5])
    agree(compiled, "best_match", None, [5])
    agree(compiled, "best_match", "a/b", None)


@PROFILE
@given(
    name=texts,
    value=texts,
    max_age=st.none() | st.integers(-5, 10**12),
    expires=st.none() | st.integers(-(10**10), 10**11) | st.floats(allow_nan=True),
    path=st.none() | texts,
    domain=st.none() | texts,
    secure=st.booleans(),
    httponly=st.booleans(),
    samesite=st.none() | st.sampled_from(["lax", "Strict", "none", "bogus"]),
    partitioned=st.booleans(),
)
def test_format_set_cookie_agrees(
    compiled: ModuleType, name: str, value: str, **kwargs: Any
) -> None:
    agree(compiled, "format_set_cookie", name, value, **kwargs)


header_names = st.binary(max_size=6) | st.sampled_from(
    [b"Host", b"host", b"X-A", b"x-a", b"x_a", b"Content-Type", b"COOKIE", b"\xc9"]
)


@PROFILE
@given(
    raw=st.lists(st.tuples(header_names, st.binary(max_size=10)), max_size=8),
    probes=st.lists(
        st.sampled_from(["host", "HOST", "x-a", "X_A", "content-type", "cookie", "\xc9", "\u0100"])
        | st.text(max_size=4),
        max_size=4,
    ),
)
def test_headers_from_asgi_agree(
    compiled: ModuleType, raw: list[tuple[bytes, bytes]], probes: list[str]
) -> None:
    names = probes + [name.decode("latin-1") for name, _ in raw]
    pure_view = pure.Headers.from_asgi(raw)
    lazy = compiled.Headers.from_asgi(raw)  # answers from the raw pairs, before any full map
    for name in names:
        assert lazy.get(name) == pure_view.get(name)
        assert lazy.getall(name) == pure_view.getall(name)
        assert (name in lazy) == (name in pure_view)
    full = compiled.Headers.from_asgi(raw)
    assert dict(full.items()) == dict(pure_view.items())
    assert list(full) == list(pure_view)
    assert full == pure_view
    assert repr(full) == repr(pure_view)
    for name in names:
        assert full.get(name) == pure_view.get(name)


environ_keys = (
    st.sampled_from(
        [
            "HTTP_HOST",
            "HTTP_X_A",
            "HTTP_x_a",
            "HTTP_X-A",
            "CONTENT_TYPE",
            "CONTENT_LENGTH",
            "HTTP_CONTENT_TYPE",
            "HTTP_\xc9",
            "HTTP_",
            "SERVER_NAME",
            "HTTP_A__B",
        ]
    )
    | st.text(max_size=8).map(lambda s: "HTTP_" + s)
    | st.text(max_size=6)
)
environs = st.dictionaries(environ_keys, st.text(max_size=6) | st.integers(), max_size=8)
environ_probes = st.lists(
    st.sampled_from(["host", "X-A", "x_a", "content-type", "Content-Length", "\xe9", "a--b"])
    | st.text(max_size=4),
    max_size=4,
)


@PROFILE
@given(environ=environs, probes=environ_probes)
def test_headers_from_environ_agree(
    compiled: ModuleType, environ: dict[str, Any], probes: list[str]
) -> None:
    pure_view = pure.Headers.from_environ(environ)
    names = probes + list(pure_view) + [k[5:] for k in environ]
    lazy = compiled.Headers.from_environ(environ)
    for name in names:
        assert lazy.get(name) == pure_view.get(name)
        assert (name in lazy) == (name in pure_view)
    full = compiled.Headers.from_environ(environ)
    assert dict(full.items()) == dict(pure_view.items())
    assert list(full) == list(pure_view)
    for name in names:
        assert full.getall(name) == pure_view.getall(name)


@PROFILE
@given(
    raw=st.lists(st.tuples(header_names, st.binary(max_size=10)), max_size=8),
    probes=st.lists(
        st.sampled_from(["host", "HOST", "x-a", "X_A", "content-type", "cookie", "\xc9", "\u0100"])
        | st.text(max_size=4),
        max_size=4,
    ),
)
def test_asgi_header_is_the_view_get(
    headers_impl: ModuleType, raw: list[tuple[bytes, bytes]], probes: list[str]
) -> None:
    """One field read by a scan gives what the whole (pure) view gives, repeats joined."""
    pure_view = pure.Headers.from_asgi(raw)
    for name in probes + [name.decode("latin-1") for name, _ in raw]:
        assert headers_impl.asgi_header(raw, name) == pure_view.get(name)
        assert headers_impl.asgi_header(tuple(raw), name) == pure_view.get(name)


@PROFILE
@given(environ=environs, probes=environ_probes)
def test_environ_header_is_the_view_get(
    headers_impl: ModuleType, environ: dict[str, Any], probes: list[str]
) -> None:
    """One field read by its CGI key gives what the whole (pure) view gives."""
    pure_view = pure.Headers.from_environ(environ)
    for name in probes + list(pure_view) + [k[5:] for k in environ] + ["\u0131", "\u017f"]:
        assert headers_impl.environ_header(environ, name) == pure_view.get(name)


def test_single_header_reads_refuse_what_the_views_refuse(headers_impl: ModuleType) -> None:
    """Malformed pairs and environs raise what building the view raises; odd names are None."""
    for raw in (None, 5, [5], [(b"a",)], [(b"a", b"b", b"c")], [("a", b"b")], [(b"a", "b")]):
        for name in ("a", 5):
            assert outcome(headers_impl.asgi_header, raw, name) == outcome(
                lambda r, n: pure.Headers.from_asgi(r).get(n), raw, name
            )
    for environ in (None, 5, [("HTTP_A", "1")]):
        assert outcome(headers_impl.environ_header, environ, "a") == ("raised", TypeError)
    assert headers_impl.asgi_header([(b"a", b"1")], 5) is None
    assert headers_impl.environ_header({"HTTP_A": "1"}, 5) is None
    long_name = "x-" + "a" * 300  # longer than the compiled scan's name buffer
    assert headers_impl.asgi_header([(long_name.encode(), b"v")], long_name.upper()) == "v"
    long_environ = {"HTTP_" + long_name.upper().replace("-", "_"): "v"}
    assert headers_impl.environ_header(long_environ, long_name) == "v"


def test_headers_odd_arguments_agree(compiled: ModuleType) -> None:
    for raw in (None, 5, [5], [(b"a",)], [(b"a", b"b", b"c")], [("a", b"b")], [(b"a", "b")]):
        assert outcome(compiled.Headers.from_asgi, raw) == outcome(pure.Headers.from_asgi, raw)
    for environ in (None, 5, [("HTTP_A", "1")]):
        assert outcome(compiled.Headers.from_environ, environ) == outcome(
            pure.Headers.from_environ, environ
        )


# -- WSGI and ASGI views of the same wire request are the same --------------------------------

wire_names = st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=8)
wire_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=12,
).map(lambda v: v.strip(" \t"))


@PROFILE
@given(fields=st.lists(st.tuples(wire_names, wire_values), max_size=10))
def test_wsgi_and_asgi_views_agree(headers_impl: ModuleType, fields: list[tuple[str, str]]) -> None:
    """The environ Gunicorn builds and the scope Hypercorn builds give equal views."""
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in fields]
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "wsgi.input": None}
    for name, value in fields:
        upper = name.upper()
        key = upper.replace("-", "_")
        if upper in ("CONTENT-TYPE", "CONTENT-LENGTH"):
            environ[key] = value if key not in environ else environ[key] + "," + value
            continue
        key = "HTTP_" + key
        environ[key] = value if key not in environ else environ[key] + "," + value
    asgi = headers_impl.Headers.from_asgi(raw)
    wsgi = headers_impl.Headers.from_environ(environ)
    # PEP 3333 lets an empty CONTENT_TYPE/CONTENT_LENGTH mean "absent"; drop those from ASGI.
    expected = {k: v for k, v in asgi.items() if v or k not in ("content-type", "content-length")}
    assert dict(wsgi.items()) == expected
    for name in expected:
        assert wsgi.getall(name) == asgi.getall(name)


# -- pure agrees with the standard library and Werkzeug on valid input ------------------------


@PROFILE
@given(raw=st.text(max_size=60) | st.text(alphabet="ab=&+%2fFé;", max_size=30))
def test_parse_query_matches_parse_qsl(raw: str) -> None:
    assert pure.parse_query(raw).multi_items() == parse_qsl(raw, keep_blank_values=True)


tokens = st.text(alphabet=TCHARS, min_size=1, max_size=8)
qdtext = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters='"\\%\x7f'),
    max_size=10,
)


@st.composite
def content_types(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    main = draw(tokens)
    sub = draw(tokens)
    names = draw(st.lists(tokens.filter(lambda t: "*" not in t), max_size=4, unique_by=str.lower))
    params: dict[str, str] = {}
    text = f"{main}/{sub}"
    for name in names:
        quoted = draw(st.booleans())
        value = draw(qdtext if quoted else tokens)
        text += draw(st.sampled_from([";", "; ", " ;", ";\t"]))
        text += f'{name}="{value}"' if quoted else f"{name}={value}"
        params[name.lower()] = value
    return text, f"{main}/{sub}".lower(), params


@PROFILE
@given(case=content_types())
def test_parse_content_type_matches_werkzeug(case: tuple[str, str, dict[str, str]]) -> None:
    text, media_type, params = case
    assert pure.parse_content_type(text) == (media_type, params)
    w_type, w_params = parse_options_header(text)
    assert (w_type.lower(), w_params) == (media_type, params)


# Werkzeug refuses "0." and "1." (legal per RFC 9110); compared separately in docs/tests.
qvalues = st.sampled_from(["0", "1", "1.0", "1.00", "1.000"]) | st.integers(0, 999).flatmap(
    lambda m: st.sampled_from([f"0.{m:03d}", f"0.{m:03d}".rstrip("0").rstrip(".")])
)


@st.composite
def accept_headers(draw: st.DrawFn) -> str:
    elements = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["full", "type", "any"]))
        media = {
            "full": f"{draw(tokens)}/{draw(tokens)}",
            "type": f"{draw(tokens)}/*",
            "any": "*/*",
        }[kind]
        assume(not media.startswith("*/") or media == "*/*")
        if draw(st.booleans()):
            media += f";q={draw(qvalues)}"
        elements.append(media)
    return draw(st.sampled_from([",", ", ", " ,"])).join(elements)


@PROFILE
@given(header=accept_headers())
def test_parse_accept_matches_werkzeug(header: str) -> None:
    ours = pure.parse_accept(header)
    theirs = parse_accept_header(header, MIMEAccept)
    assert sorted((r, q) for r, q, _ in ours) == sorted(
        (value.lower(), float(q)) for value, q in theirs
    )
    assert [q for _, q, _ in ours] == sorted((q for _, q, _ in ours), reverse=True)


@PROFILE
@given(
    cookies=st.lists(
        st.tuples(
            st.text(alphabet=TCHARS, min_size=1, max_size=8),
            st.text(alphabet=COOKIE_OCTETS, max_size=10),
            st.booleans(),
        ),
        max_size=6,
        unique_by=lambda c: c[0],
    ),
    separator=st.sampled_from(["; ", ";", " ; "]),
)
def test_parse_cookie_matches_werkzeug(
    cookies: list[tuple[str, str, bool]], separator: str
) -> None:
    header = separator.join(f'{n}="{v}"' if q else f"{n}={v}" for n, v, q in cookies)
    expected = {n: v for n, v, _ in cookies}
    assert pure.parse_cookie(header) == expected
    assert parse_cookie(header).to_dict() == expected


SIMPLE_RESERVED = {
    "expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version",
    "samesite", "partitioned",
}  # fmt: skip


@PROFILE
@given(
    cookies=st.lists(
        st.tuples(
            st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=8),
            st.text(alphabet=string.ascii_letters + string.digits + "-_.!#%&'~:/*+^|", max_size=10),
        ),
        max_size=6,
        unique_by=lambda c: c[0].lower(),
    )
)
def test_parse_cookie_matches_simple_cookie(cookies: list[tuple[str, str]]) -> None:
    assume(all(n.lower() not in SIMPLE_RESERVED for n, _ in cookies))
    header = "; ".join(f"{n}={v}" for n, v in cookies)
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    assert pure.parse_cookie(header) == {k: m.value for k, m in jar.items()}


@PROFILE
@given(
    name=st.text(alphabet=TCHARS, min_size=1, max_size=8),
    value=st.text(alphabet=COOKIE_OCTETS, max_size=12),
)
def test_set_cookie_round_trips(headers_impl: ModuleType, name: str, value: str) -> None:
    header = headers_impl.format_set_cookie(name, value, max_age=5, secure=True, path="/p")
    assert headers_impl.parse_cookie(header.split(";")[0]) == {name: value}


@PROFILE
@given(
    name=st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=8),
    value=st.text(alphabet=string.ascii_letters + string.digits, max_size=12),
    max_age=st.none() | st.integers(0, 10**6),
    secure=st.booleans(),
    httponly=st.booleans(),
)
def test_set_cookie_is_read_by_simple_cookie(
    headers_impl: ModuleType,
    name: str,
    value: str,
    max_age: int | None,
    secure: bool,
    httponly: bool,
) -> None:
    assume(name.lower() not in SIMPLE_RESERVED)
    header = headers_impl.format_set_cookie(
        name, value, max_age=max_age, secure=secure, httponly=httponly, path="/p"
    )
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    morsel = jar[name]
    assert morsel.value == value
    assert morsel["path"] == "/p"
    assert bool(morsel["secure"]) == secure
    assert bool(morsel["httponly"]) == httponly
    assert morsel["max-age"] == ("" if max_age is None else str(max_age))


@PROFILE
@given(name=texts, value=texts)
def test_checked_headers_are_safe(headers_impl: ModuleType, name: str, value: str) -> None:
    try:
        encoded = headers_impl.encode_headers([(name, value)])
    except ValueError:
        return
    ((bname, bvalue),) = encoded
    line = bname + b": " + bvalue
    assert not any(c in line for c in (b"\r", b"\n", b"\x00"))
    assert bname == name.lower().encode("ascii")
    assert bvalue.decode("latin-1") == value
    headers_impl.check_header(name, value)
