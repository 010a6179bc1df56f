"""Types of the compiled request path: the same API as duoweb._serve_py."""

from duoweb._serve_py import BackgroundTasks as BackgroundTasks
from duoweb._serve_py import WSGICore as WSGICore
from duoweb._serve_py import call_with_tasks as call_with_tasks
from duoweb._serve_py import dispatch_sync as dispatch_sync

__all__ = ["BackgroundTasks", "WSGICore", "call_with_tasks", "dispatch_sync"]
