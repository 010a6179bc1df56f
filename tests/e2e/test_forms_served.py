"""Forms through real Gunicorn (sync workers) and Hypercorn over real HTTP: streamed uploads."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e

TARGETS = [("gunicorn", "tests.e2e.forms_app:app"), ("hypercorn", "tests.e2e.forms_app:app.asgi")]


@pytest.fixture(scope="module", params=TARGETS, ids=[server for server, _ in TARGETS])
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    server, target = request.param
    with serve(server, target, workers=1) as url:
        yield url


def test_a_large_upload_arrives_whole(base_url: str) -> None:
    content = bytes(range(256)) * (20 * 4096)  # 20 MiB, every byte value
    response = httpx.post(
        base_url + "/upload",
        data={"title": "big"},
        files={"file": ("big.bin", content, "application/octet-stream")},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "title": "big",
        "filename": "big.bin",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def test_a_chunked_upload_is_parsed_as_it_streams(base_url: str) -> None:
    boundary = "----e2eBoundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nchunked\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.txt"\r\n\r\n'
    ).encode()

    def body() -> Iterator[bytes]:  # no Content-Length: sent with Transfer-Encoding: chunked
        yield head
        for _ in range(64):
            yield b"x" * 1000
        yield f"\r\n--{boundary}--\r\n".encode()

    response = httpx.post(
        base_url + "/upload",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["size"] == 64_000


def test_urlencoded_login_and_malformed_bodies(base_url: str) -> None:
    login = httpx.post(base_url + "/login", data={"username": "ada", "password": "pw"}, timeout=10)
    assert login.json() == "ada:2"
    truncated = httpx.post(
        base_url + "/upload",
        content=b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx',
        headers={"content-type": "multipart/form-data; boundary=b"},
        timeout=10,
    )
    assert truncated.status_code == 400
    assert "final boundary" in truncated.json()["detail"]
    too_many = httpx.post(
        base_url + "/upload",
        data={"title": "t"},
        files=[("file", (f"{i}.txt", b"x")) for i in range(4)],
        timeout=10,
    )
    assert too_many.status_code == 413
