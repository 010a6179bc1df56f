"""Property tests: duoweb's multipart parser against the ``multipart`` library, and its twins.

On generated well-formed bodies, cut into generated chunks, both implementations must find
the very parts the ``multipart`` library (a dev dependency kept for this comparison) finds.
On mangled bodies the compiled and pure parsers must agree exactly: the same events, or the
same error class and message, in any chunking.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import multipart
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duoweb._multipart_errors import MalformedMultipart, PartHeadersTooLarge, TooManyParts
from tests.speedups.conftest import implementation

Found = tuple[str, str | None, str | None, bytes]  # (name, filename, content type, content)

BOUNDARY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=?"
# Names as browsers send them: any text, with '"', CR and LF percent-encoded (WHATWG).
NAME = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\%'),
    min_size=1,
    max_size=12,
)


@st.composite
def forms(draw: st.DrawFn) -> tuple[bytes, bytes, list[Found]]:
    """(boundary, body, the parts in it) of a well-formed multipart/form-data body."""
    boundary = draw(st.text(BOUNDARY_CHARS, min_size=1, max_size=70)).encode()
    delimiter = b"--" + boundary
    # Content that looks like framing: CRLFs, dashes, pieces of the boundary.
    near = [b"\r\n", b"\r", b"\n", b"--", delimiter[:-1], b"\r\n" + delimiter[:-1], b"\xff"]
    content = st.lists(st.one_of(st.binary(max_size=20), st.sampled_from(near)), max_size=8)
    parts: list[Found] = []
    body = draw(st.sampled_from([b"", b"preamble\r\n", b"\r\n"]))
    for _ in range(draw(st.integers(0, 5))):
        name = draw(NAME)
        filename = draw(st.none() | NAME)
        content_type = draw(st.none() | st.sampled_from(["text/plain", "image/png"]))
        data = b"".join(draw(content))
        if b"\r\n" + delimiter in b"\r\n" + data + b"\r\n" or data.endswith(b"\r"):
            continue  # not content this boundary can carry
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"Content-Disposition: {disposition}\r\n"
        if content_type is not None:
            head += f"Content-Type: {content_type}\r\n"
        body += delimiter + b"\r\n" + head.encode() + b"\r\n" + data + b"\r\n"
        parts.append((name, filename, content_type, data))
    body += delimiter + b"--" + draw(st.sampled_from([b"", b"\r\n", b"\r\nepilogue"]))
    return boundary, body, parts


def cuts(body: bytes, sizes: list[int]) -> list[bytes]:
    """``body`` cut into pieces of the given sizes (cycled), every byte in one piece."""
    pieces, start, index = [], 0, 0
    while start < len(body):
        size = sizes[index % len(sizes)]
        pieces.append(body[start : start + size])
        start += size
        index += 1
    return pieces


def with_duoweb(impl: ModuleType, boundary: bytes, pieces: list[bytes]) -> Any:
    """The parts found, or the error (class and message) raised."""
    parser = impl.MultipartParser(boundary, 8192, 16, 1000)
    found: list[Any] = []
    try:
        for piece in pieces:
            for event in parser.feed(piece):
                if type(event) is tuple:
                    name, filename, content_type, _, headers = event
                    found.append([name, filename, content_type, headers, b""])
                elif event is None:
                    found[-1] = tuple(found[-1])
                else:
                    found[-1][4] += event
    except (MalformedMultipart, PartHeadersTooLarge, TooManyParts) as exc:
        return ("error", type(exc), str(exc))
    return ("parts", found, parser.complete)


def with_library(boundary: bytes, pieces: list[bytes]) -> list[Found]:
    found: list[Found] = []
    content: list[bytes] = []
    with multipart.PushMultipartParser(boundary, max_header_size=8192) as parser:
        for piece in [*pieces, b""]:
            for event in parser.parse(piece):
                if isinstance(event, multipart.MultipartSegment):
                    segment, content = event, []
                elif event is None:
                    found.append(
                        (segment.name, segment.filename, segment.content_type, b"".join(content))
                    )
                else:
                    content.append(bytes(event))
    return found


CHUNKS = st.lists(st.integers(1, 80), min_size=1, max_size=6)


@pytest.mark.parametrize("kind", ["pure", "compiled"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(form=forms(), sizes=CHUNKS)
def test_the_parts_are_the_libraries_parts(
    kind: str, form: tuple[bytes, bytes, list[Found]], sizes: list[int]
) -> None:
    boundary, body, expected = form
    impl = implementation("multipart", kind)
    pieces = cuts(body, sizes)
    assert with_library(boundary, pieces) == expected
    outcome = with_duoweb(impl, boundary, pieces)
    assert outcome[0] == "parts", outcome
    assert outcome[2] is True
    assert [(n, f, t, c) for n, f, t, _, c in outcome[1]] == expected


@st.composite
def mangled(draw: st.DrawFn) -> tuple[bytes, bytes]:
    boundary, body, _ = draw(forms())
    data = bytearray(body)
    framing = [b"\r\n", b"\n", b"\r", b"--", b"--" + boundary, b'"', b";", b":", b"\t", b"\xff"]
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if action == "flip" and where < len(data):
            data[where] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[where:]
        elif action == "insert":
            data[where:where] = draw(st.sampled_from(framing))
        else:
            del data[where : where + draw(st.integers(1, 30))]
    return boundary, bytes(data)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(form=mangled(), sizes=CHUNKS, other=CHUNKS)
def test_compiled_and_pure_agree_on_any_body_in_any_chunking(
    form: tuple[bytes, bytes], sizes: list[int], other: list[int]
) -> None:
    boundary, body = form
    pure = implementation("multipart", "pure")
    compiled = implementation("multipart", "compiled")
    expected = with_duoweb(pure, boundary, cuts(body, sizes))
    assert with_duoweb(compiled, boundary, cuts(body, sizes)) == expected
    # Another chunking finds the same parts (an error may show at another byte, not another
    # kind: a body is valid or not whatever its chunks).
    again = with_duoweb(pure, boundary, cuts(body, other))
    assert again[0] == expected[0]
    if expected[0] == "parts":
        assert again[2] == expected[2]
        finished = [found for found in expected[1] if type(found) is tuple]
        assert [found for found in again[1] if type(found) is tuple] == finished
