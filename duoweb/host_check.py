"""``App(allowed_hosts=...)``: the middleware answering 400 for hosts the app does not serve."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from duoweb.errors import HTTPError
from duoweb.hosts import AllowedHosts
from duoweb.requests import Request
from duoweb.responses import Response, problem_response

__all__ = ["HostCheck"]

SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]


class HostCheck:
    """Middleware answering 400 for a request whose host ``AllowedHosts`` does not allow.

    ``App(allowed_hosts=...)`` installs it as the outermost middleware; it is dual-mode.
    """

    def __init__(self, allowed: AllowedHosts) -> None:
        self.allowed = allowed

    def refusal(self, request: Request) -> Response | None:
        """The 400 answer for a host that is not allowed, or None to go on."""
        if self.allowed.allows(request.valid_host):
            return None
        return problem_response(HTTPError(400, "The request names a host this app does not serve."))

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        return self.refusal(request) or call_next(request)

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        return self.refusal(request) or await call_next(request)
