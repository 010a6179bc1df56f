"""Request observers: both twins' base, and both dispatchers telling each kind of observer."""

from __future__ import annotations

from time import perf_counter
from types import ModuleType
from typing import Any

import pytest

from duoweb import _messages
from duoweb.wsgi import WSGIRequest
from tests.speedups.conftest import implementation
from tests.speedups.test_serve import build_app, dispatcher_of

Told = list[tuple[Any, Any, float]]


def test_calling_an_observer_calls_observe(observer_impl: ModuleType) -> None:
    told: Told = []

    class Keeper(observer_impl.RequestObserver):  # type: ignore[misc,name-defined]
        def observe(self, request: Any, response: Any, started: float) -> None:
            told.append((request, response, started))

    Keeper()("request", "response", 1.5)
    assert told == [("request", "response", 1.5)]


def test_the_base_observes_nothing_by_itself(observer_impl: ModuleType) -> None:
    observer = observer_impl.RequestObserver()
    with pytest.raises(NotImplementedError, match="RequestObserver does not implement observe"):
        observer("request", "response", 0.0)
    with pytest.raises(NotImplementedError, match="RequestObserver does not implement observe"):
        observer.observe("request", "response", 0.0)


def observers(observer_impl: ModuleType, told: Told) -> list[Any]:
    """One observer of each kind the dispatcher tells apart, all appending to ``told``."""

    class Observing(observer_impl.RequestObserver):  # type: ignore[misc,name-defined]
        def observe(self, request: Any, response: Any, started: float) -> None:
            told.append((request, response, started))

    class Calling(observer_impl.RequestObserver):  # type: ignore[misc,name-defined]
        def __call__(self, request: Any, response: Any, started: float) -> None:
            told.append((request, response, started))

    def function(request: Any, response: Any, started: float) -> None:
        told.append((request, response, started))

    return [Observing(), Calling(), function]


@pytest.mark.parametrize("serve_kind", ["pure", "compiled"])
@pytest.mark.parametrize("observer_kind", ["pure", "compiled"])
@pytest.mark.parametrize("which", [0, 1, 2], ids=["observe", "__call__", "function"])
def test_the_dispatcher_tells_every_kind_of_observer_when_dispatch_began(
    serve_kind: str, observer_kind: str, which: int
) -> None:
    serve = implementation("serve", serve_kind)
    told: Told = []
    app = build_app()
    dispatcher = dispatcher_of(serve, app)
    dispatcher.observer = observers(implementation("observer", observer_kind), told)[which]
    for path, status in (("/users/7", 200), ("/teapot", 418), ("/nowhere", 404)):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": ""}
        request = _messages.wsgi_request(WSGIRequest, app, environ)
        if serve_kind == "compiled" and not isinstance(
            request, implementation("messages", "compiled").RequestCore
        ):
            pytest.skip("the compiled dispatcher needs the compiled request core")
        before = perf_counter()
        response = dispatcher.dispatch_sync(request)
        after = perf_counter()
        assert response.status_code == status
        assert len(told) == 1
        seen, answer, started = told.pop()
        assert (seen, answer) == (request, response)
        assert type(started) is float
        assert before <= started <= after  # time.perf_counter()'s clock, read in C or not
        assert dispatcher.in_flight == 0
