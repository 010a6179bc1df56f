"""SpoolWriter: an upload's content reaches its spool whole, in order, in bounded batches."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duoweb import FormLimits, UploadFile
from duoweb.form_spool import BATCH_CHUNKS, BATCH_SIZE, SpoolWriter, write_all
from duoweb.headers import Headers


def spooled(spool_size: int) -> UploadFile:
    return UploadFile.spooled(FormLimits(spool_size=spool_size), "f.bin", None, Headers())


def write_through(upload: UploadFile, chunks: list[bytes], spool_size: int) -> None:
    writer = SpoolWriter(upload, spool_size)
    for chunk in chunks:
        upload.size += len(chunk)
        writer.write(chunk)
    writer.flush()
    upload.file.seek(0)


def on_disk(upload: UploadFile) -> bool:
    return bool(getattr(upload.file, "_rolled", False))


def split(content: bytes, sizes: list[int]) -> list[bytes]:
    chunks, start, index = [], 0, 0
    while start < len(content):
        size = sizes[index % len(sizes)] if sizes else len(content)
        chunks.append(content[start : start + size])
        start += size
        index += 1
    return chunks


@pytest.mark.parametrize(
    ("size", "spool_size", "chunk"),
    [
        (0, 1000, 100),
        (1000, 1000, 100),  # exactly the spool size: stays in memory
        (1001, 1000, 100),
        (1001, 1000, 1001),
        (5 * 1024 * 1024 + 7, 1024 * 1024, 65536),
        (3 * 1024 * 1024, 1024 * 1024, 65536 - 3),
        (1, 0, 1),  # no room in memory at all: to disk
    ],
)
def test_the_content_reaches_the_file_whole_and_in_order(
    size: int, spool_size: int, chunk: int
) -> None:
    content = random.Random(size).randbytes(size)
    upload = spooled(spool_size)
    try:
        write_through(upload, split(content, [chunk]), spool_size)
        assert on_disk(upload) == (size > spool_size)
        assert upload.file.tell() == 0
        assert upload.read() == content
        assert upload.file.tell() == size
        assert upload.seek(0, 2) == size
        upload.seek(size // 2)
        assert upload.read(10) == content[size // 2 : size // 2 + 10]
    finally:
        upload.close()


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(0, 3 * 4096),
    sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=8),
    spool_size=st.integers(0, 8192),
)
def test_any_chunking_and_spool_size_keeps_the_content(
    size: int, sizes: list[int], spool_size: int
) -> None:
    content = random.Random(size).randbytes(size)
    upload = spooled(spool_size)
    try:
        write_through(upload, split(content, sizes), spool_size)
        assert upload.read() == content
    finally:
        upload.close()


@pytest.mark.parametrize(("size", "sizes"), [(4 * 1024 * 1024, [65536, 100, 7]), (20_000, [10])])
def test_writes_on_disk_are_batched_and_bounded(
    monkeypatch: pytest.MonkeyPatch, size: int, sizes: list[int]
) -> None:
    calls: list[tuple[int, int]] = []  # (buffers, bytes) per writev
    real = os.writev

    def recording(fd: int, buffers: list[bytes]) -> int:
        calls.append((len(buffers), sum(map(len, buffers))))
        return real(fd, buffers)

    monkeypatch.setattr(os, "writev", recording)
    content = random.Random(size).randbytes(size)
    chunks = split(content, sizes)
    upload = spooled(1000)
    try:
        write_through(upload, chunks, 1000)
        assert upload.read() == content
    finally:
        upload.close()
    assert sum(written for _, written in calls) == size  # past 1000 bytes, all of it on disk
    assert all(count <= BATCH_CHUNKS and written < BATCH_SIZE + 65536 for count, written in calls)
    assert len(calls) * 40 <= len(chunks)  # far fewer system calls than chunks


@pytest.mark.parametrize("short_by", [1, 100, 65536])
def test_a_short_writev_is_completed(monkeypatch: pytest.MonkeyPatch, short_by: int) -> None:
    real = os.writev

    def short(fd: int, buffers: list[bytes]) -> int:
        joined = b"".join(buffers)
        return real(fd, [joined[: len(joined) - short_by]])

    monkeypatch.setattr(os, "writev", short)
    chunks = [random.Random(i).randbytes(70000) for i in range(20)]
    upload = spooled(1000)
    try:
        write_through(upload, chunks, 1000)
        assert upload.read() == b"".join(chunks)
    finally:
        upload.close()


def test_without_writev_the_content_is_written_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "writev")
    chunks = [random.Random(i).randbytes(300_000) for i in range(8)]
    upload = spooled(1024 * 1024)
    try:
        write_through(upload, chunks, 1024 * 1024)
        assert on_disk(upload)
        assert upload.read() == b"".join(chunks)
    finally:
        upload.close()


def test_write_all_raises_when_nothing_can_be_written() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        with pytest.raises(BrokenPipeError):
            write_all(write_end, [b"x" * 10], 10)
    finally:
        os.close(write_end)
