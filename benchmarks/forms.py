"""Forms, in-process, duoweb beside its peers on the same requests (a benchmark, not a test).

    .venv/bin/python -m benchmarks.forms [--contenders duoweb-wsgi,starlette,...]

Per contender, in a fresh process: a 50 MiB single-file multipart upload of random bytes
fed in 64 KiB chunks from a generator (so the body is never whole in memory; MB/s, best of
3, and peak RSS above the idle process, from /proc's VmHWM after resetting it), then a
1,000-field urlencoded form and a 200-part multipart form (requests/s over about a second
each). Every answer is checked. Duoweb's and the raw ceiling's cells also say how many times
the fastest peer's they are (and the fastest of their own mode's, when that is another
peer). How the apps are called, and why so, is in benchmarks/README.md. Rates
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
import random
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from benchmarks.contenders.forms_apps import FORM_CONTENDERS

BOUNDARY = "----WebKitFormBoundaryBenchmark0123"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"
UPLOAD_MIB = 50
CHUNK_SIZE = 65536


def _content_block() -> bytes:
    """1 MiB of seeded random bytes, the upload's content repeated: like a compressed file
    or an image, it has a CR every 256 bytes on average and a CRLF every 64 KiB, so the
    boundary search stops inside the content as it does on real binary data."""
    block = random.Random(17).randbytes(1024 * 1024)
    delimiter = f"\r\n--{BOUNDARY}".encode()
    assert b"\r\n" in block
    assert delimiter not in block + block[: len(delimiter)]  # (also across the repeat)
    return block


CONTENT_BLOCK = _content_block()


def upload_parts(mib: int) -> tuple[bytes, int, bytes]:
    """(head, number of 64 KiB content chunks, tail) of a one-file multipart body."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head, mib * 1024 * 1024 // CHUNK_SIZE, f"\r\n--{BOUNDARY}--\r\n".encode()


def upload_chunks(mib: int) -> Iterator[bytes]:
    """The one-file body of ``mib`` MiB of content in 64 KiB chunks, never whole in memory.

    Each chunk is a new bytes object (a slice of the 1 MiB block is a copy), as a server's
    socket reads are: the same 16 objects over and over would stay in the CPU's cache.
    """
    head, count, tail = upload_parts(mib)
    yield head
    block = CONTENT_BLOCK
    per_block = len(block) // CHUNK_SIZE
    for i in range(count):
        start = i % per_block * CHUNK_SIZE
        yield block[start : start + CHUNK_SIZE]
    yield tail


def fields_body() -> bytes:
    return urlencode([(f"field{i}", f"value {i}") for i in range(1000)]).encode()


def parts_body() -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="part{i}"\r\n\r\nvalue {i}\r\n'
        for i in range(200)
    ]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


@dataclass(frozen=True)
class Exchange:
    """One benchmark request and what its answer must contain."""

    path: str
    content_type: str
    length: int
    body: Callable[[], Iterator[bytes]]  # a fresh iterator of the body's chunks per request
    expected: bytes  # every 200 answer's body must contain this (the size, or the count)


def upload_exchange(mib: int) -> Exchange:
    """The single-file upload; the answer names the content's size."""
    head, count, tail = upload_parts(mib)
    size = count * CHUNK_SIZE
    return Exchange(
        "/upload",
        MULTIPART,
        len(head) + size + len(tail),
        functools.partial(upload_chunks, mib),
        str(size).encode(),
    )


def _whole(path: str, content_type: str, body: bytes, expected: bytes) -> Exchange:
    chunks = [body[i : i + CHUNK_SIZE] for i in range(0, len(body), CHUNK_SIZE)]
    return Exchange(path, content_type, len(body), functools.partial(iter, chunks), expected)


def fields_exchange() -> Exchange:
    """The 1,000-field urlencoded form; the answer counts the fields."""
    return _whole("/fields", URLENCODED, fields_body(), b"1000")


def parts_exchange() -> Exchange:
    """The 200-part multipart form; the answer counts the parts."""
    return _whole("/parts", MULTIPART, parts_body(), b"200")


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


#: Sends an Exchange N times in sequence, checks every answer, returns the last one's body.
Call = Callable[[Exchange, int], bytes]


def _check(exchange: Exchange, status: object, content: bytes) -> None:
    ok = status in (200, 201) or (isinstance(status, str) and status.startswith("200"))
    if not ok or exchange.expected not in content:
        raise AssertionError(f"wrong answer to {exchange.path}: {status} {content[:300]!r}")


def wsgi_caller(app: Any) -> Call:
    """Calls a WSGI app as a WSGI server's worker does: a new environ per request."""

    def one(exchange: Exchange) -> bytes:
        environ = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": exchange.path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": exchange.content_type,
            "CONTENT_LENGTH": str(exchange.length),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": ChunkInput(exchange.body()),
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
        _check(exchange, status[0], content)
        return content

    def call(exchange: Exchange, times: int = 1) -> bytes:
        content = b""
        for _ in range(times):
            content = one(exchange)
        return content

    return call


def asgi_caller(app: Any) -> Call:
    """Calls an ASGI app: one coroutine awaits the N requests in turn on one event loop.

    The loop is entered once per ``call``, not once per request: ``run_until_complete``
    (a new Task, the loop's start and stop, a selector poll) cost about 24 µs a request,
    five times a bare WSGI app's whole request through ``wsgi_caller``; no framework's cost,
    it hid the ASGI frameworks' differences. See benchmarks/README.md.
    """
    loop = asyncio.new_event_loop()

    async def one(exchange: Exchange) -> bytes:
        chunks = exchange.body()
        done = loop.create_future()
        sent: list[dict[str, Any]] = []
        pending: bytes | None = next(chunks, b"")

        async def receive() -> dict[str, Any]:
            nonlocal pending
            if pending is not None:
                chunk, pending = pending, next(chunks, None)
                return {"type": "http.request", "body": chunk, "more_body": pending is not None}
            await done  # the body is all read: the client "disconnects" after the answer
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
            "path": exchange.path,
            "raw_path": exchange.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", exchange.content_type.encode()),
                (b"content-length", str(exchange.length).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "extensions": {},
            "state": {},
        }
        await app(scope, receive, send)
        status = next(m for m in sent if m["type"] == "http.response.start")["status"]
        content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        _check(exchange, status, content)
        return content

    async def many(exchange: Exchange, times: int) -> bytes:
        content = b""
        for _ in range(times):
            content = await one(exchange)
        return content

    def call(exchange: Exchange, times: int = 1) -> bytes:
        return loop.run_until_complete(many(exchange, times))

    def close() -> None:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    weakref.finalize(call, close)  # the loop lives as long as the caller, then is closed
    return call


def caller(mode: str, app: Any) -> Call:
    """The in-process caller of an app of ``mode`` ("wsgi" or "asgi")."""
    return (wsgi_caller if mode == "wsgi" else asgi_caller)(app)


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
    call = caller(mode, build())
    upload = upload_exchange(upload_mib)
    call(upload_exchange(1), 1)  # warm-up (and a check of a 1 MiB upload's answer)
    _reset_peak()
    idle = _proc_kib("VmRSS")
    best = float("inf")
    for _ in range(1 if upload_only else 3):
        start = time.process_time()
        call(upload, 1)
        best = min(best, time.process_time() - start)
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
    for key, exchange in (("fields_rps", fields_exchange()), ("parts_rps", parts_exchange())):
        call(exchange, 20)  # warm-up
        n = 0
        start = time.process_time()
        while time.process_time() - start < 1.0:
            call(exchange, 20)
            n += 20
        rates[key] = n / (time.process_time() - start)
    return {**measured, **rates}


OURS = ("duoweb", "raw-ceiling")  # the rows measured against the peers


KEYS = ("upload_mb_s", "fields_rps", "parts_rps")


def _fastest(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {
        key: max((row[key] for row in rows if row[key] == row[key]), default=float("nan"))
        for key in KEYS
    }


def table(rows: list[dict[str, Any]]) -> str:
    """The results in Markdown; duoweb's and the raw ceiling's cells also as x the fastest
    peer, and as x the fastest peer of their own mode when that is another one."""
    rows = [
        row
        if "fields_rps" in row
        else {**row, "fields_rps": float("nan"), "parts_rps": float("nan")}
        for row in rows
    ]
    peers = [row for row in rows if not row["name"].startswith(OURS)]
    fastest = _fastest(peers)
    by_mode = {
        mode: _fastest([row for row in peers if mode_of(row["name"]) == mode])
        for mode in ("wsgi", "asgi")
    }
    lines = [
        "| contender | upload MB/s | upload peak RSS above idle (MiB) "
        "| 1,000-field urlencoded req/s | 200-part multipart req/s |",
        "|---|---:|---:|---:|---:|",
    ]

    def cell(row: dict[str, Any], key: str) -> str:
        text = f"{row[key]:.0f}"
        best = fastest[key]
        if row["name"].startswith(OURS) and best == best:
            text += f" ({row[key] / best:.2f}x"
            mode = mode_of(row["name"])
            same = by_mode[mode][key]
            if same == same and same != best:
                text += f"; {row[key] / same:.2f}x {mode.upper()}"
            text += ")"
        return text

    for row in rows:
        lines.append(
            f"| {row['name']} | {cell(row, 'upload_mb_s')} | {row['upload_peak_mib']:.1f} "
            f"| {cell(row, 'fields_rps')} | {cell(row, 'parts_rps')} |"
        )
    return "\n".join(lines)


def mode_of(name: str) -> str:
    """The contender's mode, "wsgi" or "asgi" (a name not in FORM_CONTENDERS: from its end)."""
    if name in FORM_CONTENDERS:
        return str(FORM_CONTENDERS[name][0])
    return "asgi" if name.endswith("asgi") else "wsgi"


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
