"""One route two ways, for benchmarks/routers.py: through three nested routers, and direct.

Both apps answer ``GET /api/v1/users/{user_id}`` (with ``X-Key: secret``) with the same
handler and the same one dependency: ``nested`` declares it on the innermost of three
routers, ``direct`` passes it to the App's decorator. Each app has the same routes in all.
"""

from __future__ import annotations

from typing import Annotated, Any

from duoweb import App, Depends, Header, HTTPError, Router


def require_key(x_key: Annotated[str | None, Header()] = None) -> None:
    """The router dependency: a header check, as an API key check would be."""
    if x_key != "secret":
        raise HTTPError(401, "A valid X-Key header is required.")


def get_user(user_id: int) -> dict[str, int]:
    """The handler both apps register."""
    return {"id": user_id}


def nested_app() -> App:
    """The route through three routers, the dependency on the innermost."""
    users = Router(prefix="/users", tags=["users"], dependencies=[Depends(require_key)])
    users.get("/{user_id}")(get_user)
    v1 = Router(prefix="/v1")
    v1.include_router(users)
    api = Router(prefix="/api")
    api.include_router(v1)
    app = App(openapi_url=None, docs_url=None)
    app.include_router(api)
    return app


def direct_app() -> App:
    """The same route registered on the App with the same dependency."""
    app = App(openapi_url=None, docs_url=None)
    app.get("/api/v1/users/{user_id}", tags=["users"], dependencies=[Depends(require_key)])(
        get_user
    )
    return app


#: name -> (mode, builder); the callable is the builder's app served in that mode.
ROUTER_CONTENDERS: dict[str, tuple[str, Any]] = {
    "direct-wsgi": ("wsgi", direct_app),
    "nested-wsgi": ("wsgi", nested_app),
    "direct-asgi": ("asgi", direct_app),
    "nested-asgi": ("asgi", nested_app),
}


def load(name: str) -> Any:
    """The WSGI or ASGI callable of contender ``name``."""
    mode, build = ROUTER_CONTENDERS[name]
    app = build()
    return app.wsgi if mode == "wsgi" else app.asgi
