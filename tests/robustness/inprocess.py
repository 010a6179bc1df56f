"""Call an App's WSGI and ASGI callables directly with raw requests, and check the answers.

Unlike the TestClient (httpx), nothing here normalises the request: the method, the path
bytes, the query bytes and the header bytes reach the app as a server would pass them
(PEP 3333 latin-1 environ strings; ASGI bytes and a percent-decoded UTF-8 path).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec

from duoweb import App

RawHeaders = Sequence[tuple[bytes, bytes]]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_STATUS = re.compile(r"([1-9][0-9]{2}) [^\r\n\x00]*")
_UNSAFE_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclasses.dataclass
class RawRequest:
    """One request as it comes off the wire (what a server would hand the app)."""

    method: str = "GET"
    target: bytes = b"/"
    headers: RawHeaders = ()
    body: bytes = b""
    chunked: bool = False  # the body came chunked: no Content-Length, a terminated stream

    @property
    def raw_path(self) -> bytes:
        """The path part of the target, still percent-encoded."""
        return self.target.partition(b"?")[0]

    @property
    def query(self) -> bytes:
        """The query string, without the "?"."""
        return self.target.partition(b"?")[2]


@dataclasses.dataclass
class Answer:
    """What the app sent back."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


class Malformed(AssertionError):
    """The app broke the protocol or the problem+json contract."""


def environ_for(request: RawRequest) -> dict[str, Any]:
    """The PEP 3333 environ a server builds for ``request``."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(request.raw_path).decode("latin-1"),
        "QUERY_STRING": request.query.decode("latin-1"),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in request.headers:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    if request.chunked:
        environ["wsgi.input_terminated"] = True
    elif request.body and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(len(request.body))
    return environ


def scope_for(request: RawRequest) -> dict[str, Any]:
    """The ASGI http scope a server builds for ``request``."""
    headers = [(name.lower(), value) for name, value in request.headers]
    if request.body and not request.chunked and all(n != b"content-length" for n, _ in headers):
        headers.append((b"content-length", str(len(request.body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": unquote_to_bytes(request.raw_path).decode("utf-8", "replace"),
        "raw_path": request.raw_path,
        "query_string": request.query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


def call_wsgi(app: App, request: RawRequest) -> Answer:
    """Run ``request`` through ``app.wsgi``; the answer, checked for protocol correctness."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if started and exc_info is None:
            raise Malformed("start_response called twice without exc_info")
        started.append((status, headers))
        return lambda data: None

    result = app.wsgi(environ_for(request), start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if len(started) != 1:
        raise Malformed(f"start_response called {len(started)} times")
    status_line, headers = started[0]
    if not isinstance(status_line, str) or not _STATUS.fullmatch(status_line):
        raise Malformed(f"bad status line {status_line!r}")
    for name, value in headers:
        _check_header(name, value)
    return Answer(int(status_line[:3]), list(headers), body)


def call_asgi(
    app: App, request: RawRequest, loop: asyncio.AbstractEventLoop | None = None
) -> Answer:
    """Run ``request`` through ``app.asgi`` on ``loop``; the answer, checked like call_wsgi."""
    own_loop = loop is None
    running = asyncio.new_event_loop() if loop is None else loop
    try:
        return running.run_until_complete(_asgi(app, request))
    finally:
        if own_loop:
            running.close()


async def _asgi(app: App, request: RawRequest) -> Answer:
    messages: list[dict[str, Any]] = []
    finished = asyncio.Event()
    pieces = [request.body] if not request.chunked else _split(request.body)

    async def receive() -> dict[str, Any]:
        if pieces:
            chunk = pieces.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(pieces)}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if finished.is_set():
            raise Malformed(f"message after the response was complete: {message['type']}")
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            finished.set()

    try:
        await app.asgi(scope_for(request), receive, send)
    finally:
        finished.set()
    if not messages or messages[0]["type"] != "http.response.start":
        raise Malformed(f"no http.response.start first: {[m['type'] for m in messages]}")
    start = messages[0]
    body = bytearray()
    for message in messages[1:]:
        if message["type"] != "http.response.body":
            raise Malformed(f"unexpected message {message['type']}")
        body += message.get("body", b"")
    if len(messages) < 2 or messages[-1].get("more_body", False):
        raise Malformed("the response body was never completed")
    headers = []
    for name, value in start.get("headers", []):
        if not isinstance(name, bytes) or not isinstance(value, bytes) or name != name.lower():
            raise Malformed(f"bad ASGI header {name!r}: {value!r}")
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
        _check_header(headers[-1][0], headers[-1][1])
    status = start["status"]
    if not isinstance(status, int) or not 100 <= status <= 999:
        raise Malformed(f"bad status {status!r}")
    return Answer(status, headers, bytes(body))


def _split(body: bytes) -> list[bytes]:
    """A chunked body as the server delivers it: several pieces, then an empty last one."""
    return [body[i : i + 7] for i in range(0, len(body), 7)] + [b""]


def _check_header(name: str, value: str) -> None:
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise Malformed(f"bad header name {name!r}")
    if not isinstance(value, str) or _UNSAFE_VALUE.search(value) or max(value, default="") > "\xff":
        raise Malformed(f"unsafe value for header {name!r}: {value!r}")


def check_client_error_contract(answer: Answer, method: str) -> None:
    """Never a 5xx; every error is problem+json with a matching status and no traceback."""
    if answer.status >= 500:
        raise Malformed(f"{answer.status} for client input: {answer.body[:300]!r}")
    if not 100 <= answer.status <= 599:
        raise Malformed(f"status {answer.status} outside 100-599")
    length = answer.header("content-length")
    if length is not None and method != "HEAD" and int(length) != len(answer.body):
        raise Malformed(f"content-length {length} but {len(answer.body)} body bytes")
    if b"Traceback" in answer.body:
        raise Malformed("a traceback in the response body")
    if answer.status >= 400 and method != "HEAD":
        if answer.header("content-type") != "application/problem+json":
            raise Malformed(f"{answer.status} with content-type {answer.header('content-type')}")
        problem = msgspec.json.decode(answer.body)
        if not isinstance(problem, dict) or problem.get("status") != answer.status:
            raise Malformed(f"problem body does not match the status: {answer.body[:200]!r}")
