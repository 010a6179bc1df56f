"""The base of fast request observers: the implementation chosen by duoweb._select."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duoweb._observer_py import RequestObserver
else:
    from duoweb import _select

    RequestObserver = _select.load("observer").RequestObserver

__all__ = ["RequestObserver"]
