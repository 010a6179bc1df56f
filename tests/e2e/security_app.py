"""An app with every security scheme, served by real servers (test_security_served.py) and
driven by Chromium through Swagger UI's Authorize dialog (tests/browser/test_docs_authorize.py).

Users log in with the OAuth2 password flow at ``/token`` and get an HS256 JWT; ``/rs`` takes
RS256 tokens whose keys come from the JWKS at ``$JWKS_URL`` (loaded at startup, when set).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from duoweb import App, Depends, HTTPError
from duoweb.security import (
    APIKeyHeader,
    HTTPBasic,
    HTTPBasicCredentials,
    OAuth2PasswordBearer,
    PasswordForm,
    constant_time_equal,
    require_scope,
)
from duoweb.security.jwt import JWKS, Claims, JWTBearer, encode_token

SECRET = "e2e-secret-that-is-long-enough-for-hs256-signatures-0123456789abcdef"
API_KEY = "k-e2e-key"
#: username -> (password, the scopes the user may have)
USERS = {"ada": ("lovelace", "items:read admin"), "bob": ("builder", "items:read")}

app = App(title="Security e2e")
oauth2 = OAuth2PasswordBearer(
    token_url="/token", scopes={"items:read": "Read items", "admin": "Administer"}
)
verified = JWTBearer(key=SECRET, algorithms=["HS256"], scheme=oauth2, leeway=5)
basic = HTTPBasic(realm="e2e")
api_key = APIKeyHeader(name="X-API-Key")
jwks = JWKS(url=os.environ.get("JWKS_URL") or "http://127.0.0.1:9/unset", min_refresh_interval=0)
rs_verified = JWTBearer(jwks=jwks, algorithms=["RS256"])

if os.environ.get("JWKS_URL"):
    app.on_startup(jwks.load)


@app.post("/token")
def token(form: PasswordForm) -> dict[str, str]:
    """The password grant: a JWT carrying the granted scopes."""
    known = USERS.get(form.username)
    if known is None or not constant_time_equal(form.password, known[0]):
        raise HTTPError(400, "Wrong username or password.", extensions={"error": "invalid_grant"})
    allowed = known[1].split()
    scopes = [scope for scope in form.scopes if scope in allowed] or allowed
    claims = {"sub": form.username, "scope": " ".join(scopes)}
    access = encode_token(claims, SECRET, algorithm="HS256", expires_in=600)
    return {"access_token": access, "token_type": "bearer"}


@app.get("/me")
def me(claims: Annotated[Claims, Depends(verified)]) -> dict[str, Any]:
    """Who the token says the caller is."""
    return {"user": claims["sub"], "scope": claims["scope"]}


@app.get("/me/async")
async def me_async(claims: Annotated[Claims, Depends(verified)]) -> dict[str, Any]:
    """The same, from an async handler."""
    return {"user": claims["sub"]}


@app.delete("/items")
async def wipe(
    _: Annotated[None, Depends(require_scope("admin", granted=verified.scopes))],
) -> dict[str, bool]:
    """Admins only."""
    return {"wiped": True}


@app.get("/basic")
def basic_route(creds: Annotated[HTTPBasicCredentials, Depends(basic)]) -> str:
    """The Basic user-id."""
    return creds.username


@app.get("/key")
async def key_route(key: Annotated[str, Depends(api_key)]) -> bool:
    """Whether the API key is the right one."""
    return constant_time_equal(key, API_KEY)


@app.get("/raw-token", inline=True)
def raw_token(token: Annotated[str, Depends(oauth2)]) -> str:
    """The bearer token as sent: the dispatcher checks it itself (the GATED call path)."""
    return token


@app.get("/rs")
def rs(claims: Annotated[Claims, Depends(rs_verified)]) -> str:
    """The subject of an RS256 token verified with the JWKS keys."""
    return str(claims["sub"])
