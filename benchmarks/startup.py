"""Startup benchmark: time to import and build each app, and the memory it adds.

Each sample is a fresh interpreter (pinned to one CPU) that imports the contender's module,
which builds the app, and reports the time that took and its resident set size. The same
script without the import gives the bare interpreter's RSS, subtracted from every contender.
The first request is timed separately (it is where lazy frameworks compile their routers).

Before its samples, each contender is loaded once, unmeasured, with bytecode writing allowed,
so that every sample loads cached bytecode as an installed package does. Without that, a
``PYTHONDONTWRITEBYTECODE`` environment (usual in containers and CI) makes the repository's
own code (duoweb and the benchmark apps) compile from source in every sample, while installed
peers load the bytecode pip wrote for them.

    python -m benchmarks.startup --contenders falcon,litestar --samples 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks import _common
from benchmarks.contenders import Contender, select

# Runs in the measured interpreter: nothing is imported before the clock starts but
# what every sample (bare included) imports too.
_PROBE = """
import os, sys, time
target = sys.argv[1]
t0 = time.perf_counter()
c0 = time.process_time()
if target:
    import importlib
    module, _, attr = target.partition(":")
    app = getattr(importlib.import_module(module), attr)
t1 = time.perf_counter()
c1 = time.process_time()
with open("/proc/self/status") as f:
    rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
first = None
if target:
    from benchmarks.drivers import make_driver
    from benchmarks.spec import BENCH
    driver = make_driver(sys.argv[2], app)
    driver.start()
    request = driver.prepare(BENCH["plaintext"])
    t2 = time.perf_counter()
    driver.call_once(request)
    first = time.perf_counter() - t2
    driver.stop()
import json
print(json.dumps({"build_s": t1 - t0, "build_cpu_s": c1 - c0, "rss_kib": rss, "first_s": first}))
"""


def _sample(contender: Contender | None, cpu: int, *, warm_up: bool = False) -> dict[str, Any]:
    """One fresh-interpreter measurement (``None`` measures the bare interpreter).

    ``warm_up`` lets the child write the bytecode of what it imports, for the samples to load.
    """
    target = contender.target if contender else ""
    mode = contender.mode if contender else ""
    env = _common.child_env(contender) if contender else _common.child_env(select(None)[0])
    if warm_up:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, target, mode],
        cwd=_common.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: _common.pin(cpu),
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-2:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run(
    contenders: Sequence[Contender],
    *,
    samples: int = 10,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Median build time, first-request time and extra RSS per contender over ``samples``."""
    cpu = _common.pick_cpus()[0]
    _sample(None, cpu, warm_up=True)
    bare = [_sample(None, cpu) for _ in range(samples)]
    bare_rss = statistics.median(s["rss_kib"] for s in bare if "rss_kib" in s)
    rows: list[dict[str, Any]] = []
    for contender in contenders:
        _sample(contender, cpu, warm_up=True)
        got = [_sample(contender, cpu) for _ in range(samples)]
        good = [s for s in got if "error" not in s]
        row: dict[str, Any] = {"contender": contender.name, "mode": contender.mode}
        if not good:
            row["error"] = got[0]["error"]
            log(f"  {contender.name:<18} FAILED: {row['error']}")
        else:
            build = [s["build_s"] for s in good]
            row["build_ms"] = statistics.median(build) * 1e3
            row["build_spread"] = (max(build) - min(build)) / statistics.median(build)
            row["build_cpu_ms"] = statistics.median(s["build_cpu_s"] for s in good) * 1e3
            row["first_request_ms"] = statistics.median(s["first_s"] for s in good) * 1e3
            row["rss_mib"] = (statistics.median(s["rss_kib"] for s in good) - bare_rss) / 1024
            log(
                f"  {contender.name:<18} build {row['build_ms']:7.1f} ms"
                f" (CPU {row['build_cpu_ms']:6.1f} ms)  first request"
                f" {row['first_request_ms']:6.2f} ms  +RSS {row['rss_mib']:5.1f} MiB"
            )
        rows.append(row)
    return {"samples": samples, "bare_rss_mib": bare_rss / 1024, "rows": rows}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the startup benchmark alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contenders", default="", help="comma-separated names or families")
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args(argv)
    result = run(select(args.contenders.split(",")), samples=args.samples)
    print(f"bare interpreter RSS: {result['bare_rss_mib']:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
