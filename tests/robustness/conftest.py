"""Fixtures: send a raw request to an app in-process, once per mode (WSGI and ASGI)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

import pytest

from duoweb import App
from tests.robustness.inprocess import Answer, RawRequest, call_asgi, call_wsgi

Send = Callable[[App, RawRequest], Answer]


@pytest.fixture(params=["wsgi", "asgi"])
def send(request: pytest.FixtureRequest) -> Iterator[Send]:
    """Send a RawRequest to an app through the current mode's callable."""
    if request.param == "wsgi":
        yield call_wsgi
        return
    loop = asyncio.new_event_loop()
    try:
        yield lambda app, raw: call_asgi(app, raw, loop)
    finally:
        loop.close()


@pytest.fixture(autouse=True)
def _quiet_duoweb_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Handler failures are logged on purpose here; keep them out of the terminal."""
    caplog.set_level(logging.CRITICAL, logger="duoweb")
