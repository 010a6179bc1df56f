"""The upload cell's floor: what any contender pays for the 50 MiB before parsing a byte.

    .venv/bin/python -m benchmarks.upload_floor [--upload-mib 50]

benchmarks/forms.py's upload spools a 50 MiB file part (every contender keeps the file as
duoweb does: in memory up to 1 MiB, then a temporary file, deleted at the end). This times,
in the same process and per second of CPU time as forms.py, the parts of that no parser can
remove: reading the benchmark's ``wsgi.input`` in 64 KiB reads; writing the chunks to a
``SpooledTemporaryFile`` 64 KiB at a time (as the peers do) and deleting it; writing them
1 MiB at a time with ``os.writev`` (as duoweb does: the kernel's cost per write() call is
large) and deleting it; and reads plus batched writes. A contender's MB/s can be no higher
than its mode's floor row, so "2x the fastest peer" needs that row to be more than twice
the peer's rate.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Iterator

from benchmarks.forms import CHUNK_SIZE, UPLOAD_MIB, ChunkInput, upload_chunks, upload_parts

SPOOL = 1024 * 1024  # as the contenders' spools
BATCH = 16  # chunks of 64 KiB per writev: 1 MiB


def read_wsgi_input(mib: int) -> None:
    """Read the body from the benchmark's ``wsgi.input`` in 64 KiB reads, keeping nothing."""
    head, count, tail = upload_parts(mib)
    remaining = len(head) + count * CHUNK_SIZE + len(tail)
    stream = ChunkInput(upload_chunks(mib))
    while remaining:
        remaining -= len(stream.read(min(65536, remaining)))


def spool_chunks(mib: int) -> None:
    """Write the file's content (64 KiB chunks) to a spooled temporary file, then close
    (delete) it: what the peers do with the upload, in either mode."""
    chunks = upload_chunks(mib)
    next(chunks)  # the part's head
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        for _ in range(upload_parts(mib)[1]):
            spool.write(next(chunks))


def _batched(chunks: Iterator[bytes], count: int, fd: int) -> None:
    batch: list[bytes] = []
    for _ in range(count):
        batch.append(next(chunks))
        if len(batch) == BATCH:
            os.writev(fd, batch)
            batch.clear()
    if batch:
        os.writev(fd, batch)


def spool_batched(mib: int) -> None:
    """The same content written 1 MiB at a time (one ``os.writev`` of 16 chunks) to a
    temporary file, then deleted: the cheapest way found to spool it (duoweb's)."""
    chunks = upload_chunks(mib)
    next(chunks)
    with tempfile.TemporaryFile() as spool:
        _batched(chunks, upload_parts(mib)[1], spool.fileno())


def read_and_spool_batched(mib: int) -> None:
    """Both: 64 KiB reads from ``wsgi.input``, written 1 MiB at a time (the WSGI floor)."""
    head, count, tail = upload_parts(mib)
    remaining = len(head) + count * CHUNK_SIZE + len(tail)
    stream = ChunkInput(upload_chunks(mib))

    def reads() -> Iterator[bytes]:
        nonlocal remaining
        while remaining:
            chunk = stream.read(min(65536, remaining))
            remaining -= len(chunk)
            yield chunk

    with tempfile.TemporaryFile() as spool:
        _batched(reads(), -(-remaining // 65536), spool.fileno())


FLOORS: dict[str, Callable[[int], None]] = {
    "wsgi.input reads only": read_wsgi_input,
    "spool, 64 KiB writes + delete": spool_chunks,
    "spool, 1 MiB writev + delete (the ASGI floor)": spool_batched,
    "reads + spool, 1 MiB writev + delete (the WSGI floor)": read_and_spool_batched,
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
