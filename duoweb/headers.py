"""Header, query and cookie parsing: the implementation chosen by duoweb._select, re-exported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from duoweb._header_errors import TooManyQueryParameters

if TYPE_CHECKING:
    from duoweb._headers_py import (
        Headers,
        QueryParams,
        asgi_header,
        best_match,
        check_header,
        encode_headers,
        environ_header,
        format_set_cookie,
        parse_accept,
        parse_content_length,
        parse_content_type,
        parse_cookie,
        parse_query,
        parse_qvalue,
    )
else:
    from duoweb import _select

    _impl = _select.load("headers")
    Headers = _impl.Headers
    QueryParams = _impl.QueryParams
    asgi_header = _impl.asgi_header
    best_match = _impl.best_match
    check_header = _impl.check_header
    encode_headers = _impl.encode_headers
    environ_header = _impl.environ_header
    format_set_cookie = _impl.format_set_cookie
    parse_accept = _impl.parse_accept
    parse_content_length = _impl.parse_content_length
    parse_content_type = _impl.parse_content_type
    parse_cookie = _impl.parse_cookie
    parse_query = _impl.parse_query
    parse_qvalue = _impl.parse_qvalue

__all__ = [
    "Headers",
    "QueryParams",
    "TooManyQueryParameters",
    "asgi_header",
    "best_match",
    "check_header",
    "encode_headers",
    "environ_header",
    "format_set_cookie",
    "parse_accept",
    "parse_content_length",
    "parse_content_type",
    "parse_cookie",
    "parse_query",
    "parse_qvalue",
]
