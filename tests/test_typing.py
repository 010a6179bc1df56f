"""Route decorators keep handler signatures: checked by mypy --strict, run by pytest.

The ``type: ignore[...]`` lines are the negative proof: mypy --strict warns about unused
ignores, so if a decorator erased the signature, these lines would stop being errors and
mypy would fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any, assert_type

from duoweb import App, Depends, Header, Query, Request, Response

app = App()


def provide() -> int:
    return 1


@app.get("/users/{user_id}")
def get_user(user_id: int, q: Annotated[str, Query()] = "") -> dict[str, int]:
    return {"id": user_id}


@app.post("/echo")
async def echo(request: Request, dep: Annotated[int, Depends(provide)]) -> Response:
    return Response(request.body)


@app.put("/h")
def with_header(token: Annotated[str | None, Header()] = None) -> str | None:
    return token


def test_decorated_handlers_keep_their_types() -> None:
    assert_type(get_user(1), dict[str, int])
    assert_type(get_user(1, q="x"), dict[str, int])
    assert_type(with_header(), str | None)
    request = Request(app, "POST", "/echo", b"")
    pending = assert_type(echo(request, dep=1), Coroutine[Any, Any, Response])
    assert isinstance(asyncio.run(pending), Response)
    assert get_user(5) == {"id": 5}


def _mypy_rejects_wrong_calls() -> None:
    get_user("not an int")  # type: ignore[arg-type]
    get_user(1, unknown=2)  # type: ignore[call-arg]
    with_header(token=3)  # type: ignore[arg-type]
