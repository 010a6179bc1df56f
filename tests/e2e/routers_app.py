"""An app with a nested router and three mounts (duoweb, WSGI, ASGI), for real servers.

Startup of the mounted apps writes to ``DUOWEB_MOUNT_LOG`` so the test can see it ran in
the worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from duoweb import App, Depends, Header, HTTPError, Request, Router

LOG = os.environ.get("DUOWEB_MOUNT_LOG", "mounts.log")


def _write(event: str) -> None:
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(f"{event} {os.getpid()}\n")


def require_key(x_key: Annotated[str | None, Header()] = None) -> None:
    if x_key != "secret":
        raise HTTPError(401, "A valid X-Key header is required.")


users = Router(prefix="/users", tags=["users"], dependencies=[Depends(require_key)])


@users.get("/{user_id}")
async def get_user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


api = Router(prefix="/api")
v1 = Router(prefix="/v1")
v1.include_router(users)
api.include_router(v1)

admin = App(title="Admin")


@admin.on_startup
def admin_started() -> None:
    _write("admin-startup")


@admin.get("/where")
def where(request: Request) -> str:
    return request.root_path


def legacy(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("content-type", "text/plain")])
    return [f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()]


async def live(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _write("live-startup")
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = f"{scope['root_path']}|{scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


app = App()


@app.get("/")
def index() -> str:
    return "root"


app.include_router(api)
app.mount("/admin", admin)
app.mount("/legacy", legacy)
app.mount("/live", live)
