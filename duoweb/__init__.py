"""duoweb: a typed JSON API framework; one App served as WSGI and as ASGI."""

from duoweb._select import speedups_enabled, speedups_report
from duoweb.access_log import AccessLogMiddleware
from duoweb.app import App, RouteInfo
from duoweb.compression import CompressionMiddleware
from duoweb.cors import CORSMiddleware
from duoweb.dependencies import Depends
from duoweb.errors import HTTPError, RequestValidationError, ValidationErrorItem
from duoweb.params import Body, Cookie, Header, Query
from duoweb.request_id import RequestIdFilter, RequestIdMiddleware
from duoweb.requests import Request
from duoweb.responses import JSONResponse, PlainTextResponse, Response, problem_response
from duoweb.routing import RouteDefinitionError
from duoweb.staticfiles import StaticFiles
from duoweb.streaming import EventSourceResponse, FileResponse, ServerSentEvent, StreamingResponse
from duoweb.websockets import CloseCode, WebSocket, WebSocketDisconnect

__version__ = "0.1.0"

__all__ = [
    "AccessLogMiddleware",
    "App",
    "Body",
    "CORSMiddleware",
    "CloseCode",
    "CompressionMiddleware",
    "Cookie",
    "Depends",
    "EventSourceResponse",
    "FileResponse",
    "HTTPError",
    "Header",
    "JSONResponse",
    "PlainTextResponse",
    "Query",
    "Request",
    "RequestIdFilter",
    "RequestIdMiddleware",
    "RequestValidationError",
    "Response",
    "RouteDefinitionError",
    "RouteInfo",
    "ServerSentEvent",
    "StaticFiles",
    "StreamingResponse",
    "ValidationErrorItem",
    "WebSocket",
    "WebSocketDisconnect",
    "__version__",
    "problem_response",
    "speedups_enabled",
    "speedups_report",
]
