"""Shared fixtures: every HTTP-level test runs once under WSGI and once under ASGI."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from duoweb import App
from duoweb.testing import Mode, TestClient

MakeClient = Callable[[App], TestClient]


@pytest.fixture(params=["wsgi", "asgi"])
def mode(request: pytest.FixtureRequest) -> Mode:
    """The protocol the app is driven through."""
    value: Mode = request.param
    return value


@pytest.fixture
def make_client(mode: Mode) -> MakeClient:
    """Build a TestClient for an app in the current mode (use it as a context manager)."""

    def make(app: App) -> TestClient:
        return TestClient(app, mode)

    return make
