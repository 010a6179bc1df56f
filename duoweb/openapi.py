"""The OpenAPI document built from the routes, and the routes that serve it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from duoweb.responses import JSONResponse

if TYPE_CHECKING:
    from duoweb.app import App


def build_document(app: App, version: str = "3.1") -> dict[str, Any]:
    """The OpenAPI document of ``app``: one operation per route and method."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in app._endpoints:
        if not endpoint.include_in_schema:
            continue
        for method in endpoint.methods:
            operation: dict[str, Any] = {
                "operationId": endpoint.operation_id or f"{endpoint.name}_{method.lower()}",
                "responses": {str(endpoint.status_code): {"description": "Success"}},
            }
            paths.setdefault(endpoint.template, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0" if version == "3.1" else "3.0.3",
        "info": {"title": app.title, "version": app.version},
        "paths": paths,
    }


def install_routes(app: App) -> None:
    """Serve the document at ``app.openapi_url``."""
    if app.openapi_url is not None:

        @app.get(app.openapi_url, name="openapi_document", include_in_schema=False, inline=True)
        def openapi_document() -> JSONResponse:
            return JSONResponse(app.openapi())
