"""Served benchmark: each app behind a real server on 127.0.0.1, load from ``wrk``.

WSGI contenders run under ``gunicorn -k sync``, ASGI contenders under ``hypercorn`` and
``uvicorn``, one worker each, pinned to one CPU; ``wrk`` is pinned to another. Each server is
started on a free port, checked once per route against the contract, loaded for a bounded
time per route, and stopped by its PID. Ratios are to the raw callable under the same server.

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import _common
from benchmarks.contenders import Contender, select
from benchmarks.inprocess import add_ratios, format_table
from benchmarks.spec import BENCH, ROUTES, Probe, verify

#: Server name -> protocol mode it serves.
SERVERS: dict[str, str] = {"gunicorn": "wsgi", "hypercorn": "asgi", "uvicorn": "asgi"}


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

    def __init__(self, server: str, contender: Contender, cpu: int, log_dir: Path) -> None:
        self.server = server
        self.contender = contender
        self.cpu = cpu
        self.port = free_port()
        self.log_path = log_dir / f"{server}-{contender.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until it answers ``GET /plaintext``."""
        cmd = server_command(self.server, self.contender.target, self.port)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=_common.REPO,
                env=_common.child_env(self.contender),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=lambda: _common.pin(self.cpu),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self._tail()}")
            try:
                send(self.port, BENCH["plaintext"], timeout=1.0)
                return
            except OSError:
                time.sleep(0.1)
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
        for server in servers:
            for contender in (c for c in contenders if c.mode == SERVERS[server]):
                cells.extend(
                    _serve_one(
                        server,
                        contender,
                        routes,
                        scripts,
                        tmpdir,
                        (app_cpu, load_cpu),
                        (seconds, warmup, runs, connections),
                        clock,
                        log,
                    )
                )
    add_ratios(cells, key=("server",))
    return cells


def _serve_one(
    server: str,
    contender: Contender,
    routes: Sequence[str],
    scripts: dict[str, Path | None],
    tmpdir: Path,
    cpus: tuple[int, int],
    load: tuple[int, int, int, int],
    clock: str,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """All route cells of one contender under one server process."""
    seconds, warmup, runs, connections = load
    base = {"server": server, "contender": contender.name, "mode": contender.mode}
    cells = [{**base, "route": route} for route in routes]
    try:
        with Server(server, contender, cpus[0], tmpdir) as srv:
            for cell in cells:
                probe = BENCH[cell["route"]]
                problem = verify(probe, *send(srv.port, probe))
                if problem is not None:
                    cell["error"] = f"wrong answer: {problem}"
                    log(f"  {server:<9} {contender.name:<18} {cell['route']:<10} {cell['error']}")
                    continue
                script = scripts[cell["route"]]
                if warmup:
                    wrk(srv.port, probe, warmup, connections, cpus[1], script)
                pid = srv.proc.pid if srv.proc else None
                samples = [
                    wrk(srv.port, probe, seconds, connections, cpus[1], script, pid)
                    for _ in range(runs)
                ]
                failed = [
                    s.get("error", "no server CPU time") for s in samples if "cpu_rate" not in s
                ]
                if failed:
                    cell["error"] = failed[0]
                else:
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
                status = cell.get("error") or f"{cell['median']:>10,.0f} req/s"
                log(f"  {server:<9} {contender.name:<18} {cell['route']:<10} {status}")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        for cell in cells:
            cell.setdefault("error", f"server failed: {exc}")
        log(f"  {server:<9} {contender.name:<18} FAILED: {exc}")
    return cells


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
