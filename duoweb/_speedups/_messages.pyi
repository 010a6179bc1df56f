"""Types of the compiled request/response cores: the same API as duoweb._messages_py."""

from duoweb._messages_py import RequestCore as RequestCore
from duoweb._messages_py import ResponseCore as ResponseCore
from duoweb._messages_py import asgi_request as asgi_request
from duoweb._messages_py import content_type_field as content_type_field
from duoweb._messages_py import decode_path_info as decode_path_info
from duoweb._messages_py import encode_fields as encode_fields
from duoweb._messages_py import wsgi_request as wsgi_request

__all__ = [
    "RequestCore",
    "ResponseCore",
    "asgi_request",
    "content_type_field",
    "decode_path_info",
    "encode_fields",
    "wsgi_request",
]
