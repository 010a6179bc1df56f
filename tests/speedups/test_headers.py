"""Behaviour of the header, query and cookie parsers, run against both implementations."""

from __future__ import annotations

import collections.abc
from datetime import UTC, datetime, timedelta, timezone
from types import ModuleType
from typing import Any

import pytest

from duoweb._header_errors import (
    InvalidContentLength,
    InvalidCookie,
    TooManyQueryParameters,
    UnsafeHeader,
)

BROWSER_ASGI: list[tuple[bytes, bytes]] = [
    (b"host", b"example.com"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    (b"accept-language", b"en-US,en;q=0.5"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"x-forwarded-for", b"10.0.0.1"),
    (b"Content-Type", b"application/json; charset=utf-8"),
    (b"content-length", b"42"),
    (b"cookie", b"sid=abc; theme=dark"),
    (b"x-forwarded-for", b"10.0.0.2"),
    (b"x-custom", b"caf\xe9"),
]

BROWSER_ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "example.com",
    "wsgi.input": None,
    "HTTP_HOST": "example.com",
    "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.5",
    "HTTP_ACCEPT_ENCODING": "gzip, deflate, br, zstd",
    # Gunicorn (and wsgiref) join repeated request fields with ",".
    "HTTP_X_FORWARDED_FOR": "10.0.0.1,10.0.0.2",
    "CONTENT_TYPE": "application/json; charset=utf-8",
    "CONTENT_LENGTH": "42",
    "HTTP_COOKIE": "sid=abc; theme=dark",
    "HTTP_X_CUSTOM": "caf\xe9",
}


# -- Headers ---------------------------------------------------------------------------------


def test_headers_asgi_and_wsgi_have_the_same_contents(headers_impl: ModuleType) -> None:
    asgi = headers_impl.Headers.from_asgi(BROWSER_ASGI)
    wsgi = headers_impl.Headers.from_environ(BROWSER_ENVIRON)
    assert asgi == wsgi
    assert dict(asgi.items()) == dict(wsgi.items())
    assert sorted(asgi) == sorted(wsgi)
    assert len(asgi) == len(wsgi) == 10
    for name in asgi:
        assert asgi[name] == wsgi[name]
        assert asgi.getall(name) == wsgi.getall(name)


def test_headers_lookup_is_case_insensitive(headers_impl: ModuleType) -> None:
    h = headers_impl.Headers.from_asgi(BROWSER_ASGI)
    assert h["Content-Type"] == "application/json; charset=utf-8"
    assert h.get("CONTENT-TYPE") == "application/json; charset=utf-8"
    assert "Host" in h
    assert "HOST" in h
    assert h["x-custom"] == "café"  # latin-1 decoded
    assert "content_type" not in h
    assert h.get("content_type") is None


def test_headers_repeats_join_with_comma_and_getall_splits(headers_impl: ModuleType) -> None:
    h = headers_impl.Headers.from_asgi(BROWSER_ASGI)
    assert h.get("x-forwarded-for") == "10.0.0.1,10.0.0.2"
    assert h.getall("x-forwarded-for") == ["10.0.0.1", "10.0.0.2"]
    assert h.getall("accept-encoding") == ["gzip", "deflate", "br", "zstd"]
    assert h.getall("missing") == []
    q = headers_impl.Headers.from_asgi(
        [(b"x-list", b'a, "b,c" , ,'), (b"x-list", b'"d\\",e"'), (b"x-list", b"")]
    )
    assert q.get("x-list") == 'a, "b,c" , ,,"d\\",e",'
    assert q.getall("x-list") == ["a", '"b,c"', '"d\\",e"']


def test_headers_missing_and_defaults(headers_impl: ModuleType) -> None:
    h = headers_impl.Headers.from_asgi(BROWSER_ASGI)
    assert h.get("nope") is None
    assert h.get("nope", "dflt") == "dflt"
    with pytest.raises(KeyError):
        h["nope"]
    assert 1 not in h
    assert h.get(1, "x") == "x"
    with pytest.raises(KeyError):
        h[1]


def test_headers_is_a_read_only_mapping(headers_impl: ModuleType) -> None:
    h = headers_impl.Headers.from_asgi([(b"A", b"1"), (b"b", b"2")])
    assert isinstance(h, collections.abc.Mapping)
    assert list(h) == ["a", "b"]
    assert list(h.keys()) == ["a", "b"]
    assert list(h.values()) == ["1", "2"]
    assert list(h.items()) == [("a", "1"), ("b", "2")]
    assert h == {"a": "1", "b": "2"}
    assert h != {"a": "1"}
    five: object = 5
    assert h != five
    assert repr(h) == "Headers({'a': '1', 'b': '2'})"
    with pytest.raises(TypeError):
        h["c"] = "3"  # type: ignore[index]
    with pytest.raises(TypeError):
        hash(h)
    assert dict(h) == {"a": "1", "b": "2"}


def test_headers_constructor_from_pairs(headers_impl: ModuleType) -> None:
    h = headers_impl.Headers([("X-A", "1"), ("x-a", "2"), ("B", "3")])
    assert h == {"x-a": "1,2", "b": "3"}
    assert headers_impl.Headers({"Content-Type": "text/plain"}) == {"content-type": "text/plain"}
    assert headers_impl.Headers() == {}
    with pytest.raises(TypeError):
        headers_impl.Headers([("a", b"1")])


def test_headers_from_asgi_accepts_lists_and_rejects_non_bytes(headers_impl: ModuleType) -> None:
    h = headers_impl.Headers.from_asgi(iter([[b"a", b"1"], (b"B", b"2")]))
    assert h == {"a": "1", "b": "2"}
    with pytest.raises(TypeError):
        headers_impl.Headers.from_asgi([("a", "1")])
    with pytest.raises(ValueError, match="unpack"):
        headers_impl.Headers.from_asgi([(b"a", b"1", b"2")])


def test_headers_from_asgi_is_a_snapshot(headers_impl: ModuleType) -> None:
    raw = [(b"a", b"1")]
    h = headers_impl.Headers.from_asgi(raw)
    raw.append((b"a", b"2"))
    assert h["a"] == "1"


def test_headers_from_environ_rules(headers_impl: ModuleType) -> None:
    environ: dict[Any, Any] = {
        5: "non-str key: skipped",
        "HTTP_X_A": "1",
        "HTTP_CONTENT_TYPE": "ignored/ignored",  # the CGI key wins; servers never set this
        "HTTP_CONTENT_LENGTH": "999",
        "CONTENT_TYPE": "",  # PEP 3333: empty means absent
        "CONTENT_LENGTH": "",
        "HTTP_x_lower": "skipped, not server-made",
        "HTTP_X-DASH": "skipped, not server-made",
        "HTTP_X.DOT": "kept",
        "HTTP_NUMBER": 5,  # not a str: skipped
        "SERVER_NAME": "x",
    }
    h = headers_impl.Headers.from_environ(environ)
    assert h == {"x-a": "1", "x.dot": "kept"}
    assert "content-type" not in h
    assert "x-lower" not in h
    assert h.get("x-dash") is None
    assert h.get("number") is None
    full = headers_impl.Headers.from_environ({"CONTENT_TYPE": "a/b", "CONTENT_LENGTH": "3"})
    assert full == {"content-type": "a/b", "content-length": "3"}
    assert full["Content-Length"] == "3"


def test_headers_from_environ_is_a_snapshot(headers_impl: ModuleType) -> None:
    environ = {"HTTP_X_A": "1"}
    h = headers_impl.Headers.from_environ(environ)
    environ["HTTP_X_A"] = "2"
    environ["HTTP_X_B"] = "3"
    assert h.get("x-a") == "1"
    assert "x-b" not in h


def test_headers_non_ascii_names_fold_ascii_only(headers_impl: ModuleType) -> None:
    h = headers_impl.Headers.from_asgi([(b"X-\xc9", b"1")])
    assert list(h) == ["x-\xc9"]  # bytes.lower() leaves \xc9 alone
    assert h.get("X-\xc9") == "1"
    assert h.get("x-\xe9") is None  # no Unicode case folding
    assert h.get("x-\u0100") is None


# -- Query strings ---------------------------------------------------------------------------


def test_parse_query_basics(headers_impl: ModuleType) -> None:
    q = headers_impl.parse_query(b"a=1&b=two+words&a=3&c=%41%2b&empty=&flag&=v&&")
    assert q.multi_items() == [
        ("a", "1"),
        ("b", "two words"),
        ("a", "3"),
        ("c", "A+"),
        ("empty", ""),
        ("flag", ""),
        ("", "v"),
    ]
    assert q["a"] == "1"  # first value wins
    assert q.get("a") == "1"
    assert q.getall("a") == ["1", "3"]
    assert q.getall("zzz") == []
    assert q.get("zzz") is None
    assert q.get("zzz", "d") == "d"
    assert "flag" in q
    assert list(q) == ["a", "b", "c", "empty", "flag", ""]
    assert len(q) == 6
    assert isinstance(q, collections.abc.Mapping)
    with pytest.raises(KeyError):
        q["zzz"]


def test_parse_query_str_and_bytes_agree(headers_impl: ModuleType) -> None:
    text = "name=Jos%C3%A9&city=S%C3%A3o+Paulo&raw=é"
    assert headers_impl.parse_query(text) == headers_impl.parse_query(text.encode())
    assert headers_impl.parse_query(text)["name"] == "José"
    assert headers_impl.parse_query(text)["raw"] == "é"


def test_parse_query_is_lenient(headers_impl: ModuleType) -> None:
    q = headers_impl.parse_query(b"a=%zz&b=%4&c=%&d=%C3&e=\xff&f=%e2%82%ac")
    assert q.multi_items() == [
        ("a", "%zz"),
        ("b", "%4"),
        ("c", "%"),
        ("d", "\ufffd"),
        ("e", "\ufffd"),
        ("f", "€"),
    ]


def test_parse_query_semicolon_is_not_a_separator(headers_impl: ModuleType) -> None:
    assert headers_impl.parse_query("a=1;b=2").multi_items() == [("a", "1;b=2")]


def test_parse_query_equals_in_value(headers_impl: ModuleType) -> None:
    assert headers_impl.parse_query("a==b=c").multi_items() == [("a", "=b=c")]


def test_parse_query_empty(headers_impl: ModuleType) -> None:
    assert headers_impl.parse_query(b"").multi_items() == []
    assert headers_impl.parse_query("&&&").multi_items() == []
    assert len(headers_impl.parse_query("")) == 0


def test_parse_query_bound(headers_impl: ModuleType) -> None:
    assert len(headers_impl.parse_query("&".join(["a=1"] * 5), max_params=5).multi_items()) == 5
    assert len(headers_impl.parse_query("a=1&&&&&&b=2", max_params=2)) == 2  # blanks are free
    with pytest.raises(TooManyQueryParameters):
        headers_impl.parse_query("&".join(["a=1"] * 6), max_params=5)
    with pytest.raises(ValueError, match="more than 1000"):
        headers_impl.parse_query(b"x&" * 1001)


def test_parse_query_rejects_other_types(headers_impl: ModuleType) -> None:
    with pytest.raises(TypeError):
        headers_impl.parse_query(5)
    with pytest.raises(TypeError):
        headers_impl.parse_query(None)


def test_query_params_constructor_and_eq(headers_impl: ModuleType) -> None:
    q = headers_impl.QueryParams([("a", "1"), ("a", "2")])
    assert q == headers_impl.parse_query("a=1&a=2")
    assert q != headers_impl.parse_query("a=1")
    assert q == {"a": "1"}
    assert list(q.items()) == [("a", "1")]
    assert list(q.values()) == ["1"]
    assert repr(q) == "QueryParams([('a', '1'), ('a', '2')])"
    with pytest.raises(TypeError):
        hash(q)
    copy = q.multi_items()
    copy.append(("b", "3"))
    assert "b" not in q
    assert len(headers_impl.QueryParams()) == 0


# -- Content-Type ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("application/json", ("application/json", {})),
        ("Application/JSON; Charset=UTF-8", ("application/json", {"charset": "UTF-8"})),
        ("text/html;charset=utf-8", ("text/html", {"charset": "utf-8"})),
        ('text/plain; a="q\\"uoted\\\\"; b=2', ("text/plain", {"a": 'q"uoted\\', "b": "2"})),
        ('multipart/form-data; boundary="a;b,c"', ("multipart/form-data", {"boundary": "a;b,c"})),
        ("  text/plain  ;  charset = utf-8  ", ("text/plain", {"charset": "utf-8"})),
        ("text/plain; a=1; a=2", ("text/plain", {"a": "1"})),  # first wins
        ("text/plain;;; a=1 ;", ("text/plain", {"a": "1"})),
        ("text/plain; novalue; b=2", ("text/plain", {"b": "2"})),
        ("text/plain; a=b c; d=e", ("text/plain", {"d": "e"})),
        ('text/plain; a="unterminated; b=2', ("text/plain", {})),
        ('text/plain; a=""', ("text/plain", {"a": ""})),
        ("text/plain; a=", ("text/plain", {})),
        ("text/plain; =x; b=1", ("text/plain", {"b": "1"})),
        ('text/plain; a="tab\tok"', ("text/plain", {"a": "tab\tok"})),
        ('text/plain; a="bad\x01"; b=1', ("text/plain", {"b": "1"})),
        ('text/plain; a="caf\xe9"', ("text/plain", {"a": "café"})),
        ("", ("", {})),
        ("garbage", ("", {})),
        ("text/", ("", {})),
        ("/json", ("", {})),
        ("text /html", ("", {})),
        ("text/html/x", ("", {})),
        ("tëxt/html", ("", {})),
        (";charset=utf-8", ("", {})),
    ],
)
def test_parse_content_type(
    headers_impl: ModuleType, value: str, expected: tuple[str, dict[str, str]]
) -> None:
    assert headers_impl.parse_content_type(value) == expected


# -- Content-Length --------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("42", 42), ("007", 7)])
def test_parse_content_length_ok(headers_impl: ModuleType, value: str, expected: int) -> None:
    assert headers_impl.parse_content_length(value) == expected


def test_parse_content_length_big(headers_impl: ModuleType) -> None:
    assert headers_impl.parse_content_length("9" * 30) == int("9" * 30)
    assert headers_impl.parse_content_length("18446744073709551616") == 2**64
    assert headers_impl.parse_content_length("9223372036854775807") == 2**63 - 1
    with pytest.raises(InvalidContentLength):
        headers_impl.parse_content_length("1" * 10_000)


@pytest.mark.parametrize(
    "value", ["", "+5", "-5", " 5", "5 ", "0x5", "5.0", "\u0665", "²", "5, 5", "5,5", "1e3", "\x00"]
)
def test_parse_content_length_strict(headers_impl: ModuleType, value: str) -> None:
    with pytest.raises(InvalidContentLength):
        headers_impl.parse_content_length(value)
    with pytest.raises(ValueError, match="Content-Length"):  # the documented base class
        headers_impl.parse_content_length(value)


# -- Accept ----------------------------------------------------------------------------------

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


def test_parse_accept_orders_best_first(headers_impl: ModuleType) -> None:
    assert headers_impl.parse_accept(CHROME) == [
        ("text/html", 1.0, {}),
        ("application/xhtml+xml", 1.0, {}),
        ("image/avif", 1.0, {}),
        ("image/webp", 1.0, {}),
        ("image/apng", 1.0, {}),
        ("application/xml", 0.9, {}),
        ("*/*", 0.8, {}),
        ("application/signed-exchange", 0.7, {"v": "b3"}),
    ]


def test_parse_accept_specificity_breaks_ties(headers_impl: ModuleType) -> None:
    assert [
        r for r, _, _ in headers_impl.parse_accept("*/*, text/*, text/plain;a=1, text/plain")
    ] == [
        "text/plain",
        "text/plain",
        "text/*",
        "*/*",
    ]
    assert headers_impl.parse_accept("*/*, text/*, text/plain;a=1, text/plain")[0][2] == {"a": "1"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("0", 0.0),
        ("0.", 0.0),
        ("0.5", 0.5),
        ("0.123", 0.123),
        ("0.001", 0.001),
        ("1", 1.0),
        ("1.", 1.0),
        ("1.000", 1.0),
        # Malformed: the q parameter is ignored, so the weight is the default 1.
        ("1.5", 1.0),
        ("2", 1.0),
        ("-1", 1.0),
        ("0.1234", 1.0),
        (".5", 1.0),
        ("0 .5", 1.0),
        ("abc", 1.0),
        ("", 1.0),
        ("1.001", 1.0),
        ('"0.5"', 0.5),
    ],
)
def test_parse_accept_qvalues(headers_impl: ModuleType, q: str, expected: float) -> None:
    assert headers_impl.parse_accept(f"text/plain;q={q}") == [("text/plain", expected, {})]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0.0),
        ("0.", 0.0),
        ("0.5", 0.5),
        ("0.001", 0.001),
        ("1", 1.0),
        ("1.000", 1.0),
        ("1.001", None),
        ("1.5", None),
        ("2", None),
        ("0.1234", None),
        (".5", None),
        ("", None),
        ("0.\u0663", None),  # a non-ASCII digit
    ],
)
def test_parse_qvalue(headers_impl: ModuleType, text: str, expected: float | None) -> None:
    assert headers_impl.parse_qvalue(text) == expected


def test_parse_qvalue_rejects_other_types(headers_impl: ModuleType) -> None:
    with pytest.raises(TypeError):
        headers_impl.parse_qvalue(None)


def test_parse_accept_skips_invalid_ranges(headers_impl: ModuleType) -> None:
    assert headers_impl.parse_accept("*/html, text, /x, , TEXT/Plain ;Q=0.5;Level=1") == [
        ("text/plain", 0.5, {"level": "1"})
    ]
    assert headers_impl.parse_accept("") == []
    assert headers_impl.parse_accept(",,,") == []


def test_parse_accept_quoted_commas(headers_impl: ModuleType) -> None:
    assert headers_impl.parse_accept('a/b;x="1,2";q=0.5, c/d') == [
        ("c/d", 1.0, {}),
        ("a/b", 0.5, {"x": "1,2"}),
    ]


@pytest.mark.parametrize(
    ("accept", "offers", "expected"),
    [
        (None, ["application/json", "text/html"], "application/json"),
        ("", ["application/json"], "application/json"),
        ("garbage", ["application/json"], "application/json"),
        (FIREFOX, ["application/json", "text/html"], "text/html"),
        (FIREFOX, ["application/json"], "application/json"),
        ("application/json", ["text/html"], None),
        ("text/*", ["application/json", "text/csv"], "text/csv"),
        ("*/*", ["application/json", "text/html"], "application/json"),
        ("text/html, */*", ["application/json", "text/html"], "text/html"),
        # The most specific range decides, even with a lower q (RFC 9110 12.5.1).
        ("text/*;q=0.5, text/html;q=0", ["text/html"], None),
        ("text/*;q=0.5, text/html;q=0", ["text/html", "text/plain"], "text/plain"),
        (
            "*/*;q=0.1, application/json;q=0.5",
            ["text/html", "application/json"],
            "application/json",
        ),
        ("application/json;q=0.5, text/html;q=0.5", ["text/html", "application/json"], "text/html"),
        ("Application/JSON", ["application/json"], "application/json"),
        ("application/json", ["Application/Json"], "Application/Json"),
        ("text/plain;format=flowed", ["text/plain"], None),
        ("text/plain;format=flowed", ["text/plain;format=flowed"], "text/plain;format=flowed"),
        ("text/plain;format=flowed;q=0, text/plain", ["text/plain;format=flowed"], None),
        ("*/*", [], None),
        ("*/*", ["not a type", "a/b"], "a/b"),
        (None, ["bad"], None),
        ("application/*;q=0", ["application/json"], None),
    ],
)
def test_best_match(
    headers_impl: ModuleType, accept: str | None, offers: list[str], expected: str | None
) -> None:
    assert headers_impl.best_match(accept, offers) == expected


# -- Cookie ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1;b=2;", {"a": "1", "b": "2"}),
        ('  a = "quoted value" ; b="" ', {"a": "quoted value", "b": ""}),
        ('a="', {"a": '"'}),
        ("a=1; a=2", {"a": "1"}),  # first wins
        ("novalue; b=2", {"b": "2"}),  # pairs without "=" are skipped
        ("=x; b=2", {"b": "2"}),  # empty names are skipped
        ("a=x=y", {"a": "x=y"}),
        ("a=1,b=2", {"a": "1,b=2"}),
        ("a=caf\xe9", {"a": "café"}),
        ("", {}),
        (";;;", {}),
        ("a b=1", {"a b": "1"}),
        ('a="\\"esc\\""', {"a": '\\"esc\\"'}),
        ("a=\tx\t", {"a": "x"}),
    ],
)
def test_parse_cookie(headers_impl: ModuleType, value: str, expected: dict[str, str]) -> None:
    assert headers_impl.parse_cookie(value) == expected


# -- Set-Cookie ------------------------------------------------------------------------------


def test_format_set_cookie_defaults(headers_impl: ModuleType) -> None:
    assert headers_impl.format_set_cookie("sid", "abc") == "sid=abc; Path=/"
    assert headers_impl.format_set_cookie("sid", "", path=None) == "sid="
    assert headers_impl.format_set_cookie("sid", '"abc"', path=None) == 'sid="abc"'


def test_format_set_cookie_all_attributes(headers_impl: ModuleType) -> None:
    value = headers_impl.format_set_cookie(
        "sid",
        "abc",
        max_age=3600,
        expires=datetime(2015, 10, 21, 7, 28, tzinfo=UTC),
        path="/api",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="none",
        partitioned=True,
    )
    assert value == (
        "sid=abc; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=3600; Domain=example.com; "
        "Path=/api; Secure; HttpOnly; SameSite=None; Partitioned"
    )


def test_format_set_cookie_expires_forms(headers_impl: ModuleType) -> None:
    fmt = headers_impl.format_set_cookie
    expected = "a=b; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    assert fmt("a", "b", expires=0, path=None) == expected
    assert fmt("a", "b", expires=0.5, path=None) == expected
    assert fmt("a", "b", expires=datetime(1970, 1, 1), path=None) == expected  # naive = UTC
    plus_two = timezone(timedelta(hours=2))
    assert fmt("a", "b", expires=datetime(1970, 1, 1, 2, tzinfo=plus_two), path=None) == expected
    assert "Expires=Sun, 09 Sep 2001 01:46:40 GMT" in fmt("a", "b", expires=1_000_000_000)
    with pytest.raises(TypeError):
        fmt("a", "b", expires="tomorrow")
    with pytest.raises(TypeError):
        fmt("a", "b", expires=True)
    with pytest.raises(TypeError):
        fmt("a", "b", max_age="5")
    assert fmt("a", "b", max_age=0, path=None) == "a=b; Max-Age=0"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("", "v"),
        ("a b", "v"),
        ("a;b", "v"),
        ("a=b", "v"),
        ("a\r\n", "v"),
        ("é", "v"),
        ("a", "v w"),
        ("a", "v;w"),
        ("a", "v,w"),
        ("a", 'v"w'),
        ("a", "v\\w"),
        ("a", "v\r\nSet-Cookie: evil=1"),
        ("a", "v\x00"),
        ("a", "é"),
        ("a", '"'),
        ("a", '"a b"'),
    ],
)
def test_format_set_cookie_refuses_breaking_input(
    headers_impl: ModuleType, name: str, value: str
) -> None:
    with pytest.raises(InvalidCookie):
        headers_impl.format_set_cookie(name, value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "/a;b"},
        {"path": "/a\r\n"},
        {"path": ""},
        {"domain": "ex;ample.com"},
        {"domain": "é.com"},
        {"samesite": "bogus"},
        {"samesite": "none"},  # without secure
        {"partitioned": True},  # without secure
    ],
)
def test_format_set_cookie_refuses_bad_attributes(
    headers_impl: ModuleType, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(InvalidCookie):
        headers_impl.format_set_cookie("a", "b", **kwargs)


def test_format_set_cookie_samesite_case(headers_impl: ModuleType) -> None:
    assert headers_impl.format_set_cookie("a", "b", samesite="Strict").endswith("SameSite=Strict")
    assert headers_impl.format_set_cookie("a", "b", samesite="lax").endswith("SameSite=Lax")


# -- Response headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Content-Type", "application/json"),
        ("X-Thing", ""),
        ("X-Tab", "a\tb"),
        ("X-Latin", "café \xff"),
        ("x!#$%&'*+-.^_`|~", "v"),
    ],
)
def test_check_header_accepts(headers_impl: ModuleType, name: str, value: str) -> None:
    headers_impl.check_header(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-A", "a\r\nSet-Cookie: x=1"),
        ("X-A", "a\rb"),
        ("X-A", "a\nb"),
        ("X-A", "a\x00b"),
        ("X-A", "a\x01b"),
        ("X-A", "a\x7fb"),
        ("X-A", "\u20ac"),
        ("X-A\r\n", "v"),
        ("X A", "v"),
        ("X:A", "v"),
        ("", "v"),
        ("X-\xe9", "v"),
        ("X-A\x00", "v"),
    ],
)
def test_check_header_refuses(headers_impl: ModuleType, name: str, value: str) -> None:
    with pytest.raises(UnsafeHeader):
        headers_impl.check_header(name, value)
    with pytest.raises(UnsafeHeader):
        headers_impl.encode_headers([("ok", "ok"), (name, value)])


def test_check_header_types(headers_impl: ModuleType) -> None:
    with pytest.raises(TypeError):
        headers_impl.check_header(b"a", "b")
    with pytest.raises(TypeError):
        headers_impl.check_header("a", 1)


def test_encode_headers(headers_impl: ModuleType) -> None:
    assert headers_impl.encode_headers(
        [("Content-Type", "application/json"), ("X-Name", "café"), ("set-cookie", "a=1")]
    ) == [
        (b"content-type", b"application/json"),
        (b"x-name", b"caf\xe9"),
        (b"set-cookie", b"a=1"),
    ]
    assert headers_impl.encode_headers([]) == []
    assert headers_impl.encode_headers((("a", "b"),)) == [(b"a", b"b")]
