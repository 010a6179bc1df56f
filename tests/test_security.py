"""duoweb.security: credentials as dependencies, 401/403 problems, in both modes, def and async."""

from __future__ import annotations

import base64
import logging
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duoweb import App, Depends, HTTPError
from duoweb.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    PasswordForm,
    SecurityScopes,
    constant_time_equal,
    require_scope,
)
from duoweb.security.http import is_b64token
from tests.conftest import MakeClient

PROBLEM = "application/problem+json"


def basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def build_app() -> App:
    app = App()
    bearer = HTTPBearer()
    optional_bearer = HTTPBearer(auto_error=False, scheme_name="OptionalBearer")
    realm_bearer = HTTPBearer(realm="example", scheme_name="RealmBearer")
    credentials = HTTPBasic(realm="admin area")
    header_key = APIKeyHeader(name="X-API-Key")
    query_key = APIKeyQuery(name="api_key")
    cookie_key = APIKeyCookie(name="session")
    optional_key = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="OptionalKey")

    @app.get("/sync/bearer")
    def sync_bearer(token: Annotated[str, Depends(bearer)]) -> dict[str, str]:
        return {"token": token}

    @app.get("/async/bearer")
    async def async_bearer(token: Annotated[str, Depends(bearer)]) -> dict[str, str]:
        return {"token": token}

    @app.get("/optional")
    def optional(token: Annotated[str | None, Depends(optional_bearer)]) -> dict[str, Any]:
        return {"token": token}

    @app.get("/realm")
    def realm(token: Annotated[str, Depends(realm_bearer)]) -> str:
        return token

    @app.get("/sync/basic")
    def sync_basic(creds: Annotated[HTTPBasicCredentials, Depends(credentials)]) -> list[str]:
        return [creds.username, creds.password]

    @app.get("/async/basic")
    async def async_basic(creds: Annotated[HTTPBasicCredentials, Depends(credentials)]) -> str:
        return creds.username

    @app.get("/key/header")
    def key_header(key: Annotated[str, Depends(header_key)]) -> str:
        return key

    @app.get("/key/query")
    async def key_query(key: Annotated[str, Depends(query_key)]) -> str:
        return key

    @app.get("/key/cookie")
    def key_cookie(key: Annotated[str, Depends(cookie_key)]) -> str:
        return key

    @app.get("/key/optional")
    def key_optional(key: Annotated[str | None, Depends(optional_key)]) -> dict[str, Any]:
        return {"key": key}

    # A scheme used inside other providers (def and async def), as apps usually do.
    users = {"t-alice": "alice", "t-bob": "bob"}

    def current_user(token: Annotated[str, Depends(bearer)]) -> str:
        for known, user in users.items():
            if constant_time_equal(token, known):
                return user
        raise HTTPError(401, "Unknown token.", headers={"WWW-Authenticate": bearer.challenge()})

    async def current_admin(user: Annotated[str, Depends(current_user)]) -> str:
        if user != "alice":
            raise HTTPError(403, "Admins only.")
        return user

    @app.get("/me")
    async def me(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    @app.get("/admin")
    def admin(user: Annotated[str, Depends(current_admin)]) -> str:
        return user

    return app


@pytest.fixture
def app() -> App:
    return build_app()


@pytest.mark.parametrize("path", ["/sync/bearer", "/async/bearer"])
def test_bearer_token_reaches_the_handler(make_client: MakeClient, app: App, path: str) -> None:
    with make_client(app) as client:
        answer = client.get(path, headers={"Authorization": "Bearer abc.DEF-_~+/9=="})
        assert answer.status_code == 200
        assert answer.json() == {"token": "abc.DEF-_~+/9=="}
        lowercase = client.get(path, headers={"Authorization": "bearer   tok  "})
        assert lowercase.json() == {"token": "tok"}


@pytest.mark.parametrize("path", ["/sync/bearer", "/async/bearer"])
@pytest.mark.parametrize(
    "authorization", [None, "", "Basic dTpw", "Token abc", "Bearerabc"], ids=repr
)
def test_missing_bearer_is_401_with_a_bare_challenge(
    make_client: MakeClient, app: App, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with make_client(app) as client:
        answer = client.get(path, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["status"] == 401


@pytest.mark.parametrize(
    "authorization", ["Bearer", "Bearer ", "Bearer a b", "Bearer a=b", "Bearer ä", "Bearer =="]
)
def test_malformed_bearer_is_401_invalid_token(
    make_client: MakeClient, app: App, authorization: str
) -> None:
    with make_client(app) as client:
        answer = client.get("/sync/bearer", headers=[(b"Authorization", authorization.encode())])
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert answer.json()["detail"] == "The bearer token is malformed."


def test_realm_is_in_the_challenge(make_client: MakeClient, app: App) -> None:
    with make_client(app) as client:
        answer = client.get("/realm")
    assert answer.headers["www-authenticate"] == 'Bearer realm="example"'


def test_auto_error_false_gives_none_when_absent(make_client: MakeClient, app: App) -> None:
    with make_client(app) as client:
        assert client.get("/optional").json() == {"token": None}
        assert client.get("/optional", headers={"Authorization": "Basic x"}).json() == {
            "token": None
        }
        present = client.get("/optional", headers={"Authorization": "Bearer t"})
        assert present.json() == {"token": "t"}
        # Credentials sent but broken are still refused: the client should know.
        assert client.get("/optional", headers={"Authorization": "Bearer a b"}).status_code == 401
        assert client.get("/key/optional").json() == {"key": None}
        assert client.get("/key/optional", headers={"X-API-Key": "k"}).json() == {"key": "k"}


@pytest.mark.parametrize("path", ["/sync/basic", "/async/basic"])
def test_basic_credentials(make_client: MakeClient, app: App, path: str) -> None:
    with make_client(app) as client:
        answer = client.get(path, headers=basic("zoë:pä:ss wörd".encode()))
        assert answer.status_code == 200
        expected = ["zoë", "pä:ss wörd"] if path == "/sync/basic" else "zoë"
        assert answer.json() == expected
        assert client.get(path, headers=basic(b":")).status_code == 200  # empty is allowed


@pytest.mark.parametrize("path", ["/sync/basic", "/async/basic"])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic"},
        {"Authorization": "Basic not base64!"},
        {"Authorization": "Basic YWJj"},  # "abc": no colon
        {"Authorization": "Basic YWJjOmRlZg"},  # missing padding
        {"Authorization": "Basic YWJj\tOmRlZg=="},
        basic(b"\xff\xfe:x"),  # not UTF-8
        basic(b"user:pa\x00ss"),  # a control character
        basic(b"us\ner:pass"),
        {"Authorization": "Basic " + "QUFB" * 5000},  # long, no colon
        {"Authorization": "Basic ÿÿÿÿ".encode("latin-1")},  # not ASCII
    ],
    ids=repr,
)
def test_bad_basic_credentials_are_401_never_500(
    make_client: MakeClient, app: App, path: str, headers: dict[str, Any]
) -> None:
    with make_client(app) as client:
        answer = client.get(path, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["www-authenticate"] == 'Basic realm="admin area", charset="UTF-8"'


def test_basic_credentials_hide_the_password_in_repr() -> None:
    creds = HTTPBasicCredentials("alice", "s3cret")
    assert "s3cret" not in repr(creds)
    assert "alice" in repr(creds)
    form = OAuth2PasswordRequestForm(username="alice", password="s3cret")
    assert "s3cret" not in repr(form)


def test_api_keys_from_header_query_and_cookie(make_client: MakeClient, app: App) -> None:
    with make_client(app) as client:
        assert client.get("/key/header", headers={"x-api-key": "h1"}).json() == "h1"
        assert client.get("/key/query?api_key=q1").json() == "q1"
        assert client.get("/key/cookie", headers={"Cookie": "session=c1"}).json() == "c1"
        for path in ("/key/header", "/key/query", "/key/query?api_key=", "/key/cookie"):
            answer = client.get(path)
            assert answer.status_code == 401, path
            assert answer.headers["www-authenticate"] == "APIKey"
            assert answer.headers["content-type"] == PROBLEM


def test_scheme_inside_other_providers(make_client: MakeClient, app: App) -> None:
    with make_client(app) as client:
        assert client.get("/me", headers={"Authorization": "Bearer t-bob"}).json() == "bob"
        assert client.get("/admin", headers={"Authorization": "Bearer t-alice"}).json() == "alice"
        assert client.get("/admin", headers={"Authorization": "Bearer t-bob"}).status_code == 403
        unknown = client.get("/admin", headers={"Authorization": "Bearer t-eve"})
        assert unknown.status_code == 401
        assert unknown.headers["www-authenticate"] == "Bearer"
        assert client.get("/admin").status_code == 401


def test_a_scheme_can_be_overridden_in_tests(make_client: MakeClient) -> None:
    app = App()
    bearer = HTTPBearer()

    @app.get("/token")
    def token(value: Annotated[str, Depends(bearer)]) -> str:
        return value

    app.dependency_overrides[bearer] = lambda: "fake"
    with make_client(app) as client:
        assert client.get("/token").json() == "fake"
    assert app.openapi()["paths"]["/token"]["get"]["security"] == [{"HTTPBearer": []}]


def test_constant_time_equal() -> None:
    assert constant_time_equal("s3cret", "s3cret")
    assert constant_time_equal(b"k", "k")
    assert not constant_time_equal("s3cret", "s3creT")
    assert not constant_time_equal("short", "longer one")
    assert constant_time_equal("zoë", "zoë".encode())


def test_scheme_options_are_checked() -> None:
    with pytest.raises(ValueError, match="control characters"):
        HTTPBasic(realm="a\r\nSet-Cookie: x=1")
    with pytest.raises(ValueError, match="control characters"):
        APIKeyHeader(name="X-Key\n")
    with pytest.raises(ValueError, match="at least one scope"):
        require_scope(granted=lambda: [])


# --- OAuth2: password form, scopes, guards ---------------------------------------------------


def build_oauth2_app() -> App:
    app = App()
    oauth2 = OAuth2PasswordBearer(
        token_url="/token", scopes={"items:read": "Read items", "admin": "Administer"}
    )
    tokens = {"t-reader": "items:read", "t-admin": "items:read admin"}

    @app.post("/token")
    def issue(form: PasswordForm) -> dict[str, str]:
        if not constant_time_equal(form.password, "pw-" + form.username):
            raise HTTPError(400, "Wrong username or password.")
        scopes = " ".join(form.scopes)
        token = next(t for t, granted in tokens.items() if granted == scopes)
        return {"access_token": token, "token_type": "bearer"}

    def granted(token: Annotated[str, Depends(oauth2)]) -> SecurityScopes:
        held = tokens.get(token)
        if held is None:
            raise oauth2.unauthorized("Unknown token.", error="invalid_token")
        return SecurityScopes(held)

    async def granted_async(token: Annotated[str, Depends(oauth2)]) -> list[str]:
        return tokens.get(token, "").split()

    @app.get("/items")
    def items(_: Annotated[None, Depends(require_scope("items:read", granted=granted))]) -> str:
        return "items"

    @app.delete("/items")
    async def wipe(
        _: Annotated[None, Depends(require_scope("admin", granted=granted_async))],
    ) -> str:
        return "wiped"

    return app


@pytest.fixture
def oauth2_app() -> App:
    return build_oauth2_app()


def test_password_form_issues_a_token(make_client: MakeClient, oauth2_app: App) -> None:
    with make_client(oauth2_app) as client:
        answer = client.post(
            "/token",
            data={
                "grant_type": "password",
                "username": "ann",
                "password": "pw-ann",
                "scope": "items:read admin items:read",
            },
        )
        assert answer.status_code == 200
        assert answer.json() == {"access_token": "t-admin", "token_type": "bearer"}
        without_grant_type = client.post(
            "/token", data={"username": "ann", "password": "pw-ann", "scope": "items:read"}
        )
        assert without_grant_type.json()["access_token"] == "t-reader"
        wrong = client.post("/token", data={"username": "ann", "password": "nope"})
        assert wrong.status_code == 400
        missing = client.post("/token", data={"username": "ann"})
        assert missing.status_code == 422
        assert missing.headers["content-type"] == PROBLEM
        other_grant = client.post(
            "/token", data={"grant_type": "client_credentials", "username": "a", "password": "b"}
        )
        assert other_grant.status_code == 422


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_scope_guards(make_client: MakeClient, oauth2_app: App, method: str) -> None:
    with make_client(oauth2_app) as client:
        admin = client.request(method, "/items", headers={"Authorization": "Bearer t-admin"})
        assert admin.status_code == 200
        reader = client.request(method, "/items", headers={"Authorization": "Bearer t-reader"})
        if method == "GET":
            assert reader.status_code == 200
        else:
            assert reader.status_code == 403
            assert reader.headers["content-type"] == PROBLEM
            assert reader.headers["www-authenticate"] == (
                'Bearer error="insufficient_scope", scope="admin"'
            )
            assert reader.json()["detail"] == "Missing scope: admin."
        anonymous = client.request(method, "/items")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"


def test_security_scopes() -> None:
    held = SecurityScopes("a b a")
    assert list(held) == ["a", "b"]
    assert "a" in held
    assert "c" not in held
    assert held.scope_str == "a b"
    assert held.missing(["a", "c", "d"]) == ["c", "d"]
    assert held == SecurityScopes(["b", "a"])
    assert len(SecurityScopes()) == 0


# --- credentials stay out of the logs ---------------------------------------------------------


def test_credentials_are_not_logged(
    make_client: MakeClient, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    from duoweb import AccessLogMiddleware, RequestIdMiddleware

    app.middleware(RequestIdMiddleware())
    app.middleware(AccessLogMiddleware())
    secrets = ("Bearer t-sekrit", "k-sekrit", "c-sekrit", "q-sekrit")
    with caplog.at_level(logging.DEBUG), make_client(app) as client:
        client.get("/sync/bearer", headers={"Authorization": secrets[0]})
        client.get("/key/header", headers={"X-API-Key": secrets[1]})
        client.get("/key/cookie", headers={"Cookie": f"session={secrets[2]}"})
        client.get("/sync/basic", headers=basic(b"u:sekrit"))
        client.get(f"/key/query?page=2&api_key={secrets[3]}")
    ours = [record for record in caplog.records if record.name.startswith("duoweb")]
    logged = "\n".join(
        [record.getMessage() for record in ours] + [repr(record.__dict__) for record in ours]
    )
    assert "/key/header" in logged  # the access log did log the requests
    assert "page=2&api_key=***" in logged
    for secret in (*secrets, "sekrit", base64.b64encode(b"u:sekrit").decode()):
        assert secret not in logged


# --- any Authorization header: an answer, never a 500 ------------------------------------------

latin1_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=200)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scheme=st.sampled_from(["Basic", "basic", "Bearer", "BEARER", "Digest", ""]),
    payload=st.one_of(
        latin1_text,
        st.binary(max_size=120).map(lambda raw: base64.b64encode(raw).decode()),
    ),
)
def test_any_authorization_header_is_answered(scheme: str, payload: str) -> None:
    value = f"{scheme} {payload}".strip(" \t").encode("latin-1")
    bearer = HTTPBearer(auto_error=False)
    credentials = HTTPBasic(auto_error=False)
    for scheme_object in (bearer, credentials):
        refused: HTTPError | None = None
        result: object = None
        try:
            result = scheme_object(value.decode("latin-1"))
        except HTTPError as exc:
            refused = exc
        if refused is not None:
            assert refused.status == 401
            assert "WWW-Authenticate" in refused.headers
        else:
            assert result is None or isinstance(result, str | HTTPBasicCredentials)


def test_a_huge_basic_header_is_refused(make_client: MakeClient, app: App) -> None:
    # 300 KB of base64 without a colon: decoded and scanned once, then refused.
    with make_client(app) as client:
        answer = client.get("/sync/basic", headers=basic(b"A" * 300_000))
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("token", "valid"),
    [
        ("", False),
        ("=", False),
        ("a", True),
        ("a==", True),
        ("a=b", False),
        ("=a", False),
        ("ä", False),
        ("a b", False),
        ("abc.DEF-_~+/9==", True),
    ],
)
def test_b64token_syntax(token: str, valid: bool) -> None:
    bearer = HTTPBearer()
    assert is_b64token(token) is valid
    if valid:
        assert bearer.read(token) == token
        assert bearer(f"Bearer {token}") == token
    else:
        with pytest.raises(HTTPError, match="malformed"):
            bearer.read(token)
        with pytest.raises(HTTPError, match="malformed"):
            bearer(f"Bearer {token}")
