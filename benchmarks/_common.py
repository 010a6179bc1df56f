"""Small helpers shared by the benchmark runners: CPUs, child processes, statistics."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.contenders import Contender

REPO = Path(__file__).resolve().parent.parent


def available_cpus() -> list[int]:
    """CPUs this process may run on, in ascending order."""
    return sorted(os.sched_getaffinity(0))


def pick_cpus() -> tuple[int, int]:
    """(app CPU, load CPU): the last and the first allowed CPU (the same one if only one)."""
    cpus = available_cpus()
    return cpus[-1], cpus[0]


def pin(cpu: int) -> None:
    """Pin the calling process (and the children it will start) to one CPU."""
    os.sched_setaffinity(0, {cpu})


def child_env(contender: Contender) -> dict[str, str]:
    """Environment for a child running ``contender``: its own variables, the repo importable."""
    env = contender.child_env()
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = f"{REPO}{os.pathsep}{path}" if path else str(REPO)
    env["PYTHONHASHSEED"] = "0"
    return env


def run_child(
    module: str, payload: dict[str, Any], contender: Contender, timeout: float
) -> dict[str, Any]:
    """Run ``python -m module --child JSON`` in a fresh interpreter; return its JSON line."""
    cmd = [sys.executable, "-m", module, "--child", json.dumps(payload)]
    try:
        proc = subprocess.run(
            cmd,
            cwd=REPO,
            env=child_env(contender),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f}s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def summarize(samples: Sequence[float]) -> dict[str, float]:
    """Median, min, max and relative spread ((max - min) / median) of per-batch rates."""
    median = statistics.median(samples)
    low, high = min(samples), max(samples)
    return {
        "median": median,
        "min": low,
        "max": high,
        "spread": (high - low) / median if median else 0.0,
    }


def emit(result: dict[str, Any]) -> None:
    """Write a child's result as the last line of its stdout."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


_COLLECTED = re.compile(r"Collected : (\d+)")


def callgrind_total(script: str, args: Sequence[str], env: dict[str, str]) -> int:
    """Instructions one interpreter runs for ``python -c script args`` under callgrind.

    ``env`` is completed with a fixed hash seed and no bytecode writing, so two runs that
    differ only in their arguments lay out dicts alike and pay for the same imports.
    """
    env = {**env, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, "-c", script, *args]
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    found = _COLLECTED.findall(proc.stderr)
    if proc.returncode != 0 or not found:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{' '.join(args)}: exit {proc.returncode}: {tail}")
    return int(found[-1])


def repo_env() -> dict[str, str]:
    """This environment with the repository importable and the compiled speedups allowed."""
    env = {k: v for k, v in os.environ.items() if k != "DUOWEB_NO_EXTENSIONS"}
    env["PYTHONPATH"] = str(REPO)
    return env
