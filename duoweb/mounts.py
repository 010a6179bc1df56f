"""``App.mount``: another application (duoweb, WSGI or ASGI) served under a path prefix.

Each mounted app keeps its own protocol where it can: a duoweb App is called through its
own WSGI or ASGI adapter, a WSGI app natively under WSGI, an ASGI app natively under ASGI.
Across protocols a2wsgi bridges (a thread pool for WSGI under ASGI, an event loop thread
for ASGI under WSGI), imported only when such a mount starts. Only apps with mounts import
this module.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from duoweb._lazy import lazy_import, lazy_logger
from duoweb.wsgi import WSGIAdapter

if TYPE_CHECKING:
    import asyncio

    from duoweb.app import App
else:
    asyncio = lazy_import("asyncio", globals())

logger = lazy_logger("duoweb", globals())

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def application_kind(app: Any) -> str:
    """``"duoweb"``, ``"asgi"`` or ``"wsgi"``: how a mounted application is called."""
    from duoweb.app import App

    if isinstance(app, App):
        return "duoweb"
    if not callable(app):
        raise TypeError(f"cannot mount {app!r}: it is not a WSGI or ASGI application")
    import inspect

    call = app if _is_function(app) else type(app).__call__
    if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(app):
        return "asgi"
    # Not a coroutine function: an ASGI app written as a class with a sync __call__
    # returning an awaitable is told apart by its three parameters.
    try:
        parameters = [
            p
            for p in inspect.signature(app).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return "wsgi"
    return "asgi" if len(parameters) == 3 else "wsgi"


def _is_function(app: Any) -> bool:
    import inspect

    return inspect.isfunction(app) or inspect.ismethod(app)


def _run_until_stopped(loop: asyncio.AbstractEventLoop) -> None:
    """A bridge thread's body: run ``loop`` until it is stopped, then close it."""
    try:
        loop.run_forever()
    finally:
        loop.close()


def _bridge_missing(exc: ImportError) -> RuntimeError:
    return RuntimeError(
        "serving a WSGI app under ASGI, or an ASGI app under WSGI, needs a2wsgi "
        "(pip install 'duoweb[mount]')"
    )


class LifespanRunner:
    """Drives an ASGI app's lifespan protocol: startup now, shutdown later."""

    def __init__(self, app: Callable[..., Awaitable[None]], state: dict[str, Any]) -> None:
        self.app = app
        self.state = state
        self._task: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[Message] | None = None
        self._from_app: asyncio.Queue[Message] | None = None

    async def startup(self) -> None:
        """Send ``lifespan.startup``; an app without lifespan support is simply not run."""
        self._to_app = asyncio.Queue()
        self._from_app = asyncio.Queue()
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        self._task = asyncio.ensure_future(self._run(scope))
        await self._to_app.put({"type": "lifespan.startup"})
        reply = await self._from_app.get()
        if reply["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"mounted app failed to start: {reply.get('message', '')}")
        if reply["type"] != "lifespan.startup.complete":
            self._task = None  # it does not speak lifespan: nothing to shut down

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the app to finish."""
        task, self._task = self._task, None
        if task is None or self._to_app is None or self._from_app is None:
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        reply = await self._from_app.get()
        if reply["type"] == "lifespan.shutdown.failed":
            logger.error("mounted app failed to shut down: %s", reply.get("message", ""))
        await task

    async def _run(self, scope: Scope) -> None:
        assert self._to_app is not None
        assert self._from_app is not None
        try:
            await self.app(scope, self._to_app.get, self._from_app.put)
        except Exception as exc:
            # The spec's way to say "no lifespan support"; a startup failure says so itself.
            logger.debug("mounted app does not run the lifespan protocol: %r", exc)
        await self._from_app.put({"type": "lifespan.ended"})


class WithState:
    """An ASGI app called with a copy of its own lifespan state in every request scope."""

    def __init__(self, app: Callable[..., Awaitable[None]], state: dict[str, Any]) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Call the app with ``scope["state"]`` filled in (lifespan scopes get it as it is)."""
        if scope["type"] != "lifespan":
            scope = {**scope, "state": dict(self.state)}
        await self.app(scope, receive, send)


class Mount:
    """One mounted application and the bridges it needs in this worker."""

    def __init__(
        self, prefix: str, app: Any, name: str | None, include_in_schema: bool = False
    ) -> None:
        #: The path prefix, e.g. ``/admin`` (never ending with ``/``).
        self.prefix = prefix
        self.app = app
        self.kind = application_kind(app)
        #: Names the mount in the merged OpenAPI document's operationIds.
        self.name = name or prefix.strip("/").replace("/", ".")
        #: Merge a mounted duoweb App's operations into the parent's OpenAPI document.
        self.include_in_schema = include_in_schema and self.kind == "duoweb"
        # WSGI's PATH_INFO is bytes read as latin-1: compare the prefix the same way.
        self._wsgi_prefix = prefix.encode("utf-8").decode("latin-1")
        #: The lifespan state of a mounted ASGI app (its request scopes get a copy).
        self.state: dict[str, Any] = {}
        self._lifespan: LifespanRunner | None = None
        self._bridge: Any = None
        self._bridge_loop: asyncio.AbstractEventLoop | None = None

    def matches(self, path: str) -> bool:
        """True when ``path`` (relative to the parent's root) lies under this mount."""
        prefix = self.prefix
        return path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")

    def matches_wsgi(self, path_info: str) -> bool:
        """``matches`` for a WSGI PATH_INFO."""
        prefix = self._wsgi_prefix
        return path_info.startswith(prefix) and (
            len(path_info) == len(prefix) or path_info[len(prefix)] == "/"
        )

    # --- WSGI mode ---------------------------------------------------------------------------

    def start_sync(self) -> None:
        """Start the mounted app in this WSGI worker (its hooks or its lifespan)."""
        if self.kind == "duoweb":
            self.app.wsgi.start()
        elif self.kind == "asgi":
            try:
                from a2wsgi import ASGIMiddleware
            except ImportError as exc:
                raise _bridge_missing(exc) from exc
            # Built per worker (after any fork): the bridge's loop runs in its own thread.
            loop = asyncio.new_event_loop()
            threading.Thread(
                target=_run_until_stopped, args=(loop,), name="duoweb-mount", daemon=True
            ).start()
            app = WithState(self.app, self.state)
            self._lifespan = LifespanRunner(app, self.state)
            try:
                asyncio.run_coroutine_threadsafe(self._lifespan.startup(), loop).result()
            except BaseException:
                loop.call_soon_threadsafe(loop.stop)  # the next start makes a new one
                raise
            self._bridge = ASGIMiddleware(app, loop=loop)  # type: ignore[arg-type]
            self._bridge_loop = loop

    def stop_sync(self) -> None:
        """Stop what ``start_sync`` started."""
        if self.kind == "duoweb":
            self.app.wsgi.stop()
            return
        loop, self._bridge_loop = self._bridge_loop, None
        if loop is None:
            return
        try:
            if self._lifespan is not None:
                asyncio.run_coroutine_threadsafe(self._lifespan.shutdown(), loop).result()
        finally:
            self._bridge = None
            loop.call_soon_threadsafe(loop.stop)

    def call_wsgi(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Serve one WSGI request: SCRIPT_NAME gains the prefix, PATH_INFO loses it."""
        inner = dict(environ)
        inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self._wsgi_prefix
        inner["PATH_INFO"] = environ.get("PATH_INFO", "")[len(self._wsgi_prefix) :]
        if self.kind == "duoweb":
            if not inner["PATH_INFO"]:
                inner["PATH_INFO"] = "/"  # the prefix itself is a mounted App's "/"
            target: Any = self.app.wsgi
        elif self.kind == "wsgi":
            target = self.app
        else:
            target = self._bridge
            if target is None:
                raise RuntimeError(f"the app mounted at {self.prefix!r} was not started")
        result: Iterable[bytes] = target(inner, start_response)
        return result

    # --- ASGI mode ---------------------------------------------------------------------------

    async def start_async(self) -> None:
        """Start the mounted app on the running loop (its lifespan, or the WSGI bridge)."""
        if self.kind == "wsgi":
            try:
                from a2wsgi import WSGIMiddleware
            except ImportError as exc:
                raise _bridge_missing(exc) from exc
            self._bridge = WSGIMiddleware(self.app)
            return
        app = self.app.asgi if self.kind == "duoweb" else WithState(self.app, self.state)
        self._bridge = app
        self._lifespan = LifespanRunner(app, self.state)
        await self._lifespan.startup()

    async def stop_async(self) -> None:
        """Stop what ``start_async`` started."""
        bridge, self._bridge = self._bridge, None
        if self.kind == "wsgi":
            if bridge is not None:
                bridge.executor.shutdown(wait=False)
            return
        if self._lifespan is not None:
            await self._lifespan.shutdown()

    async def call_asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one http/websocket scope: root_path gains the prefix, path stays whole."""
        inner = dict(scope)
        inner["root_path"] = scope.get("root_path", "") + self.prefix
        if self.kind == "duoweb" and inner["path"] == inner["root_path"]:
            inner["path"] += "/"  # the prefix itself is a mounted App's "/"
            if isinstance(scope.get("raw_path"), bytes):
                inner["raw_path"] = scope["raw_path"] + b"/"
        target = self._bridge
        if target is None:
            raise RuntimeError(f"the app mounted at {self.prefix!r} was not started")
        await target(inner, receive, send)


class MountingWSGIAdapter(WSGIAdapter):
    """The WSGI adapter of an App with mounts: mounted prefixes first, then its own routes."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """The WSGI application callable."""
        if not self.started:
            refused = self.start_or_refuse(start_response)
            if refused is not None:
                return refused
        path_info = environ.get("PATH_INFO", "")
        for mount in self.app.mounts:
            if mount.matches_wsgi(path_info):
                return mount.call_wsgi(environ, start_response)
        return super().__call__(environ, start_response)


def mounting_wsgi_adapter(app: App) -> WSGIAdapter:
    """The WSGI adapter for ``app`` once it has a mount."""
    return MountingWSGIAdapter(app)
