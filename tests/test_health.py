"""Liveness and readiness probes: 503 while starting, stopping or failing a check."""

from __future__ import annotations

import logging

import pytest

from duoweb import App
from duoweb.health import Health
from duoweb.testing import TestClient
from tests.conftest import MakeClient


def test_liveness_and_readiness_once_started(make_client: MakeClient) -> None:
    app = App()
    health = Health(app)
    assert health.state == "starting"
    with make_client(app) as client:
        assert health.state == "ready"
        live = client.get("/health/live")
        assert live.status_code == 200
        assert live.json() == {"status": "alive"}
        ready = client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {}}
        assert ready.headers["cache-control"] == "no-store"
    assert health.state == "stopping"
    assert "/health/ready" not in str(app.openapi()["paths"])


def test_readiness_is_503_while_starting_and_while_stopping(make_client: MakeClient) -> None:
    app = App()
    answers: list[tuple[int, str]] = []
    health = Health(app)

    @app.on_shutdown
    def finish_work() -> None:  # a request arriving while the app shuts down
        answers.append((health.readiness().status_code, health.state))

    @app.on_startup
    def warm_up() -> None:
        answers.append((health.readiness().status_code, health.state))

    with make_client(app) as client:
        assert client.get("/health/ready").status_code == 200
    # the app is ready only once every startup hook has run, and stopping from the moment its
    # shutdown begins
    assert answers == [(503, "starting"), (503, "stopping")]


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_readiness_follows_the_app_phase(make_client: MakeClient, kind: str) -> None:
    app = App()
    health = Health(app)
    seen: list[tuple[str, int, str]] = []

    def look() -> None:
        response = health.readiness()
        seen.append((app.phase, response.status_code, health.state))

    async def look_async() -> None:
        look()

    hook = look if kind == "def" else look_async
    app.on_startup(hook)
    app.on_shutdown(hook)
    phases = [app.phase]
    with make_client(app) as client:
        phases.append(app.phase)
        ready = client.get("/health/ready")
        assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    phases.append(app.phase)
    assert phases == ["created", "serving", "stopped"]
    assert health.readiness().status_code == 503
    assert seen == [("starting", 503, "starting"), ("stopping", 503, "stopping")]
    with make_client(app) as client:  # started again: ready again
        assert client.get("/health/ready").status_code == 200


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_a_failed_startup_is_phase_failed_and_not_ready(make_client: MakeClient, kind: str) -> None:
    app = App()
    health = Health(app)

    def broken() -> None:
        raise RuntimeError("no database")

    async def broken_async() -> None:
        broken()

    app.on_startup(broken if kind == "def" else broken_async)
    with pytest.raises(RuntimeError, match="no database"), make_client(app):
        pass
    assert app.phase == "failed"
    answer = health.readiness()
    assert answer.status_code == 503
    assert health.state == "failed"


def test_app_phase_is_read_only() -> None:
    app = App()
    with pytest.raises(AttributeError):
        app.phase = "serving"  # type: ignore[misc]


def test_readiness_before_the_app_starts_is_503(make_client: MakeClient) -> None:
    app = App()
    health = Health(app)
    assert health.readiness().status_code == 503
    with make_client(app) as client:
        health.drain()
        drained = client.get("/health/ready")
        assert drained.status_code == 503
        assert drained.json() == {"status": "stopping", "checks": {}}
        assert client.get("/health/live").status_code == 200


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_checks_decide_readiness(
    kind: str, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    flags = {"database": True, "cache": True}

    def database() -> bool:
        return flags["database"]

    async def cache_async() -> bool:
        if not flags["cache"]:
            raise ConnectionError("cache is down")
        return True

    def cache_sync() -> bool:
        if not flags["cache"]:
            raise ConnectionError("cache is down")
        return True

    app = App()
    Health(
        app,
        checks={"database": database, "cache": cache_async if kind == "async def" else cache_sync},
    )
    with make_client(app) as client:
        ok = client.get("/health/ready")
        assert ok.status_code == 200
        assert ok.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}
        flags["cache"] = False
        with caplog.at_level(logging.ERROR, logger="duoweb.health"):
            failing = client.get("/health/ready")
        assert failing.status_code == 503
        assert failing.json() == {
            "status": "failing",
            "checks": {"database": "ok", "cache": "failed"},
        }
        assert "cache is down" not in failing.text
        assert any("readiness check cache failed" in r.getMessage() for r in caplog.records)
        flags["database"] = False
        flags["cache"] = True
        assert client.get("/health/ready").json()["checks"]["database"] == "failed"


def test_paths_can_be_chosen_or_left_out() -> None:
    app = App()
    Health(app, live="/livez", ready=None)
    with TestClient(app, "wsgi") as client:
        assert client.get("/livez").status_code == 200
        assert client.get("/health/ready").status_code == 404
