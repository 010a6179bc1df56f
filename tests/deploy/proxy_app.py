"""An app behind nginx that reports what it was told about the client, scheme and host.

``App(trusted_proxies=["127.0.0.1"])`` is the intended API (issue #11); until the App accepts
it, the app is built without it and ``WIRED`` is False. Either way ``/proxy/whoami`` also
runs ``duoweb.proxies.resolve_origin`` itself on the raw peer and headers, so the resolver is
tested against what real proxies send.
"""

from __future__ import annotations

import inspect
from typing import Any

from duoweb import App, Request
from duoweb.asgi import ASGIRequest
from duoweb.proxies import TrustedProxies, resolve_origin
from duoweb.wsgi import WSGIRequest

TRUSTED = ["127.0.0.1"]
#: Whether ``App(trusted_proxies=...)`` and ``Request.url_for`` exist yet.
WIRED = "trusted_proxies" in inspect.signature(App).parameters and hasattr(Request, "url_for")
FORWARDING_HEADERS = (
    "host",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
)

_options: dict[str, Any] = {"trusted_proxies": TRUSTED} if WIRED else {}
app = App(**_options)
_config = TrustedProxies.parse(TRUSTED)


@app.get("/proxy/items/{item_id}", name="item")
def item(item_id: int) -> dict[str, int]:
    """A named route for ``url_for``."""
    return {"item": item_id}


def _raw_peer_and_scheme(request: Request) -> tuple[tuple[str, int] | None, str]:
    """The connection's own peer and scheme, as the server reported them."""
    if isinstance(request, WSGIRequest):
        environ = request.environ
        host = environ.get("REMOTE_ADDR")
        peer = (str(host), int(environ.get("REMOTE_PORT") or 0)) if host else None
        return peer, str(environ.get("wsgi.url_scheme", "http"))
    if isinstance(request, ASGIRequest):
        client = request.scope.get("client")
        peer = (str(client[0]), int(client[1])) if client else None
        return peer, str(request.scope.get("scheme", "http"))
    raise TypeError(f"unexpected request type {type(request).__name__}")


@app.get("/proxy/whoami")
def whoami(request: Request) -> dict[str, Any]:
    """The forwarding headers received, the resolver's reading of them, and the App's."""
    peer, scheme = _raw_peer_and_scheme(request)
    origin = resolve_origin(_config, peer, request.headers, scheme)
    report: dict[str, Any] = {
        "peer": peer,
        "headers": {name: request.headers.get(name) for name in FORWARDING_HEADERS},
        "resolved": origin._asdict(),
    }
    url_for = getattr(request, "url_for", None)
    if WIRED and url_for is not None:
        client = request.client
        report["app"] = {
            "scheme": request.scheme,
            "client": client[0] if client else None,
            "url": request.url,
            "link": url_for("item", item_id=7),
        }
    return report


wsgi = app.wsgi
asgi = app.asgi
