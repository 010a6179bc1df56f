"""duoweb: a typed JSON API framework; one App served as WSGI and as ASGI."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from duoweb._select import speedups_enabled, speedups_report
from duoweb._serve import BackgroundTasks
from duoweb.app import App, RouteInfo
from duoweb.dependencies import Depends
from duoweb.errors import HTTPError, RequestValidationError, ValidationErrorItem
from duoweb.lifespan import AppState, LifespanError
from duoweb.params import Body, Cookie, Form, Header, Query
from duoweb.requests import Request
from duoweb.responses import JSONResponse, PlainTextResponse, Response, problem_response
from duoweb.routers import Router
from duoweb.routing import RouteDefinitionError
from duoweb.streaming import EventSourceResponse, FileResponse, ServerSentEvent, StreamingResponse

if TYPE_CHECKING:
    from duoweb.access_log import AccessLogMiddleware
    from duoweb.compression import CompressionMiddleware
    from duoweb.cors import CORSMiddleware
    from duoweb.formdata import FormData, FormLimits, UploadFile
    from duoweb.request_id import RequestIdFilter, RequestIdMiddleware
    from duoweb.staticfiles import StaticFiles
    from duoweb.websockets import CloseCode, WebSocket, WebSocketDisconnect

#: The package version; pyproject.toml reads it from here.
__version__ = "0.1.0"

#: Optional features, imported on first use (``from duoweb import CORSMiddleware`` works as
#: usual): an app that does not use them does not pay for importing them.
_LAZY: dict[str, str] = {
    "AccessLogMiddleware": "duoweb.access_log",
    "CompressionMiddleware": "duoweb.compression",
    "CORSMiddleware": "duoweb.cors",
    "RequestIdFilter": "duoweb.request_id",
    "RequestIdMiddleware": "duoweb.request_id",
    "StaticFiles": "duoweb.staticfiles",
    "FormData": "duoweb.formdata",
    "FormLimits": "duoweb.formdata",
    "UploadFile": "duoweb.formdata",
    "CloseCode": "duoweb.websockets",
    "WebSocket": "duoweb.websockets",
    "WebSocketDisconnect": "duoweb.websockets",
}


def __getattr__(name: str) -> Any:
    """Import an optional feature's name on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "AccessLogMiddleware",
    "App",
    "AppState",
    "BackgroundTasks",
    "Body",
    "CORSMiddleware",
    "CloseCode",
    "CompressionMiddleware",
    "Cookie",
    "Depends",
    "EventSourceResponse",
    "FileResponse",
    "Form",
    "FormData",
    "FormLimits",
    "HTTPError",
    "Header",
    "JSONResponse",
    "LifespanError",
    "PlainTextResponse",
    "Query",
    "Request",
    "RequestIdFilter",
    "RequestIdMiddleware",
    "RequestValidationError",
    "Response",
    "RouteDefinitionError",
    "RouteInfo",
    "Router",
    "ServerSentEvent",
    "StaticFiles",
    "StreamingResponse",
    "UploadFile",
    "ValidationErrorItem",
    "WebSocket",
    "WebSocketDisconnect",
    "__version__",
    "problem_response",
    "speedups_enabled",
    "speedups_report",
]
