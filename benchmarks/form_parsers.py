"""Compare multipart parser libraries for duoweb's forms: correctness on real clients' bodies,
then CPU time on a 50 MiB single-file body and a 200-part form, fed in 64 KiB chunks.

    .venv/bin/python -m benchmarks.form_parsers

Needs ``multipart``, ``python-multipart``, ``streaming-form-data`` and ``werkzeug`` installed
(none is needed by duoweb itself except the chosen one). In-process, one run each; a minute.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

Part = tuple[str, str | None, bytes]  # (name, filename, content)
Parser = Callable[[bytes, list[bytes]], list[Part]]

CHUNK = 64 * 1024


def chunks(body: bytes, size: int = CHUNK) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


# --- one adapter per library: chunks in, [(name, filename, content)] out, or an exception -----


def parse_multipart(boundary: bytes, body: list[bytes]) -> list[Part]:
    import multipart

    found: list[Part] = []
    current: list[bytes] = []
    segment = None
    with multipart.PushMultipartParser(boundary) as parser:
        for chunk in [*body, b""]:
            for event in parser.parse(chunk):
                if isinstance(event, multipart.MultipartSegment):
                    segment, current = event, []
                elif event is None:
                    assert segment is not None
                    found.append((segment.name or "", segment.filename, b"".join(current)))
                else:
                    current.append(event)
    return found


def parse_python_multipart(boundary: bytes, body: list[bytes]) -> list[Part]:
    from python_multipart.multipart import MultipartParser, parse_options_header

    found: list[Part] = []
    state: dict[str, object] = {}
    current: list[bytes] = []
    field: list[bytes] = []
    value: list[bytes] = []
    headers: dict[bytes, bytes] = {}

    def on_part_begin() -> None:
        current.clear()
        headers.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current.append(data[start:end])

    def on_part_end() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        filename = options.get(b"filename")
        found.append(
            (
                options[b"name"].decode(),
                filename.decode() if filename is not None else None,
                b"".join(current),
            )
        )

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.append(data[start:end])

    def on_header_end() -> None:
        headers[b"".join(field).lower()] = b"".join(value)
        field.clear()
        value.clear()

    def on_end() -> None:
        state["ended"] = True

    parser = MultipartParser(
        boundary,
        {  # type: ignore[arg-type]
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_end": on_end,
        },
    )
    for chunk in body:
        parser.write(chunk)
    parser.finalize()
    if not state.get("ended"):
        raise ValueError("no final boundary")
    return found


def parse_streaming_form_data(boundary: bytes, body: list[bytes]) -> list[Part]:
    from streaming_form_data import StreamingFormDataParser
    from streaming_form_data.targets import BaseTarget

    found: list[Part] = []

    class Collect(BaseTarget):
        def on_start(self) -> None:
            self.data: list[bytes] = []

        def on_data_received(self, chunk: bytes) -> None:
            self.data.append(chunk)

        def on_finish(self) -> None:
            found.append(("?", self.multipart_filename, b"".join(self.data)))

    parser = StreamingFormDataParser(
        {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}
    )
    parser.register("", Collect(), matches=lambda *_: True)  # type: ignore[call-arg]
    for chunk in body:
        parser.data_received(chunk)
    return found


def parse_werkzeug(boundary: bytes, body: list[bytes]) -> list[Part]:
    from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

    decoder = MultipartDecoder(boundary)
    found: list[Part] = []
    current: list[bytes] = []
    head: Field | File | None = None
    ended = False
    for chunk in [*body, None]:
        decoder.receive_data(chunk)
        event = decoder.next_event()
        while not isinstance(event, NeedData):
            if isinstance(event, Field | File):
                head, current = event, []
            elif isinstance(event, Data):
                current.append(event.data)
                if not event.more_data:
                    assert head is not None
                    filename = head.filename if isinstance(head, File) else None
                    found.append((head.name, filename, b"".join(current)))
            elif isinstance(event, Epilogue):
                ended = True
                break
            event = decoder.next_event()
        if ended:
            break
    if not ended:
        raise ValueError("no final boundary")
    return found


PARSERS: dict[str, Parser] = {
    "multipart": parse_multipart,
    "python-multipart": parse_python_multipart,
    "streaming-form-data": parse_streaming_form_data,
    "werkzeug": parse_werkzeug,
}

# --- the cases -----------------------------------------------------------------------------

WEBKIT = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
FIREFOX = b"---------------------------9051914041544843365972754266"


def form(boundary: bytes, parts: list[tuple[bytes, bytes]], newline: bytes = b"\r\n") -> bytes:
    """A multipart body: parts as (header lines, content)."""
    out = b""
    for headers, content in parts:
        out += b"--" + boundary + newline + headers.replace(b"\r\n", newline) + newline * 2
        out += content + newline
    return out + b"--" + boundary + b"--" + newline


def disposition(name: str, filename: str | None = None, extra: bytes = b"") -> bytes:
    line = f'Content-Disposition: form-data; name="{name}"'.encode()
    if filename is not None:
        line += f'; filename="{filename}"'.encode()
    return line + extra


GOOD: dict[str, tuple[bytes, bytes, list[tuple[str, str | None, bytes]]]] = {
    "webkit text + file": (
        WEBKIT,
        form(
            WEBKIT,
            [
                (disposition("name"), b"Ada"),
                (disposition("avatar", "a.png") + b"\r\nContent-Type: image/png", b"\x89PNG\r\n"),
            ],
        ),
        [("name", None, b"Ada"), ("avatar", "a.png", b"\x89PNG\r\n")],
    ),
    "firefox empty file": (
        FIREFOX,
        form(
            FIREFOX, [(disposition("f", "") + b"\r\nContent-Type: application/octet-stream", b"")]
        ),
        [("f", "", b"")],
    ),
    "quote as %22 (browsers)": (
        WEBKIT,
        form(WEBKIT, [(disposition("f", "a%22b.txt"), b"x")]),
        [("f", 'a"b.txt', b"x")],
    ),
    "backslash-escaped quote (curl)": (
        WEBKIT,
        form(WEBKIT, [(b'Content-Disposition: form-data; name="f"; filename="a\\"b.txt"', b"x")]),
        [("f", 'a"b.txt', b"x")],
    ),
    "filename* (RFC 5987)": (
        WEBKIT,
        form(
            WEBKIT,
            [
                (
                    b"Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''%E2%82%AC.txt",
                    b"x",
                )
            ],
        ),
        [("f", "\u20ac.txt", b"x")],
    ),
    "LF-only line endings": (
        WEBKIT,
        form(WEBKIT, [(disposition("a"), b"1"), (disposition("f", "x.txt"), b"data")], b"\n"),
        [("a", None, b"1"), ("f", "x.txt", b"data")],
    ),
}

BAD: dict[str, tuple[bytes, bytes]] = {
    "wrong boundary": (b"other", form(WEBKIT, [(disposition("a"), b"1")])),
    "missing final boundary": (WEBKIT, form(WEBKIT, [(disposition("a"), b"1")])[:-10]),
    "no Content-Disposition": (WEBKIT, form(WEBKIT, [(b"Content-Type: text/plain", b"1")])),
    "headers without blank line": (
        WEBKIT,
        b"--" + WEBKIT + b"\r\n" + disposition("a") + b"\r\n--" + WEBKIT + b"--\r\n",
    ),
}


def check(name: str, parse: Parser) -> tuple[int, int, list[str]]:
    passed = failed = 0
    notes: list[str] = []
    for case, (boundary, body, expected) in GOOD.items():
        try:
            got = parse(boundary, list(chunks(body, 7)))
        except Exception as exc:
            got = [("error", type(exc).__name__, str(exc).encode()[:40])]
        names_ok = all(g[0] in (e[0], "?") for g, e in zip(got, expected, strict=False))
        if (
            len(got) == len(expected)
            and names_ok
            and [g[1:] for g in got] == [e[1:] for e in expected]
        ):
            passed += 1
        else:
            failed += 1
            notes.append(f"{case}: {got!r}"[:120])
    for case, (boundary, body) in BAD.items():
        try:
            parse(boundary, list(chunks(body, 7)))
        except Exception:
            passed += 1
        else:
            failed += 1
            notes.append(f"{case}: accepted")
    return passed, failed, notes


def timed(parse: Parser, boundary: bytes, body: list[bytes], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        parse(boundary, body)
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    big = form(WEBKIT, [(disposition("file", "big.bin"), b"\xa5" * (50 * 1024 * 1024))])
    many = form(WEBKIT, [(disposition(f"field{i}"), b"value %d" % i) for i in range(200)])
    big_chunks, many_chunks = list(chunks(big)), list(chunks(many))
    print(f"{'library':22} {'cases':>8} {'50 MiB file':>14} {'200 parts':>12}")
    for name, parse in PARSERS.items():
        passed, failed, notes = check(name, parse)
        seconds_big = timed(parse, WEBKIT, big_chunks, 3)
        seconds_many = timed(parse, WEBKIT, many_chunks, 20)
        print(
            f"{name:22} {passed:>3}/{passed + failed:<4} {50 / seconds_big:>9.0f} MiB/s"
            f" {1 / seconds_many:>8.0f} /s"
        )
        for note in notes:
            print("    fails", note)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
