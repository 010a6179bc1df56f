"""The per-request path: the implementation chosen by duoweb._select, re-exported."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duoweb._serve_py import WSGICore, dispatch_sync
else:
    from duoweb import _select

    _impl = _select.load("serve")
    WSGICore = _impl.WSGICore
    dispatch_sync = _impl.dispatch_sync

__all__ = ["WSGICore", "dispatch_sync"]
