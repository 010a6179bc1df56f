"""Liveness and readiness routes for load balancers and orchestrators (Kubernetes probes).

``Health(app)`` serves ``GET /health/live`` (200 while the process answers at all) and
``GET /health/ready`` (200 while ``app.phase`` is ``"serving"`` and every check passes; 503
while it is starting, stopping, draining, failed to start, or a check fails). Nothing to
install.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from duoweb._lazy import lazy_logger
from duoweb.responses import JSONResponse, Response

__all__ = ["Health"]

logger = lazy_logger("duoweb.health", globals())

Check = Callable[[], "bool | Awaitable[bool]"]

STARTING: Final = "starting"
READY: Final = "ready"
STOPPING: Final = "stopping"
FAILED: Final = "failed"

#: The probe's state for each ``App.phase``.
_STATE_OF_PHASE: Final = {
    "created": STARTING,
    "starting": STARTING,
    "serving": READY,
    "stopping": STOPPING,
    "stopped": STOPPING,
    "failed": FAILED,
}

_NO_STORE: Final = {"cache-control": "no-store"}


class Health:
    """The app's lifecycle state and its probe routes.

    - ``live`` / ``ready``: the routes' paths (None: no such route).
    - ``checks``: name -> ``() -> bool`` (``def`` or ``async def``) run by each readiness
      probe; one that returns False or raises makes the answer 503 (the error is logged, not
      shown).

    The state follows the app's :attr:`~duoweb.App.phase`, which both the WSGI and the ASGI
    adapter set: ``"starting"`` until the lifespan and every startup hook have run,
    ``"ready"`` after, ``"stopping"`` from the moment the shutdown begins (or :meth:`drain`
    is called, e.g. from a SIGTERM handler, so the load balancer stops sending before the
    server stops) and ``"failed"`` when the startup raised. Both routes are left out of the
    OpenAPI document.
    """

    def __init__(
        self,
        app: Any,
        *,
        live: str | None = "/health/live",
        ready: str | None = "/health/ready",
        checks: Mapping[str, Check] | None = None,
    ) -> None:
        self.app = app
        self.draining = False
        self.checks = dict(checks or {})
        options: dict[str, Any] = {"include_in_schema": False, "tags": ("health",)}
        if live is not None:
            app.get(live, name="health_live", inline=True, **options)(self.liveness)
        if ready is not None:
            handler = self.readiness_async if self._has_async_check() else self.readiness
            inline = handler is self.readiness and not self.checks
            app.get(ready, name="health_ready", inline=inline, **options)(handler)

    def _has_async_check(self) -> bool:
        return any(inspect.iscoroutinefunction(check) for check in self.checks.values())

    @property
    def state(self) -> str:
        """``"starting"``, ``"ready"``, ``"stopping"`` or ``"failed"``: from the app's phase."""
        if self.draining:
            return STOPPING
        return _STATE_OF_PHASE[self.app.phase]

    def drain(self) -> None:
        """Answer readiness probes with 503 from now on (the process is going away)."""
        self.draining = True

    def liveness(self) -> Response:
        """The liveness answer: the process serves requests."""
        return JSONResponse({"status": "alive"}, headers=_NO_STORE)

    def _answer(self, state: str, results: dict[str, bool]) -> Response:
        healthy = state == READY and all(results.values())
        status = state if state != READY or healthy else "failing"
        body = {
            "status": status,
            "checks": {name: "ok" if ok else "failed" for name, ok in results.items()},
        }
        return JSONResponse(body, status_code=200 if healthy else 503, headers=_NO_STORE)

    def _run(self, name: str, check: Check) -> bool | Awaitable[bool]:
        try:
            return check()
        except Exception:
            logger.exception("readiness check %s failed", name)
            return False

    def readiness(self) -> Response:
        """The readiness answer (every check is ``def``)."""
        state = self.state
        if state != READY:
            return self._answer(state, {})
        results = {name: self._run(name, c) is True for name, c in self.checks.items()}
        return self._answer(state, results)

    async def readiness_async(self) -> Response:
        """The readiness answer (some check is ``async def``)."""
        state = self.state
        if state != READY:
            return self._answer(state, {})
        results: dict[str, bool] = {}
        for name, check in self.checks.items():
            outcome = self._run(name, check)
            if inspect.isawaitable(outcome):
                try:
                    outcome = await outcome
                except Exception:
                    logger.exception("readiness check %s failed", name)
                    outcome = False
            results[name] = outcome is True
        return self._answer(state, results)
