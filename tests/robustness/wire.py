"""Real servers and raw sockets on 127.0.0.1: what a test client cannot express.

``running(server, target)`` starts Gunicorn (sync workers) or Hypercorn with extra options
and knows its worker processes; ``exchange(port, data)`` writes raw bytes and reads what comes
back until the server closes the connection or a timeout passes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.e2e.servers import ROOT, ensure_installed, free_port

HOST = "127.0.0.1"
_STATUS_LINE = re.compile(rb"HTTP/\d\.\d (\d{3})[^\r\n]*\r\n")


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (read from /proc, no psutil needed)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z" and not _is_helper(int(entry)):
            found.append(int(entry))
    return sorted(found)


def _is_helper(pid: int) -> bool:
    """True for multiprocessing's resource tracker, which Hypercorn's master also starts."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(f"no VmRSS for {pid}")


@dataclasses.dataclass
class Server:
    """A running server process on 127.0.0.1."""

    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        """The base URL."""
        return f"http://{HOST}:{self.port}"

    def workers(self) -> list[int]:
        """PIDs of the worker processes serving requests."""
        return children(self.process.pid)

    def wait_for_workers(self, count: int, timeout: float = 30.0) -> list[int]:
        """Wait until ``count`` workers are alive; their PIDs."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.workers()
            if len(pids) >= count:
                return pids
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.kind}: {len(pids)} of {count} workers after {timeout}s")
            time.sleep(0.05)

    def wait_for_replacement(self, gone: int, count: int, timeout: float = 30.0) -> list[int]:
        """Wait until worker ``gone`` has exited and ``count`` workers are alive again."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.workers()
            if gone not in pids and len(pids) >= count:
                return pids
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.kind}: worker {gone} not replaced ({pids})")
            time.sleep(0.05)

    def log(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace")


def command(server: str, target: str, port: int, workers: int, extra: Sequence[str]) -> list[str]:
    """The command line for ``server`` (``gunicorn`` runs sync workers)."""
    bind = f"{HOST}:{port}"
    if server == "gunicorn":
        base = ["-m", "gunicorn", "-k", "sync", "-w", str(workers), "-b", bind]
        base += ["--graceful-timeout", "3"]
    elif server == "hypercorn":
        base = ["-m", "hypercorn", "-w", str(workers), "-b", bind, "--graceful-timeout", "3"]
    else:
        raise ValueError(server)
    return [sys.executable, *base, *extra, target]


@contextlib.contextmanager
def running(
    server: str,
    target: str,
    *,
    workers: int = 1,
    extra: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Serve ``target`` until the block ends, then stop the master by PID."""
    ensure_installed(server)
    port = free_port()
    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    log_path = logs / f"robustness-{server}-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command(server, target, port, workers, extra),
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    handle = Server(server, port, process, log_path)
    try:
        _wait_listening(handle)
        handle.wait_for_workers(workers)
        yield handle
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):  # any orphaned worker
            os.killpg(process.pid, signal.SIGKILL)


def _wait_listening(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} exited early:\n{server.log()[-3000:]}")
        with contextlib.suppress(OSError):
            if exchange(server.port, request_bytes("GET", "/plaintext"), timeout=2).statuses:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{server.kind} does not answer on {server.port}")
        time.sleep(0.1)


@dataclasses.dataclass
class Exchange:
    """What came back on one raw connection."""

    raw: bytes
    closed: bool  # the server closed the connection (EOF or reset) before the timeout
    reset: bool  # the connection was reset rather than closed cleanly
    elapsed: float

    @property
    def statuses(self) -> list[int]:
        """The status code of every response on the connection, in order."""
        return [int(m.group(1)) for m in _STATUS_LINE.finditer(self.raw)]

    @property
    def status(self) -> int | None:
        """The first response's status code, if any response came."""
        found = self.statuses
        return found[0] if found else None

    def header(self, name: str) -> str | None:
        """A header of the first response (case-insensitive name)."""
        head = self.raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        for line in head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None

    @property
    def body(self) -> bytes:
        """The bytes after the first response's header block."""
        return self.raw.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.raw else b""


def exchange(
    port: int,
    data: bytes | Sequence[bytes],
    *,
    timeout: float = 5.0,
    pause: float = 0.0,
    half_close: bool = False,
) -> Exchange:
    """Connect, write ``data`` (pieces separated by ``pause`` seconds), read until closed.

    ``half_close`` shuts down the write side after sending (the client says "no more bytes").
    """
    pieces = [data] if isinstance(data, bytes) else list(data)
    started = time.monotonic()
    received = bytearray()
    closed = reset = False
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        try:
            for index, piece in enumerate(pieces):
                if index and pause:
                    time.sleep(pause)
                sock.sendall(piece)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            reset = True  # the server refused before we finished: still read its answer
        deadline = started + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                closed = reset = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
    return Exchange(bytes(received), closed, reset, time.monotonic() - started)


def request_bytes(
    method: str = "GET",
    target: str | bytes = "/plaintext",
    *,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    version: str = "HTTP/1.1",
    close: bool = True,
) -> bytes:
    """A well-formed HTTP/1.x request (Content-Length added when there is a body)."""
    target_bytes = target if isinstance(target, bytes) else target.encode("latin-1")
    lines = [method.encode("latin-1") + b" " + target_bytes + b" " + version.encode()]
    lines.append(b"Host: 127.0.0.1")
    names = {name.lower() for name, _ in headers}
    for name, value in headers:
        lines.append(f"{name}: {value}".encode("latin-1"))
    if body and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}".encode())
    if close and "connection" not in names:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
