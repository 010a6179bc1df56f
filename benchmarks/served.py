"""Served benchmark: each app behind a real server on 127.0.0.1, load from ``wrk``.

WSGI contenders run under ``gunicorn -k sync`` and Granian's WSGI interface, ASGI contenders
under ``hypercorn``, ``uvicorn`` and Granian's ASGI interface, one worker each, pinned to one
CPU; ``wrk`` is pinned to another. All contenders
of a server are started at once, each on a free port, and stopped by PID at the end. Per
route, each is checked once against the contract and warmed up; then the timed wrk runs take
turns, one per contender per round, each round starting one contender later, so only one
server is under load at a time. Other work on the machine comes and goes over minutes;
interleaving spreads it over all contenders alike instead of landing it on whichever one is
running, so it does not skew the ratios to the raw callable under the same server.

    python -m benchmarks.served --quick --servers uvicorn --contenders litestar --routes json
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from benchmarks import _common
from benchmarks.contenders import Contender, select
from benchmarks.inprocess import add_ratios, format_table
from benchmarks.spec import BENCH, ROUTES, Probe, verify

#: Server name -> protocol mode it serves.
SERVERS: dict[str, str] = {
    "gunicorn": "wsgi",
    "granian-wsgi": "wsgi",
    "hypercorn": "asgi",
    "uvicorn": "asgi",
    "granian-asgi": "asgi",
}

T = TypeVar("T")


def server_command(server: str, target: str, port: int | str) -> list[str]:
    """Command line starting ``server`` with one worker on 127.0.0.1:``port``, logs quiet."""
    py = sys.executable
    bind = f"127.0.0.1:{port}"
    quiet = ["--log-level", "warning"]
    if server == "gunicorn":
        return [py, "-m", "gunicorn", "-k", "sync", "-w", "1", "-b", bind, *quiet, target]
    if server == "hypercorn":
        return [py, "-m", "hypercorn", "-w", "1", "-b", bind, *quiet, target]
    if server == "uvicorn":
        return [
            py, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", *quiet, "--no-access-log",
        ]  # fmt: skip
    if server in ("granian-wsgi", "granian-asgi"):
        interface = server.removeprefix("granian-")
        return [
            py, "-m", "granian", "--interface", interface, "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--log-level", "warning", target,
        ]  # fmt: skip
    raise ValueError(f"unknown server {server!r}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def send(port: int, probe: Probe, timeout: float = 5.0) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send ``probe`` to 127.0.0.1:``port`` and return status, headers and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = dict(probe.headers())
        headers.pop("content-length", None)  # http.client sets it from the body
        conn.request(probe.method, probe.target, body=probe.body or None, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


class Server:
    """One server process, pinned to a CPU, started in its own session and stopped by PID."""

    def __init__(self, server: str, contender: Contender, cpu: int | None, log_dir: Path) -> None:
        self.server = server
        self.contender = contender
        self.cpu = cpu
        self.port = free_port()
        self.log_path = log_dir / f"{server}-{contender.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """The command line that starts this server."""
        return server_command(self.server, self.contender.target, self.port)

    def start(self, timeout: float = 30.0, probe_timeout: float = 1.0) -> None:
        """Start the server and wait until it answers ``GET /plaintext``."""
        cpu = self.cpu
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=_common.REPO,
                env=_common.child_env(self.contender),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=None if cpu is None else lambda: _common.pin(cpu),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self._tail()}")
            try:
                send(self.port, BENCH["plaintext"], timeout=probe_timeout)
                return
            except OSError:
                time.sleep(probe_timeout / 10)
        raise RuntimeError(f"server not ready after {timeout:.0f}s: {self._tail()}")

    def _tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:])

    def stop(self) -> None:
        """SIGTERM the server's PID; SIGKILL its process group if it does not exit."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the session this class started
            proc.wait(timeout=5)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def lua_script(probe: Probe, directory: Path) -> Path | None:
    """A wrk Lua script sending ``probe``'s method, headers and body (None for a plain GET)."""
    if probe.method == "GET" and not probe.body:
        return None
    path = directory / f"{probe.method.lower()}{probe.path.replace('/', '_')}.lua"
    body = probe.body.decode()
    lines = [f'wrk.method = "{probe.method}"', f"wrk.body = [==[{body}]==]"]
    for name, value in probe.headers():
        if name != "content-length":  # wrk sets it from wrk.body
            lines.append(f'wrk.headers["{name}"] = "{value}"')
    path.write_text("\n".join(lines) + "\n")
    return path


_RATE = re.compile(r"Requests/sec:\s*([\d.]+)")
_COUNT = re.compile(r"(\d+) requests in")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_LATENCY = re.compile(r"Latency\s+([\d.]+)(us|ms|s)")


_TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(child) for child in f.read().split())
        except OSError:
            continue
    return out


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` and all its descendants."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        pending.extend(_children(current))
    return total / _TICK


def wrk(
    port: int,
    probe: Probe,
    seconds: int,
    connections: int,
    cpu: int,
    script: Path | None,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """Run wrk (one thread, pinned to ``cpu``) for ``seconds``; return its parsed result.

    With ``server_pid``, the server's CPU time over the run is measured too, giving
    ``cpu_rate``: requests per second of server CPU.
    """
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(f"http://127.0.0.1:{port}{probe.target}")
    cpu_before = tree_cpu_seconds(server_pid) if server_pid else 0.0
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
        preexec_fn=lambda: _common.pin(cpu),
    ).stdout
    cpu_used = tree_cpu_seconds(server_pid) - cpu_before if server_pid else 0.0
    rate = _RATE.search(out)
    count = _COUNT.search(out)
    if rate is None or count is None:
        return {"error": f"wrk printed no rate: {out.strip()[-200:]}"}
    result: dict[str, Any] = {"wall_rate": float(rate.group(1)), "requests": int(count.group(1))}
    result["server_cpu_s"] = cpu_used
    if cpu_used > 0:
        result["cpu_rate"] = result["requests"] / cpu_used
    non_2xx = _NON_2XX.search(out)
    result["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    sock = _SOCKET.search(out)
    result["socket_errors"] = sum(int(x) for x in sock.groups()) if sock else 0
    latency = _LATENCY.search(out)
    if latency:
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[latency.group(2)]
        result["latency_ms"] = float(latency.group(1)) * scale
    return result


def rounds(items: Sequence[T], runs: int) -> Iterator[tuple[int, T]]:
    """(round, item) for ``runs`` rounds of every item once, each round starting one item later."""
    for round_ in range(runs):
        for i in range(len(items)):
            yield round_, items[(round_ + i) % len(items)]


@dataclass
class Load:
    """How each route is loaded: wrk's settings, the CPUs, the Lua scripts, the rate reported."""

    seconds: int
    warmup: int
    runs: int
    connections: int
    app_cpu: int
    load_cpu: int
    scripts: dict[str, Path | None]
    log_dir: Path
    clock: str = "cpu"

    def open(self, stack: ExitStack, server: str, contender: Contender) -> Server:
        """Start ``contender`` under ``server``; ``stack`` stops it, even if it never got ready."""
        srv = Server(server, contender, self.app_cpu, self.log_dir)
        stack.callback(srv.stop)
        srv.start()
        return srv

    def check(self, srv: Server, route: str) -> str | None:
        """What is wrong with ``srv``'s answer to ``route``'s request, or None."""
        probe = BENCH[route]
        return verify(probe, *send(srv.port, probe))

    def warm(self, srv: Server, route: str) -> None:
        """Load ``route`` on ``srv`` for the warm-up time, discarding the result."""
        probe, script = BENCH[route], self.scripts[route]
        wrk(srv.port, probe, self.warmup, self.connections, self.load_cpu, script)

    def sample(self, srv: Server, route: str) -> dict[str, Any]:
        """One timed wrk run of ``route`` on ``srv``, with the server's CPU time."""
        pid = srv.proc.pid if srv.proc else None
        probe, script = BENCH[route], self.scripts[route]
        return wrk(srv.port, probe, self.seconds, self.connections, self.load_cpu, script, pid)


#: What a dead or unreachable server, or a hung wrk, raises.
_FAILURES = (RuntimeError, OSError, subprocess.SubprocessError)


@dataclass
class _Entry:
    """One contender under the server being measured, with its cells by route."""

    server: str
    contender: Contender
    cells: dict[str, dict[str, Any]]
    srv: Server | None = None  # None once it failed to start or failed under load

    def where(self, route: str) -> str:
        """The start of a log line about this entry's cell for ``route``."""
        return f"{self.server:<9} {self.contender.name:<18} {route:<10}"


def run(
    contenders: Sequence[Contender],
    routes: Sequence[str],
    servers: Sequence[str] = tuple(SERVERS),
    *,
    seconds: int = 4,
    warmup: int = 1,
    runs: int = 3,
    connections: int = 32,
    clock: str = "cpu",
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Serve every contender under every server of its mode and load each route with wrk.

    ``clock`` ("cpu" or "wall") picks the rate the medians and ratios use: requests per
    second of server CPU time, or wrk's requests per second of wall time.
    """
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    app_cpu, load_cpu = _common.pick_cpus()
    if app_cpu == load_cpu:
        log("  warning: only one CPU available; server and wrk share it")
    cells: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="duoweb-served-") as tmp:
        tmpdir = Path(tmp)
        scripts = {route: lua_script(BENCH[route], tmpdir) for route in routes}
        load = Load(seconds, warmup, runs, connections, app_cpu, load_cpu, scripts, tmpdir, clock)
        for server in servers:
            group = [c for c in contenders if c.mode == SERVERS[server]]
            cells.extend(serve(server, group, routes, load, log))
    add_ratios(cells, key=("server",))
    return cells


def serve(
    server: str,
    contenders: Sequence[Contender],
    routes: Sequence[str],
    load: Load,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """All cells of ``contenders`` under ``server``: all started at once, samples interleaved."""
    entries = [_Entry(server, c, {r: _cell(server, c, r) for r in routes}) for c in contenders]
    with ExitStack() as stack:
        for entry in entries:
            try:
                entry.srv = load.open(stack, server, entry.contender)
            except _FAILURES as exc:
                _fail(entry, exc, log)
        for route in routes:
            _load_route([e for e in entries if e.srv is not None], route, load, log)
    return [cell for entry in entries for cell in entry.cells.values()]


def _cell(server: str, contender: Contender, route: str) -> dict[str, Any]:
    return {"server": server, "contender": contender.name, "mode": contender.mode, "route": route}


def _fail(entry: _Entry, exc: BaseException, log: Callable[[str], None]) -> None:
    """Mark ``entry``'s server failed: its cells not measured yet get the error."""
    entry.srv = None
    for cell in entry.cells.values():
        if "rates" not in cell:
            cell.setdefault("error", f"server failed: {exc}")
    log(f"  {entry.server:<9} {entry.contender.name:<18} FAILED: {exc}")


def _load_route(
    entries: Sequence[_Entry], route: str, load: Load, log: Callable[[str], None]
) -> None:
    """Check and warm up every entry on ``route``, then take its samples in rotating rounds."""
    ready = [e for e in entries if _checked(e, route, load, log)]
    if load.warmup:
        for entry in ready:
            _attempt(entry, log, lambda srv: load.warm(srv, route))
    samples: dict[str, list[dict[str, Any]]] = {e.contender.name: [] for e in ready}
    for _, entry in rounds(ready, load.runs):
        result = _attempt(entry, log, lambda srv: load.sample(srv, route))
        if result is not None:
            samples[entry.contender.name].append(result)
    for entry in ready:
        if entry.srv is None:
            continue
        cell = entry.cells[route]
        _summarize(cell, samples[entry.contender.name], load.clock)
        status = cell.get("error") or f"{cell['median']:>10,.0f} req/s"
        log(f"  {entry.where(route)} {status}")


def _checked(entry: _Entry, route: str, load: Load, log: Callable[[str], None]) -> bool:
    """True if ``entry`` answers ``route``'s request as the contract says; else note why."""
    if entry.srv is None:
        return False
    try:
        problem = load.check(entry.srv, route)
    except _FAILURES as exc:
        _fail(entry, exc, log)
        return False
    if problem is not None:
        entry.cells[route]["error"] = f"wrong answer: {problem}"
        log(f"  {entry.where(route)} {entry.cells[route]['error']}")
        return False
    return True


def _attempt(entry: _Entry, log: Callable[[str], None], action: Callable[[Server], T]) -> T | None:
    """``action`` on ``entry``'s server; None (and the entry failed) if it is down or fails."""
    if entry.srv is None:
        return None
    try:
        return action(entry.srv)
    except _FAILURES as exc:
        _fail(entry, exc, log)
        return None


def _summarize(cell: dict[str, Any], samples: Sequence[dict[str, Any]], clock: str) -> None:
    """Fill ``cell`` from its wrk samples, or set its error if any sample failed."""
    failed = [s.get("error", "no server CPU time") for s in samples if "cpu_rate" not in s]
    if failed or not samples:
        cell["error"] = failed[0] if failed else "no samples"
        return
    cell["rates"] = [s[f"{clock}_rate"] for s in samples]
    cell.update(_common.summarize(cell["rates"]))
    cell["wall_rates"] = [s["wall_rate"] for s in samples]
    cell["cpu_rates"] = [s["cpu_rate"] for s in samples]
    cell["server_cpu_s"] = [s["server_cpu_s"] for s in samples]
    cell["non_2xx"] = sum(s["non_2xx"] for s in samples)
    cell["socket_errors"] = sum(s["socket_errors"] for s in samples)
    cell["latency_ms"] = [s.get("latency_ms") for s in samples]
    if cell["non_2xx"]:
        cell["error"] = f"{cell['non_2xx']} non-2xx responses under load"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the served benchmark alone and print one table per server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contenders", default="", help="comma-separated names or families")
    parser.add_argument("--routes", default="", help=f"comma-separated, of {','.join(ROUTES)}")
    parser.add_argument("--servers", default="", help=f"comma-separated, of {','.join(SERVERS)}")
    parser.add_argument("--quick", action="store_true", help="one 1 s run per cell")
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="rate per ...")
    args = parser.parse_args(argv)
    routes = [r for r in args.routes.split(",") if r] or list(ROUTES)
    servers = [s for s in args.servers.split(",") if s] or list(SERVERS)
    cells = run(
        select(args.contenders.split(",")),
        routes,
        servers,
        seconds=args.seconds or (1 if args.quick else 4),
        warmup=0 if args.quick else 1,
        runs=args.runs or (1 if args.quick else 3),
        connections=args.connections,
        clock=args.clock,
    )
    for server in servers:
        print(f"\n{server}")
        print(format_table([c for c in cells if c["server"] == server], routes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
