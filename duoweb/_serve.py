"""The request path (dispatcher and WSGI call): the implementation chosen by duoweb._select."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duoweb._serve_py import (
        BackgroundTasks,
        Dispatcher,
        WSGICore,
        call_with_tasks,
        finished_tasks,
        tasks_for,
    )
else:
    from duoweb import _select

    _impl = _select.load("serve")
    BackgroundTasks = _impl.BackgroundTasks
    Dispatcher = _impl.Dispatcher
    WSGICore = _impl.WSGICore
    call_with_tasks = _impl.call_with_tasks
    finished_tasks = _impl.finished_tasks
    tasks_for = _impl.tasks_for

__all__ = [
    "BackgroundTasks",
    "Dispatcher",
    "WSGICore",
    "call_with_tasks",
    "finished_tasks",
    "tasks_for",
]
