"""Types of the compiled request path: the same API as duoweb._serve_py."""

from duoweb._serve_py import BackgroundTasks as BackgroundTasks
from duoweb._serve_py import Chains as Chains
from duoweb._serve_py import Dispatcher as Dispatcher
from duoweb._serve_py import WSGICore as WSGICore
from duoweb._serve_py import call_with_tasks as call_with_tasks

__all__ = ["BackgroundTasks", "Chains", "Dispatcher", "WSGICore", "call_with_tasks"]
