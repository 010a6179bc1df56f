"""Forms, in-process, duoweb beside its peers on the same requests (a benchmark, not a test).

    .venv/bin/python -m benchmarks.forms [--contenders duoweb-wsgi,starlette,...]

Per contender, in a fresh process: a 50 MiB single-file multipart upload fed in 64 KiB
chunks from a generator (so the body is never whole in memory; MB/s, best of 3, and peak
RSS above the idle process, from /proc's VmHWM after resetting it), then a 1,000-field
urlencoded form and a 200-part multipart form (requests/s over about a second each); duoweb's
and the raw ceiling's cells also say how many times the fastest peer's they are. Rates
are per second of the process's CPU time (user + system: a busy machine slows the clock,
not the count), as in the rest of benchmarks/. The apps are in
benchmarks/contenders/forms_apps.py; ``raw-ceiling-wsgi``/``-asgi`` are bare callables
feeding duoweb's compiled parsers, the fastest this parse gets without a framework. About
a minute of CPU for all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import json
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

from benchmarks.contenders.forms_apps import FORM_CONTENDERS

BOUNDARY = "----WebKitFormBoundaryBenchmark0123"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"
CHUNK = b"\xa5" * 65536
UPLOAD_MIB = 50


def upload_parts(mib: int) -> tuple[bytes, int, bytes]:
    """(head, number of 64 KiB content chunks, tail) of a one-file multipart body."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head, mib * 16, f"\r\n--{BOUNDARY}--\r\n".encode()


def upload_chunks(mib: int) -> Iterator[bytes]:
    head, count, tail = upload_parts(mib)
    yield head
    for _ in range(count):
        yield CHUNK
    yield tail


def fields_body() -> bytes:
    return urlencode([(f"field{i}", f"value {i}") for i in range(1000)]).encode()


def parts_body() -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="part{i}"\r\n\r\nvalue {i}\r\n'
        for i in range(200)
    ]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


class ChunkInput(io.RawIOBase):
    """A ``wsgi.input`` reading from an iterator of chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)


Body = Callable[[], Iterator[bytes]]
Call = Callable[[str, str, int, Body], bytes]


def wsgi_caller(app: Any) -> Call:
    def call(
        path: str, content_type: str, length: int, body: Callable[[], Iterator[bytes]]
    ) -> bytes:
        environ = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(length),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": ChunkInput(body()),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        status: list[str] = []
        result = app(environ, lambda s, h, e=None: status.append(s))
        try:
            content = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        assert status[0].startswith("200"), (status, content[:300])
        return content

    return call


def asgi_caller(app: Any) -> Call:
    loop = asyncio.new_event_loop()

    async def serve(path: str, content_type: str, length: int, chunks: Iterator[bytes]) -> bytes:
        done = loop.create_future()
        sent: list[dict[str, Any]] = []
        pending: bytes | None = next(chunks, b"")

        async def receive() -> dict[str, Any]:
            nonlocal pending
            if pending is not None:
                chunk, pending = pending, next(chunks, None)
                return {"type": "http.request", "body": chunk, "more_body": pending is not None}
            await done
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            final = message["type"] == "http.response.body" and not message.get("more_body")
            if final and not done.done():
                done.set_result(None)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", content_type.encode()),
                (b"content-length", str(length).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "extensions": {},
            "state": {},
        }
        await app(scope, receive, send)
        status = next(m for m in sent if m["type"] == "http.response.start")["status"]
        content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        assert status in (200, 201), (status, content[:300])
        return content

    def call(
        path: str, content_type: str, length: int, body: Callable[[], Iterator[bytes]]
    ) -> bytes:
        return loop.run_until_complete(serve(path, content_type, length, body()))

    weakref.finalize(call, loop.close)  # the loop lives as long as the caller, then is closed
    return call


def _proc_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current RSS


def child(name: str, upload_mib: int, upload_only: bool) -> dict[str, Any]:
    mode, build = FORM_CONTENDERS[name]
    app = build()
    call = (wsgi_caller if mode == "wsgi" else asgi_caller)(app)
    head, count, tail = upload_parts(upload_mib)
    length = len(head) + count * len(CHUNK) + len(tail)
    small_head, small_count, small_tail = upload_parts(1)
    small_length = len(small_head) + small_count * len(CHUNK) + len(small_tail)
    assert str(small_count * len(CHUNK)).encode() in call(
        "/upload", MULTIPART, small_length, lambda: upload_chunks(1)
    )
    _reset_peak()
    idle = _proc_kib("VmRSS")
    best = float("inf")
    for _ in range(1 if upload_only else 3):
        start = time.process_time()
        answer = call("/upload", MULTIPART, length, lambda: upload_chunks(upload_mib))
        best = min(best, time.process_time() - start)
        assert str(count * len(CHUNK)).encode() in answer, answer[:200]
    peak = _proc_kib("VmHWM")
    measured = {
        "name": name,
        "upload_mb_s": upload_mib * 1.048576 / best,
        "upload_peak_mib": (peak - idle) / 1024,
        "idle_mib": idle / 1024,
    }
    if upload_only:
        return measured
    rates: dict[str, float] = {}
    for key, path, content_type, body, expected in (
        ("fields_rps", "/fields", URLENCODED, fields_body(), b"1000"),
        ("parts_rps", "/parts", MULTIPART, parts_body(), b"200"),
    ):
        chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
        pieces = functools.partial(iter, chunks)
        assert expected in call(path, content_type, len(body), pieces)
        n = 0
        start = time.process_time()
        while time.process_time() - start < 1.0:
            for _ in range(20):
                call(path, content_type, len(body), pieces)
            n += 20
        rates[key] = n / (time.process_time() - start)
    return {**measured, **rates}


OURS = ("duoweb", "raw-ceiling")  # the rows measured against the peers


def table(rows: list[dict[str, Any]]) -> str:
    """The results in Markdown; duoweb's and the raw ceiling's cells also as x the fastest peer."""
    rows = [
        row
        if "fields_rps" in row
        else {**row, "fields_rps": float("nan"), "parts_rps": float("nan")}
        for row in rows
    ]
    peers = [row for row in rows if not row["name"].startswith(OURS)]
    fastest = {
        key: max((row[key] for row in peers if row[key] == row[key]), default=float("nan"))
        for key in ("upload_mb_s", "fields_rps", "parts_rps")
    }
    lines = [
        "| contender | upload MB/s | upload peak RSS above idle (MiB) "
        "| 1,000-field urlencoded req/s | 200-part multipart req/s |",
        "|---|---:|---:|---:|---:|",
    ]

    def cell(row: dict[str, Any], key: str) -> str:
        text = f"{row[key]:.0f}"
        if row["name"].startswith(OURS) and fastest[key] == fastest[key]:
            text += f" ({row[key] / fastest[key]:.2f}x)"
        return text

    for row in rows:
        lines.append(
            f"| {row['name']} | {cell(row, 'upload_mb_s')} | {row['upload_peak_mib']:.1f} "
            f"| {cell(row, 'fields_rps')} | {cell(row, 'parts_rps')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contenders", default=",".join(FORM_CONTENDERS))
    parser.add_argument("--upload-mib", type=int, default=UPLOAD_MIB, help="upload size")
    parser.add_argument("--upload-only", action="store_true", help="only the upload, once")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.upload_mib, args.upload_only)))
        return 0
    options = [f"--upload-mib={args.upload_mib}"] + (["--upload-only"] if args.upload_only else [])
    rows = []
    for name in args.contenders.split(","):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.forms", "--child", name, *options],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{name} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{name}: done", file=sys.stderr)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
