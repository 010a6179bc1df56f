"""The multipart/form-data push parser: the implementation chosen by duoweb._select, re-exported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from duoweb._multipart_errors import MalformedMultipart, PartHeadersTooLarge, TooManyParts

if TYPE_CHECKING:
    from duoweb._multipart_py import MultipartParser, PartHead, parse_disposition
else:
    from duoweb import _select

    _impl = _select.load("multipart")
    MultipartParser = _impl.MultipartParser
    PartHead = tuple
    parse_disposition = _impl.parse_disposition

__all__ = [
    "MalformedMultipart",
    "MultipartParser",
    "PartHead",
    "PartHeadersTooLarge",
    "TooManyParts",
    "parse_disposition",
]
