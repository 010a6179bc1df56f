"""The form body parsers (multipart push parser, urlencoded): duoweb._select's pick, re-exported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from duoweb._multipart_errors import MalformedMultipart, PartHeadersTooLarge, TooManyParts

if TYPE_CHECKING:
    from duoweb._multipart_py import MultipartParser, PartHead, parse_disposition, parse_urlencoded
else:
    from duoweb import _select

    _impl = _select.load("multipart")
    MultipartParser = _impl.MultipartParser
    PartHead = tuple
    parse_disposition = _impl.parse_disposition
    parse_urlencoded = _impl.parse_urlencoded

__all__ = [
    "MalformedMultipart",
    "MultipartParser",
    "PartHead",
    "PartHeadersTooLarge",
    "TooManyParts",
    "parse_disposition",
    "parse_urlencoded",
]
