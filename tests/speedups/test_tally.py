"""Request tallies and their observer: the pure twin and the compiled module agree."""

from __future__ import annotations

import threading
from time import perf_counter
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


def keep_every_stream(response: StreamingResponse, key: Any, started: float) -> bool:
    return False


def test_routed_series_are_labelled_when_read_and_equal_labels_are_summed(
    tally_impl: ModuleType,
) -> None:
    tally = tally_impl.RequestTally((0.5,))
    observer = tally_impl.TallyObserver(tally, match, keep_every_stream)
    route, twin = Endpoint(), Endpoint()  # two endpoints with one template: one series
    head = "HEAD"
    for request, response in (
        (FakeRequest("GET", "/items/1", route), JSONResponse(1)),
        (FakeRequest("GET", "/items/2", route), JSONResponse(2)),
        (FakeRequest("".join(["HE", "AD"]), "/items/3", route), JSONResponse(3)),  # equal str
        (FakeRequest(head, "/items/4", twin), JSONResponse(4)),
        (FakeRequest("GET", "/items/5", twin), Response(b"", status_code=404)),
    ):
        observer(request, response, perf_counter())
    tally.add(("GET", "/items/{item_id}", 200), 1.0)  # a streamed body's count, by label
    counts = {key: sum(series[1:]) for key, series in tally.snapshot().items()}
    assert counts == {
        ("GET", "/items/{item_id}", 200): 3,
        ("HEAD", "/items/{item_id}", 200): 2,
        ("GET", "/items/{item_id}", 404): 1,
    }
    snapshot = tally.snapshot()
    first = snapshot["GET", "/items/{item_id}", 200]
    assert first[0] >= 1.0
    assert first[1:] == [2, 1]  # two fast ones, the 1 s one over 0.5
    assert tally.take() == snapshot
    assert tally.snapshot() == {}
    observer(FakeRequest("GET", "/items/6", route), JSONResponse(6), perf_counter())
    assert list(tally.take()) == [("GET", "/items/{item_id}", 200)]


def test_an_odd_status_is_counted_under_its_label(tally_impl: ModuleType) -> None:
    tally = tally_impl.RequestTally((1000.0,))
    observer = tally_impl.TallyObserver(tally, match, keep_every_stream)
    for status in (True, 2**70, 299):
        response = Response(b"")
        response.status_code = status
        observer(FakeRequest("GET", "/items/1", Endpoint()), response, perf_counter())
    assert {key: series[1] for key, series in tally.snapshot().items()} == {
        ("GET", "/items/{item_id}", True): 1,
        ("GET", "/items/{item_id}", 2**70): 1,
        ("GET", "/items/{item_id}", 299): 1,
    }


def test_the_observer_times_from_started_on_perf_counters_clock(tally_impl: ModuleType) -> None:
    tally = tally_impl.RequestTally((0.05, 1000.0))
    observer = tally_impl.TallyObserver(tally, match, keep_every_stream)
    observer(FakeRequest("GET", "/items/1", Endpoint()), JSONResponse(1), perf_counter() - 0.1)
    observer(FakeRequest("GET", "/items/1", Endpoint()), JSONResponse(1), perf_counter())
    total, fast, slow, _over = tally.snapshot()["GET", "/items/{item_id}", 200]
    assert 0.1 <= total < 100.0
    assert (fast, slow) == (1, 1)


def test_observations_from_many_threads_are_never_lost(tally_impl: ModuleType) -> None:
    tally = tally_impl.RequestTally((1000.0,))
    observer = tally_impl.TallyObserver(tally, match, keep_every_stream)
    route = Endpoint()

    def observe() -> None:
        for _ in range(2000):
            observer(FakeRequest("GET", "/items/1", route), JSONResponse(1), perf_counter())

    threads = [threading.Thread(target=observe) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tally.snapshot()["GET", "/items/{item_id}", 200][1:] == [8000, 0]
