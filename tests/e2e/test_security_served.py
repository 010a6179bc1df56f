"""Security schemes through real Gunicorn (sync workers) and Hypercorn over real HTTP.

The RS256 keys come from a JWKS document served on 127.0.0.1 by the test itself; the app
loads it at startup and reloads it when a token names a key it does not know yet.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pyjwt = pytest.importorskip("jwt", reason="duoweb.security.jwt needs PyJWT (duoweb[jwt])")
pytest.importorskip("cryptography", reason="RSA keys need PyJWT's crypto extra")

from tests.e2e.servers import serve  # noqa: E402
from tests.jwks_server import KeyServer, rsa_jwk  # noqa: E402

pytestmark = pytest.mark.e2e

TARGETS = [
    ("gunicorn", "tests.e2e.security_app:app"),
    ("hypercorn", "tests.e2e.security_app:app.asgi"),
]


@pytest.fixture(scope="module")
def keys() -> Iterator[tuple[KeyServer, list[tuple[Any, dict[str, Any]]]]]:
    pairs = [rsa_jwk("k1"), rsa_jwk("k2")]
    server = KeyServer()
    server.document = {"keys": [pairs[0][1]]}
    yield server, pairs
    server.close()


@pytest.fixture(scope="module", params=TARGETS, ids=[server for server, _ in TARGETS])
def base_url(
    request: pytest.FixtureRequest, keys: tuple[KeyServer, list[tuple[Any, dict[str, Any]]]]
) -> Iterator[str]:
    server, target = request.param
    with serve(server, target, workers=1, env={"JWKS_URL": keys[0].url}) as url:
        yield url


def login(base_url: str, user: str, password: str) -> dict[str, str]:
    answer = httpx.post(
        base_url + "/token",
        data={"grant_type": "password", "username": user, "password": password},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": "Bearer " + answer.json()["access_token"]}


def test_password_flow_and_scopes(base_url: str) -> None:
    ada = login(base_url, "ada", "lovelace")
    assert httpx.get(base_url + "/me", headers=ada).json() == {
        "user": "ada",
        "scope": "items:read admin",
    }
    assert httpx.get(base_url + "/me/async", headers=ada).json() == {"user": "ada"}
    assert httpx.delete(base_url + "/items", headers=ada).json() == {"wiped": True}
    bob = login(base_url, "bob", "builder")
    forbidden = httpx.delete(base_url + "/items", headers=bob)
    assert forbidden.status_code == 403
    assert forbidden.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="admin"'
    )
    wrong = httpx.post(base_url + "/token", data={"username": "bob", "password": "x"})
    assert wrong.status_code == 400
    missing = httpx.get(base_url + "/me")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.headers["content-type"] == "application/problem+json"


def test_bad_credentials_are_401_problems(base_url: str) -> None:
    expired = pyjwt.encode(
        {"sub": "ada", "exp": int(time.time()) - 60},
        "e2e-secret-that-is-long-enough-for-hs256-signatures-0123456789abcdef",
        algorithm="HS256",
    )
    cases = [
        ("/me", {"Authorization": f"Bearer {expired}"}, "The token has expired."),
        ("/me", {"Authorization": "Bearer x.y.z"}, "The token is malformed."),
        ("/basic", {"Authorization": "Basic !!"}, None),
        ("/basic", {"Authorization": "Basic " + base64.b64encode(b"\xff:x").decode()}, None),
        ("/basic", {"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()}, None),
        ("/key", {}, None),
    ]
    for path, headers, detail in cases:
        answer = httpx.get(base_url + path, headers=headers, timeout=10)
        assert answer.status_code == 401, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert "www-authenticate" in answer.headers
        if detail is not None:
            assert answer.json()["detail"] == detail
    good = "Basic " + base64.b64encode("zoë:pw".encode()).decode()
    assert httpx.get(base_url + "/basic", headers={"Authorization": good}).json() == "zoë"
    assert httpx.get(base_url + "/key", headers={"X-API-Key": "k-e2e-key"}).json() is True


def test_jwks_keys_rotate(
    base_url: str, keys: tuple[KeyServer, list[tuple[Any, dict[str, Any]]]]
) -> None:
    server, pairs = keys
    claims = {"sub": "carol", "exp": int(time.time()) + 60}
    first = pyjwt.encode(claims, pairs[0][0], algorithm="RS256", headers={"kid": "k1"})
    second = pyjwt.encode(claims, pairs[1][0], algorithm="RS256", headers={"kid": "k2"})
    assert httpx.get(base_url + "/rs", headers={"Authorization": f"Bearer {first}"}).json() == (
        "carol"
    )
    server.document = {"keys": [pairs[0][1]]}
    unknown = httpx.get(base_url + "/rs", headers={"Authorization": f"Bearer {second}"})
    assert unknown.status_code == 401
    server.document = {"keys": [pairs[0][1], pairs[1][1]]}  # the issuer rotates its keys
    rotated = httpx.get(base_url + "/rs", headers={"Authorization": f"Bearer {second}"})
    assert rotated.json() == "carol"
    server.document = {"keys": [pairs[0][1]]}


def test_the_document_declares_the_schemes(base_url: str) -> None:
    document = httpx.get(base_url + "/openapi.json").json()
    assert json.dumps(document["components"]["securitySchemes"], sort_keys=True) == json.dumps(
        {
            "APIKeyHeader": {"in": "header", "name": "X-API-Key", "type": "apiKey"},
            "HTTPBasic": {"scheme": "basic", "type": "http"},
            "HTTPBearer": {"bearerFormat": "JWT", "scheme": "bearer", "type": "http"},
            "OAuth2PasswordBearer": {
                "flows": {
                    "password": {
                        "scopes": {"admin": "Administer", "items:read": "Read items"},
                        "tokenUrl": "/token",
                    }
                },
                "type": "oauth2",
            },
        },
        sort_keys=True,
    )
    assert document["paths"]["/items"]["delete"]["security"] == [
        {"OAuth2PasswordBearer": ["admin"]}
    ]


def test_a_gated_route_checks_the_token_itself(base_url: str) -> None:
    ok = httpx.get(base_url + "/raw-token", headers={"Authorization": "bearer  t0k="}, timeout=10)
    assert (ok.status_code, ok.json()) == (200, "t0k=")
    missing = httpx.get(base_url + "/raw-token", timeout=10)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.headers["content-type"] == "application/problem+json"
    bad = httpx.get(base_url + "/raw-token", headers={"Authorization": "Bearer a,b"}, timeout=10)
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
