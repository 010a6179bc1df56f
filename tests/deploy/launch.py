"""Run a server process on 127.0.0.1 for a test: start it, wait for it, stop it by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.e2e.servers import ROOT

ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class Running:
    """A started server: its process (the master), where it listens, and its log."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    stop_signal: signal.Signals
    stop_timeout: float = 20.0
    returncode: int | None = field(default=None, init=False)

    @property
    def pid(self) -> int:
        """The master process id."""
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> int | None:
        """Ask for a graceful shutdown with the server's own signal; returns the exit code.

        Idempotent. If the server has not exited within ``stop_timeout`` it is killed, and
        any process left in its session (an orphaned worker) is killed too.
        """
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(self.stop_signal)
            try:
                self.returncode = self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self.returncode = None
        elif self.returncode is None:
            self.returncode = self.process.returncode
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # start_new_session: pgid == pid
        return self.returncode


def wait_until_ready(
    running: Running, path: str, timeout: float, *, client: httpx.Client | None = None
) -> None:
    """Poll ``path`` until the server answers 200; fail early if the process exits."""
    deadline = time.monotonic() + timeout
    owned = client is None
    http = client or httpx.Client(timeout=2)
    try:
        while True:
            if running.process.poll() is not None:
                raise RuntimeError(
                    f"{running.name} exited with {running.process.returncode} before answering;"
                    f" log {running.log_path}:\n{running.log_tail()}"
                )
            try:
                if http.get(running.base_url + path).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{running.name} did not answer {path} within {timeout} s;"
                    f" log {running.log_path}:\n{running.log_tail()}"
                )
            time.sleep(0.1)
    finally:
        if owned:
            http.close()


@contextlib.contextmanager
def run_server(
    name: str,
    argv: list[str],
    *,
    base_url: str,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    stop_signal: signal.Signals = signal.SIGTERM,
    ready_path: str | None = "/_deploy/pid",
    startup_timeout: float = 30.0,
    ready_client: httpx.Client | None = None,
) -> Iterator[Running]:
    """Start ``argv`` in its own session, wait for it to answer, and stop it at the end."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = base_url.rsplit(":", 1)[-1]
    log_path = ARTIFACTS / f"deploy-{name}-{port}.log"
    with log_path.open("wb") as log:
        log.write(f"$ {' '.join(argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(name, process, base_url, log_path, stop_signal)
    try:
        if ready_path is not None:
            wait_until_ready(running, ready_path, startup_timeout, client=ready_client)
        yield running
    finally:
        running.stop()
