"""Every parser of client input does linear work: 8 KiB of hostile input against 64 KiB.

Each case sends one request shape whose hostile part is 8 KiB, then 64 KiB (8x), through the
whole app in both modes (the raw in-process callers of this directory), and compares the CPU
work the process spends on it beyond the same shape at 1 KiB (the request's fixed cost).
Linear work grows about 9x; quadratic work (a regex retried at every position, a ``find``
that rescans the rest of the text per item) about 65x. No hardware instruction counter is
available in the test container, so the measure is the process's CPU time, the best of
five batches per size (taken in turn), as a ratio: never an absolute time. The bound, 32x,
is half the quadratic growth and over three times the linear one: on a busy shared machine a
parser that builds an object per element measured up to 35x against a 24x bound, from cache
pressure alone. A case that exceeds it is measured again twice before the test fails (a busy
machine can slow one batch, a quadratic parser is slow every time).

The same shapes are also fed straight to both implementations (compiled and pure) of the
header parsers, where the per-request overhead does not dilute them.
"""

from __future__ import annotations

import functools
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import msgspec
import pytest

from duoweb import App, Form, Query, Request
from duoweb.compression import CompressionMiddleware, negotiate_encoding
from duoweb.proxies import TrustedProxies, resolve_origin
from duoweb.staticfiles import StaticFiles, parse_http_date, parse_range
from tests.robustness.conftest import Send
from tests.robustness.inprocess import RawRequest

SMALL = 8 * 1024
LARGE = 64 * 1024
GROWTH_BOUND = 32.0  # for 8x the input beyond 1 KiB: linear is ~9x, quadratic ~65x
ROUNDS = 5
ATTEMPTS = 3


class Shape(NamedTuple):
    """One request shape: method, path and headers/body built for a hostile part of ``n``."""

    method: str
    path: Callable[[int], str]
    headers: Callable[[int], dict[str, str]]
    body: Callable[[int], bytes]


def _fill(unit: str, n: int) -> str:
    """``unit`` repeated to about ``n`` characters."""
    return unit * max(1, n // len(unit))


def _none(n: int) -> dict[str, str]:
    return {}


def _no_body(n: int) -> bytes:
    return b""


def _at(path: str) -> Callable[[int], str]:
    return lambda n: path


def _header(
    name: str, unit: str, prefix: str = "", suffix: str = ""
) -> Callable[[int], dict[str, str]]:
    return lambda n: {name: prefix + _fill(unit, n) + suffix}


class Item(msgspec.Struct):
    name: str
    price: int


def build_app(static_dir: Path) -> App:
    app = App(
        trusted_proxies="*",
        max_query_params=1_000_000,
        max_path_length=1_000_000,
        max_body_size=1024 * 1024,
    )
    app.middleware(CompressionMiddleware(minimum_size=1))
    StaticFiles(static_dir).mount(app, "/static", name="static")

    @app.get("/inspect")
    def inspect(request: Request) -> dict[str, Any]:
        return {
            "query": len(request.query),
            "cookies": len(request.cookies),
            "headers": len(request.headers),
            "accepts": request.accepts("application/json", "text/html"),
            "url": request.url,
            "client": request.client,
            "type": request.content_type[0],
        }

    @app.get("/typed")
    def typed(n: Annotated[int, Query()] = 0, tags: Annotated[list[str], Query()] = []) -> int:  # noqa: B006
        return n + len(tags)

    @app.get("/p/{rest:path}")
    def path(rest: str) -> int:
        return len(rest)

    @app.post("/json")
    def json_body(item: Item) -> Item:
        return item

    @app.post("/any-json")
    def any_json(request: Request) -> int:
        return len(str(request.json()))

    @app.post("/form")
    def form(names: Annotated[list[str], Form()] = []) -> int:  # noqa: B006
        return len(names)

    return app


FORM_TYPE = {"content-type": "application/x-www-form-urlencoded"}
MULTIPART = "multipart/form-data; boundary=b"

SHAPES: dict[str, Shape] = {
    # Conditional requests and ranges on a static file.
    "if-none-match spaces": Shape(
        "GET", _at("/static/a.txt"), _header("if-none-match", " ", suffix="x"), _no_body
    ),
    "if-none-match tags": Shape(
        "GET", _at("/static/a.txt"), _header("if-none-match", '"abc", W/"d", '), _no_body
    ),
    "if-none-match open quote": Shape(
        "GET", _at("/static/a.txt"), _header("if-none-match", '"a,', prefix=" "), _no_body
    ),
    "if-match spaces": Shape(
        "GET", _at("/static/a.txt"), _header("if-match", "\t ", prefix='"x"'), _no_body
    ),
    "if-modified-since": Shape(
        "GET",
        _at("/static/a.txt"),
        _header("if-modified-since", " ", suffix="Sun, 06 Nov 1994"),
        _no_body,
    ),
    "range many": Shape(
        "GET", _at("/static/a.txt"), _header("range", "0-0,", prefix="bytes="), _no_body
    ),
    "range spaces": Shape(
        "GET", _at("/static/a.txt"), _header("range", " ", prefix="bytes=", suffix="x"), _no_body
    ),
    # Content negotiation: Accept (the header parsers) and Accept-Encoding (compression's own).
    "accept many": Shape("GET", _at("/inspect"), _header("accept", "text/html;q=0.5, "), _no_body),
    "accept params": Shape(
        "GET", _at("/inspect"), _header("accept", ";a=b", prefix="text/html"), _no_body
    ),
    "accept quotes": Shape(
        "GET", _at("/inspect"), _header("accept", '\\"', prefix='text/html;a="'), _no_body
    ),
    "accept semicolons": Shape(
        "GET", _at("/inspect"), _header("accept", "; ", prefix="a/b"), _no_body
    ),
    "accept-encoding many": Shape(
        "GET", _at("/inspect"), _header("accept-encoding", "gzip;q=0.5, "), _no_body
    ),
    "accept-encoding params": Shape(
        "GET", _at("/inspect"), _header("accept-encoding", ";q=1", prefix="gzip"), _no_body
    ),
    # Cookies, query strings, the header block itself.
    "cookie many": Shape("GET", _at("/inspect"), _header("cookie", "a=b; "), _no_body),
    "cookie quotes": Shape("GET", _at("/inspect"), _header("cookie", '"', prefix="a="), _no_body),
    "cookie spaces": Shape("GET", _at("/inspect"), _header("cookie", " ", suffix="a=b"), _no_body),
    "query many": Shape("GET", lambda n: "/inspect?" + _fill("a=b&", n), _none, _no_body),
    "query escapes": Shape("GET", lambda n: "/inspect?a=" + _fill("%2", n), _none, _no_body),
    "query typed list": Shape("GET", lambda n: "/typed?" + _fill("tags=x&", n), _none, _no_body),
    "query int digits": Shape("GET", lambda n: "/typed?n=" + _fill("9", n), _none, _no_body),
    "header count": Shape(
        "GET", _at("/inspect"), lambda n: {f"x-h{i}": "v" for i in range(n // 8)}, _no_body
    ),
    "content-type params": Shape(
        "GET", _at("/inspect"), _header("content-type", "; a=b", prefix="text/plain"), _no_body
    ),
    # Where the request came from: Host, Forwarded, X-Forwarded-*.
    "host long": Shape("GET", _at("/inspect"), _header("host", "a"), _no_body),
    "forwarded quoted": Shape(
        "GET", _at("/inspect"), _header("forwarded", '""', prefix="for="), _no_body
    ),
    "forwarded escapes": Shape(
        "GET", _at("/inspect"), _header("forwarded", '\\"', prefix='for="', suffix='"'), _no_body
    ),
    "forwarded many": Shape(
        "GET", _at("/inspect"), _header("forwarded", "for=10.0.0.1, "), _no_body
    ),
    "forwarded semicolons": Shape(
        "GET", _at("/inspect"), _header("forwarded", ";", prefix="for=1.2.3.4"), _no_body
    ),
    "x-forwarded-for": Shape(
        "GET", _at("/inspect"), _header("x-forwarded-for", "10.0.0.1, "), _no_body
    ),
    "x-forwarded-host": Shape("GET", _at("/inspect"), _header("x-forwarded-host", "a, "), _no_body),
    # Paths.
    "path segments": Shape("GET", lambda n: "/p/" + _fill("a/", n), _none, _no_body),
    "path escapes": Shape("GET", lambda n: "/p/" + _fill("%2f%", n), _none, _no_body),
    # Bodies: JSON and forms.
    "json nesting": Shape("POST", _at("/any-json"), _none, lambda n: _fill("[", n).encode()),
    "json long string": Shape(
        "POST",
        _at("/json"),
        _none,
        lambda n: b'{"name":"' + _fill("\\u00e9", n).encode() + b'","price":1}',
    ),
    "json many fields": Shape(
        "POST",
        _at("/json"),
        _none,
        lambda n: b"{" + _fill('"x":1,', n).encode() + b'"name":"a","price":1}',
    ),
    "form urlencoded": Shape(
        "POST", _at("/form"), lambda n: FORM_TYPE, lambda n: _fill("names=a&", n).encode()
    ),
    "form multipart boundaries": Shape(
        "POST",
        _at("/form"),
        lambda n: {"content-type": MULTIPART},
        lambda n: (
            b'--b\r\ncontent-disposition: form-data; name="names"\r\n\r\n'
            + _fill("\r\n--", n).encode()
            + b"\r\n--b--\r\n"
        ),
    ),
    "form content-type params": Shape(
        "POST",
        _at("/form"),
        lambda n: {"content-type": "multipart/form-data; " + _fill("a=b; ", n) + "boundary=b"},
        lambda n: b"--b--\r\n",
    ),
}


def _cpu_per_batch(send: Callable[[], object], repeat: int, batches: int = 1) -> float:
    """The least process CPU time of ``batches`` batches of ``repeat`` calls."""
    best = float("inf")
    for _ in range(batches):
        start = time.process_time()
        for _ in range(repeat):
            send()
        best = min(best, time.process_time() - start)
    return best


def _best_of_interleaved(sends: list[Callable[[], object]], repeat: int) -> list[float]:
    """The least CPU time of a batch of each sender, batches taken in turn ROUNDS times.

    Taking them in turn lets every size see the same moments of a busy machine.
    """
    best = [float("inf")] * len(sends)
    for _ in range(ROUNDS):
        for index, send in enumerate(sends):
            best[index] = min(best[index], _cpu_per_batch(send, repeat))
    return best


def _without_gc(measure: Callable[[], float]) -> float:
    """``measure()`` with the cyclic garbage collector paused.

    A full collection walks every object of the test process, and whether one falls inside
    a batch is a step, not growth: the parsers' own work is what is compared.
    """
    gc.collect()
    gc.disable()
    try:
        return measure()
    finally:
        gc.enable()


def _raw(shape: Shape, n: int) -> RawRequest:
    headers = [(k.encode(), v.encode("latin-1")) for k, v in shape.headers(n).items()]
    return RawRequest(shape.method, shape.path(n).encode(), headers, shape.body(n))


def _growth(app: App, send: Send, shape: Shape) -> float:
    """Work beyond the 1 KiB request at 64 KiB over the same at 8 KiB."""

    def sender(n: int) -> Callable[[], object]:
        raw = _raw(shape, n)
        return lambda: send(app, raw)

    # The baseline is the same shape at 1 KiB: the same outcome as the others, so what is
    # subtracted is the request's fixed cost (linear work then grows 9x, quadratic 65x).
    tiny, small, large = sender(SMALL // 8), sender(SMALL), sender(LARGE)
    for request in (tiny, small, large):
        request()  # warm caches, lazy imports and compiled patterns
    # Enough requests that the small batch takes a measurable while.
    repeat = 1
    while _cpu_per_batch(small, repeat) < 0.01 and repeat < 256:
        repeat *= 2
    base, small_total, large_total = _best_of_interleaved([tiny, small, large], repeat)
    small_work = small_total - base
    large_work = large_total - base
    # A floor for the small work: when parsing is a sliver of the request, the difference
    # is mostly noise; a tenth of the tiny request's cost still exposes 64x growth.
    return large_work / max(small_work, base * 0.1, 0.001)


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("static")
    (directory / "a.txt").write_text("hello, world\n" * 10)
    return directory


@pytest.mark.parametrize("name", list(SHAPES))
def test_request_parsing_work_grows_linearly(static_dir: Path, send: Send, name: str) -> None:
    shape = SHAPES[name]
    app = build_app(static_dir)
    try:
        answer = send(app, _raw(shape, LARGE))
        assert answer.status < 500, answer.body
        growths = []
        for _ in range(ATTEMPTS):
            growths.append(_without_gc(functools.partial(_growth, app, send, shape)))
            if growths[-1] <= GROWTH_BOUND:
                break
    finally:
        app.thread_pool.shutdown()  # no idle workers of earlier cases linger in the process
    assert growths[-1] <= GROWTH_BOUND, f"{name}: 8x the input cost {growths} x the work"


# --- the parsers themselves, both implementations ------------------------------------------

PARSER_INPUTS: dict[str, Callable[[int], str]] = {
    "list of items": lambda n: _fill("a;q=0.5, ", n),
    "spaces": lambda n: _fill(" ", n) + "x",
    "semicolons": lambda n: "a/b" + _fill("; ", n),
    "open quote": lambda n: 'a/b;x="' + _fill("\\\\", n),
    "quoted pairs": lambda n: 'a/b;x="' + _fill('\\"', n) + '"',
    "equals": lambda n: "a=" + _fill("=", n),
    "commas": lambda n: _fill(",", n),
    "quotes": lambda n: _fill('"', n),
    "escapes": lambda n: _fill("%2", n),
    "ampersands": lambda n: _fill("a=b&", n),
}


def _header_parsers(implementation: Any) -> dict[str, Callable[[str], object]]:
    return {
        "parse_accept": implementation.parse_accept,
        "best_match": lambda text: implementation.best_match(
            text, ["application/json", "text/html"]
        ),
        "parse_cookie": implementation.parse_cookie,
        "parse_content_type": implementation.parse_content_type,
        "parse_query": lambda text: implementation.parse_query(text, 10**6),
    }


def _other_parsers() -> dict[str, Callable[[str], object]]:
    trusted = TrustedProxies.parse("*")

    class Fields:
        def __init__(self, name: str, value: str) -> None:
            self.name, self.value = name, value

        def get(self, name: str) -> str | None:
            return self.value if name == self.name else "h"

        def getall(self, name: str) -> list[str]:
            return [self.value] if name == self.name else []

    return {
        "negotiate_encoding": lambda text: negotiate_encoding(text, ["gzip", "br"]),
        "parse_range": lambda text: parse_range("bytes=" + text, 1000),
        "parse_http_date": parse_http_date,
        "forwarded": lambda text: resolve_origin(
            trusted, ("10.0.0.1", 1), Fields("forwarded", text), "http"
        ),
        "x-forwarded-for": lambda text: resolve_origin(
            trusted, ("10.0.0.1", 1), Fields("x-forwarded-for", text), "http"
        ),
    }


def _calls_growth(parse: Callable[[str], object], make: Callable[[int], str]) -> float:
    small, large = make(SMALL), make(LARGE)
    parse(small)
    repeat = 1
    while _cpu_per_batch(lambda: parse(small), repeat) < 0.005 and repeat < 4096:
        repeat *= 2
    small_work, large_work = _best_of_interleaved(
        [lambda: parse(small), lambda: parse(large)], repeat
    )
    return large_work / max(small_work, 0.001)


def _all_parsers() -> dict[str, Callable[[str], object]]:
    from duoweb import _headers_py
    from duoweb._select import load

    parsers = {f"pure {k}": v for k, v in _header_parsers(_headers_py).items()}
    compiled = load("headers")
    if compiled is not _headers_py:
        parsers.update({f"compiled {k}": v for k, v in _header_parsers(compiled).items()})
    parsers.update(_other_parsers())
    return parsers


@pytest.mark.parametrize("parser", list(_all_parsers()))
def test_parser_work_grows_linearly(parser: str) -> None:
    parse = _all_parsers()[parser]
    for name, make in PARSER_INPUTS.items():
        growths = []
        for _ in range(ATTEMPTS):
            growths.append(_without_gc(functools.partial(_calls_growth, parse, make)))
            if growths[-1] <= GROWTH_BOUND:
                break
        assert growths[-1] <= GROWTH_BOUND, (
            f"{parser} on {name}: 8x the input cost {growths} x the work"
        )
