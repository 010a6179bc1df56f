"""Types of the compiled request path: the same API as duoweb._serve_py."""

from duoweb._serve_py import WSGICore as WSGICore
from duoweb._serve_py import dispatch_sync as dispatch_sync

__all__ = ["WSGICore", "dispatch_sync"]
