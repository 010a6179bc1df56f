"""Hostile bytes over real sockets to real Gunicorn (sync) and Hypercorn serving duoweb.

Every case must end in a 4xx (from the server or from duoweb) or a clean close, never a 5xx,
a hang or a dead worker; where the request is valid HTTP the server passes on, duoweb answers
it. Run with ``-s`` to print what each server did (docs/robustness.md has the table).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.robustness.wire import Exchange, Server, exchange, request_bytes, running

pytestmark = pytest.mark.e2e

SERVERS = ("gunicorn", "hypercorn")
TARGETS = {
    "gunicorn": "tests.robustness.server_app:app",
    "hypercorn": "tests.robustness.server_app:app.asgi",
}
JSON = [("Content-Type", "application/json")]
CLOSE = None  # "no answer, the server closed the connection"
#: Hypercorn races h11's EOF error (its own 400) against the app's disconnect (a close).
BAD_OR_CLOSE = (400, CLOSE)
Expected = int | None | tuple[int | None, ...]


@pytest.fixture(scope="module")
def event_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wire") / "events.log"


@pytest.fixture(scope="module")
def servers(event_log: Path) -> Iterator[dict[str, Server]]:
    env = {"DUOWEB_ROBUST_LOG": str(event_log)}
    with (
        running(
            "gunicorn", TARGETS["gunicorn"], workers=2, extra=["--timeout", "10"], env=env
        ) as gunicorn,
        running("hypercorn", TARGETS["hypercorn"], workers=1, env=env) as hypercorn,
    ):
        yield {"gunicorn": gunicorn, "hypercorn": hypercorn}


@pytest.fixture(scope="module")
def original_workers(servers: dict[str, Server]) -> dict[str, list[int]]:
    return {kind: server.workers() for kind, server in servers.items()}


_rq = request_bytes


def _chunked(body: bytes) -> bytes:
    return _rq("POST", "/record", headers=[("Transfer-Encoding", "chunked")], body=body)


def _length(value: str, body: bytes = b"abcd") -> bytes:
    return _rq("POST", "/record", headers=[("Content-Length", value)], body=body)


# name -> (request bytes, half-close after sending, {server: expected status or CLOSE});
# servers missing from the dict only have to keep the contract (4xx or a clean close).
CASES: dict[str, tuple[bytes, bool, dict[str, Expected]]] = {
    "valid request": (_rq(), False, {"gunicorn": 200, "hypercorn": 200}),
    "HTTP/1.0": (b"GET /plaintext HTTP/1.0\r\n\r\n", False, {"gunicorn": 200, "hypercorn": 200}),
    "HTTP/0.9 request line": (b"GET /plaintext\r\n\r\n", False, {"gunicorn": 400}),
    # No line end: a sync worker waits for one; the client's FIN (or --timeout) ends it.
    "TLS hello on plain HTTP": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 8, True, {}),
    "binary garbage": (bytes(range(256)) * 4 + b"\r\n\r\n", False, {}),
    "HTTP/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", True, {"gunicorn": 400}),
    "HTTP/1.2": (_rq(version="HTTP/1.2"), False, {}),
    "HTTP/9.9": (_rq(version="HTTP/9.9"), False, {"gunicorn": 400}),
    "bare LF line ends": (_rq().replace(b"\r\n", b"\n"), False, {"gunicorn": 400}),
    "lowercase method": (_rq("get"), False, {"gunicorn": 400, "hypercorn": 200}),
    "unknown method": (_rq("FOO", "/json"), False, {"gunicorn": 405, "hypercorn": 405}),
    "5000-byte method": (_rq("X" * 5000, "/json"), False, {"hypercorn": 405}),
    "NUL in method": (b"GE\x00T /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", False, {}),
    "200 headers": (
        _rq(headers=[(f"X-H{i}", "v") for i in range(200)]),
        False,
        {"gunicorn": 431, "hypercorn": 200},
    ),
    "10 KiB header value": (_rq(headers=[("X-Big", "a" * 10_000)]), False, {"gunicorn": 431}),
    "64 KiB header value": (
        _rq(headers=[("X-Big", "a" * 65_536)]),
        False,
        {"gunicorn": 431, "hypercorn": 431},
    ),
    "5000-byte path": (_rq("GET", "/p/str/" + "a" * 5000), False, {"gunicorn": 414}),
    "9000-byte path": (_rq("GET", "/" + "a" * 9000), False, {"gunicorn": 414, "hypercorn": 414}),
    "invalid UTF-8 %-escapes": (_rq("GET", "/p/str/%ff%fe"), False, {"gunicorn": 200}),
    "overlong UTF-8 %-escapes": (_rq("GET", "/p/str/%c0%af"), False, {"hypercorn": 200}),
    "encoded NUL in path": (_rq("GET", "/p/str/a%00b"), False, {"gunicorn": 200}),
    "malformed %-escapes": (_rq("GET", "/p/str/%zz%"), False, {"gunicorn": 200}),
    "raw 8-bit path": (_rq("GET", b"/p/str/\xff\xc0\xaf"), False, {"gunicorn": 400}),
    "raw NUL in path": (_rq("GET", b"/p/str/a\x00b"), False, {"gunicorn": 400}),
    "space in path": (b"GET /a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", False, {}),
    "<script> path": (_rq("GET", "/<script>alert(1)</script>"), False, {"gunicorn": 404}),
    "invalid UTF-8 in query": (_rq("GET", "/q?s=%ff%fe"), False, {"hypercorn": 200}),
    "raw 8-bit query": (_rq("GET", b"/q?s=\xff\xfe"), False, {"gunicorn": 400}),
    "3000-digit int in query": (  # 422: an unbounded int is a signed 64-bit one
        _rq("GET", "/q?i=" + "9" * 3000),
        False,
        {"gunicorn": 422, "hypercorn": 422},
    ),
    "5000-digit int in query": (_rq("GET", "/q?i=" + "9" * 5000), False, {"gunicorn": 414}),
    "1001 query params": (
        _rq("GET", "/request?" + "&".join(["a=1"] * 1001)),
        False,
        {"gunicorn": 400, "hypercorn": 400},
    ),
    "NUL in header value": (
        b"GET /h HTTP/1.1\r\nHost: x\r\nX-Text: a\x00b\r\nConnection: close\r\n\r\n",
        False,
        {},
    ),
    "8-bit header value": (
        b"GET /h HTTP/1.1\r\nHost: x\r\nX-Text: a\xffb\r\nConnection: close\r\n\r\n",
        False,
        {"gunicorn": 200, "hypercorn": 200},
    ),
    "CR in header value": (
        b"GET /h HTTP/1.1\r\nHost: x\r\nX-Text: a\rb\r\nConnection: close\r\n\r\n",
        False,
        {},
    ),
    "obsolete line folding": (
        b"GET /h HTTP/1.1\r\nHost: x\r\nX-Text: a\r\n b\r\nConnection: close\r\n\r\n",
        False,
        {"gunicorn": 400},
    ),
    "header without colon": (
        b"GET /h HTTP/1.1\r\nHost: x\r\nX-Text a\r\nConnection: close\r\n\r\n",
        False,
        {},
    ),
    "huge int in header": (_rq("GET", "/h", headers=[("X-Number", "9" * 5000)]), False, {}),
    "two Host fields": (_rq(headers=[("Host", "b")]), False, {}),
    "conflicting Content-Length": (
        _rq("POST", "/record", headers=[("Content-Length", "3"), ("Content-Length", "4")]),
        False,
        {"gunicorn": 400, "hypercorn": 400},
    ),
    "Content-Length list": (_length("4, 4"), False, {"gunicorn": 400}),
    "negative Content-Length": (_length("-1"), False, {}),
    "Content-Length +4": (_length("+4"), False, {}),
    "empty Content-Length": (_length(""), False, {}),
    "hex Content-Length": (_length("0x4"), False, {}),
    "30-digit Content-Length": (_length("9" * 30), False, {}),
    "Content-Length over the limit": (
        _length(str(10**6)),
        False,
        {"gunicorn": 413, "hypercorn": 413},
    ),
    "Content-Length and chunked": (
        _rq(
            "POST",
            "/record",
            headers=[("Content-Length", "4"), ("Transfer-Encoding", "chunked")],
            body=b"4\r\nabcd\r\n0\r\n\r\n",
        ),
        False,
        {"gunicorn": 400},
    ),
    "valid chunked body": (
        _chunked(b"4\r\nabcd\r\n0\r\n\r\n"),
        False,
        {"gunicorn": 200, "hypercorn": 200},
    ),
    "chunked over the limit": (
        _chunked((b"8000\r\n" + b"a" * 0x8000 + b"\r\n") * 3 + b"0\r\n\r\n"),
        False,
        {"gunicorn": 413, "hypercorn": 413},
    ),
    "chunk size not hex": (_chunked(b"zz\r\nabcd\r\n0\r\n\r\n"), False, {"gunicorn": 400}),
    "negative chunk size": (_chunked(b"-4\r\nabcd\r\n0\r\n\r\n"), False, {"gunicorn": 400}),
    "chunk shorter than its size": (_chunked(b"10\r\nabcd"), True, {"hypercorn": BAD_OR_CLOSE}),
    "20-digit chunk size": (
        _chunked(b"ffffffffffffffffffff\r\nabcd"),
        True,
        {"gunicorn": 400, "hypercorn": BAD_OR_CLOSE},
    ),
    "chunk size too small": (_chunked(b"2\r\nabcd\r\n0\r\n\r\n"), False, {"gunicorn": 400}),
    "missing last chunk": (
        _chunked(b"4\r\nabcd\r\n"),
        True,
        {"gunicorn": 400, "hypercorn": BAD_OR_CLOSE},
    ),
    "missing final CRLF": (_chunked(b"4\r\nabcd\r\n0\r\n"), True, {"hypercorn": BAD_OR_CLOSE}),
    "unknown transfer coding": (  # RFC 9112 6.1: a server SHOULD answer 501
        _rq("POST", "/record", headers=[("Transfer-Encoding", "gzip")], body=b"abcd"),
        False,
        {"hypercorn": 501},
    ),
    "chunked twice": (
        _rq(
            "POST",
            "/record",
            headers=[("Transfer-Encoding", "chunked, chunked")],
            body=b"4\r\nabcd\r\n0\r\n\r\n",
        ),
        False,
        {"hypercorn": 501},
    ),
    "truncated body": (_length("100"), True, {"gunicorn": 400, "hypercorn": BAD_OR_CLOSE}),
    "headers cut short": (b"GET /plaintext HTTP/1.1\r\nHost: x\r\nX-A: b", True, {}),
    "request line cut short": (b"GET /plai", True, {}),
    "deeply nested JSON": (
        _rq("POST", "/b/json", headers=JSON, body=b"[" * 50_000),
        False,
        {"gunicorn": 400, "hypercorn": 400},
    ),
    "5000-digit JSON number": (
        _rq("POST", "/b/json", headers=JSON, body=b"1" * 5000),
        False,
        {"gunicorn": 400, "hypercorn": 400},
    ),
    "Expect: 100-continue": (
        _rq("POST", "/record", headers=[("Expect", "100-continue")], body=b"abcd"),
        False,
        {"gunicorn": 100, "hypercorn": 100},
    ),
    "unknown Expect": (
        _rq("POST", "/record", headers=[("Expect", "bogus")], body=b"abcd"),
        False,
        {"gunicorn": 417},
    ),
    "absolute-form target": (_rq("GET", "http://127.0.0.1/json"), False, {"gunicorn": 200}),
    "asterisk-form OPTIONS": (_rq("OPTIONS", "*"), False, {"gunicorn": 404, "hypercorn": 404}),
    "CONNECT": (_rq("CONNECT", "127.0.0.1:80"), False, {}),
    "pipelined requests": (_rq(close=False) + _rq("GET", "/json"), False, {}),
}


def _describe(result: Exchange) -> str:
    if result.status is None:
        return "reset" if result.reset else "closed" if result.closed else "open"
    origin = "duoweb" if result.header("content-type") == "application/problem+json" else ""
    return f"{result.status} {origin}".strip()


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_bytes_end_in_a_4xx_or_a_clean_close(
    servers: dict[str, Server], original_workers: dict[str, list[int]], name: str
) -> None:
    data, half_close, expected = CASES[name]
    seen = {}
    for kind, server in servers.items():
        result = exchange(server.port, data, timeout=8, half_close=half_close)
        seen[kind] = _describe(result)
        assert result.closed or result.statuses, f"{kind}: no answer and no close (a hang)"
        # The one 5xx allowed is the server's own 501 for a transfer coding it does not know.
        allowed_5xx = {expected[kind]} if expected.get(kind) == 501 else set()
        assert all(s < 500 or s in allowed_5xx for s in result.statuses), result.raw[:300]
        assert b"Traceback" not in result.raw
        if kind in expected:
            want = expected[kind]
            allowed = want if isinstance(want, tuple) else (want,)
            assert result.status in allowed, (kind, result.raw[:300])
        if result.status is not None and result.status >= 400:
            content_type = result.header("content-type")
            assert content_type in (None, "text/html", "application/problem+json"), content_type
    print(f"| {name} | {seen['gunicorn']} | {seen['hypercorn']} |")


@pytest.mark.parametrize("server_kind", SERVERS)
def test_invalid_utf8_json_over_the_wire_is_400(
    servers: dict[str, Server], server_kind: str
) -> None:
    for path, body in [
        ("/b/json", b'{"name":"\xff"}'),
        ("/b/struct", b'{"x":1,"y":1,"tags":["\xff"]}'),
    ]:
        result = exchange(servers[server_kind].port, _rq("POST", path, headers=JSON, body=body))
        assert result.status == 400, result.raw[:300]


def _events(event_log: Path, event: str) -> list[tuple[int, str]]:
    if not event_log.exists():
        return []
    found = []
    for line in event_log.read_text().splitlines():
        name, pid, detail = line.split(" ", 2)
        if name == event:
            found.append((int(pid), detail))
    return found


def _abort(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the client vanishes rather than saying goodbye."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


@pytest.mark.parametrize("server_kind", SERVERS)
def test_incomplete_bodies_never_reach_a_handler(
    servers: dict[str, Server], event_log: Path, server_kind: str
) -> None:
    port = servers[server_kind].port
    before = len(_events(event_log, "body"))
    exchange(port, _length("1000", b"x" * 10), half_close=True)  # FIN mid-body
    exchange(port, _chunked(b"5\r\nhello\r\n5\r\nwor"), half_close=True)  # FIN mid-chunk
    for data in (_length("1000", b"x" * 10), _chunked(b"5\r\nhello\r\n")):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(data)
        time.sleep(0.2)
        _abort(sock)  # RST mid-body
    complete = exchange(port, _length("7", b"1234567"))
    assert complete.status == 200
    time.sleep(0.3)
    assert [detail for _, detail in _events(event_log, "body")[before:]] == ["7"]


@pytest.mark.parametrize("path", ["/stream", "/astream"])
@pytest.mark.parametrize("server_kind", SERVERS)
def test_disconnect_mid_stream_runs_the_cleanup(
    servers: dict[str, Server], event_log: Path, server_kind: str, path: str
) -> None:
    server = servers[server_kind]
    event = path.strip("/")
    started = len(_events(event_log, f"{event}-start"))
    closed = len(_events(event_log, f"{event}-closed"))
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(_rq("GET", f"{path}?chunks=200&delay=0.05"))
    received = b""
    while b"chunk 2" not in received:
        received += sock.recv(65536)
    _abort(sock)
    deadline = time.monotonic() + 10
    while len(_events(event_log, f"{event}-closed")) == closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_events(event_log, f"{event}-start")) == started + 1
    assert len(_events(event_log, f"{event}-closed")) == closed + 1, "cleanup did not run"


@pytest.mark.parametrize("server_kind", SERVERS)
def test_many_disconnects_leave_no_body_open(
    servers: dict[str, Server], event_log: Path, server_kind: str
) -> None:
    """40 clients vanish mid-stream: every body that started is closed, none left running."""
    server = servers[server_kind]
    counts = {e: len(_events(event_log, e)) for e in ("stream-start", "astream-start")}
    for index in range(40):
        path = "/stream" if index % 2 else "/astream"
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(_rq("GET", f"{path}?chunks=1000&delay=0.01"))
        received = b""
        while b"chunk 0" not in received:
            received += sock.recv(65536)
        _abort(sock)

    def unclosed() -> int:
        return sum(
            len(_events(event_log, event)) - len(_events(event_log, event[:-5] + "closed"))
            for event in counts
        )

    deadline = time.monotonic() + 15
    while unclosed() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sum(len(_events(event_log, e)) - n for e, n in counts.items()) == 40
    assert unclosed() == 0, "a streamed body was left open"


@pytest.mark.parametrize("server_kind", SERVERS)
def test_header_injection_is_a_500_problem_not_a_split_response(
    servers: dict[str, Server], server_kind: str
) -> None:
    result = exchange(servers[server_kind].port, _rq("GET", "/inject"))
    assert result.statuses == [500]
    assert result.header("content-type") == "application/problem+json"
    assert result.header("set-cookie") is None
    assert b"evil" not in result.raw


def test_no_worker_died(servers: dict[str, Server], original_workers: dict[str, list[int]]) -> None:
    """Runs last in this module: every worker that started is still the one serving."""
    for kind, server in servers.items():
        assert server.process.poll() is None, f"{kind} master exited"
        assert server.workers() == original_workers[kind], f"{kind} lost a worker"
        assert exchange(server.port, _rq()).status == 200
        log = server.log()
        assert "WORKER TIMEOUT" not in log, log[-2000:]
        assert "Worker exiting" not in log, log[-2000:]


# Issue 20, item 4: a client that sends its request and shuts its write side still reads.
# Hypercorn reports the half-close as http.disconnect; duoweb keeps sending for its grace.
@pytest.mark.parametrize("server", ["gunicorn", "hypercorn"])
def test_half_closed_client_gets_whole_file_and_stream_bodies(
    servers: dict[str, Server], server: str
) -> None:
    port = servers[server].port
    source = Path(__file__).with_name("server_app.py").read_bytes()
    got = exchange(port, _rq("GET", "/file"), half_close=True, timeout=10)
    assert got.status == 200
    assert source.strip() in got.body
    for path in ("/stream?chunks=20&delay=0.01", "/astream?chunks=20&delay=0.01"):
        got = exchange(port, _rq("GET", path), half_close=True, timeout=10)
        assert got.status == 200, path
        assert all(f"chunk {index}\n".encode() in got.body for index in range(20)), path
