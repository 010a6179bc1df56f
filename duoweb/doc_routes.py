"""The OpenAPI document and docs page routes, registered without importing what serves them.

Building the document (``duoweb.openapi``) and the docs page (``duoweb.docs_ui``) take more
code than the whole request path, and most processes never serve either; each handler
imports its machinery on its first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from duoweb.responses import JSONResponse, Response

if TYPE_CHECKING:
    from duoweb.app import App
    from duoweb.docs_ui import DocsSite


def install_routes(app: App) -> None:
    """Serve the document at ``app.openapi_url`` and the docs page at ``app.docs_url``."""
    if app.openapi_url is not None:

        @app.get(app.openapi_url, name="openapi_document", include_in_schema=False, inline=True)
        def openapi_document(version: Literal["3.1", "3.0"] = "3.1") -> JSONResponse:
            return JSONResponse(app.openapi(version))

    docs_url = app.docs_url
    if docs_url is None:
        return
    static_prefix = docs_url.rstrip("/") + "/static"
    built: list[DocsSite] = []

    def site() -> DocsSite:
        if not built:
            from duoweb.docs_ui import DocsSite

            built.append(DocsSite(app, docs_url, static_prefix))
        return built[0]  # two first requests at once: both use the first one built

    @app.get(docs_url, name="docs_page", include_in_schema=False, inline=True)
    def docs_page() -> Response:
        return site().page()

    @app.get(static_prefix + "/{file:path}", name="docs_static", include_in_schema=False)
    def docs_static(file: str) -> Response:
        return site().asset(file)
