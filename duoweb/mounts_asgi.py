"""The ASGI adapter of an App with mounts (imported only by such apps, under ASGI)."""

from __future__ import annotations

from typing import Any

from duoweb.asgi import ASGIAdapter, Receive, Scope, Send


class MountingASGIAdapter(ASGIAdapter):
    """Mounted prefixes first (http and websocket scopes), then the App's own routes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI 3 application callable."""
        if scope["type"] != "lifespan":
            path: str = scope["path"]
            root_path: str = scope.get("root_path", "")
            if root_path and path.startswith(root_path):
                path = path[len(root_path) :]
            for mount in self.app.mounts:
                if mount.matches(path):
                    if not self.started and await self.start_or_refuse() is not None:
                        break  # not started: the App's own path below answers the 503
                    await mount.call_asgi(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def mounting_asgi_adapter(app: Any) -> ASGIAdapter:
    """The ASGI adapter for ``app`` once it has a mount."""
    return MountingASGIAdapter(app)
