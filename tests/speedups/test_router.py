"""Behaviour of the router, run against the pure twin and the compiled extension alike."""

from __future__ import annotations

import threading
import uuid
from types import ModuleType
from typing import Any

import pytest

from duoweb._route_templates import RouteDefinitionError

ALL = ("GET",)
U = "12345678-9abc-def0-1234-56789abcdef0"


def make(impl: ModuleType, *routes: tuple[str, str | tuple[str, ...], object]) -> Any:
    router = impl.Router()
    for template, methods, endpoint in routes:
        router.add(template, [methods] if isinstance(methods, str) else list(methods), endpoint)
    router.compile()
    return router


# -- basic hits, 404, 405 ------------------------------------------------------------------


def test_static_hit_gives_empty_params(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/plaintext", "GET", "p"), ("/json", "GET", "j"))
    assert router.match("GET", "/plaintext") == ("p", {})
    assert router.match("GET", "/json") == ("j", {})


def test_static_hit_params_are_fresh_dicts(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a", "GET", "a"))
    first = router.match("GET", "/a")[1]
    first["x"] = 1
    assert router.match("GET", "/a") == ("a", {})


def test_miss_is_none_none(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a", "GET", "a"), ("/b/{x}", "GET", "b"))
    for path in ("/c", "/a/b", "/b", "/b/x/y", "", "a", "/A"):
        assert router.match("GET", path) == (None, None), path


def test_method_not_allowed_lists_methods(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a", ("POST", "GET", "DELETE"), "a"), ("/b", "PUT", "b"))
    assert router.match("PATCH", "/a") == (None, ("DELETE", "GET", "HEAD", "OPTIONS", "POST"))
    assert router.match("GET", "/b") == (None, ("OPTIONS", "PUT"))
    assert router.match("HEAD", "/b") == (None, ("OPTIONS", "PUT"))


def test_allowed_is_a_sorted_tuple(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/x/{id:int}", ("PUT", "DELETE", "GET"), "x"))
    allowed = router.match("POST", "/x/1")[1]
    assert isinstance(allowed, tuple)
    assert list(allowed) == sorted(allowed)
    assert allowed == ("DELETE", "GET", "HEAD", "OPTIONS", "PUT")


def test_head_falls_back_to_get(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a/{id:int}", "GET", "get"))
    assert router.match("HEAD", "/a/3") == ("get", {"id": 3})


def test_explicit_head_wins(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a", "GET", "get"), ("/a", "HEAD", "head"))
    assert router.match("HEAD", "/a") == ("head", {})
    assert router.match("GET", "/a") == ("get", {})


def test_options_without_route_is_method_not_allowed(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a", "POST", "post"))
    assert router.match("OPTIONS", "/a") == (None, ("OPTIONS", "POST"))


def test_explicit_options_route(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a", ("OPTIONS", "GET"), "o"))
    assert router.match("OPTIONS", "/a") == ("o", {})
    assert router.match("PUT", "/a") == (None, ("GET", "HEAD", "OPTIONS"))


def test_methods_are_case_sensitive(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a", "GET", "a"))
    assert router.match("get", "/a") == (None, ("GET", "HEAD", "OPTIONS"))


def test_same_shape_same_names_different_methods_merge(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/u/{id:int}", "GET", "get"), ("/u/{id:int}", "DELETE", "del"))
    assert router.match("GET", "/u/1") == ("get", {"id": 1})
    assert router.match("DELETE", "/u/1") == ("del", {"id": 1})
    assert router.match("PUT", "/u/1") == (None, ("DELETE", "GET", "HEAD", "OPTIONS"))


# -- converters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "value"),
    [
        ("0", 0),
        ("7", 7),
        ("007", 7),
        ("-5", -5),
        ("-0", 0),
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("0000000000000000000000000000001", 1),
        ("-00000000000000000000000009223372036854775808", -(2**63)),
    ],
)
def test_int_accepts(router_impl: ModuleType, segment: str, value: int) -> None:
    router = make(router_impl, ("/n/{v:int}", "GET", "n"))
    endpoint, params = router.match("GET", "/n/" + segment)
    assert endpoint == "n"
    assert params == {"v": value}
    assert type(params["v"]) is int


@pytest.mark.parametrize(
    "segment",
    [
        "",
        "-",
        "+1",
        " 1",
        "1 ",
        "1_000",
        "1.0",
        "0x10",
        "\u0661",  # ARABIC-INDIC DIGIT ONE
        "\uff11",  # FULLWIDTH DIGIT ONE
        "²",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
        "--1",
        "1-",
        "1\x00",
        "\ud800",
        "1" * 5000,
    ],
)
def test_int_rejects(router_impl: ModuleType, segment: str) -> None:
    router = make(router_impl, ("/n/{v:int}", "GET", "n"))
    assert router.match("GET", "/n/" + segment) == (None, None)


@pytest.mark.parametrize(
    ("segment", "value"),
    [
        ("0", 0.0),
        ("1", 1.0),
        ("-1.5", -1.5),
        ("3.25", 3.25),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("2.5e+2", 250.0),
        ("007.50", 7.5),
        ("0.1", 0.1),
        ("1e-400", 0.0),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ("1.7976931348623157e308", 1.7976931348623157e308),
    ],
)
def test_float_accepts(router_impl: ModuleType, segment: str, value: float) -> None:
    router = make(router_impl, ("/f/{v:float}", "GET", "f"))
    endpoint, params = router.match("GET", "/f/" + segment)
    assert endpoint == "f"
    assert params == {"v": value}
    assert type(params["v"]) is float


def test_float_negative_zero_keeps_sign(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/f/{v:float}", "GET", "f"))
    value = router.match("GET", "/f/-0.0")[1]["v"]
    assert value == 0.0
    assert str(value) == "-0.0"


@pytest.mark.parametrize(
    "segment",
    [
        "",
        "-",
        ".",
        "1.",
        ".5",
        "+1.0",
        " 1.0",
        "1.0 ",
        "1_0.0",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "1e",
        "1e+",
        "e5",
        "1.5e3.2",
        "0x1p3",
        "1e309",
        "-1e309",
        "1" * 400,
        "\uff11.\uff10",
        "1,5",
        "1.0\x00",
    ],
)
def test_float_rejects(router_impl: ModuleType, segment: str) -> None:
    router = make(router_impl, ("/f/{v:float}", "GET", "f"))
    assert router.match("GET", "/f/" + segment) == (None, None)


def test_uuid_any_case(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/u/{v:uuid}", "GET", "u"))
    for text in (U, U.upper(), "ABCDEF01-2345-6789-abcd-ef0123456789"):
        endpoint, params = router.match("GET", "/u/" + text)
        assert endpoint == "u"
        assert params == {"v": uuid.UUID(text)}
        assert type(params["v"]) is uuid.UUID
        assert str(params["v"]) == text.lower()


@pytest.mark.parametrize(
    "segment",
    [
        U.replace("-", ""),
        "{" + U + "}",
        "urn:uuid:" + U,
        U[:-1],
        U + "0",
        U.replace("a", "g"),
        U.replace("-", "_"),
        U[:8] + U[9:] + "-",
        " " + U[1:],
    ],
)
def test_uuid_rejects(router_impl: ModuleType, segment: str) -> None:
    router = make(router_impl, ("/u/{v:uuid}", "GET", "u"))
    assert router.match("GET", "/u/" + segment) == (None, None)


def test_str_rejects_empty_segment(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/s/{v}", "GET", "s"), ("/t/{v}/x", "GET", "t"))
    assert router.match("GET", "/s/") == (None, None)
    assert router.match("GET", "/t//x") == (None, None)
    assert router.match("GET", "/s/%20") == ("s", {"v": "%20"})
    assert router.match("GET", "/s/ ") == ("s", {"v": " "})


def test_str_keeps_any_characters(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/s/{v}", "GET", "s"))
    for text in ("é", "日本", "a\x00b", "\ud800", "..", ".", "💩", "a?b#c"):
        assert router.match("GET", "/s/" + text) == ("s", {"v": text})


def test_path_takes_the_rest(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/files/{rest:path}", "GET", "f"))
    assert router.match("GET", "/files/a/b/c") == ("f", {"rest": "a/b/c"})
    assert router.match("GET", "/files/") == ("f", {"rest": ""})
    assert router.match("GET", "/files//") == ("f", {"rest": "/"})
    assert router.match("GET", "/files/a/") == ("f", {"rest": "a/"})
    assert router.match("GET", "/files/../x") == ("f", {"rest": "../x"})
    assert router.match("GET", "/files") == (None, None)


def test_root_path_param(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/{p:path}", "GET", "all"), ("/api", "GET", "api"))
    assert router.match("GET", "/") == ("all", {"p": ""})
    assert router.match("GET", "/api") == ("api", {})
    assert router.match("GET", "/api/x") == ("all", {"p": "api/x"})
    deep = "/" + "/".join(["x"] * 1000)
    assert router.match("GET", deep) == ("all", {"p": deep[1:]})


def test_param_types_give_kinds(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add("/a/{x}/{y}/{z}", ["GET"], "a", {"x": "int", "y": "float", "z": "uuid"})
    assert router.match("GET", f"/a/1/2.5/{U}") == (
        "a",
        {"x": 1, "y": 2.5, "z": uuid.UUID(U)},
    )
    assert router.match("GET", f"/a/x/2.5/{U}") == (None, None)


def test_param_types_agreeing_with_template(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add("/a/{x:int}", ["GET"], "a", {"x": "int"})
    assert router.match("GET", "/a/4") == ("a", {"x": 4})


def test_multiple_params_and_names(router_impl: ModuleType) -> None:
    router = make(
        router_impl,
        ("/repos/{owner}/{repo}/issues/{number:int}", "GET", "issue"),
        ("/repos/{owner}/{repo}", "GET", "repo"),
    )
    assert router.match("GET", "/repos/me/duo/issues/3") == (
        "issue",
        {"owner": "me", "repo": "duo", "number": 3},
    )
    assert router.match("GET", "/repos/me/duo") == ("repo", {"owner": "me", "repo": "duo"})
    assert router.match("GET", "/repos/me/duo/issues/x") == (None, None)


# -- priority and backtracking -------------------------------------------------------------


def test_priority_order_at_one_node(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add_converter("hexa", lambda s: int(s, 16))
    router.add_converter("word", lambda s: s if s.isalpha() else int("x"))
    router.add("/p/{v:path}", ["GET"], "path")
    router.add("/p/{v}", ["GET"], "str")
    router.add("/p/{v:word}", ["GET"], "word")
    router.add("/p/{v:hexa}", ["GET"], "hexa")
    router.add("/p/{v:float}", ["GET"], "float")
    router.add("/p/{v:int}", ["GET"], "int")
    router.add("/p/{v:uuid}", ["GET"], "uuid")
    router.add("/p/12", ["GET"], "static")
    router.compile()
    assert router.match("GET", "/p/12") == ("static", {})
    assert router.match("GET", f"/p/{U}") == ("uuid", {"v": uuid.UUID(U)})
    assert router.match("GET", "/p/13") == ("int", {"v": 13})
    assert router.match("GET", "/p/1.5") == ("float", {"v": 1.5})
    # "ff" is both hex and a word: the first registered converter wins.
    assert router.match("GET", "/p/ff") == ("hexa", {"v": 255})
    assert router.match("GET", "/p/zz") == ("word", {"v": "zz"})
    assert router.match("GET", "/p/z-z") == ("str", {"v": "z-z"})
    assert router.match("GET", "/p/") == ("path", {"v": ""})
    assert router.match("GET", "/p/a/b") == ("path", {"v": "a/b"})


def test_priority_does_not_depend_on_registration_order(router_impl: ModuleType) -> None:
    a = make(router_impl, ("/x/{v}", "GET", "str"), ("/x/{v:int}", "GET", "int"))
    b = make(router_impl, ("/x/{v:int}", "GET", "int"), ("/x/{v}", "GET", "str"))
    for router in (a, b):
        assert router.match("GET", "/x/1") == ("int", {"v": 1})
        assert router.match("GET", "/x/y") == ("str", {"v": "y"})


def test_backtracks_from_dead_end_static(router_impl: ModuleType) -> None:
    router = make(
        router_impl,
        ("/users/me/settings", "GET", "settings"),
        ("/users/{id}/posts", "GET", "posts"),
    )
    assert router.match("GET", "/users/me/posts") == ("posts", {"id": "me"})
    assert router.match("GET", "/users/me/settings") == ("settings", {})


def test_backtracks_from_dead_end_typed(router_impl: ModuleType) -> None:
    router = make(
        router_impl,
        ("/a/{n:int}/x", "GET", "int"),
        ("/a/{n:float}/y", "GET", "float"),
        ("/a/{s}/z", "GET", "str"),
        ("/a/{p:path}", "GET", "path"),
    )
    assert router.match("GET", "/a/1/x") == ("int", {"n": 1})
    assert router.match("GET", "/a/1/y") == ("float", {"n": 1.0})
    assert router.match("GET", "/a/1/z") == ("str", {"s": "1"})
    assert router.match("GET", "/a/1/w") == ("path", {"p": "1/w"})
    # values captured on an abandoned branch must not leak into the result
    assert router.match("GET", "/a/1/q/r") == ("path", {"p": "1/q/r"})


def test_backtracks_out_of_single_way_chains(router_impl: ModuleType) -> None:
    """Nodes with one way on (a str, an int or a static child) are walked without
    recursion in the compiled router; a dead end below them must still backtrack cleanly."""
    router = make(
        router_impl,
        ("/c/{n:int}/{m:int}/x", "GET", "ints"),
        ("/s/{a}/{b}/x", "GET", "strs"),
        ("/k/one/two/x", "GET", "statics"),
        ("/{p:path}", "GET", "all"),
    )
    assert router.match("GET", "/c/5/6/x") == ("ints", {"n": 5, "m": 6})
    assert router.match("GET", "/c/5/6/y") == ("all", {"p": "c/5/6/y"})
    assert router.match("GET", "/c/5/q/x") == ("all", {"p": "c/5/q/x"})
    assert router.match("GET", "/s/a/b/x") == ("strs", {"a": "a", "b": "b"})
    assert router.match("GET", "/s/a/b/y") == ("all", {"p": "s/a/b/y"})
    assert router.match("GET", "/s/a//x") == ("all", {"p": "s/a//x"})
    assert router.match("GET", "/k/one/two/x") == ("statics", {})
    assert router.match("GET", "/k/one/two") == ("all", {"p": "k/one/two"})
    assert router.match("GET", "/k/one/three/x") == ("all", {"p": "k/one/three/x"})


def test_path_owned_by_first_route_even_without_method(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/u/me", "GET", "me"), ("/u/{id}", "DELETE", "del"))
    # the static route owns "/u/me": DELETE there is 405, not the str route
    assert router.match("DELETE", "/u/me") == (None, ("GET", "HEAD", "OPTIONS"))
    assert router.match("DELETE", "/u/you") == ("del", {"id": "you"})


def test_leaf_and_deeper_route_on_same_prefix(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a/{x}", "GET", "short"), ("/a/{x}/b", "GET", "long"))
    assert router.match("GET", "/a/1") == ("short", {"x": "1"})
    assert router.match("GET", "/a/1/b") == ("long", {"x": "1"})
    assert router.match("GET", "/a/1/c") == (None, None)


# -- custom converters ---------------------------------------------------------------------


def test_custom_converter_value_and_rejection(router_impl: ModuleType) -> None:
    router = router_impl.Router()

    def upper(segment: str) -> str:
        if not segment.isalpha():
            raise ValueError(segment)
        return segment.upper()

    router.add_converter("upper", upper)
    router.add("/c/{v:upper}", ["GET"], "c")
    router.add("/c/{v}", ["GET"], "fallback")
    assert router.match("GET", "/c/abc") == ("c", {"v": "ABC"})
    assert router.match("GET", "/c/a1") == ("fallback", {"v": "a1"})


def test_custom_converter_may_return_none(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add_converter("nothing", lambda s: None)
    router.add("/c/{v:nothing}", ["GET"], "c")
    assert router.match("GET", "/c/abc") == ("c", {"v": None})


def test_custom_converter_not_offered_empty_segment(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    seen: list[str] = []

    def spy(segment: str) -> str:
        seen.append(segment)
        return segment

    router.add_converter("spy", spy)
    router.add("/c/{v:spy}", ["GET"], "c")
    assert router.match("GET", "/c/") == (None, None)
    assert seen == []


def test_custom_converter_other_errors_propagate(router_impl: ModuleType) -> None:
    router = router_impl.Router()

    def broken(segment: str) -> str:
        raise ZeroDivisionError

    router.add_converter("broken", broken)
    router.add("/c/{v:broken}", ["GET"], "c")
    with pytest.raises(ZeroDivisionError):
        router.match("GET", "/c/x")


def test_custom_converter_via_param_types(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add_converter("even", lambda s: int(s) if int(s) % 2 == 0 else int("x"))
    router.add("/e/{n}", ["GET"], "e", {"n": "even"})
    assert router.match("GET", "/e/4") == ("e", {"n": 4})
    assert router.match("GET", "/e/3") == (None, None)


@pytest.mark.parametrize("name", ["int", "str", "path", "", "a-b", "1x"])
def test_add_converter_rejects_bad_names(router_impl: ModuleType, name: str) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError):
        router.add_converter(name, str)


def test_add_converter_twice_is_an_error(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add_converter("slug", str)
    with pytest.raises(RouteDefinitionError, match="slug"):
        router.add_converter("slug", str)


def test_add_converter_needs_callable(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError):
        router.add_converter("slug", "not callable")


# -- definition errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("users", "must start with '/'"),
        ("", "must start with '/'"),
        ("/a/{b", "unbalanced"),
        ("/a/b}", "unbalanced"),
        ("/a/{{b}}", "whole segment"),
        ("/a/{}", "empty parameter name"),
        ("/a/{:int}", "empty parameter name"),
        ("/a/{b:}", "empty converter"),
        ("/a/{b c}", "not a Python identifier"),
        ("/a/{1b}", "not a Python identifier"),
        ("/a/{b}/{b}", "duplicate parameter name 'b'"),
        ("/a{b}", "whole segment"),
        ("/{a}{b}", "whole segment"),
        ("/x-{id}.json", "whole segment"),
        ("/{rest:path}/x", "must be the last"),
        ("/a/{b:nope}", "unknown converter 'nope'"),
        ("/a/{b:in-t}", "not an identifier"),
    ],
)
def test_malformed_templates(router_impl: ModuleType, template: str, fragment: str) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError, match=fragment) as info:
        router.add(template, ["GET"], "x")
    assert repr(template) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_param_types_disagreeing_with_template(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError, match="'int' in the template but 'str'"):
        router.add("/a/{x:int}", ["GET"], "a", {"x": "str"})


def test_param_types_unknown_kind(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError, match="unknown converter 'decimal'"):
        router.add("/a/{x}", ["GET"], "a", {"x": "decimal"})


def test_param_types_unknown_name(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError, match="unknown parameter"):
        router.add("/a/{x}", ["GET"], "a", {"y": "int"})


def test_param_types_path_not_last(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError, match="must be the last"):
        router.add("/a/{x}/b", ["GET"], "a", {"x": "path"})


def test_duplicate_method_and_template(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add("/a/{x:int}", ["GET", "POST"], "a")
    with pytest.raises(RouteDefinitionError, match=r"POST '/a/\{x:int\}'"):
        router.add("/a/{x:int}", ["POST"], "b")
    with pytest.raises(RouteDefinitionError, match="GET"):
        router.add("/a/{x}", ["GET"], "c", {"x": "int"})


def test_duplicate_method_in_one_call(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError, match="GET"):
        router.add("/a", ["GET", "GET"], "a")


def test_failed_add_registers_nothing(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add("/a", ["POST"], "a")
    with pytest.raises(RouteDefinitionError):
        router.add("/a", ["GET", "POST"], "b")
    assert router.match("GET", "/a") == (None, ("OPTIONS", "POST"))
    assert router.routes() == [("POST", "/a", "a")]


def test_indistinguishable_routes(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add("/users/{user_id}", ["GET"], "a")
    with pytest.raises(RouteDefinitionError) as info:
        router.add("/users/{name}", ["POST"], "b")
    assert "'/users/{user_id}'" in str(info.value)
    assert "'/users/{name}'" in str(info.value)


def test_indistinguishable_routes_via_param_types(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add("/n/{a:int}", ["GET"], "a")
    with pytest.raises(RouteDefinitionError, match="never be told apart"):
        router.add("/n/{b}", ["POST"], "b", {"b": "int"})
    # a different kind is a different shape
    router.add("/n/{b}", ["POST"], "b")


@pytest.mark.parametrize("methods", [[], ["get"], [""], ["GE T"], [1]])
def test_bad_methods(router_impl: ModuleType, methods: list[Any]) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError):
        router.add("/a", methods, "a")


def test_methods_given_as_one_string(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError, match="iterable"):
        router.add("/a", "GET", "a")


def test_endpoint_none_rejected(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError, match="None"):
        router.add("/a", ["GET"], None)


def test_template_must_be_str(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError):
        router.add(b"/a", ["GET"], "a")


# -- no normalisation ----------------------------------------------------------------------


def test_no_normalisation(router_impl: ModuleType) -> None:
    router = make(
        router_impl,
        ("/a", "GET", "a"),
        ("/a/", "GET", "a/"),
        ("/b/{x}", "GET", "b"),
        ("/", "GET", "root"),
    )
    assert router.match("GET", "/a") == ("a", {})
    assert router.match("GET", "/a/") == ("a/", {})
    assert router.match("GET", "//a") == (None, None)
    assert router.match("GET", "/a//") == (None, None)
    assert router.match("GET", "/./a") == (None, None)
    assert router.match("GET", "/b/..") == ("b", {"x": ".."})
    assert router.match("GET", "/b/.") == ("b", {"x": "."})
    assert router.match("GET", "/b/x/") == (None, None)
    assert router.match("GET", "/") == ("root", {})
    assert router.match("GET", "//") == (None, None)


def test_literal_empty_segments_in_templates(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a//b", "GET", "ab"), ("/c//{x}", "GET", "c"))
    assert router.match("GET", "/a//b") == ("ab", {})
    assert router.match("GET", "/a/b") == (None, None)
    assert router.match("GET", "/c//y") == ("c", {"x": "y"})


@pytest.mark.parametrize(
    "path",
    [
        "",
        "x",
        "\x00",
        "/\x00",
        "\ud800",
        "/\udfff/\ud800",
        "/" * 10000,
        "/a" * 10000,
        "/" + "x" * 1_000_000,
        "/n/" + "9" * 100_000,
        "/f/" + "1" * 100_000,
        "/f/1e" + "9" * 100_000,
        "/f/0." + "0" * 100_000 + "1",
        "/u/" + "a" * 100_000,
        " /",
        "\\",
        "/n/\u0660",
    ],
)
def test_hostile_paths_never_raise(router_impl: ModuleType, path: str) -> None:
    router = make(
        router_impl,
        ("/n/{v:int}", "GET", "n"),
        ("/f/{v:float}", "GET", "f"),
        ("/u/{v:uuid}", "GET", "u"),
        ("/s/{v}/{w:path}", "GET", "s"),
        ("/a/{x}/b", "GET", "ab"),
    )
    for method in ("GET", "", "\ud800", "X" * 10000):
        endpoint, extra = router.match(method, path)
        assert endpoint is None or endpoint in ("n", "f", "u", "s", "ab")
        assert extra is None or isinstance(extra, dict | tuple)


def test_huge_float_segment_is_parsed(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/f/{v:float}", "GET", "f"))
    text = "0." + "0" * 5000 + "15"
    assert router.match("GET", "/f/" + text) == ("f", {"v": float(text)})


# -- lifecycle -----------------------------------------------------------------------------


def test_match_before_compile_compiles(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    router.add("/a/{x:int}", ["GET"], "a")
    assert router.match("GET", "/a/1") == ("a", {"x": 1})


def test_empty_router(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    assert router.match("GET", "/") == (None, None)
    assert router.match("GET", "/a/b") == (None, None)
    assert router.routes() == []


def test_compile_is_idempotent(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a", "GET", "a"))
    router.compile()
    router.compile()
    assert router.match("GET", "/a") == ("a", {})


def test_add_after_compile_is_seen(router_impl: ModuleType) -> None:
    router = make(router_impl, ("/a", "GET", "a"))
    assert router.match("GET", "/b") == (None, None)
    router.add("/b", ["GET"], "b")
    assert router.match("GET", "/b") == ("b", {})
    assert router.match("GET", "/a") == ("a", {})


def test_concurrent_first_matches(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    for k in range(200):
        router.add(f"/r{k}/{{id:int}}", ["GET"], k)
    results: list[Any] = []
    barrier = threading.Barrier(8)

    def hit() -> None:
        barrier.wait()
        results.append(router.match("GET", "/r150/9"))

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(150, {"id": 9})] * 8


def test_routes_in_registration_order(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    endpoint_a, endpoint_b = object(), object()
    router.add("/b/{x:int}", ["POST", "GET"], endpoint_a)
    router.add("/a", ["GET"], endpoint_b)
    router.add("/b/{x:int}", ["DELETE"], endpoint_b)
    assert router.routes() == [
        ("POST", "/b/{x:int}", endpoint_a),
        ("GET", "/b/{x:int}", endpoint_a),
        ("GET", "/a", endpoint_b),
        ("DELETE", "/b/{x:int}", endpoint_b),
    ]
    router.routes().clear()
    assert len(router.routes()) == 4


def test_endpoint_identity_is_kept(router_impl: ModuleType) -> None:
    endpoint = object()
    router = make(router_impl, ("/a/{x}", "GET", endpoint))
    assert router.match("GET", "/a/y")[0] is endpoint


def test_many_routes(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    for k in range(100):
        router.add(f"/api/v1/r{k}/{{id}}", ["GET"], k, {"id": "int"})
    router.add("/plaintext", ["GET"], "plain")
    for k in range(100):
        assert router.match("GET", f"/api/v1/r{k}/{k * 7}") == (k, {"id": k * 7})
    assert router.match("GET", "/api/v1/r100/1") == (None, None)
    assert router.match("GET", "/api/v1/r1/x") == (None, None)
    assert router.match("POST", "/api/v1/r5/1") == (None, ("GET", "HEAD", "OPTIONS"))
