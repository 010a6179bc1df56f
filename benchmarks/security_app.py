"""Two routes alike but for a bearer token check, for benchmarks/security.py."""

from __future__ import annotations

from typing import Annotated

from duoweb import App, Depends, Header
from duoweb.security import HTTPBearer

app = App(openapi_url=None, docs_url=None)
bearer = HTTPBearer()

MESSAGE = {"message": "Hello, World!"}


@app.get("/json", inline=True)
def open_json() -> dict[str, str]:
    """The route without a credential."""
    return MESSAGE


@app.get("/json-bearer", inline=True)
def bearer_json(token: Annotated[str, Depends(bearer)]) -> dict[str, str]:
    """The same route, with the bearer token read and checked (its syntax, as HTTPBearer does)."""
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
