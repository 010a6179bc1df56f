"""Exception classes raised by both multipart parser implementations (compiled and pure).

A pure module of their own, so ``duoweb._speedups._multipart`` and ``duoweb._multipart_py``
raise the very same classes whichever one ``duoweb._select`` picked. Every class is a
``ValueError``; the message of ``MalformedMultipart`` is meant for the client as it is.
"""

from __future__ import annotations

__all__ = ["MalformedMultipart", "PartHeadersTooLarge", "TooManyParts"]


class MalformedMultipart(ValueError):
    """The body breaks the multipart/form-data syntax; the message says how."""


class PartHeadersTooLarge(ValueError):
    """One part's header section is longer than the parser's bound."""


class TooManyParts(ValueError):
    """The body starts more parts than the parser's bound."""
