"""Served instruction counts: what a request costs the server process that runs the app.

Requests per second under a server swing by ±15% between samples on a shared machine, far
more than the few percent an app adds to a served request; instruction counts do not. Each
contender is started under its server (``served.server_command``, one worker) inside
``valgrind --tool=callgrind`` with instrumentation off. Once it answers, every process of the
server is switched on with ``callgrind_control``, its idle instructions per second (timers)
are counted, and per route: the answer is checked, the route is warmed up, the counters are
zeroed, N requests are sent by 4 clients at once (so that, as under wrk, the next request is
always waiting; gunicorn's sync worker closes every connection and the clients reconnect,
which is part of its cost), and the counters are dumped. The busiest process is the one that
served them (gunicorn's and hypercorn's worker, uvicorn's only process). Its count, less its
idle rate times the seconds the requests took (valgrind's ~50x slowdown would otherwise
inflate the timers' share 50-fold), over N is the cell's instructions per request, server and
app together. The ratio is the raw callable's count over the contender's under the same
server: 1.00 is as cheap as no framework at all.

    python -m benchmarks.served_instructions --servers gunicorn --contenders raw-wsgi,duoweb-wsgi
    python -m benchmarks.served_instructions --servers hypercorn --routes plaintext --requests 500

Needs valgrind (Debian package ``valgrind``, which also installs ``callgrind_control``).
User-space instructions only: the kernel's socket work is not counted. A cell repeats to
within about half a percent (under gunicorn to within 0.05%); the async servers' event loops
batch ready connections a little differently from run to run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.contenders import Contender, floor_for, select
from benchmarks.instructions import RUN_FAMILIES
from benchmarks.served import SERVERS as SERVED_SERVERS
from benchmarks.served import Server, send, server_command
from benchmarks.spec import BENCH, ROUTES, Probe, verify

#: Extra arguments per server: gunicorn's arbiter must not kill a worker slowed by valgrind.
SERVER_ARGS: dict[str, tuple[str, ...]] = {"gunicorn": ("--timeout", "900")}

#: The servers counted here (server name -> mode): the Python ones. Granian's request handling
#: is Rust on threads of its own, not the Python path these counts compare.
SERVERS: dict[str, str] = {
    name: mode for name, mode in SERVED_SERVERS.items() if not name.startswith("granian")
}

#: Requests sent to each route before its counters are zeroed.
WARMUP = 100

#: Clients sending at once, so that the server always has the next request waiting.
CONNECTIONS = 4

#: Seconds of idling counted per server, to subtract its timers' work from the requests' count.
IDLE_SECONDS = 4.0

_SUMMARY = re.compile(r"^(?:summary|totals):\s*(\d+)", re.MULTILINE)
_SHARED_MEM = re.compile(r"-shared-mem-vgdb-(\d+)-by-")


def available() -> bool:
    """True when valgrind and callgrind_control are installed."""
    return all(shutil.which(tool) for tool in ("valgrind", "callgrind_control"))


def valgrind_command(server: str, target: str, port: int, work: Path) -> list[str]:
    """``server`` serving ``target`` on ``port`` under callgrind, instrumentation off."""
    return [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--trace-children=yes",  # hypercorn spawns its worker; also gives forks a vgdb pipe
        f"--vgdb-prefix={work / 'vgdb'}",
        f"--callgrind-out-file={work / 'cg.%p'}",
        *server_command(server, target, port),
        *SERVER_ARGS.get(server, ()),
    ]


def dump_total(text: str) -> int:
    """The total instruction count of one callgrind dump (its ``summary:`` line)."""
    found = _SUMMARY.search(text)
    if found is None:
        raise ValueError("no summary or totals line in the callgrind dump")
    return int(found.group(1))


def latest_dump(work: Path, pid: int) -> Path:
    """The newest numbered dump ``cg.<pid>.<n>`` written by process ``pid``."""
    dumps = [p for p in work.glob(f"cg.{pid}.*") if p.suffix[1:].isdigit()]
    if not dumps:
        raise RuntimeError(f"callgrind wrote no dump for process {pid}")
    return max(dumps, key=lambda p: int(p.suffix[1:]))


class CountedServer(Server):
    """One server under callgrind in its own session, its processes steered by vgdb."""

    def __init__(self, server: str, contender: Contender, work: Path) -> None:
        super().__init__(server, contender, None, work)
        self.work = work

    def command(self) -> list[str]:
        """The server's command line under callgrind."""
        return valgrind_command(self.server, self.contender.target, self.port, self.work)

    def start(self, timeout: float = 180.0, probe_timeout: float = 10.0) -> None:
        """Start the server and wait until it answers (valgrind is slow)."""
        super().start(timeout, probe_timeout)

    def pids(self) -> list[int]:
        """The live processes of this server that callgrind runs (one vgdb pipe each)."""
        found = (_SHARED_MEM.search(p.name) for p in self.work.glob("vgdb-shared-mem-vgdb-*"))
        return sorted(int(m.group(1)) for m in found if m and Path(f"/proc/{m.group(1)}").exists())

    def control(self, pids: Sequence[int], *args: str) -> None:
        """Run ``callgrind_control args`` on ``pids``; raise unless every one said OK."""
        cmd = ["callgrind_control", f"--vgdb-prefix={self.work / 'vgdb'}", *args]
        proc = subprocess.run(
            [*cmd, *map(str, pids)], capture_output=True, text=True, timeout=120, check=False
        )
        if proc.stdout.count("OK.") != len(pids):
            said = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
            raise RuntimeError(f"callgrind_control {' '.join(args)} failed: {said}")

    def instrument(self) -> list[int]:
        """Switch instrumentation on in every process; return their PIDs."""
        pids = self.pids()
        if not pids:
            raise RuntimeError("no process of the server runs under callgrind")
        self.control(pids, "--instr=on")
        return pids

    def dump(self, pids: Sequence[int]) -> dict[int, int]:
        """Dump every process's counters; return each one's instructions since the zeroing."""
        self.control(pids, "--dump")
        return {pid: dump_total(latest_dump(self.work, pid).read_text()) for pid in pids}

    def stop(self) -> None:
        """SIGTERM the server's session; SIGKILL whatever of it is left after a while."""
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of the session is left behind
        proc.wait(timeout=10)


def send_many(port: int, probe: Probe, requests: int, connections: int = CONNECTIONS) -> None:
    """Send ``probe`` ``requests`` times over ``connections`` clients, each one at a time."""
    shares = [requests // connections + (i < requests % connections) for i in range(connections)]
    with ThreadPoolExecutor(max_workers=connections) as pool:
        for done in [pool.submit(_send_serially, port, probe, n) for n in shares if n]:
            done.result()


def _send_serially(port: int, probe: Probe, requests: int) -> None:
    """Send ``probe`` ``requests`` times over one client, reconnecting when the server closes."""
    headers = dict(probe.headers())
    headers.pop("content-length", None)  # http.client sets it from the body
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for _ in range(requests):
            conn.request(probe.method, probe.target, body=probe.body or None, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != probe.status:
                raise RuntimeError(f"status {resp.status}, expected {probe.status}")
    finally:
        conn.close()


def measure(
    srv: CountedServer, pids: Sequence[int], action: Callable[[], object]
) -> tuple[dict[int, int], float]:
    """Zero the counters, run ``action``, dump: each process's count, and the seconds between."""
    started = time.monotonic()
    srv.control(pids, "--zero")
    zeroed = time.monotonic()
    action()
    dumping = time.monotonic()
    counts = srv.dump(pids)
    dumped = time.monotonic()
    # each callgrind_control call takes a moment; take the middle of each as its time
    return counts, (dumping + dumped) / 2 - (started + zeroed) / 2


def idle_rates(srv: CountedServer, pids: Sequence[int], seconds: float) -> dict[int, float]:
    """Instructions per second each process runs with no request (its timers)."""
    counts, elapsed = measure(srv, pids, lambda: time.sleep(seconds))
    return {pid: count / elapsed for pid, count in counts.items()}


def count_route(
    srv: CountedServer, idle: dict[int, float], route: str, requests: int
) -> dict[str, Any]:
    """Check, warm up, zero, send ``requests`` requests and dump: one cell's counts."""
    probe = BENCH[route]
    problem = verify(probe, *send(srv.port, probe, timeout=60.0))
    if problem is not None:
        return {"error": f"wrong answer: {problem}"}
    send_many(srv.port, probe, WARMUP)
    counts, elapsed = measure(srv, list(idle), lambda: send_many(srv.port, probe, requests))
    net = {pid: count - idle[pid] * elapsed for pid, count in counts.items()}
    pid = max(net, key=net.__getitem__)
    return {
        "instructions": net[pid] / requests,
        "idle": idle[pid] * elapsed / requests,
        "others": (sum(counts.values()) - counts[pid]) / requests,
        "seconds": elapsed,
    }


_FAILURES = (
    RuntimeError,
    OSError,
    ValueError,
    subprocess.SubprocessError,
    http.client.HTTPException,
)


def count_contender(
    server: str,
    contender: Contender,
    routes: Sequence[str],
    requests: int,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Every route's cell of ``contender`` under ``server``, from one server under callgrind."""
    cells = [_cell(server, contender, route, requests) for route in routes]
    with tempfile.TemporaryDirectory(prefix="duoweb-served-cg-") as tmp:
        srv = CountedServer(server, contender, Path(tmp))
        try:
            _count_all(srv, cells, requests, log)
        finally:
            srv.stop()
    return cells


def _count_all(
    srv: CountedServer, cells: Sequence[dict[str, Any]], requests: int, log: Callable[[str], None]
) -> None:
    """Start ``srv`` and fill every cell; if the server does not start, every cell has failed."""
    try:
        srv.start()
        idle = idle_rates(srv, srv.instrument(), IDLE_SECONDS)
    except _FAILURES as exc:
        for cell in cells:
            cell["error"] = f"server failed: {exc}"
        log(f"  {srv.server:<9} {srv.contender.name:<18} failed: {exc}")
        return
    for cell in cells:
        try:
            cell.update(count_route(srv, idle, cell["route"], requests))
        except _FAILURES as exc:
            cell["error"] = f"{type(exc).__name__}: {exc}"
        _log_cell(cell, log)


def _cell(server: str, contender: Contender, route: str, requests: int) -> dict[str, Any]:
    return {
        "server": server,
        "contender": contender.name,
        "mode": contender.mode,
        "route": route,
        "requests": requests,
    }


def _log_cell(cell: dict[str, Any], log: Callable[[str], None]) -> None:
    where = f"  {cell['server']:<9} {cell['contender']:<18} {cell['route']:<10}"
    if "error" in cell:
        log(f"{where} {cell['error']}")
    else:
        log(f"{where} {cell['instructions']:10,.0f} instructions")


def add_ratios(cells: Sequence[dict[str, Any]]) -> None:
    """Set each cell's ``ratio``: the raw callable's count over its own, same server and route."""
    counts = {(c["server"], c["contender"], c["route"]): c.get("instructions") for c in cells}
    for cell in cells:
        floor = counts.get((cell["server"], floor_for(cell["mode"]).name, cell["route"]))
        own = cell.get("instructions")
        cell["ratio"] = floor / own if floor and own else None


def count_cells(
    contenders: Sequence[Contender],
    routes: Sequence[str],
    servers: Sequence[str] = tuple(SERVERS),
    requests: int = 500,
    *,
    jobs: int = 2,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Instructions per served request of every cell, ``jobs`` servers under valgrind at a time."""
    units = [(s, c) for s in servers for c in contenders if c.mode == SERVERS[s]]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        done = pool.map(lambda u: count_contender(u[0], u[1], routes, requests, log), units)
        cells = [cell for group in done for cell in group]
    add_ratios(cells)
    return cells


def format_table(cells: Sequence[dict[str, Any]], routes: Sequence[str]) -> str:
    """A Markdown table: thousands of instructions per request (raw's count over this one's)."""
    by_key = {(c["contender"], c["route"]): c for c in cells}
    lines = ["| contender | " + " | ".join(routes) + " |", "|---" * (len(routes) + 1) + "|"]
    for name in dict.fromkeys(c["contender"] for c in cells):
        row = [_cell_text(by_key.get((name, route))) for route in routes]
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def _cell_text(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "-"
    if not cell.get("instructions"):
        return "failed"
    ratio = cell.get("ratio")
    floor = floor_for(cell["mode"]).name
    suffix = f" ({ratio:.2f})" if ratio and cell["contender"] != floor else ""
    return f"{cell['instructions'] / 1000:,.1f}k{suffix}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: count the chosen cells and print one table per server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="", help=f"comma-separated, of {','.join(SERVERS)}")
    parser.add_argument(
        "--contenders",
        default=",".join(RUN_FAMILIES),
        help="comma-separated names or families (default: %(default)s)",
    )
    parser.add_argument("--routes", default="", help=f"comma-separated, of {','.join(ROUTES)}")
    parser.add_argument("--requests", type=int, default=500, help="requests counted per cell")
    parser.add_argument("--jobs", type=int, default=2, help="servers under valgrind at a time")
    args = parser.parse_args(argv)
    servers = [s for s in args.servers.split(",") if s] or list(SERVERS)
    routes = [r for r in args.routes.split(",") if r] or list(ROUTES)
    if unknown := (set(servers) - set(SERVERS)) | (set(routes) - set(ROUTES)):
        parser.error(f"unknown server(s) or route(s): {', '.join(sorted(unknown))}")
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    try:
        contenders = select(args.contenders.split(","))
    except ValueError as exc:
        parser.error(str(exc))
    if not available():
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    cells = count_cells(contenders, routes, servers, args.requests, jobs=args.jobs)
    for server in servers:
        print(f"\n{server}: thousands of instructions per request (raw's count / this one's)")
        print(format_table([c for c in cells if c["server"] == server], routes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
