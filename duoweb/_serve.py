"""The per-request path: the implementation chosen by duoweb._select, re-exported."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duoweb._serve_py import BackgroundTasks, WSGICore, call_with_tasks, dispatch_sync
else:
    from duoweb import _select

    _impl = _select.load("serve")
    BackgroundTasks = _impl.BackgroundTasks
    WSGICore = _impl.WSGICore
    call_with_tasks = _impl.call_with_tasks
    dispatch_sync = _impl.dispatch_sync

__all__ = ["BackgroundTasks", "WSGICore", "call_with_tasks", "dispatch_sync"]
