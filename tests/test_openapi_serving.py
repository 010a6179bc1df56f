"""Serving the document and the docs page, in both modes, with and without the UI package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.app import app as reference_app
from duoweb import App, cli, docs_ui
from duoweb.docs_ui import SwaggerAssets, find_assets, relative_url, render_page
from tests.conftest import MakeClient
from tests.openapi_app import app as openapi_app


def small_app(**options: object) -> App:
    app = App(title="Small <API>", **options)  # type: ignore[arg-type]

    @app.get("/things/{thing_id}")
    def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    return app


@pytest.fixture
def fake_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake Swagger UI 5 package directory, found instead of any installed one."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "swagger-ui-bundle.js").write_text('x={PACKAGE_VERSION:"5.1.0"};')
    (static / "swagger-ui.css").write_text("body{}")
    (static / "favicon-32x32.png").write_bytes(b"\x89PNG....")
    (static / "notes.txt").write_text("not served: not an asset type")
    (tmp_path / "secret.js").write_text("outside the asset directory")
    monkeypatch.setattr(docs_ui, "_candidate_directories", lambda: [("fake", static)])
    return static


def test_document_route_serves_both_versions(make_client: MakeClient) -> None:
    app = small_app()
    with make_client(app) as client:
        response = client.get("/openapi.json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == app.openapi()
        older = client.get("/openapi.json", params={"version": "3.0"})
        assert older.json()["openapi"] == "3.0.3"
        assert older.json() == app.openapi("3.0")
        assert client.get("/openapi.json", params={"version": "2.0"}).status_code == 422


def test_urls_can_be_moved_or_turned_off(make_client: MakeClient) -> None:
    app = small_app(openapi_url="/api/schema.json", docs_url="/api/docs")
    with make_client(app) as client:
        assert client.get("/api/schema.json").status_code == 200
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404
        assert client.get("/api/docs").status_code == 200
    off = small_app(openapi_url=None, docs_url=None)
    with make_client(off) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404
    assert [route.path for route in off.routes()] == ["/things/{thing_id}"]


def test_docs_page_with_assets(make_client: MakeClient, fake_assets: Path) -> None:
    with make_client(small_app()) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        text = page.text
        assert '<link rel="stylesheet" href="./docs/static/swagger-ui.css">' in text
        assert '<script src="./docs/static/swagger-ui-bundle.js"></script>' in text
        assert 'url: "./openapi.json",' in text
        assert "<title>Small &lt;API&gt; - API docs</title>" in text
        assert client.head("/docs").status_code == 200


def test_docs_assets_are_served_with_their_types(
    make_client: MakeClient, fake_assets: Path
) -> None:
    with make_client(small_app()) as client:
        script = client.get("/docs/static/swagger-ui-bundle.js")
        assert script.status_code == 200
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
        assert script.headers["x-content-type-options"] == "nosniff"
        assert script.text == 'x={PACKAGE_VERSION:"5.1.0"};'
        css = client.get("/docs/static/swagger-ui.css")
        assert css.headers["content-type"] == "text/css; charset=utf-8"
        assert client.get("/docs/static/favicon-32x32.png").headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/docs/static/notes.txt",
        b"/docs/static/missing.js",
        b"/docs/static/../secret.js",
        b"/docs/static/%2e%2e/secret.js",
        b"/docs/static/..%2fsecret.js",
        b"/docs/static/static/swagger-ui.css",
        b"/docs/static//etc/passwd",
        b"/docs/static/%00swagger-ui.css",
    ],
)
def test_docs_assets_never_escape_their_directory(
    make_client: MakeClient, fake_assets: Path, raw_path: bytes
) -> None:
    with make_client(small_app()) as client:
        response = client.get("http://testserver/", extensions={"raw_path": raw_path})
        assert response.status_code == 404
        assert "outside" not in response.text


def test_docs_page_without_assets_says_how_to_install_them(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs_ui, "_candidate_directories", list)
    assert find_assets() is None
    with make_client(small_app()) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "pip install &quot;duoweb[docs]&quot;" in page.text
        assert '<a href="./openapi.json">' in page.text
        assert "<script" not in page.text
        assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 404


def test_docs_page_without_a_document(make_client: MakeClient, fake_assets: Path) -> None:
    with make_client(small_app(openapi_url=None)) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "openapi_url=None" in page.text


def test_docs_assets_url_overrides_the_package(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs_ui, "_candidate_directories", list)
    app = small_app()
    app.docs_assets_url = "https://assets.example.invalid/swagger-ui/"
    with make_client(app) as client:
        text = client.get("/docs").text
        assert 'href="https://assets.example.invalid/swagger-ui/swagger-ui.css"' in text
        assert 'url: "./openapi.json",' in text


def test_swagger_ui_4_gets_the_3_0_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_client: MakeClient
) -> None:
    bundle = tmp_path / "vendor" / "swagger-ui-4.15.5"
    bundle.mkdir(parents=True)
    (bundle / "swagger-ui-bundle.js").write_text("old")
    (bundle / "swagger-ui.css").write_text("old")
    monkeypatch.setattr(docs_ui, "_candidate_directories", lambda: [("old", bundle)])
    found = find_assets()
    assert found is not None
    assert (found.major_version, found.reads_openapi_31) == (4, False)
    with make_client(small_app()) as client:
        assert 'url: "./openapi.json?version=3.0",' in client.get("/docs").text


def test_installed_package_is_found_and_served(make_client: MakeClient) -> None:
    pytest.importorskip("swagger_ui", reason="swagger-ui-py (the docs extra) is not installed")
    found = find_assets()
    assert isinstance(found, SwaggerAssets)
    assert found.reads_openapi_31
    with make_client(openapi_app) as client:
        bundle = client.get("/docs/static/swagger-ui-bundle.js")
        assert bundle.status_code == 200
        assert b"SwaggerUIBundle" in bundle.content


@pytest.mark.parametrize(
    ("target", "page", "expected"),
    [
        ("/openapi.json", "/docs", "./openapi.json"),
        ("/docs/static", "/docs", "./docs/static"),
        ("/docs/static", "/docs/", "./static"),
        ("/openapi.json", "/api/v1/docs/", "../../../openapi.json"),
        ("/api/openapi.json", "/api/docs", "./openapi.json"),
        ("/a:b.json", "/docs", "./a:b.json"),
    ],
)
def test_relative_urls_survive_a_mount_prefix(target: str, page: str, expected: str) -> None:
    assert relative_url(target, page) == expected


def test_page_escapes_what_it_embeds() -> None:
    page = render_page(
        title="</title><script>",
        document_url="./x</script>.json",
        assets_url="./static",
        reads_openapi_31=True,
    )
    assert "</title><script>" not in page
    assert "x</script>.json" not in page
    assert "x\\u003c/script\\u003e.json" in page


@pytest.mark.parametrize(("args", "version"), [((), "3.1.0"), (("--version", "3.0"), "3.0.3")])
def test_cli_prints_either_version(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], version: str
) -> None:
    status = cli.main(["openapi", *args, "benchmarks.app:app"])
    out = capsys.readouterr().out
    assert status == 0
    document = json.loads(out)
    assert document["openapi"] == version
    assert document == reference_app.openapi("3.0" if args else "3.1")
