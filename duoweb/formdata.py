"""What a parsed form is: its limits, its uploaded files and the ordered fields (FormData)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Any

import msgspec

from duoweb.headers import Headers, QueryParams


class FormLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The bounds a form must stay within; over one is a 413 problem naming it.

    The body as a whole is bounded by the route's ``max_body_size`` as every body is.
    Pass one to ``App(form_limits=...)`` for the whole app or to a route's decorator.
    """

    #: Most parts (multipart) or fields (urlencoded) in one form.
    max_parts: int = 1000
    #: Most parts with a filename in one form.
    max_files: int = 100
    #: Largest header section of one part, in bytes.
    max_part_header_size: int = 8192
    #: Largest uploaded file, in bytes (None: only the body limit applies).
    max_file_size: int | None = None
    #: Largest plain (non-file) field value, in bytes.
    max_field_size: int = 1024 * 1024
    #: Files are kept in memory up to this many bytes, then spooled to a temporary file.
    spool_size: int = 1024 * 1024
    #: Most bytes of a form's files kept in memory together; later files go to disk whole.
    max_memory: int = 4 * 1024 * 1024


DEFAULT_LIMITS = FormLimits()


class UploadFile:
    """An uploaded file: the client's filename and type, its part headers, and its content.

    ``file`` is a binary file object, in memory up to the spool size and in a temporary
    file past it; duoweb closes (and so deletes) it once the handler has answered. The
    filename is the client's text: never use it as a path (see docs/forms.md).
    """

    __slots__ = ("content_type", "file", "filename", "headers", "size")

    #: Marks the type for duoweb's signature planning (no import needed to recognise it).
    __duoweb_form__ = True

    def __init__(
        self,
        file: IO[bytes],
        *,
        filename: str | None = None,
        content_type: str | None = None,
        headers: Headers | None = None,
        size: int = 0,
    ) -> None:
        #: The file object holding the content (rewound before the handler sees it).
        self.file = file
        #: The filename as the client sent it (``filename*`` decoded); None when absent.
        self.filename = filename
        #: The part's Content-Type as sent (parameters included); None when it has none.
        self.content_type = content_type
        #: Every header of the part.
        self.headers = headers if headers is not None else Headers()
        #: The content's size in bytes.
        self.size = size

    @classmethod
    def spooled(
        cls,
        limits: FormLimits,
        filename: str | None,
        content_type: str | None,
        headers: Headers,
    ) -> UploadFile:
        """An empty UploadFile whose content spools to disk past ``limits.spool_size``."""
        # Closed by FormData.close() once the handler has answered, not by a with block.
        file = tempfile.SpooledTemporaryFile(max_size=limits.spool_size, mode="w+b")  # noqa: SIM115
        return cls(file, filename=filename, content_type=content_type, headers=headers)

    def read(self, size: int = -1) -> bytes:
        """Read (up to ``size``) bytes from the current position; the whole content at first."""
        return self.file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move the read position, as ``file.seek`` does."""
        return self.file.seek(offset, whence)

    def close(self) -> None:
        """Close the file; a spooled temporary file is deleted."""
        self.file.close()

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, content_type={self.content_type!r}, "
            f"size={self.size})"
        )


class FormData:
    """A parsed form in the order it was sent: text fields and uploaded files by name.

    ``get``/``getall``/``[]`` look values up by name (the first one for ``get``);
    ``multi_items()`` gives every ``(name, value)`` pair, repeats included.
    """

    __slots__ = ("_fields", "_files", "_items")

    #: Marks the type for duoweb's signature planning (no import needed to recognise it).
    __duoweb_form__ = True

    def __init__(
        self,
        items: list[tuple[str, str | UploadFile]] | None = None,
        fields: QueryParams | None = None,
        files: dict[str, list[UploadFile]] | None = None,
    ) -> None:
        """The form of ``items``; ``fields`` and ``files``, when the caller already has them.

        ``fields`` (the text fields as a mapping) is otherwise built on first use, and
        ``files`` (every UploadFile by name, in order) found in ``items``.
        """
        items = [] if items is None else items
        self._items = items
        self._fields = fields
        if files is None:
            files = {}
            for name, value in items:
                if isinstance(value, UploadFile):
                    files.setdefault(name, []).append(value)
        self._files = files

    @classmethod
    def from_fields(cls, fields: QueryParams) -> FormData:
        """A form of text fields only (an urlencoded body)."""
        return cls(list(fields.multi_items()), fields, {})

    @property
    def fields(self) -> QueryParams:
        """The text fields only, as a multi-valued mapping (built on first use)."""
        fields = self._fields
        if fields is None:
            items = self._items
            if self._files:
                fields = QueryParams(
                    (name, value) for name, value in items if isinstance(value, str)
                )
            else:  # no files: every value is text
                fields = QueryParams(items)  # type: ignore[arg-type]
            self._fields = fields
        return fields

    def files(self, name: str) -> list[UploadFile]:
        """Every file uploaded under ``name``, in order."""
        return list(self._files.get(name, ()))

    def multi_items(self) -> list[tuple[str, str | UploadFile]]:
        """Every ``(name, value)`` pair in the order sent; a value is text or an UploadFile."""
        return list(self._items)

    def get(self, name: str, default: Any = None) -> str | UploadFile | Any:
        """The first value sent for ``name``, or ``default``."""
        for key, value in self._items:
            if key == name:
                return value
        return default

    def getall(self, name: str) -> list[str | UploadFile]:
        """Every value sent for ``name``, in order."""
        return [value for key, value in self._items if key == name]

    def __getitem__(self, name: str) -> str | UploadFile:
        """The first value sent for ``name``; KeyError when absent."""
        for key, value in self._items:
            if key == name:
                return value
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        """True when ``name`` was sent at least once."""
        return any(key == name for key, _ in self._items)

    def keys(self) -> list[str]:
        """The distinct names, in first-sent order."""
        return list(dict.fromkeys(key for key, _ in self._items))

    def __iter__(self) -> Iterator[str]:
        """The distinct names, in first-sent order."""
        return iter(self.keys())

    def __len__(self) -> int:
        """How many distinct names were sent."""
        return len(self.keys())

    def close(self) -> None:
        """Close every uploaded file (their temporary files are deleted)."""
        for uploads in self._files.values():
            for upload in uploads:
                upload.close()

    def __repr__(self) -> str:
        return f"FormData({self._items!r})"
