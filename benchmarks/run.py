"""Run every benchmark in one go, save the raw results, regenerate docs/benchmarks.md + chart.

python -m benchmarks.run                 # everything (about an hour)
python -m benchmarks.run --quick         # the same matrix, short batches, no instruction counts
python -m benchmarks.run --quick --only inprocess --contenders duoweb,falcon --routes json
python -m benchmarks.run --render benchmarks/results/<file>.json   # page from saved results
python -m benchmarks.run --only instructions --keep benchmarks/results/<file>.json
                                         # re-run one part, keep the others from a saved run
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import (
    _common,
    inprocess,
    instructions,
    report,
    served,
    served_instructions,
    startup,
)
from benchmarks.contenders import BY_NAME, CONTENDERS, Contender, select
from benchmarks.spec import BENCH, ROUTES, Probe

RESULTS_DIR = _common.REPO / "benchmarks" / "results"
DOCS_DIR = _common.REPO / "docs"
PARTS = ("inprocess", "served", "startup", "instructions", "served-instructions")
#: Minutes of valgrind each: left out of a quick run unless chosen with --only.
_SLOW_PARTS = ("instructions", "served-instructions")
_TOOLS = ("gunicorn", "hypercorn", "uvicorn", "granian", "httptools", "h11", "matplotlib")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _git() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=_common.REPO, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _versions() -> dict[str, str]:
    names = dict.fromkeys(d for c in CONTENDERS for d in c.dists)
    names.update(dict.fromkeys(_TOOLS))
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    if out.get("duoweb") == "not installed":  # used from the source tree
        out["duoweb"] = _duoweb("duoweb-wsgi").partition(" ")[0] + " (source tree)"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout
    out["wrk"] = wrk.split()[1] if wrk.startswith("wrk ") else "not installed"
    return out


def _duoweb(name: str) -> str:
    """duoweb's version and speedups as seen by a child running contender ``name``."""
    code = "import duoweb; print(duoweb.__version__, duoweb.speedups_report())"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=_common.REPO,
        env=_common.child_env(BY_NAME[name]),
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or f"unavailable ({proc.stderr.strip()[-120:]})"


def _meta(argv: Sequence[str]) -> dict[str, Any]:
    return {
        "command": shlex.join(["python", "-m", "benchmarks.run", *argv]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git": _git(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_allowed": _common.available_cpus(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "versions": _versions(),
        "speedups_compiled": _duoweb("duoweb-wsgi").partition(" ")[2],
        "speedups_pure": _duoweb("duoweb-pure-wsgi").partition(" ")[2],
    }


def _describe(probe: Probe) -> str:
    text = f"{probe.method} {probe.target}"
    if probe.body:
        text += f" ({probe.content_type}) {probe.body.decode()}"
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="short batches; a few minutes")
    parser.add_argument("--only", default="", help=f"comma-separated parts, of {','.join(PARTS)}")
    parser.add_argument("--contenders", default="", help="comma-separated names or families")
    parser.add_argument("--routes", default="", help=f"comma-separated, of {','.join(ROUTES)}")
    parser.add_argument(
        "--servers", default="", help=f"comma-separated, of {','.join(served.SERVERS)}"
    )
    parser.add_argument("--batches", type=int, help="in-process batches per cell")
    parser.add_argument("--batch-seconds", type=float, help="in-process seconds per batch")
    parser.add_argument("--served-seconds", type=int, help="seconds per wrk run")
    parser.add_argument("--served-runs", type=int, help="wrk runs per served cell")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="rates per second of the app's CPU time (default, steady on a shared machine)"
        " or of wall time",
    )
    parser.add_argument("--startup-samples", type=int, help="interpreters per contender")
    parser.add_argument(
        "--instruction-requests", type=int, help="requests per callgrind count (instructions)"
    )
    parser.add_argument(
        "--served-instruction-requests",
        type=int,
        help="requests per served callgrind count (served-instructions)",
    )
    parser.add_argument(
        "--keep",
        metavar="RESULTS",
        help="take the parts not run now from this earlier results file (noted on the page)",
    )
    parser.add_argument("--no-docs", action="store_true", help="save results, leave docs/ alone")
    parser.add_argument("--render", metavar="RESULTS", help="only regenerate docs from a file")
    return parser


def _served_instructions(
    results: dict[str, Any],
    contenders: Sequence[Contender],
    routes: Sequence[str],
    servers: Sequence[str],
    args: argparse.Namespace,
) -> None:
    """The served-instructions part: its cells, or why it was skipped, into ``results``."""
    counted = [c for c in contenders if c.family in instructions.RUN_FAMILIES]
    requests = args.served_instruction_requests or (200 if args.quick else 500)
    results["options"]["served-instructions"] = {
        "requests": requests,
        "connections": served_instructions.CONNECTIONS,
        "families": instructions.RUN_FAMILIES,
    }
    if not served_instructions.available():
        _log("served-instructions: skipped, valgrind is not installed")
        results["served_instructions_skipped"] = "valgrind is not installed"
        return
    _log(f"served-instructions: {', '.join(servers)} under callgrind")
    results["served-instructions"] = served_instructions.count_cells(
        counted, routes, servers, requests, log=_log
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected parts, write results JSON, and regenerate the docs page and chart."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.render:
        rendered = json.loads(Path(args.render).read_text())
        page, chart = report.write(rendered, DOCS_DIR)
        _log(f"wrote {page} and {chart}")
        return 0

    # A quick run leaves out the instruction counts (minutes of valgrind) unless asked.
    default_parts = [p for p in PARTS if p not in _SLOW_PARTS] if args.quick else list(PARTS)
    parts = [p for p in args.only.split(",") if p] or default_parts
    if unknown := set(parts) - set(PARTS):
        _log(f"unknown part(s): {', '.join(sorted(unknown))}")
        return 2
    routes = [r for r in args.routes.split(",") if r] or list(ROUTES)
    if unknown := set(routes) - set(ROUTES):
        _log(f"unknown route(s): {', '.join(sorted(unknown))}")
        return 2
    servers = [s for s in args.servers.split(",") if s] or list(served.SERVERS)
    contenders = select(args.contenders.split(","))
    quick = args.quick
    app_cpu, load_cpu = _common.pick_cpus()

    options: dict[str, Any] = {
        "quick": quick,
        "clock": args.clock,
        "routes": routes,
        "contenders": [c.name for c in contenders],
        "requests": {r: _describe(BENCH[r]) for r in routes},
    }
    results: dict[str, Any] = {"meta": _meta(argv), "options": options}
    timings: dict[str, int] = {}
    results["meta"]["part_seconds"] = timings
    started = time.perf_counter()

    if "inprocess" in parts:
        part_started = time.perf_counter()
        ip: dict[str, Any] = {
            "cpu": app_cpu,
            "batches": args.batches or (3 if quick else 7),
            "batch_seconds": args.batch_seconds or (0.2 if quick else 1.0),
        }
        options["inprocess"] = ip
        _log(f"in-process: {len(contenders)} contenders x {len(routes)} routes")
        results["inprocess"] = inprocess.run(
            contenders,
            routes,
            batches=ip["batches"],
            batch_seconds=ip["batch_seconds"],
            cpu=app_cpu,
            clock=args.clock,
            log=_log,
        )
        timings["inprocess"] = round(time.perf_counter() - part_started)
    if "served" in parts:
        part_started = time.perf_counter()
        sv = {
            "app_cpu": app_cpu,
            "load_cpu": load_cpu,
            "connections": args.connections,
            "warmup": 0 if quick else 1,
            "seconds": args.served_seconds or (1 if quick else 4),
            "runs": args.served_runs or (1 if quick else 3),
            "commands": [
                shlex.join(["python", *served.server_command(s, "MODULE:APP", "PORT")[1:]])
                for s in servers
            ],
        }
        options["served"] = sv
        _log(f"served: {', '.join(servers)}")
        results["served"] = served.run(
            contenders,
            routes,
            servers,
            seconds=sv["seconds"],
            warmup=sv["warmup"],
            runs=sv["runs"],
            connections=sv["connections"],
            clock=args.clock,
            log=_log,
        )
        timings["served"] = round(time.perf_counter() - part_started)
    if "startup" in parts:
        part_started = time.perf_counter()
        _log("startup")
        results["startup"] = startup.run(
            contenders, samples=args.startup_samples or (3 if quick else 10), log=_log
        )
        timings["startup"] = round(time.perf_counter() - part_started)

    if "instructions" in parts:
        part_started = time.perf_counter()
        counted = [c for c in contenders if c.family in instructions.RUN_FAMILIES]
        requests = args.instruction_requests or (500 if quick else 2000)
        options["instructions"] = {"requests": requests, "families": instructions.RUN_FAMILIES}
        if instructions.available():
            _log(f"instructions: {len(counted)} contenders under callgrind")
            results["instructions"] = instructions.count_cells(counted, routes, requests, log=_log)
        else:
            _log("instructions: skipped, valgrind is not installed")
            results["instructions_skipped"] = "valgrind is not installed"
        timings["instructions"] = round(time.perf_counter() - part_started)
    if "served-instructions" in parts:
        part_started = time.perf_counter()
        _served_instructions(results, contenders, routes, servers, args)
        timings["served-instructions"] = round(time.perf_counter() - part_started)
    if args.keep:
        kept = json.loads(Path(args.keep).read_text())
        taken = [p for p in PARTS if p not in parts and p in kept]
        for part in taken:
            results[part] = kept[part]
            if part in kept.get("options", {}):
                options[part] = kept["options"][part]
        results["meta"]["kept_parts"] = {
            "parts": taken,
            "file": Path(args.keep).name,
            "date": kept["meta"]["date"],
            "command": kept["meta"]["command"],
        }

    results["meta"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["meta"]["seconds"] = round(time.perf_counter() - started)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results_path = RESULTS_DIR / f"{stamp}{'-quick' if quick else ''}.json"
    results["meta"]["results_file"] = results_path.name
    results_path.write_text(json.dumps(results, indent=1))
    _log(f"results: {results_path}")

    if "inprocess" in results:
        print("\nIn-process (req/s, ratio to raw of the same mode)")
        print(inprocess.format_table(results["inprocess"], routes))
    for server in servers if "served" in results else ():
        print(f"\nServed under {server} (req/s, ratio to raw under {server})")
        print(
            inprocess.format_table([c for c in results["served"] if c["server"] == server], routes)
        )
    if "instructions" in results:
        print("\nInstructions per request (callgrind)")
        print(instructions.format_table(results["instructions"], routes))
    for server in servers if "served-instructions" in results else ():
        print(f"\nServed under {server}: instructions per request (callgrind, raw's / this one's)")
        cells = [c for c in results["served-instructions"] if c["server"] == server]
        print(served_instructions.format_table(cells, routes))
    if not args.no_docs:
        page, chart = report.write(results, DOCS_DIR)
        _log(f"wrote {page}" + (f" and {chart}" if chart else ""))
    _log(f"done in {results['meta']['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
