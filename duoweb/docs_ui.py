"""The interactive API docs page (Swagger UI), served offline from an installed package.

The page and its assets come from duoweb's own routes: ``{docs_url}`` is a small HTML page and
``{docs_url}/static/{file}`` serves the Swagger UI files of an installed Python package, so
the docs work with no internet. Packages looked for, in order:

- ``swagger-ui-py`` (import name ``swagger_ui``): Swagger UI 5, which reads OpenAPI 3.1;
- ``swagger-ui-bundle``: Swagger UI 4, which reads only OpenAPI 3.0, so the page asks for the
  3.0 form of the document.

``app.docs_assets_url`` (when set) loads the assets from that URL instead, e.g. a company
mirror of ``swagger-ui-dist@5``. With no assets at all the page says how to install them.
"""

from __future__ import annotations

import html
import importlib.util
import json
import posixpath
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from duoweb.errors import HTTPError
from duoweb.responses import Response

if TYPE_CHECKING:
    from duoweb.app import App

#: What to install for the docs page (the ``docs`` extra of duoweb).
INSTALL_HINT = 'pip install "duoweb[docs]"  (or: pip install swagger-ui-py)'

_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".map": "application/json",
    ".html": "text/html; charset=utf-8",
}
_VERSION = re.compile(rb'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"')
_DIR_VERSION = re.compile(r"swagger-ui-(\d+)\.")


@dataclass(frozen=True)
class SwaggerAssets:
    """Swagger UI files found in an installed package."""

    package: str
    directory: Path
    major_version: int
    files: dict[str, Path]

    @property
    def reads_openapi_31(self) -> bool:
        """Swagger UI 5 and later render OpenAPI 3.1; earlier ones only 3.0."""
        return self.major_version >= 5


def _package_directory(name: str) -> Path | None:
    """Where package ``name`` is installed, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _candidate_directories() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    root = _package_directory("swagger_ui")
    if root is not None:
        found.append(("swagger-ui-py", root / "static"))
    root = _package_directory("swagger_ui_bundle")
    if root is not None and (root / "vendor").is_dir():
        found.extend(("swagger-ui-bundle", d) for d in sorted((root / "vendor").iterdir()))
    return found


def _major_version(directory: Path) -> int:
    matched = _DIR_VERSION.match(directory.name)
    if matched:
        return int(matched.group(1))
    with (directory / "swagger-ui-bundle.js").open("rb") as bundle:
        found = _VERSION.search(bundle.read())
    return int(found.group(1)) if found else 0


def find_assets() -> SwaggerAssets | None:
    """The first installed package that has Swagger UI's files, or None."""
    for package, directory in _candidate_directories():
        bundle = directory / "swagger-ui-bundle.js"
        if not bundle.is_file() or not (directory / "swagger-ui.css").is_file():
            continue
        files = {
            path.name: path
            for path in directory.iterdir()
            if path.suffix in _CONTENT_TYPES and path.is_file()
        }
        return SwaggerAssets(package, directory, _major_version(directory), files)
    return None


def relative_url(target: str, page: str) -> str:
    """``target`` (an absolute path) relative to the page at ``page``, so mounts still work."""
    base = page[: page.rfind("/") + 1] or "/"
    relative = posixpath.relpath(target, base)
    if target.endswith("/") and not relative.endswith("/"):
        relative += "/"
    return relative if relative.startswith(".") else f"./{relative}"


def _script_string(value: str) -> str:
    """``value`` as a JavaScript string literal that is safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")


def render_page(
    *,
    title: str,
    document_url: str | None,
    assets_url: str | None,
    reads_openapi_31: bool,
) -> str:
    """The docs page: Swagger UI from ``assets_url`` showing the document at ``document_url``."""
    heading = html.escape(f"{title} - API docs")
    if document_url is None:
        return _message_page(
            heading,
            "The OpenAPI document is turned off (<code>openapi_url=None</code>), so there is "
            "nothing to show.",
        )
    if assets_url is None:
        link = html.escape(document_url)
        return _message_page(
            heading,
            "The interactive docs need Swagger UI's files, which are not installed. Install "
            f"them with <code>{html.escape(INSTALL_HINT)}</code> and restart the server, or "
            "set <code>app.docs_assets_url</code> to a URL that serves Swagger UI 5. The "
            f'OpenAPI document itself is at <a href="{link}">{link}</a>.',
        )
    url = document_url if reads_openapi_31 else _with_query(document_url, "version=3.0")
    static = assets_url.rstrip("/")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading}</title>
<link rel="stylesheet" href="{html.escape(static)}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{html.escape(static)}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: {_script_string(url)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
}});
</script>
</body>
</html>
"""


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _message_page(heading: str, message: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{heading}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>{heading}</h1>
<p id="duoweb-docs-message">{message}</p>
</body>
</html>
"""


class _AssetCache:
    """Finds the assets once, on first use, and keeps each served file's bytes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._looked = False
        self._assets: SwaggerAssets | None = None
        self._bytes: dict[str, bytes] = {}

    def assets(self) -> SwaggerAssets | None:
        """The installed assets (None when there are none)."""
        if not self._looked:
            with self._lock:
                if not self._looked:
                    self._assets = find_assets()
                    self._looked = True
        return self._assets

    def read(self, name: str) -> bytes | None:
        """The bytes of the asset file called ``name``; None for any other name."""
        data = self._bytes.get(name)
        if data is not None:
            return data
        assets = self.assets()
        path = None if assets is None else assets.files.get(name)
        if path is None:
            return None
        data = self._bytes[name] = path.read_bytes()
        return data


class DocsSite:
    """The docs page at ``docs_url`` and its asset files under ``static_prefix``, for one app.

    ``duoweb.doc_routes`` registers the routes and builds this on their first request.
    """

    def __init__(self, app: App, docs_url: str, static_prefix: str) -> None:
        self._app = app
        self._docs_url = docs_url
        self._static_prefix = static_prefix
        self._cache = _AssetCache()

    def page(self) -> Response:
        """The HTML page that loads Swagger UI and points it at the OpenAPI document."""
        app = self._app
        docs_url = self._docs_url
        assets_url = app.docs_assets_url
        reads_31 = True
        if assets_url is None:
            assets = self._cache.assets()
            if assets is not None:
                assets_url = relative_url(self._static_prefix, docs_url)
                reads_31 = assets.reads_openapi_31
        document_url = None if app.openapi_url is None else relative_url(app.openapi_url, docs_url)
        page = render_page(
            title=app.title,
            document_url=document_url,
            assets_url=assets_url,
            reads_openapi_31=reads_31,
        )
        return Response(page, media_type="text/html; charset=utf-8")

    def asset(self, file: str) -> Response:
        """One Swagger UI file from the installed package (404 for any other name)."""
        data = self._cache.read(file)
        if data is None:
            raise HTTPError(404, "No such docs asset.")
        content_type = _CONTENT_TYPES[Path(file).suffix]
        return Response(
            data,
            media_type=content_type,
            headers={"cache-control": "public, max-age=86400", "x-content-type-options": "nosniff"},
        )
