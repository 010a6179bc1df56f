"""Exception classes raised by both header-parsing implementations (compiled and pure).

They live in a pure module of their own so that ``duoweb._speedups._headers`` and
``duoweb._headers_py`` raise the very same classes, and callers can catch one class
whichever implementation ``duoweb._select`` picked. Every class is a ``ValueError``.
"""

from __future__ import annotations

__all__ = [
    "InvalidContentLength",
    "InvalidCookie",
    "TooManyQueryParameters",
    "UnsafeHeader",
]


class TooManyQueryParameters(ValueError):
    """The query string holds more parameters than the configured bound allows."""


class InvalidContentLength(ValueError):
    """A Content-Length value is not a plain run of ASCII digits (RFC 9110 section 8.6)."""


class UnsafeHeader(ValueError):
    """A response header name or value could break the header block (injection guard)."""


class InvalidCookie(ValueError):
    """A Set-Cookie name, value or attribute would produce a malformed header."""
