"""Schemathesis against our own apps, in-process, under WSGI and under ASGI.

Every generated request must get an answer that the document allows: no 5xx, a documented
status code and content type, a body matching the documented schema, valid requests accepted
and invalid ones rejected. Examples are bounded and derandomized so the run is short and the
same every time. What the runs found is pinned by the tests at the bottom: a fixed bug, and a
deliberate difference between duoweb's strict bodies and JSON Schema's idea of an integer,
which the run steers around (and only that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402

from benchmarks.app import app as reference_app  # noqa: E402
from duoweb.testing import TestClient  # noqa: E402
from tests import openapi_app  # noqa: E402

# Examples per operation (the coverage phase adds its own boundary cases on top).
REFERENCE_EXAMPLES = 15
APP_EXAMPLES = 15

# The reference app's /api/v1/r{k}/{id} routes are 100 copies of one handler and one schema:
# r0-r4 and r99 stand for all of them, which keeps the whole run well under a minute.
_ALIKE_ROUTES = r"^/api/v1/r([5-9]|[1-8][0-9]|9[0-8])/"

SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _config(examples: int, operations: list[dict[str, Any]] | None = None) -> Any:
    data: dict[str, Any] = {
        "generation": {"max-examples": examples, "deterministic": True, "database": "none"},
    }
    if operations:
        data["operations"] = operations
    return SchemathesisConfig.from_dict(data)


reference_wsgi = schemathesis.openapi.from_wsgi(
    "/openapi.json", reference_app.wsgi, config=_config(REFERENCE_EXAMPLES)
).exclude(path_regex=_ALIKE_ROUTES)
reference_asgi = schemathesis.openapi.from_asgi(
    "/openapi.json", reference_app.asgi, config=_config(REFERENCE_EXAMPLES)
).exclude(path_regex=_ALIKE_ROUTES)
app_wsgi = schemathesis.openapi.from_wsgi(
    "/openapi.json", openapi_app.app.wsgi, config=_config(APP_EXAMPLES)
)
app_asgi = schemathesis.openapi.from_asgi(
    "/openapi.json", openapi_app.app.asgi, config=_config(APP_EXAMPLES)
)


def _integral_floats_as_ints(value: Any) -> Any:
    """Write 3.0 as 3: duoweb's bodies are strict, so 3.0 is not an int (see the last test)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    return value


F = TypeVar("F", bound=Callable[..., Any])


def _parametrized(schema: Any) -> Callable[[F], F]:
    """``schema.parametrize()``, typed for mypy (schemathesis' decorators are untyped)."""
    decorator: Callable[[F], F] = schema.parametrize()
    return decorator


def _map_body(context: Any, body: Any) -> Any:
    return _integral_floats_as_ints(body)


for _schema in (app_wsgi, app_asgi):
    _schema.hook("map_body")(_map_body)


def _call(case: Any) -> None:
    """Send the case with the app's API key (checks that need it removed remove it)."""
    case.call_and_validate(headers={"x-api-key": openapi_app.API_KEY})


@_parametrized(reference_wsgi)
@SETTINGS
def test_reference_app_wsgi(case: Any) -> None:
    case.call_and_validate()


@_parametrized(reference_asgi)
@SETTINGS
def test_reference_app_asgi(case: Any) -> None:
    case.call_and_validate()


@_parametrized(app_wsgi)
@SETTINGS
def test_openapi_app_wsgi(case: Any) -> None:
    _call(case)


@_parametrized(app_asgi)
@SETTINGS
def test_openapi_app_asgi(case: Any) -> None:
    _call(case)


# --- what the runs found ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_datetime_query_parameter_rejects_a_bare_number(mode: Any) -> None:
    """Found by schemathesis: lax conversion read "0.5" as a Unix timestamp; now refused."""
    with TestClient(openapi_app.app, mode) as client:
        assert client.get("/products", params={"since": "0.5"}).status_code == 422
        assert client.get("/products", params={"since": "2024-01-02T03:04:05Z"}).status_code == 200


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_integral_float_for_an_int_field_is_refused_on_purpose(mode: Any) -> None:
    """JSON Schema counts 3.0 as an integer; duoweb's strict bodies do not (like "5" for an
    int), so a client must send 3. docs/models.md and docs/openapi.md say so."""
    body = {"parts": [{"number": "AB-123", "quantity": 3.0}]}
    with TestClient(openapi_app.app, mode) as client:
        response = client.post("/assemblies", json=body)
        assert response.status_code == 422
        # This app renders validation errors its own way (App.validation_error_renderer).
        assert response.json()["fields"] == ["body.parts.0.quantity"]
        body["parts"][0]["quantity"] = 3
        assert client.post("/assemblies", json=body).status_code == 200
