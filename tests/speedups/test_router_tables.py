"""Realistic and large tables: wide static fan-outs, deep chains, the GitHub API set.

The property tests use small generated tables; these exercise the code paths only big tables
reach (the pure twin's per-child dispatch functions, the compiled router's hash tables and its
loop over single-way nodes) and check all implementations give identical answers.
"""

from __future__ import annotations

import itertools
from types import ModuleType
from typing import Any

import pytest

from benchmarks import github_routes
from duoweb import _router_py
from tests.speedups.conftest import implementation

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")


def github_router(impl: Any) -> Any:
    router = impl.Router()
    for method, path in github_routes.ROUTES:
        kinds = {
            name: "int" if name in github_routes.INT_PARAMS else "str"
            for name in github_routes.param_names(path)
        }
        router.add(github_routes.to_template(path, "duoweb"), [method], (method, path), kinds)
    router.compile()
    return router


def test_github_every_route_is_found(router_impl: ModuleType) -> None:
    router = github_router(router_impl)
    for method, path in github_routes.ROUTES:
        endpoint, params = router.match(method, github_routes.sample_path(path))
        assert endpoint == (method, path)
        expected = {
            name: 42 if name in github_routes.INT_PARAMS else "julienschmidt"
            for name in github_routes.param_names(path)
        }
        assert params == expected


def test_github_allowed_methods(router_impl: ModuleType) -> None:
    router = github_router(router_impl)
    assert router.match("PATCH", "/user/keys/42") == (None, ("DELETE", "GET", "HEAD", "OPTIONS"))
    assert router.match("GET", "/gists/x/star") == (None, None)  # id is an int
    assert router.match("GET", "/repos/a/b/issues/1/labels/bug") == (
        None,
        ("DELETE", "OPTIONS"),
    )


def variants(path: str) -> list[str]:
    """The path, and near misses: truncated, extended, a segment emptied or replaced."""
    parts = path.split("/")
    out = [path, path + "/", path + "/x", "/".join(parts[:-1]) or "/"]
    for index in range(1, len(parts)):
        for replacement in ("", "42", "x", "-1"):
            out.append("/".join([*parts[:index], replacement, *parts[index + 1 :]]))
    return out


def test_github_implementations_agree() -> None:
    compiled = github_router(implementation("router", "compiled"))
    pure = github_router(_router_py)
    walk: _router_py.Router[object] = _router_py.Router()
    walk._generate = False
    for method, path in github_routes.ROUTES:
        kinds = {
            name: "int" if name in github_routes.INT_PARAMS else "str"
            for name in github_routes.param_names(path)
        }
        walk.add(github_routes.to_template(path, "duoweb"), [method], (method, path), kinds)
    for _method, route in github_routes.ROUTES:
        for path in variants(github_routes.sample_path(route)):
            for method in METHODS:
                expected = walk.match(method, path)
                assert pure.match(method, path) == expected, (method, path)
                assert compiled.match(method, path) == expected, (method, path)


def wide_table(impl: Any, width: int) -> Any:
    router = impl.Router()
    for k in range(width):
        router.add(f"/w/k{k}/{{id:int}}", ["GET"], ("int", k))
        router.add(f"/w/k{k}/{{id:int}}/x", ["GET"], ("intx", k))
        router.add(f"/w/k{k}", ["GET", "POST"], ("static", k))
    router.add("/w/{name}/{id}", ["GET"], "fallback")
    router.add("/w/{name}/{id}/y", ["GET"], "fallback-y")
    router.add("/w/{rest:path}", ["GET"], "rest")
    router.compile()
    return router


@pytest.mark.parametrize("width", [3, 9, 65, 700])
def test_wide_static_fanout(router_impl: ModuleType, width: int) -> None:
    router = wide_table(router_impl, width)
    last = width - 1
    assert router.match("GET", f"/w/k{last}/17") == (("int", last), {"id": 17})
    assert router.match("GET", f"/w/k{last}/17/x") == (("intx", last), {"id": 17})
    assert router.match("POST", f"/w/k{last}") == (("static", last), {})
    # backtracking out of a wide static child into the str sibling, and on to path
    assert router.match("GET", f"/w/k{last}/abc") == ("fallback", {"name": f"k{last}", "id": "abc"})
    assert router.match("GET", f"/w/k{last}/17/y") == (
        "fallback-y",
        {"name": f"k{last}", "id": "17"},
    )
    assert router.match("GET", f"/w/k{last}/17/z") == ("rest", {"rest": f"k{last}/17/z"})
    assert router.match("GET", f"/w/k{width}/17") == ("fallback", {"name": f"k{width}", "id": "17"})
    assert router.match("DELETE", f"/w/k{last}") == (None, ("GET", "HEAD", "OPTIONS", "POST"))


def test_wide_tables_agree() -> None:
    compiled = wide_table(implementation("router", "compiled"), 300)
    pure = wide_table(_router_py, 300)
    walk_router: _router_py.Router[object] = _router_py.Router()
    walk_router._generate = False
    for method, template, endpoint in pure.routes():
        walk_router.add(template, [method], endpoint)
    segments = ["k0", "k150", "k299", "k300", "", "17", "-5", "x", "y", "z"]
    for depth in range(1, 5):
        for parts in itertools.product(segments, repeat=depth):
            path = "/w/" + "/".join(parts)
            for method in ("GET", "POST", "HEAD"):
                expected = walk_router.match(method, path)
                assert pure.match(method, path) == expected, (method, path)
                assert compiled.match(method, path) == expected, (method, path)


def test_non_ascii_static_keys(router_impl: ModuleType) -> None:
    """Static keys and paths of every str kind (1, 2 and 4 bytes per character) meet."""
    router = router_impl.Router()
    keys = ["caf\u00e9", "\u65e5\u672c", "\U0001f4a9", "plain", "x" * 20, "\u00e9" * 9]
    keys += [f"k{k}" for k in range(20)]  # wide enough for the hashed fan-out
    for key in keys:
        router.add(f"/s/{key}/{{v}}", ["GET"], key)
    router.compile()
    for key in keys:
        for suffix in ("v", "\u65e5", "\U0001f4a9"):
            assert router.match("GET", f"/s/{key}/{suffix}") == (key, {"v": suffix})
    # a 4-byte-per-character path whose static segment is all ASCII
    assert router.match("GET", "/s/plain/\U0001f4a9") == ("plain", {"v": "\U0001f4a9"})
    assert router.match("GET", "/s/caf\u00e9\u00e9/v") == (None, None)
