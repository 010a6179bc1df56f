"""ETags under real servers with 2 workers: every worker gives a body the same tag.

The tag is a digest of the bytes (no per-process seed, no per-worker state), so a client
revalidating against any worker of Gunicorn (WSGI) or Hypercorn (ASGI) gets its 304.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from duoweb.caching import strong_etag
from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e

TARGETS = {
    "gunicorn": "tests.e2e.caching_app:app",
    "hypercorn": "tests.e2e.caching_app:app.asgi",
}


@pytest.fixture(params=sorted(TARGETS))
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    server: str = request.param
    with serve(server, TARGETS[server], workers=2) as url:
        yield url


def _from_both_workers(url: str, headers: dict[str, str]) -> list[httpx.Response]:
    """Rounds of 4 concurrent GETs until two workers have answered (at most 40)."""
    answers: list[httpx.Response] = []
    with ThreadPoolExecutor(4) as pool:
        while len({a.headers["x-worker"] for a in answers}) < 2 and len(answers) < 40:
            answers += pool.map(lambda _: httpx.get(url, headers=headers, timeout=10), range(4))
    return answers


def test_every_worker_tags_alike_and_answers_304(served: str) -> None:
    url = served + "/catalog/3"
    plain = {"accept-encoding": "identity"}
    full = _from_both_workers(url, plain)
    assert len({a.headers["x-worker"] for a in full}) == 2, "both workers should answer"
    assert {a.status_code for a in full} == {200}
    assert {a.headers["etag"] for a in full} == {strong_etag(full[0].content)}
    etag = full[0].headers["etag"]

    cached = _from_both_workers(url, {**plain, "if-none-match": f'"old", {etag}'})
    assert len({a.headers["x-worker"] for a in cached}) == 2
    for answer in cached:
        assert answer.status_code == 304
        assert answer.content == b""
        assert answer.headers["etag"] == etag
        assert answer.headers["cache-control"] == "public, max-age=60"

    head = httpx.head(url, headers=plain, timeout=10)
    assert head.headers["etag"] == etag
    assert head.headers["content-length"] == full[0].headers["content-length"]
    assert httpx.get(served + "/catalog/4", headers={"if-none-match": etag}).status_code == 200

    gzip = {"accept-encoding": "gzip"}
    zipped = httpx.get(url, headers=gzip, timeout=10)
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == f"W/{etag}"  # compressed after tagging: weak
    assert zipped.headers["vary"] == "Accept-Encoding"
    revalidated = httpx.get(url, headers={**gzip, "if-none-match": zipped.headers["etag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["vary"] == "Accept-Encoding"
    assert revalidated.headers["etag"] == zipped.headers["etag"]
