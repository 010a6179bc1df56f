"""The form parser integration under hostile input: linear work, bounded memory, clean failure.

Work is counted, never timed: bytes handed to the multipart parser (what it held back
included, so re-scanning a growing buffer shows) and Python line events in the parsing code,
for both parser implementations (compiled and pure).
"""

from __future__ import annotations

import asyncio
import io
import sys
import tracemalloc
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duoweb import App, FormData, FormLimits, UploadFile, form_parsing
from duoweb.errors import HTTPError
from duoweb.form_parsing import FormBuilder
from tests.speedups.conftest import implementation

BOUNDARY = "----WebKitFormBoundaryAbCdEf0123456789"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
DELIMITER = b"--" + BOUNDARY.encode()
ROOMY = FormLimits(max_parts=100_000, max_files=100_000, max_field_size=1 << 20)


def parse(body: bytes, chunk: int, limits: FormLimits = ROOMY) -> FormData:
    builder = FormBuilder(CONTENT_TYPE, limits)
    try:
        for start in range(0, len(body), chunk):
            builder.feed(body[start : start + chunk])
        return builder.finish()
    except BaseException:
        builder.abort()
        raise


def part(name: str, content: bytes, filename: str | None = None) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return DELIMITER + b"\r\n" + disposition.encode() + b"\r\n\r\n" + content + b"\r\n"


def many_tiny_parts(size: int) -> bytes:
    body = b""
    index = 0
    while len(body) < size:
        body += part(f"f{index}", b"v")
        index += 1
    return body + DELIMITER + b"--\r\n"


def near_boundaries(size: int) -> bytes:
    """A file full of CRLF + partial boundaries: every one must be checked and let through."""
    unit = b"\r\n" + DELIMITER[:-1] + b"x"
    return part("f", unit * (size // len(unit)), "f.bin") + DELIMITER + b"--\r\n"


def long_headers(size: int) -> bytes:
    """Parts whose header sections are as long as the limit lets them be (8 KiB)."""
    lines = b"".join(b"X-Filler-%d: " % i + b"a" * 480 + b"\r\n" for i in range(15))
    disposition = b'Content-Disposition: form-data; name="f"\r\n'
    one = DELIMITER + b"\r\n" + disposition + lines + b"\r\nv\r\n"
    return one * max(1, size // len(one)) + DELIMITER + b"--\r\n"


def lf_only(size: int) -> bytes:
    unit = b"\n-" + DELIMITER[:5] + b"y"
    content = unit * (size // len(unit))
    return (
        DELIMITER
        + b'\nContent-Disposition: form-data; name="f"; filename="a"\n\n'
        + content
        + b"\n"
        + DELIMITER
        + b"--\n"
    )


class Work:
    """Bytes the multipart parser was handed (buffer included) and line events in parsing."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def measure(
        self, body: bytes, chunk: int, monkeypatch: pytest.MonkeyPatch, parser: type[Any]
    ) -> Any:
        work = self

        class Counted(parser):  # type: ignore[misc]
            def feed(self, data: bytes) -> Any:
                work.bytes += self.held + len(data)
                return super().feed(data)

        def trace(frame: FrameType, event: str, arg: Any) -> Any:
            name = frame.f_code.co_filename
            if "form_" in name or name.endswith("_multipart_py.py"):
                if event == "line":
                    self.lines += 1
                return trace
            return None

        with monkeypatch.context() as patch:
            patch.setattr(form_parsing, "MultipartParser", Counted)
            sys.settrace(trace)
            try:
                return parse(body, chunk, ROOMY)
            except HTTPError as exc:
                return exc
            finally:
                sys.settrace(None)


HOSTILE = {
    "many tiny parts": many_tiny_parts,
    "partial boundaries in a file": near_boundaries,
    "long header section": long_headers,
    "LF-only with partial boundaries": lf_only,
}


@pytest.mark.parametrize("kind", ["pure", "compiled"])
@pytest.mark.parametrize("shape", list(HOSTILE))
@pytest.mark.parametrize("chunk", [1, 64 * 1024], ids=["1-byte chunks", "64 KiB chunks"])
def test_parsing_work_grows_linearly(
    kind: str, shape: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = implementation("multipart", kind).MultipartParser
    small, large = Work(), Work()
    small_result = small.measure(HOSTILE[shape](8 * 1024), chunk, monkeypatch, parser)
    large_result = large.measure(HOSTILE[shape](64 * 1024), chunk, monkeypatch, parser)
    assert isinstance(small_result, FormData), small_result
    assert isinstance(large_result, FormData), large_result
    assert small.bytes >= len(HOSTILE[shape](8 * 1024))  # the counting saw every byte
    small_result.close()  # the spooled files (a request's end closes them when served)
    large_result.close()
    # 8x the input: linear work is about 8x; quadratic would be about 64x.
    assert large.bytes <= 12 * small.bytes, (small.bytes, large.bytes)
    assert large.lines <= 12 * small.lines, (small.lines, large.lines)


def valid_body() -> bytes:
    return (
        part("name", b"Ada")
        + part("file", b"\x00\r\n--not-a-boundary\r\n" * 3, "a.bin")
        + part("tags", b"x")
        + DELIMITER
        + b"--\r\n"
    )


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    body = bytearray(valid_body())
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        where = draw(st.integers(0, max(len(body) - 1, 0)))
        if action == "flip" and body:
            body[where] = draw(st.integers(0, 255))
        elif action == "cut":
            del body[where:]
        elif action == "insert":
            body[where:where] = draw(
                st.sampled_from([b"\r\n", b"\n", b"--", DELIMITER, b'"', b";", b":", b"\r"])
            )
        elif body:
            del body[where : where + draw(st.integers(1, 40))]
    return bytes(body)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(body=st.one_of(mangled(), st.binary(max_size=400)), chunk=st.integers(1, 64))
def test_any_body_is_a_form_or_a_client_error(body: bytes, chunk: int) -> None:
    limits = FormLimits(max_parts=5, max_files=2, max_part_header_size=300, max_field_size=50)
    outcome: FormData | HTTPError
    try:
        outcome = parse(body, chunk, limits)
    except HTTPError as exc:
        outcome = exc
    if isinstance(outcome, HTTPError):
        assert outcome.status in (400, 413), outcome
    else:
        outcome.close()


def test_the_valid_body_parses_in_any_chunking() -> None:
    body = valid_body()
    for chunk in (1, 2, 3, 7, 64, len(body)):
        form = parse(body, chunk)
        items = form.multi_items()
        assert [name for name, _ in items] == ["name", "file", "tags"]
        upload = items[1][1]
        assert isinstance(upload, UploadFile)
        assert upload.read() == b"\x00\r\n--not-a-boundary\r\n" * 3
        form.close()


# --- streaming through the adapters: memory stays bounded ------------------------------------

FILE_SIZE = 32 * 1024 * 1024


def upload_body() -> tuple[bytes, bytes]:
    head = DELIMITER + b'\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
    return head + b"Content-Type: application/octet-stream\r\n\r\n", b"\r\n" + DELIMITER + b"--\r\n"


class GeneratedInput(io.RawIOBase):
    """A wsgi.input producing a FILE_SIZE upload on demand (never whole in memory)."""

    def __init__(self) -> None:
        head, tail = upload_body()
        self._pieces: Iterator[bytes] = iter(
            [head, *([b"\xa5" * 65536] * (FILE_SIZE // 65536)), tail]
        )
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while len(self._buffer) < size:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._buffer += piece
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def upload_app() -> App:
    app = App(max_body_size=FILE_SIZE + 1024)

    @app.post("/upload")
    def upload(file: UploadFile) -> dict[str, int]:
        return {"size": file.size}

    return app


def wsgi_environ() -> dict[str, Any]:
    head, tail = upload_body()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/upload",
        "QUERY_STRING": "",
        "CONTENT_TYPE": CONTENT_TYPE,
        "CONTENT_LENGTH": str(len(head) + FILE_SIZE + len(tail)),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": GeneratedInput(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def asgi_messages() -> Iterator[dict[str, Any]]:
    head, tail = upload_body()
    yield {"type": "http.request", "body": head, "more_body": True}
    for _ in range(FILE_SIZE // 65536):
        yield {"type": "http.request", "body": b"\xa5" * 65536, "more_body": True}
    yield {"type": "http.request", "body": tail, "more_body": False}


def asgi_scope() -> dict[str, Any]:
    head, tail = upload_body()
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(head) + FILE_SIZE + len(tail)).encode()),
        ],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }


def serve_asgi(app: App, messages: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app.asgi(asgi_scope(), receive, send))
    return sent


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_a_large_upload_is_streamed_with_bounded_memory(mode: str) -> None:
    app = upload_app()
    tracemalloc.start()
    try:
        if mode == "wsgi":
            started: list[str] = []
            body = b"".join(app(wsgi_environ(), lambda status, headers: started.append(status)))
            status = started[0]
        else:
            sent = serve_asgi(app, asgi_messages())
            status, body = str(sent[0]["status"]), sent[1]["body"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status.startswith("200"), body
    assert body == b'{"size":%d}' % FILE_SIZE
    # 32 MiB went through; the spool keeps 1 MiB in memory, the rest is on disk.
    assert peak < 4 * 1024 * 1024, peak


def test_a_client_leaving_mid_upload_leaves_no_open_file(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[UploadFile] = []
    original = UploadFile.spooled

    def recorded(*args: Any) -> UploadFile:
        upload = original(*args)
        created.append(upload)
        return upload

    monkeypatch.setattr(UploadFile, "spooled", recorded)
    app = upload_app()
    messages = asgi_messages()
    cut = (next(messages) for _ in range(40))  # then the client is gone: http.disconnect
    sent = serve_asgi(app, cut)
    assert sent == []  # nobody to answer
    assert len(created) == 1
    assert created[0].file.closed
