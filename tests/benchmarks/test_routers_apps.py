"""The routers benchmark compares like with like: both apps give the same answers."""

from __future__ import annotations

import pytest

from benchmarks.contenders.routers_apps import ROUTER_CONTENDERS, load
from benchmarks.drivers import make_driver
from benchmarks.routers import PROBE
from benchmarks.spec import Probe


@pytest.mark.parametrize("name", list(ROUTER_CONTENDERS))
def test_each_app_answers_the_probe_and_refuses_without_the_key(name: str) -> None:
    mode, _ = ROUTER_CONTENDERS[name]
    driver = make_driver(mode, load(name))
    driver.start()
    try:
        status, _, body = driver.call_once(driver.prepare(PROBE))
        assert (status, body) == (200, b'{"id":12345}')
        refused = driver.call_once(driver.prepare(Probe("GET", PROBE.path)))
        assert refused[0] == 401
    finally:
        driver.stop()


def test_both_apps_build_the_same_route() -> None:
    from benchmarks.contenders.routers_apps import direct_app, nested_app

    direct, nested = direct_app(), nested_app()
    assert direct.routes() == nested.routes()
    (one,) = direct.endpoints
    (other,) = nested.endpoints
    assert [node.provider for node in one.nodes] == [node.provider for node in other.nodes]
    assert (one.direct, one.call_path, one.wrap) == (other.direct, other.call_path, other.wrap)
