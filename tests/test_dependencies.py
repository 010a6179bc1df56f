"""Depends(): plain, async and generator providers, caching, cleanup, errors and overrides."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from duoweb import App, Depends, Header, HTTPError, Request
from tests.conftest import MakeClient


class Db:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.closed = False


def build_app(log: list[str]) -> App:
    app = App()

    def get_db() -> Iterator[Db]:
        db = Db(log)
        log.append("open")
        try:
            yield db
        except ValueError:
            log.append("rolled back")
            raise
        finally:
            db.closed = True
            log.append("close")

    async def get_user(
        db: Annotated[Db, Depends(get_db)],
        x_user: Annotated[str | None, Header()] = None,
    ) -> str:
        log.append(f"user with db {id(db) % 7 >= 0}")
        if x_user is None:
            raise HTTPError(401, "who are you?")
        return x_user

    async def audit() -> AsyncIterator[str]:
        log.append("audit start")
        yield "audited"
        log.append("audit end")

    def page(limit: int = 10, offset: int = 0) -> tuple[int, int]:
        return (limit, offset)

    @app.get("/me")
    def me(
        user: Annotated[str, Depends(get_user)],
        db: Annotated[Db, Depends(get_db)],
        note: Annotated[str, Depends(audit)],
    ) -> dict[str, Any]:
        log.append("handler")
        return {"user": user, "db_open": not db.closed, "note": note}

    @app.get("/fail")
    async def fail(db: Annotated[Db, Depends(get_db)]) -> None:
        raise ValueError("handler failed")

    @app.get("/page/{kind}")
    def paged(kind: str, window: Annotated[tuple[int, int], Depends(page)]) -> list[Any]:
        return [kind, *window]

    def broken() -> int:
        raise LookupError("provider bug")

    @app.get("/broken")
    def uses_broken(value: Annotated[int, Depends(broken)]) -> int:
        return value

    def uncached() -> object:
        log.append("uncached")
        return object()

    @app.get("/uncached")
    def twice(
        a: Annotated[object, Depends(uncached, use_cache=False)],
        b: Annotated[object, Depends(uncached, use_cache=False)],
    ) -> bool:
        return a is not b

    def needs_request(request: Request) -> str:
        return request.method

    @app.post("/method")
    def method(seen: Annotated[str, Depends(needs_request)]) -> str:
        return seen

    app.state_get_db = get_db  # type: ignore[attr-defined]  # for the override test
    return app


def test_provider_tree_runs_once_per_request_and_cleans_up(make_client: MakeClient) -> None:
    log: list[str] = []
    with make_client(build_app(log)) as client:
        response = client.get("/me", headers={"x-user": "ada"})
        assert response.json() == {"user": "ada", "db_open": True, "note": "audited"}
    assert log.count("open") == 1  # cached: get_user and the handler share one Db
    assert log.index("handler") < log.index("close")
    assert log.index("handler") < log.index("audit end")


def test_http_error_from_provider_is_its_response_and_cleanup_runs(make_client: MakeClient) -> None:
    log: list[str] = []
    with make_client(build_app(log)) as client:
        response = client.get("/me")
        assert response.status_code == 401
        assert response.json()["detail"] == "who are you?"
    assert "close" in log
    assert "handler" not in log


def test_handler_exception_reaches_generator_then_500(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    log: list[str] = []
    with make_client(build_app(log)) as client:
        response = client.get("/fail")
        assert response.status_code == 500
    assert log == ["open", "rolled back", "close"]


def test_provider_failure_is_500_logged_with_its_name(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    with make_client(build_app([])) as client:
        response = client.get("/broken")
        assert response.status_code == 500
        assert "provider bug" not in response.text
    assert any("broken" in record.getMessage() for record in caplog.records)


def test_provider_parameters_come_from_the_request(make_client: MakeClient) -> None:
    with make_client(build_app([])) as client:
        assert client.get("/page/books?limit=5").json() == ["books", 5, 0]
        bad = client.get("/page/books?offset=x")
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["query", "offset"]
        assert client.post("/method").json() == "POST"


def test_use_cache_false_calls_again(make_client: MakeClient) -> None:
    log: list[str] = []
    with make_client(build_app(log)) as client:
        assert client.get("/uncached").json() is True
    assert log.count("uncached") == 2


def test_overrides_replace_a_provider(make_client: MakeClient) -> None:
    log: list[str] = []
    app = build_app(log)

    def fake_db() -> Db:
        log.append("fake")
        return Db(log)

    app.dependency_overrides[app.state_get_db] = fake_db  # type: ignore[attr-defined]
    with make_client(app) as client:
        assert client.get("/me", headers={"x-user": "ada"}).status_code == 200
    assert "fake" in log
    assert "open" not in log
    app.dependency_overrides.clear()
    with make_client(app) as client:
        client.get("/me", headers={"x-user": "ada"})
    assert "open" in log


def test_validation_runs_before_any_provider(make_client: MakeClient) -> None:
    log: list[str] = []
    app = App()

    def provider() -> int:
        log.append("provider ran")
        return 1

    @app.get("/v")
    def v(n: int, p: Annotated[int, Depends(provider)]) -> int:
        return n + p

    with make_client(app) as client:
        assert client.get("/v?n=x").status_code == 422
    assert log == []


def test_path_parameter_read_only_by_a_provider_is_converted(make_client: MakeClient) -> None:
    app = App()

    def plus_one(item_id: int) -> int:
        return item_id + 1

    @app.get("/items/{item_id}")
    def read(n: Annotated[int, Depends(plus_one)]) -> int:
        return n

    with make_client(app) as client:
        assert client.get("/items/41").json() == 42
        assert client.get("/items/abc").status_code == 404


def test_path_parameter_typed_differently_by_handler_and_provider_is_an_error() -> None:
    from duoweb import RouteDefinitionError

    app = App()

    def as_text(item_id: str) -> str:
        return item_id

    with pytest.raises(RouteDefinitionError, match="annotate it the same way"):

        @app.get("/items/{item_id}")
        def read(item_id: int, text: Annotated[str, Depends(as_text)]) -> int:
            return item_id
