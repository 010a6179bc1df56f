"""Every kind of response passes the standard library's PEP 3333 validator."""

from __future__ import annotations

import warnings

import pytest

from benchmarks.app import app
from duoweb.testing import TestClient

REQUESTS = [
    ("GET", "/plaintext", None),
    ("GET", "/json", None),
    ("HEAD", "/json", None),
    ("GET", "/api/v1/r7/9", None),
    ("GET", "/search?q=x", None),
    ("GET", "/search", None),
    ("POST", "/items", b'{"name":"a","price":1}'),
    ("POST", "/items", b"{"),
    ("GET", "/missing", None),
    ("DELETE", "/json", None),
]


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
def test_wsgiref_validator_accepts_the_app(method: str, path: str, body: bytes | None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # wsgiref.validate reports problems as warnings too
        client = TestClient(app, "wsgi", validate_wsgi=True)
        headers = {"content-type": "application/json"} if body is not None else {}
        response = client.request(method, path, content=body, headers=headers)
    assert 200 <= response.status_code < 500
