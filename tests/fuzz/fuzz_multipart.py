"""atheris fuzz target for the compiled multipart/form-data push parser (and urlencoded one).

The input picks a boundary, the parser's bounds and a chunking, then is the body. The body is
fed to the compiled extension and to the pure twin (whose coverage guides atheris) in the same
chunks: both must give the same events, or raise the same documented exception class with the
same message, and nothing else may escape; what either holds back between chunks must stay
within its bound. The whole body is also parsed as an urlencoded form by both, which must give
the same pairs or the same TooManyParts. Run it directly::

    .venv/bin/python tests/fuzz/fuzz_multipart.py -runs=200000
    .venv/bin/python tests/fuzz/fuzz_multipart.py -max_total_time=60 corpus_dir/

``tests/fuzz/test_fuzz_multipart.py`` runs it for ~20 seconds under pytest (``-m fuzz``).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import atheris

from duoweb._multipart_errors import MalformedMultipart, PartHeadersTooLarge, TooManyParts

with atheris.instrument_imports(include=["duoweb._multipart_py"]):
    from duoweb import _multipart_py as pure

from duoweb._speedups import _multipart as compiled

ALLOWED = (MalformedMultipart, PartHeadersTooLarge, TooManyParts)
BOUNDARIES = [b"b", b"----WebKitFormBoundaryAbCdEf0123456789", b"--", b"a b", b"\xff\x00"]
SEEDS = [
    b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n',
    b'--b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n'
    b"Content-Type: text/plain\r\n\r\n\r\n--b\r\r\n--\r\n--b--",
]


def run(
    module: ModuleType, boundary: bytes, bounds: tuple[int, int, int], pieces: list[bytes]
) -> Any:
    """The events (content pieces joined per part), or the allowed exception's class and text."""
    try:
        parser = module.MultipartParser(boundary, *bounds)
        events: list[Any] = []
        for piece in pieces:
            for event in parser.feed(piece):
                if type(event) is bytes:
                    if not event:
                        raise AssertionError("an empty content event")
                    if events and type(events[-1]) is bytes:
                        events[-1] += event
                        continue
                events.append(event)
            # A delimiter found at a chunk's end is held with the byte after it until the
            # next chunk says whether CRLF or "--" follows: len("\r\n--" + boundary) + 1.
            if parser.held > max(len(boundary) + 5, bounds[0]):
                raise AssertionError(f"held {parser.held} bytes")
        return ("ok", events, parser.complete, parser.parts)
    except ALLOWED as exc:
        return ("raised", type(exc), str(exc))


def run_urlencoded(module: ModuleType, body: bytes, bound: int) -> Any:
    """The pairs of ``body`` as an urlencoded form, or the bound's exception class and text."""
    try:
        return module.parse_urlencoded(body, bound)
    except TooManyParts as exc:
        return ("raised", type(exc), str(exc))


def test_one(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    boundary = fdp.PickValueInList(BOUNDARIES) if fdp.ConsumeBool() else fdp.ConsumeBytes(8)
    bounds = (
        fdp.ConsumeIntInRange(0, 300),
        fdp.ConsumeIntInRange(0, 6),
        fdp.ConsumeIntInRange(0, 6),
    )
    sizes = [fdp.ConsumeIntInRange(1, 64) for _ in range(fdp.ConsumeIntInRange(1, 4))]
    # A well-formed start, mangled by what follows it, or bytes only.
    body = fdp.PickValueInList([b"", *SEEDS]) + fdp.ConsumeBytes(fdp.remaining_bytes())
    pieces: list[bytes] = []
    start = 0
    while start < len(body):
        size = sizes[len(pieces) % len(sizes)]
        pieces.append(body[start : start + size])
        start += size
    expected = run(pure, boundary, bounds, pieces)
    got = run(compiled, boundary, bounds, pieces)
    if got != expected:
        raise AssertionError(
            f"{boundary!r} {bounds} {pieces!r}: pure {expected!r}, compiled {got!r}"
        )
    fields = [run_urlencoded(module, body, bounds[2]) for module in (pure, compiled)]
    if fields[0] != fields[1]:
        raise AssertionError(f"parse_urlencoded({body!r}, {bounds[2]}): {fields!r}")
    try:
        disposition = body.decode("utf-8")
    except UnicodeDecodeError:
        return
    if pure.parse_disposition(disposition) != compiled.parse_disposition(disposition):
        raise AssertionError(f"parse_disposition({disposition!r}) differs")


def main() -> None:
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
