"""What duoweb imports only when it is used: asyncio, the OpenAPI machinery, optional features.

Each scenario runs in a fresh interpreter, so ``sys.modules`` shows exactly what importing
duoweb, building an app and serving requests pulled in.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import duoweb
from duoweb._lazy import lazy_import, lazy_logger

#: Modules a WSGI app with only def handlers must never import.
NOT_FOR_WSGI = (
    "asyncio",
    "concurrent.futures",
    "pydantic",
    "duoweb.openapi",
    "duoweb.form",  # duoweb.formdata, form_params, form_parsing, form_linebreaks
    "duoweb._multipart",  # the multipart parser, its twins and errors
    "duoweb._speedups._multipart",
    "multipart",
    "tempfile",
    "duoweb.security",
    "jwt",
    "cryptography",
    # production operations: each is imported only by an app that uses it
    "duoweb.metrics",
    "duoweb.request_tally",
    "duoweb._tally_py",
    "duoweb._speedups._tally",
    "duoweb.timed_streams",
    "duoweb.tracing",
    "duoweb.caching",
    "duoweb.route_caching",
    "duoweb.tagged_responder",
    "duoweb._tagged_py",
    "duoweb._speedups._tagged",
    "duoweb.ratelimit",
    "duoweb.health",
    "prometheus_client",
    "opentelemetry",
    "limits",
    "redis",
)

PRELUDE = """
import sys

NOT_FOR_WSGI = {not_for_wsgi!r}


def imported(prefixes=NOT_FOR_WSGI):
    return sorted(
        name for name in sys.modules if any(name == p or name.startswith(p) for p in prefixes)
    )


preloaded = imported()

import duoweb
from duoweb import App


def call_wsgi(app, path, method="GET"):
    path, _, query = path.partition("?")
    environ = {{
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": __import__("io").BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }}
    started = []
    chunks = app(environ, lambda status, headers, exc_info=None: started.append((status, headers)))
    body = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    status, headers = started[0]
    last_headers[:] = headers
    return status, body


last_headers = []


report = {{"preloaded": preloaded}}
"""


def run_fresh(scenario: str) -> dict[str, Any]:
    """Run ``scenario`` after PRELUDE in a new interpreter; return its ``report`` dict."""
    source = PRELUDE.format(not_for_wsgi=NOT_FOR_WSGI) + textwrap.dedent(scenario)
    source += "\nprint(repr(report))\n"
    result = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    if report["preloaded"]:
        pytest.skip(f"this interpreter imports {report['preloaded']} at startup")
    return report


def test_wsgi_app_with_def_handlers_imports_no_async_or_openapi_machinery() -> None:
    report = run_fresh(
        """
        app = App()

        @app.get("/items/{item_id}")
        def read_item(item_id: int) -> dict[str, int]:
            return {"id": item_id}

        @app.get("/search")
        def search(q: str, limit: int = 10) -> dict[str, object]:
            return {"q": q, "limit": limit}

        @app.middleware
        def tag(request, call_next):
            response = call_next(request)
            response.set_header("x-tag", "yes")
            return response

        report["item"] = call_wsgi(app, "/items/7")
        report["tagged"] = ("x-tag", "yes") in last_headers
        report["search"] = call_wsgi(app, "/search?q=duo&limit=3")
        report["missing"] = call_wsgi(app, "/nowhere")[0]
        report["imported"] = imported()
        """
    )
    assert report["item"] == ("200 OK", b'{"id":7}')
    assert report["tagged"] is True
    assert report["search"] == ("200 OK", b'{"q":"duo","limit":3}')
    assert report["missing"] == "404 Not Found"
    assert report["imported"] == []


def test_security_schemes_import_neither_jwt_nor_the_async_machinery() -> None:
    report = run_fresh(
        """
        from typing import Annotated

        from duoweb import Depends
        from duoweb.security import HTTPBearer

        app = App()
        bearer = HTTPBearer()

        @app.get("/me")
        def me(token: Annotated[str, Depends(bearer)]) -> str:
            return token

        report["refused"] = call_wsgi(app, "/me")[0]
        report["imported"] = imported()
        """
    )
    assert report["refused"] == "401 Unauthorized"
    assert report["imported"] == [
        "duoweb.security",
        "duoweb.security.api_key",
        "duoweb.security.base",
        "duoweb.security.http",
        "duoweb.security.oauth2",
    ]


def test_asgi_side_is_built_on_first_use_and_then_works() -> None:
    report = run_fresh(
        """
        app = App()

        @app.get("/hello")
        def hello() -> dict[str, str]:
            return {"hello": "world"}

        call_wsgi(app, "/hello")
        report["asgi_module_before"] = "duoweb.asgi" in sys.modules
        adapter = app.asgi
        report["same_object"] = adapter is app.asgi and app.__dict__["asgi"] is adapter

        import asyncio

        async def serve():
            sent = []

            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message):
                sent.append(message)

            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "GET", "scheme": "http", "path": "/hello", "raw_path": b"/hello",
                "query_string": b"", "root_path": "", "headers": [], "server": None,
                "client": None,
            }
            await app(scope, receive, send)  # the App called with three arguments: ASGI
            return sent[0]["status"], sent[1]["body"]

        report["response"] = asyncio.run(serve())
        report["imported"] = imported(("asyncio", "duoweb.asgi"))
        """
    )
    assert report["asgi_module_before"] is False
    assert report["same_object"] is True
    assert report["response"] == (200, b'{"hello":"world"}')
    assert "asyncio" in report["imported"]
    assert "duoweb.asgi" in report["imported"]


def test_async_handler_under_wsgi_imports_asyncio_when_it_first_runs() -> None:
    report = run_fresh(
        """
        app = App(openapi_url=None, docs_url=None)

        @app.get("/later")
        async def later() -> dict[str, str]:
            return {"ran": "async"}

        report["before"] = imported(("asyncio",))
        report["response"] = call_wsgi(app, "/later")
        report["after"] = imported(("asyncio",))
        """
    )
    assert report["before"] == []
    assert report["response"] == ("200 OK", b'{"ran":"async"}')
    assert "asyncio" in report["after"]


def test_openapi_and_docs_machinery_load_on_their_first_request() -> None:
    report = run_fresh(
        """
        app = App(title="Lazy")

        @app.get("/ping")
        def ping() -> dict[str, str]:
            return {"ping": "pong"}

        report["before"] = imported(("duoweb.openapi", "duoweb.docs_ui"))
        status, body = call_wsgi(app, "/openapi.json")
        report["document"] = status, b'"title":"Lazy"' in body, b'"/ping"' in body
        report["after_document"] = imported(("duoweb.openapi", "duoweb.docs_ui"))
        status, body = call_wsgi(app, "/docs")
        report["docs"] = status, b"<html" in body
        report["after_docs"] = imported(("duoweb.openapi", "duoweb.docs_ui"))
        """
    )
    assert report["before"] == []
    assert report["document"] == ("200 OK", True, True)
    assert "duoweb.openapi" in report["after_document"]
    assert "duoweb.docs_ui" not in report["after_document"]
    assert report["docs"] == ("200 OK", True)
    assert "duoweb.docs_ui" in report["after_docs"]


def test_optional_features_are_imported_when_named() -> None:
    report = run_fresh(
        """
        features = ("duoweb.cors", "duoweb.compression", "duoweb.staticfiles",
                    "duoweb.access_log", "duoweb.request_id", "duoweb.websockets")
        report["after_import"] = imported(features)
        from duoweb import CORSMiddleware
        import duoweb.cors
        report["same_class"] = CORSMiddleware is duoweb.cors.CORSMiddleware
        report["after_cors"] = imported(features)
        """
    )
    assert report["after_import"] == []
    assert report["same_class"] is True
    assert report["after_cors"] == ["duoweb.cors"]


def test_forms_load_when_a_route_reads_a_form() -> None:
    report = run_fresh(
        """
        from typing import Annotated
        from duoweb import Form

        report["after_import"] = imported()
        app = App(openapi_url=None, docs_url=None)

        @app.get("/plain")
        def plain(q: str = "") -> str:
            return q

        report["after_plain_route"] = imported()

        @app.post("/login")
        def login(user: Annotated[str, Form()]) -> str:
            return user

        report["after_text_field"] = imported()

        from duoweb import UploadFile

        @app.post("/upload")
        def upload(file: UploadFile) -> int:
            return file.size

        report["after_file"] = imported()
        """
    )
    assert report["after_import"] == []
    assert report["after_plain_route"] == []
    assert "duoweb.form_params" in report["after_text_field"]
    assert "duoweb._multipart" in report["after_file"]
    assert "multipart" not in report["after_file"]  # (the library: a dev dependency only)


def test_every_public_name_resolves() -> None:
    for name in duoweb.__all__:
        assert getattr(duoweb, name) is not None, name
    assert set(duoweb.__all__) <= set(dir(duoweb))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        _ = duoweb.NoSuchThing


def test_lazy_import_rebinds_the_name_to_the_module_on_first_use() -> None:
    namespace: dict[str, Any] = {}
    namespace["json"] = lazy_import("json", namespace)
    namespace["concurrent"] = lazy_import("concurrent.futures", namespace)
    assert namespace["json"].dumps([1]) == "[1]"
    assert namespace["json"] is sys.modules["json"]
    assert namespace["concurrent"].futures is sys.modules["concurrent.futures"]
    assert namespace["concurrent"] is sys.modules["concurrent"]


def test_lazy_logger_rebinds_the_name_to_the_logger_on_first_use() -> None:
    import logging

    namespace: dict[str, Any] = {}
    namespace["log"] = lazy_logger("duoweb.test-lazy", namespace, "log")
    assert namespace["log"].name == "duoweb.test-lazy"
    assert namespace["log"] is logging.getLogger("duoweb.test-lazy")


def test_routers_and_wsgi_mounts_import_no_bridge_or_async_machinery() -> None:
    report = run_fresh(
        """
        from typing import Annotated
        from duoweb import Depends, Header, Router

        def require_key(x_key: Annotated[str | None, Header()] = None) -> None:
            pass

        users = Router(prefix="/users", dependencies=[Depends(require_key)])

        @users.get("/{user_id}")
        def get_user(user_id: int) -> dict[str, int]:
            return {"id": user_id}

        api = Router(prefix="/api")
        api.include_router(users)
        plain = App()
        plain.include_router(api)
        report["plain"] = call_wsgi(plain, "/api/users/3")
        report["mounts_before"] = imported(("duoweb.mounts",))

        def legacy(environ, start_response):
            start_response("200 OK", [])
            return [environ["SCRIPT_NAME"].encode()]

        admin = App()

        @admin.get("/ping")
        def ping() -> str:
            return "pong"

        site = App()
        site.mount("/legacy", legacy)
        site.mount("/admin", admin)
        report["legacy"] = call_wsgi(site, "/legacy/x")
        report["admin"] = call_wsgi(site, "/admin/ping")
        report["imported"] = imported((*NOT_FOR_WSGI, "a2wsgi", "duoweb.asgi"))
        """
    )
    assert report["plain"] == ("200 OK", b'{"id":3}')
    assert report["mounts_before"] == []
    assert report["legacy"] == ("200 OK", b"/legacy")
    assert report["admin"] == ("200 OK", b'"pong"')
    assert report["imported"] == []


def test_each_operations_feature_imports_only_its_own_library() -> None:
    report = run_fresh(
        """
        libraries = ("prometheus_client", "opentelemetry", "limits", "redis")
        loaded = {}
        for feature in ("metrics", "tracing", "ratelimit", "caching", "health"):
            before = set(imported(libraries))
            __import__(f"duoweb.{feature}")
            new = set(imported(libraries)) - before
            loaded[feature] = sorted({name.split(".")[0] for name in new})
        report["loaded"] = loaded
        """
    )
    assert report["loaded"] == {
        "metrics": ["prometheus_client"],
        "tracing": ["opentelemetry"],
        "ratelimit": ["limits"],
        "caching": [],
        "health": [],
    }
