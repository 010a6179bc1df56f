"""Who may write: create, change and delete need the API key in ``X-API-Key``.

The key is ``$TODO_API_KEY``, or ``todo-dev-key`` for trying the example out; set your own
before serving it anywhere else. Reading stays open to everyone.
"""

import os
from typing import Annotated

from duoweb import Depends
from duoweb.security import APIKeyHeader, constant_time_equal

api_key_header = APIKeyHeader(
    name="X-API-Key", description="Needed to create, change or delete lists and items."
)


def expected_key() -> str:
    """The key writers must send: ``$TODO_API_KEY``, else the development key."""
    return os.environ.get("TODO_API_KEY") or "todo-dev-key"


def require_writer(key: Annotated[str, Depends(api_key_header)]) -> None:
    """Let the request through when it carries the right key, else answer 401."""
    if not constant_time_equal(key, expected_key()):
        raise api_key_header.unauthorized("The API key is not valid.")
