"""The upload cell's floor: what any contender pays for the 50 MiB before parsing a byte.

    .venv/bin/python -m benchmarks.upload_floor [--upload-mib 50]

benchmarks/forms.py's upload spools a 50 MiB file part (every contender keeps the file as
duoweb does: in memory up to 1 MiB, then a temporary file, deleted at the end). This times,
in the same process and per second of CPU time as forms.py, the parts of that no parser can
remove: reading the benchmark's ``wsgi.input`` in 64 KiB reads, writing the chunks to a
``SpooledTemporaryFile`` and deleting it, and both together. A contender's MB/s can be no
higher than the row its mode pays for, so "2x the fastest peer" needs that row to be more
than twice the peer's rate.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

from benchmarks.forms import CHUNK, UPLOAD_MIB, ChunkInput, upload_chunks, upload_parts

SPOOL = 1024 * 1024  # as the contenders' spools


def read_wsgi_input(mib: int) -> None:
    """Read the body from the benchmark's ``wsgi.input`` in 64 KiB reads, keeping nothing."""
    head, count, tail = upload_parts(mib)
    remaining = len(head) + count * len(CHUNK) + len(tail)
    stream = ChunkInput(upload_chunks(mib))
    while remaining:
        remaining -= len(stream.read(min(65536, remaining)))


def spool_chunks(mib: int) -> None:
    """Write the file's content (64 KiB chunks) to a spooled temporary file, then close
    (delete) it: what every contender does with the upload, in either mode."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        for _ in range(upload_parts(mib)[1]):
            spool.write(CHUNK)


def read_and_spool(mib: int) -> None:
    """Both: 64 KiB reads from ``wsgi.input``, each written to the spool (WSGI)."""
    head, count, tail = upload_parts(mib)
    remaining = len(head) + count * len(CHUNK) + len(tail)
    stream = ChunkInput(upload_chunks(mib))
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        while remaining:
            chunk = stream.read(min(65536, remaining))
            remaining -= len(chunk)
            spool.write(chunk)


FLOORS: dict[str, Callable[[int], None]] = {
    "wsgi.input reads only": read_wsgi_input,
    "spool write + delete (the ASGI floor)": spool_chunks,
    "reads + spool write + delete (the WSGI floor)": read_and_spool,
}


def best_seconds(mib: int, runs: int) -> dict[str, float]:
    """Each floor's least CPU time (user + system) over ``runs`` rounds of all of them in turn.

    Taken in turn, so that a busy moment of the machine does not fall on one floor's runs.
    """
    best = dict.fromkeys(FLOORS, float("inf"))
    for _ in range(runs):
        for name, work in FLOORS.items():
            start = time.process_time()
            work(mib)
            best[name] = min(best[name], time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    """Command line: time each floor and print a Markdown table of MB/s."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--upload-mib", type=int, default=UPLOAD_MIB, help="upload size")
    parser.add_argument("--runs", type=int, default=10, help="best of this many rounds")
    args = parser.parse_args(argv)
    print("| floor | ms | MB/s |\n|---|---:|---:|")
    for name, seconds in best_seconds(args.upload_mib, args.runs).items():
        rate = args.upload_mib * 1.048576 / seconds
        print(f"| {name} | {seconds * 1000:.1f} | {rate:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
