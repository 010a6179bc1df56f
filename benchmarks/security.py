"""What checking a bearer token costs per request, in CPU instructions (valgrind callgrind).

    .venv/bin/python -m benchmarks.security [--requests 2000]

For each mode (WSGI, ASGI) and each of two routes of benchmarks/security_app.py that differ
only by ``Depends(HTTPBearer())``, the in-process driver's request loop runs under callgrind
with N requests and with none; (count(N) - count(0)) / N is one request. The figure is the
bearer route's count minus the open route's. JWT signature checks are PyJWT's and not in it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

from benchmarks import _common

_LOOP = """
import sys
from dataclasses import replace
from benchmarks.drivers import make_driver
from benchmarks.security_app import app
from benchmarks.spec import BENCH
mode, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
token = (("authorization", "Bearer abc.def-ghi"),)
probe = replace(BENCH["json"], path=path, extra_headers=token)
driver = make_driver(mode, app)
driver.start()
request = driver.prepare(probe)
driver.timed(request, 300)
driver.timed(request, count)
driver.stop()
"""

_COLLECTED = re.compile(r"Collected : (\d+)")


def count(mode: str, path: str, requests: int) -> int:
    """Instructions of one interpreter sending ``requests`` requests to ``path``."""
    env = {**os.environ, "PYTHONPATH": str(_common.REPO), "PYTHONHASHSEED": "0"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, "-c", _LOOP, mode, path, str(requests)]
    proc = subprocess.run(
        command, cwd=_common.REPO, env=env, capture_output=True, text=True, timeout=900
    )
    found = _COLLECTED.findall(proc.stderr)
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"{mode} {path}: exit {proc.returncode}: {proc.stderr[-500:]}")
    return int(found[-1])


def per_request(mode: str, path: str, requests: int) -> float:
    """Instructions of one request to ``path``."""
    return (count(mode, path, requests) - count(mode, path, 0)) / requests


def main(argv: list[str] | None = None) -> int:
    """Print the per-request instruction counts and the bearer check's cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    options = parser.parse_args(argv)
    print("| mode | open route | bearer route | the check costs |")
    print("| --- | ---: | ---: | ---: |")
    for mode in ("wsgi", "asgi"):
        plain = per_request(mode, "/json", options.requests)
        checked = per_request(mode, "/json-bearer", options.requests)
        print(f"| {mode} | {plain:,.0f} | {checked:,.0f} | {checked - plain:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
