"""Types of the compiled header parsers: exactly those of the pure twin, ``duoweb._headers_py``."""

from duoweb._headers_py import Headers as Headers
from duoweb._headers_py import InvalidContentLength as InvalidContentLength
from duoweb._headers_py import InvalidCookie as InvalidCookie
from duoweb._headers_py import QueryParams as QueryParams
from duoweb._headers_py import TooManyQueryParameters as TooManyQueryParameters
from duoweb._headers_py import UnsafeHeader as UnsafeHeader
from duoweb._headers_py import asgi_header as asgi_header
from duoweb._headers_py import best_match as best_match
from duoweb._headers_py import check_header as check_header
from duoweb._headers_py import encode_headers as encode_headers
from duoweb._headers_py import environ_header as environ_header
from duoweb._headers_py import format_set_cookie as format_set_cookie
from duoweb._headers_py import parse_accept as parse_accept
from duoweb._headers_py import parse_content_length as parse_content_length
from duoweb._headers_py import parse_content_type as parse_content_type
from duoweb._headers_py import parse_cookie as parse_cookie
from duoweb._headers_py import parse_query as parse_query
from duoweb._headers_py import parse_qvalue as parse_qvalue

__all__ = [
    "Headers",
    "InvalidContentLength",
    "InvalidCookie",
    "QueryParams",
    "TooManyQueryParameters",
    "UnsafeHeader",
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
