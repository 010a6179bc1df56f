"""Request tallies and their observer: the pure twin and the compiled module agree."""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

import pytest

from duoweb.responses import JSONResponse, Response
from duoweb.streaming import StreamingResponse
from tests.speedups.conftest import implementation


@pytest.fixture(params=["pure", "compiled"])
def tally_impl(request: pytest.FixtureRequest) -> ModuleType:
    """The tally implementation under test."""
    return implementation("tally", request.param)


def test_latencies_are_counted_in_their_le_bucket(tally_impl: ModuleType) -> None:
    tally = tally_impl.RequestTally((0.001, 0.01))
    key = ("GET", "/x", 200)
    for seconds in (0.0, 0.001, 0.0011, 0.01, 0.5, 7.0):
        tally.add(key, seconds)
    tally.add(("GET", "/y", 404), 0.002)
    assert tally.bounds == (0.001, 0.01)
    snapshot = tally.snapshot()
    assert snapshot[key] == pytest.approx([7.5121, 2, 2, 2])
    assert snapshot["GET", "/y", 404] == pytest.approx([0.002, 0, 1, 0])
    assert tally.take() == snapshot
    assert tally.snapshot() == {}


def test_bounds_must_ascend(tally_impl: ModuleType) -> None:
    for bounds in ((0.1, 0.01), (0.1, 0.1)):
        with pytest.raises(ValueError, match="ascending"):
            tally_impl.RequestTally(bounds)


def test_additions_from_many_threads_are_never_lost(tally_impl: ModuleType) -> None:
    tally = tally_impl.RequestTally((0.5,))

    def add() -> None:
        for _ in range(2000):
            tally.add(("GET", "/", 200), 0.25)

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tally.snapshot()["GET", "/", 200] == [2000.0, 8000, 0]


class Endpoint:
    template = "/items/{item_id}"


class FakeRequest:
    def __init__(self, method: str, path: str, endpoint: Any = None) -> None:
        self.method = method
        self.path = path
        self.endpoint = endpoint


def match(method: str, path: str) -> tuple[Any, Any]:
    if path.startswith("/items/") and method in ("GET", "HEAD"):
        return Endpoint(), {}
    return None, None


def test_the_observer_labels_by_template_and_standard_method(tally_impl: ModuleType) -> None:
    tally = tally_impl.RequestTally((1000.0,))
    streamed: list[tuple[Any, ...]] = []

    def take_stream(response: StreamingResponse, key: Any, started: float) -> bool:
        streamed.append(key)
        return True

    observer = tally_impl.TallyObserver(tally, match, take_stream)
    answer: Response = JSONResponse(1)
    observer(FakeRequest("GET", "/items/3"), answer, 0.0)
    observer(FakeRequest("BREW", "/pot"), Response(b"", status_code=405), 0.0)
    observer(FakeRequest("GET", "/nowhere"), Response(b"", status_code=404), 0.0)
    observer(FakeRequest("GET", "/items/4"), StreamingResponse(iter([b"x"])), 0.0)
    assert sorted(tally.snapshot()) == [
        ("GET", "/items/{item_id}", 200),
        ("GET", tally_impl.UNMATCHED, 404),
        (tally_impl.OTHER_METHOD, tally_impl.UNMATCHED, 405),
    ]
    assert streamed == [("GET", "/items/{item_id}", 200)]  # counted by the stream's owner


def test_the_observer_labels_a_routed_request_by_its_endpoint_without_matching_again(
    tally_impl: ModuleType,
) -> None:
    def no_match(method: str, path: str) -> tuple[Any, Any]:
        raise AssertionError("a routed request is not matched again")

    class Other:
        template = "/other/{name}"

    def keep_stream(response: StreamingResponse, key: Any, started: float) -> bool:
        return False

    tally = tally_impl.RequestTally((1000.0,))
    observer = tally_impl.TallyObserver(tally, no_match, keep_stream)
    observer(FakeRequest("GET", "/items/3", Endpoint()), JSONResponse(1), 0.0)
    observer(FakeRequest("HEAD", "/other/x", Other()), Response(b"", status_code=500), 0.0)
    observer(FakeRequest("GET", "/items/4", Endpoint()), StreamingResponse(iter([b"x"])), 0.0)
    counts = {key: sum(series[1:]) for key, series in tally.snapshot().items()}
    assert counts == {("GET", "/items/{item_id}", 200): 2, ("HEAD", "/other/{name}", 500): 1}
