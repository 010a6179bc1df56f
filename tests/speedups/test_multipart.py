"""The multipart push parser, compiled and pure: events, errors, bounds and linear work."""

from __future__ import annotations

import sys
from types import FrameType, ModuleType
from typing import Any

import pytest

from duoweb._multipart_errors import MalformedMultipart, PartHeadersTooLarge, TooManyParts

BOUNDARY = b"----WebKitFormBoundaryAbCdEf0123456789"
DELIMITER = b"--" + BOUNDARY

Part = tuple[str, str | None, str | None, list[tuple[str, str]], bytes]


def part(headers: bytes, content: bytes) -> bytes:
    return DELIMITER + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"


def field(name: str, content: bytes, filename: str | None = None) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return part(disposition.encode(), content)


END = DELIMITER + b"--\r\n"


def parse(
    impl: ModuleType,
    body: bytes,
    chunk: int,
    *,
    max_header_size: int = 8192,
    max_header_lines: int = 16,
    max_parts: int = 1000,
) -> tuple[list[Part], bool]:
    """(parts, complete) of ``body`` fed in ``chunk``-byte pieces; checks the event order."""
    parser = impl.MultipartParser(BOUNDARY, max_header_size, max_header_lines, max_parts)
    parts: list[Part] = []
    current: list[Any] | None = None
    for start in range(0, max(len(body), 1), chunk):
        for event in parser.feed(body[start : start + chunk]):
            if type(event) is tuple:
                assert current is None
                name, filename, content_type, _disposition, headers = event
                current = [name, filename, content_type, headers, b""]
            elif event is None:
                assert current is not None
                parts.append(tuple(current))
                current = None
            else:
                assert current is not None
                assert type(event) is bytes
                assert event
                current[4] += event
        # Held back: at most a delimiter's length, or one part's header section.
        assert parser.held <= max(len(DELIMITER) + 2, max_header_size)
    return parts, parser.complete


CHUNKINGS = [1, 2, 3, 5, 7, 13, 41, 64, 1 << 20]


def test_a_form_parses_the_same_in_any_chunking(multipart_impl: ModuleType) -> None:
    tricky = b"\r\n--" + BOUNDARY[:-1] + b"\r\r\n-" + b"\r\n" * 3 + b"\xff\x00"
    body = (
        b"preamble, ignored\r\n"
        + field("name", b"Ada")
        + part(
            b'Content-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            b"Content-Type: application/octet-stream",
            tricky,
        )
        + field("empty", b"")
        + END
        + b"epilogue, ignored"
    )
    expected: list[Part] = [
        ("name", None, None, [("Content-Disposition", 'form-data; name="name"')], b"Ada"),
        (
            "file",
            "a.bin",
            "application/octet-stream",
            [
                ("Content-Disposition", 'form-data; name="file"; filename="a.bin"'),
                ("Content-Type", "application/octet-stream"),
            ],
            tricky,
        ),
        ("empty", None, None, [("Content-Disposition", 'form-data; name="empty"')], b""),
    ]
    for chunk in CHUNKINGS:
        assert parse(multipart_impl, body, chunk) == (expected, True), chunk


def test_any_bytes_like_chunk_is_taken(multipart_impl: ModuleType) -> None:
    body = field("a", b"1") + END
    for kind in (bytes, bytearray, memoryview):
        parser = multipart_impl.MultipartParser(BOUNDARY, 8192, 16, 10)
        events = parser.feed(kind(body[:30])) + parser.feed(kind(body[30:]))
        assert [type(event) for event in events] == [tuple, bytes, type(None)]
        assert events[1] == b"1"
        assert parser.complete


def test_an_empty_form_and_a_cut_body(multipart_impl: ModuleType) -> None:
    assert parse(multipart_impl, END, 1) == ([], True)
    body = field("a", b"1") + END
    for cut in range(len(body) - 2):  # without the final "--", the body is not complete
        _, complete = parse(multipart_impl, body[:cut], 3)
        assert not complete, cut
    assert parse(multipart_impl, b"", 1) == ([], False)


def test_header_details(multipart_impl: ModuleType) -> None:
    body = part(
        b'content-disposition:form-data; name=a; filename="C:\\\\dir\\\\f.txt"\r\n'
        b"X-Folded: one\r\n\ttwo\r\n"
        b"CONTENT-TYPE:   text/plain; charset=utf-8",
        b"x",
    )
    (got,), complete = parse(multipart_impl, body + END, 4)
    assert complete
    name, filename, content_type, headers, content = got
    assert (name, filename, content_type, content) == (
        "a",
        "f.txt",
        "text/plain; charset=utf-8",
        b"x",
    )
    assert headers[1] == ("X-Folded", "one two")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (DELIMITER + b"\n" + b"x", "must be CRLF"),
        (DELIMITER + b"X\r\n", "bytes after the boundary"),
        (field("a", b"1") + DELIMITER + b"-x", "bytes after the boundary"),
        (b"x" + DELIMITER + b"\r\n", "must start a line"),
        (part(b"Content-Type: text/plain", b"1") + END, "no Content-Disposition"),
        (part(b'Content-Disposition: attachment; name="a"', b"1") + END, "not form-data"),
        (part(b"Content-Disposition form-data", b"1") + END, "headers are malformed"),
        (part(b'Content-Disposition: form-data; name="a"\nX: y', b"1") + END, "end in CRLF"),
        (part(b'Content-Disposition: form-data; name="a"\rX: y', b"1") + END, "malformed"),
        (part(b"\tfolded: first", b"1") + END, "malformed"),
        (part(b'Content-Disposition: form-data; name="a"\r\n \t', b"1") + END, "malformed"),
        (part(b'B@d: 1\r\nContent-Disposition: form-data; name="a"', b"1") + END, "invalid name"),
        (part(b': 1\r\nContent-Disposition: form-data; name="a"', b"1") + END, "invalid name"),
        (part(b'X: \xff\r\nContent-Disposition: form-data; name="a"', b"1") + END, "UTF-8"),
        (DELIMITER + b'\r\nContent-Disposition: form-data; name="a"\n\nx', "end in CRLF"),
    ],
)
def test_malformed_bodies_say_what_is_wrong(
    multipart_impl: ModuleType, body: bytes, message: str
) -> None:
    for chunk in (1, 7, 1 << 20):
        with pytest.raises(MalformedMultipart, match=message):
            parse(multipart_impl, body, chunk)


def test_bounds(multipart_impl: ModuleType) -> None:
    three = field("a", b"1") + field("b", b"2") + field("c", b"3") + END
    assert len(parse(multipart_impl, three, 5, max_parts=3)[0]) == 3
    with pytest.raises(TooManyParts):
        parse(multipart_impl, three, 5, max_parts=2)
    lines = b"".join(b"X-%d: v\r\n" % i for i in range(4))
    many = part(lines + b'Content-Disposition: form-data; name="a"', b"1") + END
    assert len(parse(multipart_impl, many, 3, max_header_lines=5)[0]) == 1
    with pytest.raises(MalformedMultipart, match="too many header lines"):
        parse(multipart_impl, many, 3, max_header_lines=4)
    # The header section is bounded as a whole, whether one long line or many short ones.
    long_line = part(b'Content-Disposition: form-data; name="' + b"n" * 300 + b'"', b"1") + END
    for body in (long_line, many):
        for chunk in (1, 64, 1 << 20):
            with pytest.raises(PartHeadersTooLarge):
                parse(multipart_impl, body, chunk, max_header_size=40)
    endless = DELIMITER + b"\r\n" + b"X" * 10_000  # a header line that never ends
    for chunk in (1, 100, 1 << 20):
        with pytest.raises(PartHeadersTooLarge):
            parse(multipart_impl, endless, chunk, max_header_size=200)


@pytest.mark.parametrize("boundary", [b"", b"a\r\nb", b"a\nb"])
def test_an_invalid_boundary_is_refused(multipart_impl: ModuleType, boundary: bytes) -> None:
    with pytest.raises(MalformedMultipart, match="boundary is not valid"):
        multipart_impl.MultipartParser(boundary, 8192, 16, 10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('form-data; name="a"', ("form-data", "a", None)),
        ('form-data; name="a"; filename="b.txt"', ("form-data", "a", "b.txt")),
        ("Form-Data ; NAME = a ; filename=b", ("form-data", "a", "b")),
        ('form-data; name="a%22b%0D%0A"', ("form-data", 'a"b\r\n', None)),
        ('form-data; name="a\\"b\\\\c"', ("form-data", 'a"b\\c', None)),
        ('form-data; name="semi;colon"; filename="x"', ("form-data", "semi;colon", "x")),
        ('form-data; filename="C:\\\\Users\\\\x.txt"; name=a', ("form-data", "a", "x.txt")),
        ('form-data; flag; name="a"', ("form-data", "a", None)),
        ('form-data; name="unterminated', ("form-data", '"unterminated', None)),
        ("form-data", ("form-data", None, None)),
        ("attachment; filename=x", ("attachment", None, "x")),
        ("", ("", None, None)),
        (";;;=;=", ("", None, None)),
    ],
)
def test_content_disposition(
    multipart_impl: ModuleType, value: str, expected: tuple[str, str | None, str | None]
) -> None:
    assert multipart_impl.parse_disposition(value) == expected


# --- linear work on adversarial input ---------------------------------------------------------


def many_crlfs(size: int) -> bytes:
    return field("f", b"\r\n" * (size // 2), "f.bin") + END


def partial_boundaries(size: int) -> bytes:
    unit = b"\r\n" + DELIMITER[:-1] + b"x"
    return field("f", unit * (size // len(unit)), "f.bin") + END


def long_header_lines(size: int) -> bytes:
    line = b"X-Long: " + b"a" * 4000 + b"\r\n"
    one = part(line + b'Content-Disposition: form-data; name="f"', b"v")
    return one * max(1, size // len(one)) + END


def tiny_parts(size: int) -> bytes:
    one = field("f", b"v")
    return one * (size // len(one)) + END


ADVERSARIAL = {
    "many CRLFs": many_crlfs,
    "partial boundaries": partial_boundaries,
    "long header lines": long_header_lines,
    "tiny parts": tiny_parts,
}


def work(impl: ModuleType, body: bytes, chunk: int) -> tuple[int, int]:
    """(bytes handed to the parser, held-back ones included; Python lines run in the pure twin)."""
    parser = impl.MultipartParser(BOUNDARY, 8192, 16, 1_000_000)
    handed = 0
    lines = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal lines
        if frame.f_code.co_filename.endswith("_multipart_py.py"):
            if event == "line":
                lines += 1
            return trace
        return None

    sys.settrace(trace)
    try:
        for start in range(0, len(body), chunk):
            handed += parser.held + chunk
            parser.feed(body[start : start + chunk])
    finally:
        sys.settrace(None)
    assert parser.complete
    return handed, lines


@pytest.mark.parametrize("shape", list(ADVERSARIAL))
@pytest.mark.parametrize("chunk", [16 * 1024, 64 * 1024])
def test_work_grows_linearly(multipart_impl: ModuleType, shape: str, chunk: int) -> None:
    small = work(multipart_impl, ADVERSARIAL[shape](64 * 1024), chunk)
    large = work(multipart_impl, ADVERSARIAL[shape](512 * 1024), chunk)
    # 8x the input: linear work is about 8x; quadratic would be about 64x.
    assert large[0] <= 12 * small[0], (small, large)
    assert large[1] <= 12 * max(small[1], 1), (small, large)


@pytest.mark.parametrize("shape", list(ADVERSARIAL))
def test_small_chunks_hold_back_little(multipart_impl: ModuleType, shape: str) -> None:
    body = ADVERSARIAL[shape](16 * 1024)
    parts, complete = parse(multipart_impl, body, 3)  # (parse checks what is held back)
    assert complete
    assert parts
