"""Request and response cores: the implementation chosen by duoweb._select, re-exported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from duoweb._messages_py import HeadersInput

if TYPE_CHECKING:
    from duoweb._messages_py import (
        RequestCore,
        ResponseCore,
        asgi_request,
        content_type_field,
        decode_path_info,
        encode_fields,
        wsgi_request,
    )
else:
    from duoweb import _select

    _impl = _select.load("messages")
    RequestCore = _impl.RequestCore
    ResponseCore = _impl.ResponseCore
    asgi_request = _impl.asgi_request
    content_type_field = _impl.content_type_field
    decode_path_info = _impl.decode_path_info
    encode_fields = _impl.encode_fields
    wsgi_request = _impl.wsgi_request

__all__ = [
    "HeadersInput",
    "RequestCore",
    "ResponseCore",
    "asgi_request",
    "content_type_field",
    "decode_path_info",
    "encode_fields",
    "wsgi_request",
]
