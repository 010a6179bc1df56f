"""build_path(): templates filled with values that the router matches back to the same values."""

from __future__ import annotations

import uuid
from types import ModuleType
from urllib.parse import unquote

import pytest

from duoweb._route_templates import (
    PathBuildError,
    RouteDefinitionError,
    build_path,
    parse_template,
)

U = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")


def test_static_and_simple() -> None:
    assert build_path("/", {}) == "/"
    assert build_path("/plaintext", {}) == "/plaintext"
    assert build_path("/users/{id:int}", {"id": 5}) == "/users/5"
    assert build_path("/users/{id}", {"id": "bob"}) == "/users/bob"


def test_kinds_format() -> None:
    assert build_path("/f/{x:float}", {"x": 2.5}) == "/f/2.5"
    assert build_path("/f/{x:float}", {"x": 3}) == "/f/3.0"
    assert build_path("/f/{x:float}", {"x": 1e16}) == "/f/1e+16"
    assert build_path("/u/{x:uuid}", {"x": U}) == f"/u/{U}"
    assert build_path("/u/{x:uuid}", {"x": str(U).upper()}) == f"/u/{U}"
    assert build_path("/p/{x:path}", {"x": "a b/c"}) == "/p/a%20b/c"
    assert build_path("/p/{x:path}", {"x": ""}) == "/p/"
    assert build_path("/s/{x}", {"x": "a b%?#é"}) == "/s/a%20b%25%3F%23%C3%A9"
    assert build_path("/s/{x}", {"x": "a:b@c"}) == "/s/a:b@c"


def test_param_types_and_custom_kinds() -> None:
    assert build_path("/n/{x}", {"x": 7}, {"x": "int"}) == "/n/7"
    assert build_path("/c/{x:slug}", {"x": 12}) == "/c/12"
    with pytest.raises(PathBuildError):
        build_path("/c/{x:slug}", {"x": "a/b"})


def test_static_text_is_encoded() -> None:
    assert build_path("/100%/caf\u00e9", {}) == "/100%25/caf%C3%A9"


@pytest.mark.parametrize(
    ("template", "params", "fragment"),
    [
        ("/a/{x}", {}, "missing x"),
        ("/a/{x}", {"x": "1", "y": 2}, "unexpected y"),
        ("/a", {"y": 2}, "unexpected y"),
        ("/a/{x:int}", {"x": "5"}, "needs an int"),
        ("/a/{x:int}", {"x": True}, "needs an int"),
        ("/a/{x:int}", {"x": 2**63}, "64-bit"),
        ("/a/{x:int}", {"x": -(2**63) - 1}, "64-bit"),
        ("/a/{x:float}", {"x": float("nan")}, "finite"),
        ("/a/{x:float}", {"x": float("inf")}, "finite"),
        ("/a/{x:float}", {"x": 10**400}, "finite"),
        ("/a/{x:float}", {"x": "1.5"}, "needs a float"),
        ("/a/{x:uuid}", {"x": "nope"}, "UUID"),
        ("/a/{x:uuid}", {"x": U.hex}, "UUID"),
        ("/a/{x}", {"x": ""}, "non-empty"),
        ("/a/{x}", {"x": "a/b"}, "no '/'"),
        ("/a/{x}", {"x": 5}, "needs a str"),
        ("/a/{x:path}", {"x": 5}, "needs a str"),
        ("/a/{x}", {"x": "\ud800"}, "UTF-8"),
    ],
)
def test_errors(template: str, params: dict[str, object], fragment: str) -> None:
    with pytest.raises(PathBuildError, match=fragment) as info:
        build_path(template, params)
    assert isinstance(info.value, RouteDefinitionError)
    assert isinstance(info.value, ValueError)
    assert repr(template) in str(info.value)


def test_malformed_template() -> None:
    with pytest.raises(RouteDefinitionError, match="unbalanced"):
        build_path("/a/{x", {"x": 1})


def test_parse_template_rejects_non_str() -> None:
    with pytest.raises(RouteDefinitionError):
        parse_template(["/a"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("template", "params"),
    [
        ("/a/{x:int}/b/{y:float}", {"x": -42, "y": 0.1}),
        ("/a/{x:uuid}", {"x": U}),
        ("/a/{x}/{y:path}", {"x": "sp ace%", "y": "deep/er/ "}),
        ("/a/{x:float}", {"x": -0.0}),
        ("/a/{x:float}", {"x": 5e-324}),
        ("/a/{x:float}", {"x": 1.7976931348623157e308}),
    ],
)
def test_round_trip(router_impl: ModuleType, template: str, params: dict[str, object]) -> None:
    router = router_impl.Router()
    router.add(template, ["GET"], "e")
    path = unquote(build_path(template, params))
    assert router.match("GET", path) == ("e", params)
