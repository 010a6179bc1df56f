"""The base of request observers the dispatcher calls without a Python call: the pure twin.

An observer is told of every answered request: ``observer(request, response, started)``,
``started`` being the ``time.perf_counter()`` taken when dispatch began. Any callable will do;
a subclass of :class:`RequestObserver` implements ``observe`` instead, which the compiled
dispatcher (``duoweb._speedups._observer``) then calls as a C method, with ``started`` as a
C double. Here, calling one is calling its ``observe``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duoweb.requests import Request
    from duoweb.responses import Response

__all__ = ["RequestObserver"]


class RequestObserver:
    """Told of each answered request through ``observe``; calling it calls ``observe``."""

    __slots__ = ()

    def observe(self, request: Request, response: Response, started: float) -> None:
        """Take note of ``request``, answered by ``response``; dispatch began at ``started``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement observe()")

    def __call__(self, request: Request, response: Response, started: float) -> None:
        """The same as ``observe``: what the dispatcher calls."""
        self.observe(request, response, started)
