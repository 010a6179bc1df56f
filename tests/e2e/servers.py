"""Start real Gunicorn and Hypercorn processes on 127.0.0.1 for end-to-end tests."""

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


def ensure_installed(*modules: str) -> None:
    """Install the given server packages into this interpreter if they are missing."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def command_for(server: str, target: str, port: int, workers: int) -> list[str]:
    """The command line that serves ``target`` with ``server`` on ``port``."""
    bind = f"127.0.0.1:{port}"
    if server == "gunicorn":
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "-k",
            "sync",
            "-w",
            str(workers),
            "-b",
            bind,
            "--graceful-timeout",
            "5",
            "--no-control-socket",  # Gunicorn 25.1+ otherwise shares one socket file per user
            target,
        ]
    if server == "hypercorn":
        return [
            sys.executable,
            "-m",
            "hypercorn",
            "-w",
            str(workers),
            "-b",
            bind,
            "--graceful-timeout",
            "5",
            target,
        ]
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
