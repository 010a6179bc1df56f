"""Types of the compiled request path: the same API as duoweb._serve_py."""

from duoweb._serve_py import BackgroundTasks as BackgroundTasks
from duoweb._serve_py import Chains as Chains
from duoweb._serve_py import Dispatcher as Dispatcher
from duoweb._serve_py import WSGICore as WSGICore
from duoweb._serve_py import call_with_tasks as call_with_tasks
from duoweb._serve_py import finished_tasks as finished_tasks
from duoweb._serve_py import tasks_for as tasks_for

__all__ = [
    "BackgroundTasks",
    "Chains",
    "Dispatcher",
    "WSGICore",
    "call_with_tasks",
    "finished_tasks",
    "tasks_for",
]
