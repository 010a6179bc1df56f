"""Routes alike but for a credential check, for benchmarks/security.py."""

from __future__ import annotations

from typing import Annotated

from duoweb import App, Depends, Header
from duoweb.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
)

app = App(openapi_url=None, docs_url=None)
bearer = HTTPBearer()
oauth2 = OAuth2PasswordBearer(token_url="/token")
basic = HTTPBasic()
key_header = APIKeyHeader(name="X-API-Key")
key_query = APIKeyQuery(name="api_key")
key_cookie = APIKeyCookie(name="session")

MESSAGE = {"message": "Hello, World!"}


@app.get("/json", inline=True)
def open_json() -> dict[str, str]:
    """The route without a credential."""
    return MESSAGE


@app.get("/json-bearer", inline=True)
def bearer_json(token: Annotated[str, Depends(bearer)]) -> dict[str, str]:
    """The same route, with the bearer token read and checked (its syntax, as HTTPBearer does)."""
    return MESSAGE


@app.get("/json-bearer-guard", inline=True, dependencies=[Depends(bearer)])
def bearer_guard_json() -> dict[str, str]:
    """The bearer token checked as a route dependency (as a router's), its value not used."""
    return MESSAGE


def read_header(authorization: Annotated[str | None, Header()] = None) -> str | None:
    """A provider reading the header, checking nothing: the dependency machinery's share."""
    return authorization


@app.get("/json-header", inline=True)
def header_json(authorization: Annotated[str | None, Header()] = None) -> dict[str, str]:
    """The header read as a handler parameter: what extracting it costs."""
    return MESSAGE


@app.get("/json-provider", inline=True)
def provider_json(token: Annotated[str | None, Depends(read_header)]) -> dict[str, str]:
    """The header read by a plain provider: what any dependency costs."""
    return MESSAGE


@app.get("/json-oauth2", inline=True)
def oauth2_json(token: Annotated[str, Depends(oauth2)]) -> dict[str, str]:
    """The bearer token of the OAuth2 password flow scheme."""
    return MESSAGE


@app.get("/json-basic", inline=True)
def basic_json(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> dict[str, str]:
    """Basic credentials, decoded and checked."""
    return MESSAGE


@app.get("/json-key-header", inline=True)
def key_header_json(key: Annotated[str, Depends(key_header)]) -> dict[str, str]:
    """An API key from the X-API-Key header."""
    return MESSAGE


@app.get("/json-key-query", inline=True)
def key_query_json(key: Annotated[str, Depends(key_query)]) -> dict[str, str]:
    """An API key from the api_key query parameter."""
    return MESSAGE


@app.get("/json-key-cookie", inline=True)
def key_cookie_json(key: Annotated[str, Depends(key_cookie)]) -> dict[str, str]:
    """An API key from the session cookie."""
    return MESSAGE


@app.get("/json-key-and-bearer", inline=True, dependencies=[Depends(key_header)])
def key_and_bearer_json(token: Annotated[str, Depends(bearer)]) -> dict[str, str]:
    """Two plain providers: a route-level API key check (as a router's) and a bearer token."""
    return MESSAGE
