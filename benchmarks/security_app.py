"""Two routes alike but for a bearer token check, for benchmarks/security.py."""

from __future__ import annotations

from typing import Annotated

from duoweb import App, Depends
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
