"""Start real Gunicorn, Hypercorn, uvicorn and Granian processes on 127.0.0.1 for e2e tests."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


# The servers this harness starts, and the module each is run as (``python -m``).
SERVER_MODULES = {
    "gunicorn": "gunicorn",
    "gunicorn-uvicorn": "gunicorn",
    "hypercorn": "hypercorn",
    "uvicorn": "uvicorn",
    "granian-wsgi": "granian",
    "granian-asgi": "granian",
}


def ensure_installed(*servers: str) -> None:
    """Fail with the fix when a server is missing: ``bash scripts/setup.sh`` installs them all."""
    missing = [
        name
        for name in servers
        if importlib.util.find_spec(SERVER_MODULES.get(name, name).replace("-", "_")) is None
    ]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} not installed in {sys.prefix}: run `bash scripts/setup.sh`"
            " (it installs the dev extra, which has every server the tests start)"
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def command_for(server: str, target: str, port: int, workers: int) -> list[str]:
    """The command line that serves ``target`` with ``server`` on ``port``."""
    bind = f"127.0.0.1:{port}"
    python = [sys.executable, "-m"]
    # Gunicorn 25.1+ otherwise shares one control socket file per user.
    gunicorn = ["-b", bind, "--graceful-timeout", "5", "--no-control-socket"]
    if server == "gunicorn":
        return [*python, "gunicorn", "-k", "sync", "-w", str(workers), *gunicorn, target]
    if server == "gunicorn-uvicorn":
        worker = "uvicorn_worker.UvicornWorker"
        return [*python, "gunicorn", "-k", worker, "-w", str(workers), *gunicorn, target]
    if server == "hypercorn":
        argv = ["-w", str(workers), "-b", bind, "--graceful-timeout", "5", target]
        return [*python, "hypercorn", *argv]
    if server == "uvicorn":
        argv = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        return [*python, "uvicorn", *argv, "--timeout-graceful-shutdown", "5", target]
    if server in ("granian-wsgi", "granian-asgi"):
        interface = server.removeprefix("granian-")
        argv = ["--interface", interface, "--host", "127.0.0.1", "--port", str(port)]
        return [*python, "granian", *argv, "--workers", str(workers), target]
    raise ValueError(server)


@contextlib.contextmanager
def serve(
    server: str, target: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run ``server`` serving ``target`` until the block ends; yields its base URL."""
    ensure_installed(server)
    port = free_port()
    log = ROOT / "test-artifacts"
    log.mkdir(exist_ok=True)
    log_file = (log / f"{server}-{port}.log").open("wb")
    process = subprocess.Popen(
        command_for(server, target, port, workers),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{server} exited with {process.returncode}; see {log_file.name}"
                )
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{server} did not start listening on {port}") from None
                time.sleep(0.1)
        yield base
    finally:
        # Stop the master by PID as a process manager would; it stops its workers gracefully.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):  # sweep any orphaned worker
            os.killpg(process.pid, signal.SIGKILL)
        log_file.close()
