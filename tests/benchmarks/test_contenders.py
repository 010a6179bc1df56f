"""The benchmark's raw floors and peer apps answer the reference routes as the contract says.

Only correctness is checked here, once per request and never timed: a contender that answers
wrongly would make its benchmark numbers meaningless.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.contenders import CONTENDERS, Contender
from benchmarks.drivers import ASGIDriver, WSGIDriver, make_driver
from benchmarks.spec import BENCH, CONFORMANCE, ROUTES, verify

PEERS = [c for c in CONTENDERS if not c.family.startswith("duoweb")]
PROBES = {**{f"bench {k}": v for k, v in BENCH.items()}, **CONFORMANCE}

#: Where a peer's documented idiom knowingly differs from the contract (checked strictly).
KNOWN_DEVIATIONS = {
    ("litestar", "item price string"): "Litestar converts request data in msgspec's lax mode",
}

Driven = tuple[Contender, WSGIDriver | ASGIDriver]


@pytest.fixture(scope="module", params=PEERS, ids=lambda c: c.name)
def driven(request: pytest.FixtureRequest) -> Iterator[Driven]:
    contender: Contender = request.param
    for dist in contender.dists:
        pytest.importorskip(dist)
    driver = make_driver(contender.mode, contender.load())
    driver.start()
    yield contender, driver
    driver.stop()


@pytest.mark.parametrize("name", list(PROBES))
def test_contender_answers(driven: Driven, name: str, request: pytest.FixtureRequest) -> None:
    contender, driver = driven
    reason = KNOWN_DEVIATIONS.get((contender.name, name))
    if reason is not None:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    probe = PROBES[name]
    status, headers, body = driver.call_once(driver.prepare(probe))
    assert verify(probe, status, headers, body) is None


def test_every_route_kind_has_a_bench_request() -> None:
    assert set(BENCH) == set(ROUTES)
