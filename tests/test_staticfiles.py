"""StaticFiles in both modes: types, validators, conditional and range requests, no escapes."""

from __future__ import annotations

import asyncio
import calendar
import os
import re
import stat
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duoweb import App, HTTPError, Request, Response
from duoweb.staticfiles import (
    DEFAULT_MEDIA_TYPES,
    FileChangedError,
    StaticFiles,
    parse_http_date,
    parse_range,
)
from duoweb.testing import TestClient
from tests.conftest import MakeClient

SECRET = b"TOP-SECRET-7f3a9c"
BIG = bytes(range(256)) * 800  # 204800 bytes: several 64 KiB chunks
APP_JS = b"console.log('duoweb');\n"

FILES: dict[str, bytes] = {
    "index.html": b"<!doctype html><title>home</title>",
    "app.js": APP_JS,
    "module.mjs": b"export const x = 1;\n",
    "site.css": b"body { color: #333 }\n",
    "data.json": b'{"ok": true}',
    "logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    "code.wasm": b"\0asm\x01\0\0\0",
    "notes.txt": b"plain text\n",
    "report.csv": b"a,b\n1,2\n",
    "photo.png": b"\x89PNG\r\n\x1a\n",
    "archive.tar.gz": b"\x1f\x8b\x08\0",
    "blob.unknownext": b"???",
    "noextension": b"raw",
    "big.bin": BIG,
    "empty.txt": b"",
    "a b.txt": b"spaces",
    "caf\u00e9.txt": b"unicode name",
    ".env": b"DOTFILE",
    "docs/index.html": b"<h1>docs</h1>",
    "docs/guide.html": b"<h1>guide</h1>",
    "noindex/file.txt": b"in a directory without index",
    "404.html": b"<h1>custom not found</h1>",
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A served directory with a secret beside it and hostile entries inside it."""
    root = tmp_path / "site"
    for name, content in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    # A sibling whose name starts with the directory's: a naive startswith() check lets it in.
    (tmp_path / "site-private").mkdir()
    (tmp_path / "site-private" / "key.txt").write_bytes(SECRET)
    (root / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (root / "leak-relative.txt").symlink_to(Path("..") / "secret.txt")
    (root / "leakdir").symlink_to(tmp_path / "site-private", target_is_directory=True)
    (root / "etc").symlink_to("/etc", target_is_directory=True)
    (root / "alias.js").symlink_to("app.js")  # stays inside: served
    (root / "docs-alias").symlink_to("docs", target_is_directory=True)
    (root / "loop").symlink_to("loop")
    (root / "null").symlink_to("/dev/null")
    os.mkfifo(root / "pipe")
    return root


def make_app(directory: Path, **options: Any) -> App:
    app = App()
    StaticFiles(directory, **options).mount(app, "/static", name="static")
    return app


def raw_get(client: TestClient, raw: bytes, **kwargs: Any) -> httpx.Response:
    """GET a literal path, bypassing httpx's normalization of the URL."""
    return client.get("/", extensions={"raw_path": raw}, **kwargs)


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, (response.status_code, response.content[:200])
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert SECRET not in response.content


# --- serving -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("module.mjs", "text/javascript; charset=utf-8"),
        ("site.css", "text/css; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("report.csv", "text/csv; charset=utf-8"),
        ("data.json", "application/json"),
        ("logo.svg", "image/svg+xml"),
        ("code.wasm", "application/wasm"),
        ("photo.png", "image/png"),
        ("archive.tar.gz", "application/gzip"),
        ("blob.unknownext", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
    ],
)
def test_serves_files_with_their_media_type(
    make_client: MakeClient, site: Path, name: str, media_type: str
) -> None:
    with make_client(make_app(site)) as client:
        response = client.get(f"/static/{quote(name)}")
    assert response.status_code == 200
    assert response.content == FILES[name]
    assert response.headers["content-type"] == media_type
    assert response.headers["content-length"] == str(len(FILES[name]))


def test_headers_of_a_full_response(make_client: MakeClient, site: Path) -> None:
    info = (site / "app.js").stat()
    with make_client(make_app(site)) as client:
        response = client.get("/static/app.js")
    headers = response.headers
    assert headers["etag"] == f'"{info.st_size:x}-{info.st_mtime_ns:x}"'  # strong
    assert headers["last-modified"] == formatdate(int(info.st_mtime), usegmt=True)
    assert headers["accept-ranges"] == "bytes"
    assert headers["cache-control"] == "no-cache"
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-disposition" not in headers


def test_etag_changes_with_the_file(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site)) as client:
        before = client.get("/static/notes.txt").headers["etag"]
        (site / "notes.txt").write_bytes(b"changed, and longer\n")
        after = client.get("/static/notes.txt")
    assert after.headers["etag"] != before
    assert after.content == b"changed, and longer\n"


def test_large_file_in_several_chunks(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site)) as client:
        response = client.get("/static/big.bin")
    assert response.content == BIG


def test_unicode_and_space_names(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site)) as client:
        assert client.get("/static/caf%C3%A9.txt").content == b"unicode name"
        assert client.get("/static/a%20b.txt").content == b"spaces"


def test_head_has_the_headers_and_no_body(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site)) as client:
        get = client.get("/static/big.bin")
        head = client.head("/static/big.bin")
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-length", "content-type", "etag", "last-modified", "accept-ranges"):
        assert head.headers[name] == get.headers[name]


def test_only_get_and_head(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site)) as client:
        response = client.post("/static/app.js")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


def test_route_name_and_openapi(site: Path) -> None:
    app = make_app(site)
    assert app.url_for("static", path="docs/guide.html") == "/static/docs/guide.html"
    assert app.url_for("static", path="a b.txt") == "/static/a%20b.txt"
    assert not any(path.startswith("/static") for path in app.openapi()["paths"])


def test_wsgi_compliance(site: Path) -> None:
    with TestClient(make_app(site), "wsgi", validate_wsgi=True) as client:
        assert client.get("/static/big.bin").content == BIG
        assert client.get("/static/app.js", headers={"range": "bytes=0-6"}).content == b"console"
        assert client.head("/static/app.js").content == b""
        assert client.get("/static/app.js", headers={"if-none-match": "*"}).status_code == 304
        assert client.get("/static/missing").status_code == 404


# --- directories -----------------------------------------------------------------------------


def test_directories_serve_their_index(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site)) as client:
        root = client.get("/static/")
        assert root.content == FILES["index.html"]
        assert root.headers["content-type"] == "text/html; charset=utf-8"
        assert client.get("/static/docs/").content == FILES["docs/index.html"]
        assert client.get("/static/docs-alias/").content == FILES["docs/index.html"]


def test_a_directory_without_slash_redirects(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site)) as client:
        docs = client.get("/static/docs", follow_redirects=False)
        assert docs.status_code == 307
        assert docs.headers["location"] == "./docs/"
        assert client.get("/static/docs?v=2").headers["location"] == "./docs/?v=2"
        mount_point = client.get("/static", follow_redirects=False)
        assert mount_point.headers["location"] == "./static/"
        followed = client.get("/static/docs", follow_redirects=True)
        assert followed.content == FILES["docs/index.html"]
        assert str(followed.url) == "http://testserver/static/docs/"


@pytest.mark.parametrize("path", ["/static/noindex", "/static/noindex/", "/static/app.js/"])
def test_directories_without_index_and_files_with_slash(
    make_client: MakeClient, site: Path, path: str
) -> None:
    with make_client(make_app(site)) as client:
        assert_not_found(client.get(path))


def test_index_none_turns_directories_off(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site, index=None)) as client:
        assert_not_found(client.get("/static/"))
        assert_not_found(client.get("/static/docs/"))
        assert_not_found(client.get("/static/docs"))
        assert client.get("/static").status_code == 404  # no redirect route either
        assert client.get("/static/docs/index.html").content == FILES["docs/index.html"]


def test_custom_index_name(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site, index="guide.html")) as client:
        assert client.get("/static/docs/").content == FILES["docs/guide.html"]
        assert_not_found(client.get("/static/"))


# --- conditional requests (RFC 9110 §13) ----------------------------------------------------


@pytest.fixture
def validators(site: Path) -> tuple[str, str]:
    info = (site / "app.js").stat()
    return f'"{info.st_size:x}-{info.st_mtime_ns:x}"', formatdate(info.st_mtime, usegmt=True)


def _assert_not_modified(response: httpx.Response, etag: str) -> None:
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "last-modified" in response.headers
    assert response.headers["cache-control"] == "no-cache"
    assert "content-length" not in response.headers
    assert "content-type" not in response.headers


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"other", {etag}', '"a,b" ,W/{etag} , "c"', "*", " * "],
)
def test_if_none_match_hits(
    make_client: MakeClient, site: Path, validators: tuple[str, str], if_none_match: str
) -> None:
    etag, _ = validators
    with make_client(make_app(site)) as client:
        for method in ("GET", "HEAD"):
            headers = {"if-none-match": if_none_match.format(etag=etag)}
            _assert_not_modified(client.request(method, "/static/app.js", headers=headers), etag)


@pytest.mark.parametrize("if_none_match", ['"other"', 'W/"other"', "garbage", '"", ""'])
def test_if_none_match_misses(make_client: MakeClient, site: Path, if_none_match: str) -> None:
    with make_client(make_app(site)) as client:
        response = client.get("/static/app.js", headers={"if-none-match": if_none_match})
    assert response.status_code == 200
    assert response.content == APP_JS


def test_if_none_match_takes_precedence_over_if_modified_since(
    make_client: MakeClient, site: Path, validators: tuple[str, str]
) -> None:
    _, last_modified = validators
    with make_client(make_app(site)) as client:
        response = client.get(
            "/static/app.js",
            headers={"if-none-match": '"stale"', "if-modified-since": last_modified},
        )
    assert response.status_code == 200


def test_if_modified_since(
    make_client: MakeClient, site: Path, validators: tuple[str, str]
) -> None:
    etag, last_modified = validators
    mtime = int((site / "app.js").stat().st_mtime)
    rfc850 = "Sunday, 06-Nov-94 08:49:37 GMT"
    with make_client(make_app(site)) as client:

        def status(value: str) -> int:
            return client.get("/static/app.js", headers={"if-modified-since": value}).status_code

        _assert_not_modified(
            client.get("/static/app.js", headers={"if-modified-since": last_modified}), etag
        )
        assert status(formatdate(mtime + 3600, usegmt=True)) == 304
        assert status(formatdate(mtime - 1, usegmt=True)) == 200
        assert status(rfc850) == 200  # 1994: older than the file
        assert status("not a date") == 200
        assert status(f"{last_modified}, {last_modified}") == 200  # two members: ignored
        os.utime(site / "app.js", (0, 0))  # 1970
        assert status("Sun Nov  6 08:49:37 1994") == 304  # asctime form
        assert status(rfc850) == 304


def test_if_match_and_if_unmodified_since(
    make_client: MakeClient, site: Path, validators: tuple[str, str]
) -> None:
    etag, last_modified = validators
    with make_client(make_app(site)) as client:

        def get(**headers: str) -> httpx.Response:
            fields = {name.replace("_", "-"): value for name, value in headers.items()}
            return client.get("/static/app.js", headers=fields)

        assert get(if_match=etag).status_code == 200
        assert get(if_match="*").status_code == 200
        failed = get(if_match='"other"')
        assert failed.status_code == 412
        assert failed.headers["content-type"] == "application/problem+json"
        assert get(if_match=f"W/{etag}").status_code == 412  # If-Match compares strongly
        assert get(if_unmodified_since=last_modified).status_code == 200
        old = "Sun, 06 Nov 1994 08:49:37 GMT"
        assert get(if_unmodified_since=old).status_code == 412
        # If-Match wins over If-Unmodified-Since.
        both = client.get("/static/app.js", headers={"if-match": etag, "if-unmodified-since": old})
        assert both.status_code == 200


# --- ranges (RFC 9110 §14) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-6", 0, 7),
        ("bytes=8-", 8, len(APP_JS)),
        ("bytes=-4", len(APP_JS) - 4, len(APP_JS)),
        ("bytes=-1000", 0, len(APP_JS)),
        ("bytes=3-1000", 3, len(APP_JS)),
        ("bytes=0-0", 0, 1),
        ("Bytes=2-3", 2, 4),
        ("bytes= 2-3 ,", 2, 4),
        ("bytes=2-3, 500-600", 2, 4),  # only one satisfiable range: a single part
        ("bytes=00000000000000000000000000002-3", 2, 4),
    ],
)
def test_single_ranges(
    make_client: MakeClient, site: Path, header: str, start: int, stop: int
) -> None:
    with make_client(make_app(site)) as client:
        response = client.get("/static/app.js", headers={"range": header})
    assert response.status_code == 206
    assert response.content == APP_JS[start:stop]
    assert response.headers["content-range"] == f"bytes {start}-{stop - 1}/{len(APP_JS)}"
    assert response.headers["content-length"] == str(stop - start)
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "etag" in response.headers


def test_ranges_across_chunks(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site)) as client:
        response = client.get("/static/big.bin", headers={"range": "bytes=1000-150000"})
        suffix = client.get("/static/big.bin", headers={"range": "bytes=-70000"})
    assert response.content == BIG[1000:150001]
    assert suffix.content == BIG[-70000:]


@pytest.mark.parametrize(
    "header", ["bytes=100-", "bytes=-0", "bytes=100-200, 300-", f"bytes={'9' * 50}-"]
)
def test_unsatisfiable_ranges(make_client: MakeClient, site: Path, header: str) -> None:
    with make_client(make_app(site)) as client:
        response = client.get("/static/app.js", headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(APP_JS)}"
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "header",
    [
        "bytes=5-2",  # last before first: invalid, so ignored
        "bytes=abc",
        "bytes=1-2-3",
        "bytes=",
        "bytes",
        "items=0-1",
        "bytes=٣-٤",  # non-ASCII digits are not digits here
        "bytes=0-1,4-5",  # several ranges: the whole file, not multipart/byteranges
        "bytes=0-1,0-1,0-1",
    ],
)
def test_ignored_ranges_send_the_whole_file(
    make_client: MakeClient, site: Path, header: str
) -> None:
    with make_client(make_app(site)) as client:
        response = client.get("/static/app.js", headers={b"range": header.encode()})
    assert response.status_code == 200
    assert response.content == APP_JS
    assert "content-range" not in response.headers


def test_head_and_empty_files_ignore_range(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site)) as client:
        head = client.head("/static/app.js", headers={"range": "bytes=0-1"})
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(APP_JS))
        empty = client.get("/static/empty.txt", headers={"range": "bytes=-5"})
        assert empty.status_code == 200
        assert empty.content == b""


def test_if_range(make_client: MakeClient, site: Path, validators: tuple[str, str]) -> None:
    etag, last_modified = validators
    with make_client(make_app(site)) as client:

        def status(if_range: str) -> int:
            headers = {"range": "bytes=0-3", "if-range": if_range}
            return client.get("/static/app.js", headers=headers).status_code

        assert status(etag) == 206
        assert status(last_modified) == 206
        assert status('"stale"') == 200
        assert status(f"W/{etag}") == 200  # a weak tag never matches If-Range
        assert status("Sun, 06 Nov 1994 08:49:37 GMT") == 200
        assert status("nonsense") == 200
        # If-Range without Range changes nothing.
        alone = client.get("/static/app.js", headers={"if-range": '"stale"'})
        assert alone.status_code == 200


def test_conditional_before_range(
    make_client: MakeClient, site: Path, validators: tuple[str, str]
) -> None:
    etag, _ = validators
    with make_client(make_app(site)) as client:
        response = client.get(
            "/static/app.js", headers={"range": "bytes=0-1", "if-none-match": etag}
        )
    assert response.status_code == 304


# --- no way out ------------------------------------------------------------------------------

ESCAPES = [
    b"/static/../secret.txt",
    b"/static/docs/../../secret.txt",
    b"/static/./app.js",
    b"/static/docs/./index.html",
    b"/static/%2e%2e/secret.txt",
    b"/static/%2E%2E/secret.txt",
    b"/static/.%2e/secret.txt",
    b"/static/docs/%2e%2e%2f%2e%2e%2fsecret.txt",
    b"/static/%2e%2e%2fsecret.txt",
    b"/static/..%2fsecret.txt",
    b"/static/..%5csecret.txt",
    b"/static/..\\secret.txt",
    b"/static/docs\\..\\..\\secret.txt",
    b"/static//etc/passwd",
    b"/static/%2fetc%2fpasswd",
    b"/static///etc/passwd",
    b"/static/docs//index.html",
    b"/static/C:%5cWindows%5cwin.ini",
    b"/static/app.js%00.png",
    b"/static/%00",
    b"/static/leak.txt",
    b"/static/leak-relative.txt",
    b"/static/leakdir/key.txt",
    b"/static/leakdir/",
    b"/static/etc/passwd",
    b"/static/etc/",
    b"/static/../site-private/key.txt",
    b"/static/loop",
    b"/static/loop/x",
    b"/static/pipe",
    b"/static/null",
    b"/static/.env",
    b"/static/%2eenv",
    b"/static/%ef%bc%8e%ef%bc%8e/secret.txt",  # fullwidth full stops (NFKC: "..")
    b"/static/%ef%bc%8e%ef%bc%8e%ef%bc%8fsecret.txt",  # ...and a fullwidth solidus
    b"/static/%e2%80%a5/secret.txt",  # two dot leader
    b"/static/%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 dots
    b"/static/%e2%88%95etc%e2%88%95passwd",  # division slash
    b"/static/%ff%fe",
    b"/static/" + b"a" * 300,
    b"/static/" + b"a" * 300 + b"/x",
    b"/static/" + b"d/" * 3000 + b"x",
    b"/static/missing.txt",
]


@pytest.mark.parametrize("raw", ESCAPES, ids=lambda raw: raw.decode("latin-1")[:60])
def test_no_way_out(make_client: MakeClient, site: Path, raw: bytes) -> None:
    with make_client(make_app(site)) as client:
        assert_not_found(raw_get(client, raw))
        assert_not_found(raw_get(client, raw, headers={"range": "bytes=0-3"}))


def test_symlinks_inside_the_directory_are_served(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site)) as client:
        response = client.get("/static/alias.js")
    assert response.content == APP_JS
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"


def test_follow_symlinks_opens_links_to_anywhere_but_not_the_path(
    make_client: MakeClient, site: Path
) -> None:
    with make_client(make_app(site, follow_symlinks=True)) as client:
        assert client.get("/static/leak.txt").content == SECRET  # the operator's own link
        assert client.get("/static/leakdir/key.txt").content == SECRET
        assert_not_found(raw_get(client, b"/static/../secret.txt"))
        assert_not_found(raw_get(client, b"/static/%2e%2e/secret.txt"))
        assert_not_found(client.get("/static/null"))  # a device, not a regular file
        assert_not_found(client.get("/static/pipe"))


def test_a_symlinked_directory_is_resolved_once(tmp_path: Path, site: Path) -> None:
    link = tmp_path / "current"
    link.symlink_to(site, target_is_directory=True)
    files = StaticFiles(link)
    assert files.directory == str(site)


def test_device_files_are_not_served(make_client: MakeClient, site: Path) -> None:
    try:
        os.mknod(site / "device", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here: {exc}")
    with make_client(make_app(site)) as client:
        assert_not_found(client.get("/static/device"))


def test_unreadable_file_is_403_not_500(
    make_client: MakeClient, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (site / "locked.txt").write_bytes(b"locked")
    real_open = os.open

    def deny(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    with make_client(make_app(site)) as client:
        response = client.get("/static/locked.txt")
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert str(site) not in response.text


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_and_directory_with_real_permissions(
    make_client: MakeClient, site: Path
) -> None:
    (site / "locked.txt").write_bytes(b"locked")
    (site / "locked.txt").chmod(0)
    (site / "closed").mkdir()
    (site / "closed" / "x.txt").write_bytes(b"x")
    (site / "closed").chmod(0)
    try:
        with make_client(make_app(site)) as client:
            assert client.get("/static/locked.txt").status_code == 403
            assert client.get("/static/closed/x.txt").status_code in (403, 404)
    finally:
        (site / "closed").chmod(0o755)


def test_dotfiles_option(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site, dotfiles=True)) as client:
        assert client.get("/static/.env").content == b"DOTFILE"
        assert_not_found(raw_get(client, b"/static/../secret.txt"))
        assert_not_found(raw_get(client, b"/static/./app.js"))


# --- options -----------------------------------------------------------------------------------


def test_html_mode_answers_misses_with_404_html(make_client: MakeClient, site: Path) -> None:
    with make_client(make_app(site, html=True)) as client:
        for raw in (b"/static/missing", b"/static/../secret.txt", b"/static/leak.txt"):
            response = raw_get(client, raw)
            assert response.status_code == 404
            assert response.content == FILES["404.html"]
            assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert client.get("/static/app.js").content == APP_JS


def test_html_mode_without_404_html(make_client: MakeClient, site: Path) -> None:
    (site / "404.html").unlink()
    with make_client(make_app(site, html=True)) as client:
        assert_not_found(client.get("/static/missing"))


def test_cache_control_options(make_client: MakeClient, site: Path) -> None:
    def policy(path: str) -> str | None:
        return "public, max-age=31536000, immutable" if path.endswith(".js") else None

    app = App()
    StaticFiles(site, cache_control=policy).mount(app, "/assets", name="assets")
    StaticFiles(site, cache_control=None).mount(app, "/plain", name="plain")
    with make_client(app) as client:
        assert client.get("/assets/app.js").headers["cache-control"].endswith("immutable")
        assert "cache-control" not in client.get("/assets/site.css").headers
        assert "cache-control" not in client.get("/plain/app.js").headers
        index = client.get("/assets/docs/")
        assert "cache-control" not in index.headers  # the policy saw "docs/index.html"


def test_media_type_overrides(make_client: MakeClient, site: Path) -> None:
    options = {"media_types": {".CSV": "text/csv; charset=latin-1", ".unknownext": "x/y"}}
    with make_client(make_app(site, **options)) as client:
        assert client.get("/static/report.csv").headers["content-type"] == (
            "text/csv; charset=latin-1"
        )
        assert client.get("/static/blob.unknownext").headers["content-type"] == "x/y"
    assert DEFAULT_MEDIA_TYPES[".js"] == "text/javascript"  # defaults are untouched


def test_mount_at_the_root_keeps_other_routes(make_client: MakeClient, site: Path) -> None:
    app = App()

    @app.get("/api/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    StaticFiles(site).mount(app, "/", name="site")
    with make_client(app) as client:
        assert client.get("/api/health").json() == {"ok": True}
        assert client.get("/").content == FILES["index.html"]
        assert client.get("/app.js").content == APP_JS
        assert_not_found(raw_get(client, b"/../secret.txt"))
        assert_not_found(raw_get(client, b"//etc/passwd"))
    assert app.url_for("site", path="app.js") == "/app.js"


def test_serve_from_your_own_handler(make_client: MakeClient, site: Path) -> None:
    app = App()
    files = StaticFiles(site, index=None)

    @app.get("/private/{path:path}")
    async def private(request: Request, path: str) -> Response:
        if request.headers.get("authorization") != "Bearer ok":
            raise HTTPError(401, "Sign in first.")
        return files.serve(request, path)

    with make_client(app) as client:
        assert client.get("/private/app.js").status_code == 401
        ok = client.get("/private/app.js", headers={"authorization": "Bearer ok"})
        assert ok.content == APP_JS


def test_configuration_errors(tmp_path: Path, site: Path) -> None:
    with pytest.raises(NotADirectoryError):
        StaticFiles(tmp_path / "missing")
    with pytest.raises(NotADirectoryError):
        StaticFiles(site / "app.js")
    for index in ("", "..", "a/b", "x\0"):
        with pytest.raises(ValueError, match="index"):
            StaticFiles(site, index=index)
    with pytest.raises(ValueError, match="cache-control"):
        StaticFiles(site, cache_control="no-cache\r\nx-evil: 1")
    with pytest.raises(ValueError, match="chunk_size"):
        StaticFiles(site, chunk_size=0)
    for prefix in ("static", "/static/", "/{x}", ""):
        with pytest.raises(ValueError, match="prefix"):
            StaticFiles(site).mount(App(), prefix)


# --- the body is read from the file that was checked -----------------------------------------


def _wsgi_environ(path: str, **extra: Any) -> dict[str, Any]:
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", **extra}


def test_a_file_replaced_after_the_checks_is_not_sent(site: Path) -> None:
    app = make_app(site)
    started: list[str] = []
    body = app.wsgi(_wsgi_environ("/static/app.js"), lambda s, h, e=None: started.append(s))
    assert started == ["200 OK"]
    # Same size and mtime, but another file (another inode): an atomic replace.
    info = (site / "app.js").stat()
    (site / "other.js").write_bytes(b"X" * len(APP_JS))
    os.utime(site / "other.js", ns=(info.st_atime_ns, info.st_mtime_ns))
    os.replace(site / "other.js", site / "app.js")
    with pytest.raises(FileChangedError):
        b"".join(body)
    close = getattr(body, "close", None)
    if close is not None:
        close()


def test_a_file_swapped_for_a_symlink_is_not_followed(tmp_path: Path, site: Path) -> None:
    app = make_app(site)
    body = app.wsgi(_wsgi_environ("/static/notes.txt"), lambda s, h, e=None: None)
    (site / "notes.txt").unlink()
    (site / "notes.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(OSError, match=r"(?i)symbolic|loop|link"):
        b"".join(body)


def test_the_file_handed_to_wsgi_file_wrapper_is_checked_too(tmp_path: Path, site: Path) -> None:
    app = make_app(site)

    def file_wrapper(file: Any, block_size: int) -> list[bytes]:
        with file:
            return [file.read()]

    environ = _wsgi_environ("/static/notes.txt", **{"wsgi.file_wrapper": file_wrapper})
    # Same size, so that the whole file still goes to the server's file_wrapper.
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"X" * len(FILES["notes.txt"]))

    # The check happens in the handler; a middleware swaps the file before the adapter opens it.
    @app.middleware
    def swap_after(request: Request, call_next: Callable[[Request], Response]) -> Response:
        response = call_next(request)
        (site / "notes.txt").unlink()
        (site / "notes.txt").symlink_to(outside)
        return response

    with pytest.raises(OSError, match=r"(?i)symbolic|loop|link"):
        b"".join(app.wsgi(environ, lambda s, h, e=None: None))


def test_wsgi_file_wrapper_and_asgi_pathsend_get_the_resolved_path(site: Path) -> None:
    app = make_app(site)
    wrapped: list[tuple[int, int]] = []

    def file_wrapper(file: Any, block_size: int) -> list[bytes]:
        info = os.fstat(file.fileno())
        wrapped.append((info.st_dev, info.st_ino))
        with file:
            return [file.read()]

    environ = _wsgi_environ("/static/alias.js", **{"wsgi.file_wrapper": file_wrapper})
    assert b"".join(app.wsgi(environ, lambda s, h, e=None: None)) == APP_JS
    target = (site / "app.js").stat()
    assert wrapped == [(target.st_dev, target.st_ino)]
    partial = _wsgi_environ(
        "/static/big.bin", HTTP_RANGE="bytes=10-19", **{"wsgi.file_wrapper": file_wrapper}
    )
    assert b"".join(app.wsgi(partial, lambda s, h, e=None: None)) == BIG[10:20]
    assert len(wrapped) == 1  # a range is read by duoweb, not handed to the server

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/static/alias.js",
        "query_string": b"",
        "headers": [],
        "extensions": {"http.response.pathsend": {}},
    }
    asyncio.run(app.asgi(scope, receive, send))
    assert sent[1] == {"type": "http.response.pathsend", "path": str(site / "app.js")}


# --- parsers -----------------------------------------------------------------------------------


def test_parse_range() -> None:
    assert parse_range("bytes=0-9", 100) == [(0, 10)]
    assert parse_range("bytes=90-", 100) == [(90, 100)]
    assert parse_range("bytes=-10", 100) == [(90, 100)]
    assert parse_range("bytes=0-9,20-29", 100) == [(0, 10), (20, 30)]
    assert parse_range("bytes=200-300", 100) == []
    assert parse_range("bytes=-0", 100) == []
    assert parse_range("bytes=9-0", 100) is None
    assert parse_range("bytes=,", 100) is None
    assert parse_range("pages=1-2", 100) is None
    assert parse_range("bytes=0-", 0) is None
    assert parse_range("bytes=" + "1" * 5000 + "-", 100) == []  # no int() of 5000 digits


def test_parse_http_date() -> None:
    expected = 784111777
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == expected
    # RFC 9110: a two-digit year more than 50 years in the future is in the past.
    assert parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT", now=0) == 0
    in_2040 = calendar.timegm((2040, 1, 1, 0, 0, 0))
    in_2065 = calendar.timegm((2065, 1, 1, 0, 0, 0))
    in_2099 = calendar.timegm((2099, 1, 1, 0, 0, 0))
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now=in_2040) == expected
    assert parse_http_date("Saturday, 06-Nov-94 08:49:37 GMT", now=in_2065) == calendar.timegm(
        (2094, 11, 6, 8, 49, 37)
    )
    assert parse_http_date("Monday, 01-Jan-05 00:00:00 GMT", now=in_2099) == calendar.timegm(
        (2105, 1, 1, 0, 0, 0)
    )
    for bad in (
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, ٠٦ Nov 1994 08:49:37 GMT",
        "",
        "1994-11-06T08:49:37Z",
    ):
        assert parse_http_date(bad) is None


# --- property: nothing from outside, never a 5xx ----------------------------------------------

# Whole segments that name something interesting, and fragments that build hostile ones.
_NAMES = [
    "..",
    ".",
    "",
    "secret.txt",
    "site",
    "site-private",
    "key.txt",
    "index.html",
    "app.js",
    "docs",
    "leak.txt",
    "leak-relative.txt",
    "leakdir",
    "etc",
    "passwd",
    "loop",
    "pipe",
    "null",
    ".env",
]
_FRAGMENTS = [
    "..",
    ".",
    "/",
    "%2e",
    "%2E",
    "%2f",
    "%2F",
    "%5c",
    "\\",
    "%00",
    "%",
    "%c0%ae",
    "%ef%bc%8e",
    "%e2%88%95",
    "%ff",
    "?",
    "#",
    ";",
    "~",
]
_SEGMENTS = st.one_of(
    st.sampled_from(_NAMES),
    st.lists(st.one_of(st.sampled_from(_FRAGMENTS + _NAMES), st.text(max_size=4)), max_size=4).map(
        "".join
    ),
)
_PATHS = st.lists(_SEGMENTS, max_size=8).map(
    lambda segments: "/".join(segments).encode("utf-8", "surrogatepass")
)
_RANGES = st.one_of(
    st.none(),
    st.text(alphabet="bytes=0123456789-, ", max_size=16),
    st.sampled_from(["bytes=0-3", "bytes=-2", "bytes=0-", "bytes=99999-"]),
)


def _served_bytes(root: Path) -> list[bytes]:
    """The content of every regular file that is really inside ``root``."""
    inside = str(root.resolve())
    found = []
    for path in root.rglob("*"):
        real = os.path.realpath(path)
        if os.path.commonpath((inside, real)) == inside and os.path.isfile(real):
            found.append(Path(real).read_bytes())
    return found


def test_property_no_path_escapes_or_errors(make_client: MakeClient, site: Path) -> None:
    allowed = _served_bytes(site)
    assert SECRET not in b"".join(allowed)

    with make_client(make_app(site)) as client:

        @settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        )
        @given(raw=_PATHS, range_header=_RANGES)
        def check(raw: bytes, range_header: str | None) -> None:
            headers = {} if range_header is None else {"range": range_header}
            response = raw_get(client, b"/static/" + raw, headers=headers)
            assert response.status_code < 500, (raw, response.text)
            assert SECRET not in response.content
            if response.status_code in (200, 206):
                assert any(response.content in content for content in allowed), raw
            elif response.status_code == 404:
                assert response.headers["content-type"] == "application/problem+json"
            else:
                assert response.status_code in (304, 307, 405, 416), response.status_code

        check()


# --- the documentation's examples ------------------------------------------------------------

DOC = Path(__file__).resolve().parent.parent / "docs" / "static-files.md"


def _doc_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


@pytest.fixture
def doc_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directories the documentation's examples serve, in the working directory."""
    for name, content in {
        "static/css/site.css": b"body { margin: 0 }\n",
        "static/index.html": b"<h1>home</h1>",
        "public/index.html": b"<h1>public</h1>",
        "public/404.html": b"<h1>lost</h1>",
        "public/assets/app.3f9c2b.js": b"console.log(1)\n",
        "public/scene.gltf": b"{}",
        "reports/2024-q1.csv": b"quarter,total\nq1,10\n",
    }.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_documentation_has_the_examples_these_tests_run() -> None:
    assert len(_doc_blocks()) == 4


def test_doc_quick_start_and_client_example(make_client: MakeClient, doc_tree: Path) -> None:
    quick_start, _, _, client_example = _doc_blocks()
    namespace: dict[str, Any] = {}
    exec(quick_start, namespace)
    exec(client_example, namespace)  # runs its own asserts under WSGI
    with make_client(namespace["app"]) as client:
        assert client.get("/static/css/site.css").content == b"body { margin: 0 }\n"
        assert client.get("/static/").content == b"<h1>home</h1>"


def test_doc_site_example(make_client: MakeClient, doc_tree: Path) -> None:
    namespace: dict[str, Any] = {}
    exec(_doc_blocks()[1], namespace)
    with make_client(namespace["app"]) as client:
        assert client.get("/").content == b"<h1>public</h1>"
        asset = client.get("/assets/app.3f9c2b.js")
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert client.get("/").headers["cache-control"] == "no-cache"
        assert client.get("/scene.gltf").headers["content-type"] == "model/gltf+json"
        missing = client.get("/nowhere")
        assert (missing.status_code, missing.content) == (404, b"<h1>lost</h1>")
        assert client.get("/openapi.json").status_code == 200  # other routes still win


def test_doc_private_files_example(make_client: MakeClient, doc_tree: Path) -> None:
    namespace: dict[str, Any] = {}
    exec(_doc_blocks()[2], namespace)
    with make_client(namespace["app"]) as client:
        denied = client.get("/reports/2024-q1.csv")
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"] == "Bearer"
        ok = client.get("/reports/2024-q1.csv", headers={"authorization": "Bearer let-me-in"})
        assert ok.content == b"quarter,total\nq1,10\n"
        assert ok.headers["cache-control"] == "private, no-cache"
