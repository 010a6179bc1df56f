"""A file part's content on its way to its spool: gathered, then written a batch at a time."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from tempfile import SpooledTemporaryFile

    from duoweb.formdata import UploadFile

#: Content is gathered up to this many bytes (or chunks) before it is written.
BATCH_SIZE = 1024 * 1024
BATCH_CHUNKS = 256  # well under any system's limit on buffers per writev (IOV_MAX, 1024)


class SpoolWriter:
    """Appends content to a SpooledTemporaryFile in batches of about BATCH_SIZE bytes.

    Once the file is on disk every write() costs the kernel a file update besides the copy:
    a 50 MiB upload written 64 KiB at a time took about a third more CPU than the same
    chunks given to ``os.writev`` 1 MiB at a time. The chunks are kept as they are (no copy),
    so at most BATCH_SIZE plus one chunk waits in memory. Below the spool size the content
    goes to the in-memory file as it comes.
    """

    __slots__ = ("_chunks", "_file", "_held", "_spool_size", "_written", "upload")

    def __init__(self, upload: UploadFile, spool_size: int) -> None:
        """A writer to ``upload``'s file (from UploadFile.spooled, with ``spool_size``)."""
        #: The UploadFile whose content this writes.
        self.upload = upload
        self._file = cast("SpooledTemporaryFile[bytes]", upload.file)
        self._spool_size = spool_size
        self._written = 0  # bytes given to the file so far
        self._chunks: list[bytes] = []
        self._held = 0  # bytes in _chunks

    def write(self, data: bytes) -> None:
        """Append ``data`` (kept until the batch is full, then written with the rest)."""
        self._chunks.append(data)
        self._held += len(data)
        if self._held >= BATCH_SIZE or len(self._chunks) >= BATCH_CHUNKS:
            self.flush()

    def flush(self) -> None:
        """Write what is held: to memory while the file fits its spool size, else to disk."""
        chunks = self._chunks
        if not chunks:
            return
        held = self._held
        self._written += held
        file = self._file
        if self._written <= self._spool_size:
            for chunk in chunks:
                file.write(chunk)
        else:
            file.rollover()  # to disk now, with what was in memory (nothing if already there)
            write_all(file.fileno(), chunks, held)
        chunks.clear()
        self._held = 0


def write_all(fd: int, chunks: list[bytes], total: int) -> None:
    """Write ``chunks`` (``total`` bytes) at ``fd``'s position: one writev where there is one."""
    writev = getattr(os, "writev", None)
    written = writev(fd, chunks) if writev is not None else 0
    if written == total:
        return
    # A short write (a signal, a full disk) or no writev: the rest in plain writes, which
    # raise OSError when nothing more can be written.
    rest = memoryview(b"".join(chunks))[written:]
    while rest:
        rest = rest[os.write(fd, rest) :]
