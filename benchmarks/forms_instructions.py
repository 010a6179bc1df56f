"""Instructions per form request under callgrind: the forms benchmark's steady measure.

    .venv/bin/python -m benchmarks.forms_instructions [--contenders duoweb-wsgi,falcon-wsgi]

The timed forms benchmark (benchmarks/forms.py) swings by tens of percent on a busy machine;
the number of instructions a request costs does not. Each cell runs benchmarks/forms.py's own
caller (the same environ/scope, ``wsgi.input`` and event loop as the timed run) in a fresh
interpreter under ``valgrind --tool=callgrind``, with N requests and with none after the same
warm-up, and reports (count(N) - count(0)) / N for the 1,000-field urlencoded form and the
200-part multipart form. Duoweb's and the raw ceiling's cells also say how many times fewer
instructions they take than the cheapest peer's. Needs valgrind (Debian package ``valgrind``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from benchmarks import _common
from benchmarks.contenders.forms_apps import FORM_CONTENDERS
from benchmarks.forms import OURS

CELLS = ("fields", "parts")

# Runs in the counted interpreter: builds the app, warms it up, then sends N requests.
_LOOP = """
import sys
from benchmarks import forms
from benchmarks.contenders.forms_apps import FORM_CONTENDERS
mode, build = FORM_CONTENDERS[sys.argv[1]]
call = forms.caller(mode, build())
exchange = forms.fields_exchange() if sys.argv[2] == "fields" else forms.parts_exchange()
call(exchange, 20)
call(exchange, int(sys.argv[3]))
"""


def per_request(name: str, cell: str, requests: int) -> float:
    """Instructions per request of one cell: the N-request run minus the empty one."""
    env = _common.repo_env()
    counts = [_common.callgrind_total(_LOOP, [name, cell, str(n)], env) for n in (requests, 0)]
    return (counts[0] - counts[1]) / requests


def format_table(counts: dict[tuple[str, str], float]) -> str:
    """A Markdown table of thousands of instructions; ours also as x the cheapest peer."""
    names = list(dict.fromkeys(name for name, _ in counts))
    cheapest = {
        cell: min(
            (v for (name, c), v in counts.items() if c == cell and not name.startswith(OURS)),
            default=0.0,
        )
        for cell in CELLS
    }
    lines = [
        "| contender | 1,000-field urlencoded | 200-part multipart |",
        "|---|---:|---:|",
    ]
    for name in names:
        row = []
        for cell in CELLS:
            own = counts.get((name, cell))
            if own is None:
                row.append("failed")
                continue
            text = f"{own / 1000:.0f}k"
            if name.startswith(OURS) and cheapest[cell]:
                text += f" ({cheapest[cell] / own:.2f}x)"
            row.append(text)
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: count the chosen contenders' cells and print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    default = "duoweb-wsgi,duoweb-asgi,raw-ceiling-wsgi,raw-ceiling-asgi,falcon-wsgi,falcon-asgi"
    parser.add_argument("--contenders", default=default, help="comma-separated names")
    parser.add_argument("--requests", type=int, default=100, help="requests per count")
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at a time")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    names = args.contenders.split(",")
    unknown = [name for name in names if name not in FORM_CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders: {', '.join(unknown)}")
    cells = [(name, cell) for name in names for cell in CELLS]

    def one(key: tuple[str, str]) -> tuple[tuple[str, str], float | None]:
        try:
            count = per_request(*key, args.requests)
        except RuntimeError as exc:
            print(f"{key[0]} {key[1]} failed: {exc}", file=sys.stderr)
            return key, None
        print(f"  {key[0]:18} {key[1]:8} {count:10.0f}", file=sys.stderr)
        return key, count

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, cells))
    print(format_table({key: count for key, count in results if count is not None}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
