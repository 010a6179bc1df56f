"""duoweb.security.jwt: bearer JWTs verified with PyJWT, keys from a JWKS served on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

import pytest

pyjwt = pytest.importorskip("jwt", reason="duoweb.security.jwt needs PyJWT (duoweb[jwt])")
pytest.importorskip("cryptography", reason="RSA keys need PyJWT's crypto extra")

from cryptography.hazmat.primitives import serialization  # noqa: E402

from duoweb import App, Depends  # noqa: E402
from duoweb.security import OAuth2PasswordBearer, require_scope  # noqa: E402
from duoweb.security.jwt import JWKS, Claims, JWTBearer, encode_token  # noqa: E402
from tests.conftest import MakeClient  # noqa: E402
from tests.jwks_server import KeyServer, rsa_jwk  # noqa: E402

SECRET = "a-test-secret-that-is-long-enough-for-hs256-and-even-for-hs512-signatures"
ISSUER = "https://issuer.test"
AUDIENCE = "duoweb-tests"


@pytest.fixture(scope="module")
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def first_key() -> tuple[Any, dict[str, Any]]:
    return rsa_jwk("key-1")


def build_app(jwks: JWKS) -> App:
    app = App()
    hs = JWTBearer(key=SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER, leeway=30)
    rs = JWTBearer(jwks=jwks, algorithms=["RS256"], require=("exp", "sub"))
    oauth2 = OAuth2PasswordBearer(token_url="/token", auto_error=False)
    optional = JWTBearer(key=SECRET, algorithms=["HS256"], scheme=oauth2)

    @app.get("/hs")
    def hs_route(claims: Annotated[Claims, Depends(hs)]) -> str:
        return str(claims["sub"])

    @app.get("/hs/async")
    async def hs_async(claims: Annotated[Claims, Depends(hs)]) -> str:
        return str(claims["sub"])

    @app.get("/rs")
    async def rs_route(claims: Annotated[Claims, Depends(rs)]) -> str:
        return str(claims["sub"])

    @app.get("/optional")
    def optional_route(claims: Annotated[Claims | None, Depends(optional)]) -> str:
        return "anonymous" if claims is None else str(claims["sub"])

    @app.get("/admin")
    def admin(
        _: Annotated[None, Depends(require_scope("admin", granted=hs.scopes))],
        claims: Annotated[Claims, Depends(hs)],
    ) -> str:
        return str(claims["sub"])

    return app


def hs_token(**claims: Any) -> str:
    base = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 86_400}
    return pyjwt.encode({**base, **claims}, SECRET, algorithm="HS256")  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def app(key_server: KeyServer, first_key: tuple[Any, dict[str, Any]]) -> App:
    key_server.document = {"keys": [first_key[1]]}
    return build_app(JWKS.from_url(key_server.url, min_refresh_interval=0))


@pytest.mark.parametrize("path", ["/hs", "/hs/async"])
def test_valid_token(make_client: MakeClient, app: App, path: str) -> None:
    with make_client(app) as client:
        assert client.get(path, headers=bearer(hs_token())).json() == "alice"
        expired_within_leeway = hs_token(exp=int(time.time()) - 10)
        assert client.get(path, headers=bearer(expired_within_leeway)).json() == "alice"
        assert client.get(path, headers=bearer(hs_token(aud=[AUDIENCE, "x"]))).json() == "alice"


def hand_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """A JWT signed with HMAC-SHA256 by hand (PyJWT refuses to sign with a PEM key)."""
    claims = {"exp": NOW + 86_400, **claims}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any]) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


# Read at collection: tokens meant to be valid expire a day later, long after any suite run.
NOW = int(time.time())


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (hs_token(exp=NOW - 3600), "The token has expired."),
        (hs_token(nbf=NOW + 3600), "The token is not valid yet."),
        (hs_token(aud="someone-else"), "The token is not meant for this service (audience)."),
        (hs_token(iss="https://evil.test"), "The token was not issued by a trusted issuer."),
        (hs_token(exp=None), "The token lacks the 'exp' claim."),
        (
            pyjwt.encode({"sub": "a", "iss": ISSUER, "aud": AUDIENCE}, SECRET, algorithm="HS256"),
            "The token lacks the 'exp' claim.",
        ),
        (
            pyjwt.encode(
                {"sub": "a", "iss": ISSUER, "aud": AUDIENCE, "exp": NOW + 86_400},
                "another-secret-that-is-long-enough-for-hs256-and-for-hs512-signatures",
                algorithm="HS256",
            ),
            "The token signature is not valid.",
        ),
        (
            pyjwt.encode(
                {"sub": "a", "iss": ISSUER, "aud": AUDIENCE, "exp": NOW + 86_400},
                SECRET,
                algorithm="HS512",
            ),
            "The token is signed with an algorithm that is not accepted.",
        ),
        (unsigned({"sub": "a", "iss": ISSUER, "aud": AUDIENCE, "exp": NOW + 86_400}), None),
        ("abc.def.ghi", "The token is malformed."),
        ("abc", "The token is malformed."),
    ],
)
def test_bad_tokens_are_401(
    make_client: MakeClient, app: App, token: str, message: str | None
) -> None:
    with make_client(app) as client:
        answer = client.get("/hs", headers=bearer(token))
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    detail = answer.json()["detail"]
    if message is not None:
        assert detail == message
    assert SECRET not in answer.text
    assert "Traceback" not in answer.text


def test_missing_token_is_401(make_client: MakeClient, app: App) -> None:
    with make_client(app) as client:
        answer = client.get("/hs")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_optional_scheme_gives_none(make_client: MakeClient, app: App) -> None:
    with make_client(app) as client:
        assert client.get("/optional").json() == "anonymous"
        token = encode_token({"sub": "bob"}, SECRET, algorithm="HS256", expires_in=60)
        assert client.get("/optional", headers=bearer(token)).json() == "bob"


def test_scopes_from_the_token(make_client: MakeClient, app: App) -> None:
    with make_client(app) as client:
        admin = client.get("/admin", headers=bearer(hs_token(scope="read admin")))
        assert admin.json() == "alice"
        listed = client.get("/admin", headers=bearer(hs_token(scp=["admin"])))
        assert listed.json() == "alice"
        reader = client.get("/admin", headers=bearer(hs_token(scope="read")))
        assert reader.status_code == 403
        assert "insufficient_scope" in reader.headers["www-authenticate"]
        assert client.get("/admin").status_code == 401


def test_jwks_keys_and_rotation(
    make_client: MakeClient,
    key_server: KeyServer,
    first_key: tuple[Any, dict[str, Any]],
) -> None:
    key_server.document = {"keys": [first_key[1]]}
    jwks = JWKS.from_url(key_server.url, min_refresh_interval=0)
    app = build_app(jwks)
    private, _ = first_key
    signed = pyjwt.encode(
        {"sub": "carol", "exp": NOW + 86_400}, private, algorithm="RS256", headers={"kid": "key-1"}
    )
    second_private, second_public = rsa_jwk("key-2")
    rotated = pyjwt.encode(
        {"sub": "dave", "exp": NOW + 86_400},
        second_private,
        algorithm="RS256",
        headers={"kid": "key-2"},
    )
    with make_client(app) as client:
        assert client.get("/rs", headers=bearer(signed)).json() == "carol"
        unknown = client.get("/rs", headers=bearer(rotated))
        assert unknown.status_code == 401
        assert unknown.json()["detail"] == "The token's signing key is not known."
        key_server.document = {"keys": [first_key[1], second_public]}  # the issuer rotates
        assert client.get("/rs", headers=bearer(rotated)).json() == "dave"
        no_sub = pyjwt.encode(
            {"exp": NOW + 86_400}, private, algorithm="RS256", headers={"kid": "key-1"}
        )
        assert client.get("/rs", headers=bearer(no_sub)).json()["detail"] == (
            "The token lacks the 'sub' claim."
        )
        # Algorithm confusion: a token "signed" with HS256 using the public key as secret.
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        confused = hand_signed({"alg": "HS256", "kid": "key-1"}, {"sub": "eve"}, public_pem)
        refused = client.get("/rs", headers=bearer(confused))
        assert refused.status_code == 401
        assert refused.json()["detail"] == (
            "The token is signed with an algorithm that is not accepted."
        )


def test_unknown_kids_refetch_at_most_once_per_interval(
    key_server: KeyServer, first_key: tuple[Any, dict[str, Any]]
) -> None:
    key_server.document = {"keys": [first_key[1]]}
    jwks = JWKS.from_url(key_server.url, min_refresh_interval=3600)
    fetched = key_server.fetches
    for number in range(20):
        assert jwks.key_for(f"bogus-{number}") is None
    assert key_server.fetches == fetched  # loaded at startup: no refetch within the interval
    assert jwks.key_for("key-1") is not None


def test_jwks_from_a_document(first_key: tuple[Any, dict[str, Any]]) -> None:
    jwks = JWKS({"keys": [first_key[1]]})
    assert jwks.key_for("key-1") is not None
    assert jwks.key_for(None) is not None  # the only key serves tokens without a kid
    assert jwks.key_for("other") is None


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        JWTBearer(algorithms=["HS256"])
    with pytest.raises(ValueError, match="without 'none'"):
        JWTBearer(key=SECRET, algorithms=["none"])
    with pytest.raises(ValueError, match="without 'none'"):
        JWTBearer(key=SECRET, algorithms=[])
    with pytest.raises(ValueError, match="document or a url"):
        JWKS()


def test_openapi_declares_the_bearer_scheme(app: App) -> None:
    document = app.openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert document["paths"]["/rs"]["get"]["security"] == [{"HTTPBearer": []}]
    assert document["paths"]["/optional"]["get"]["security"] == [
        {"OAuth2PasswordBearer": []},
        {},
    ]
