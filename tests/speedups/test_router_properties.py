"""Property tests: both routers agree with each other and with a deliberately simple matcher.

The reference matcher below knows nothing about tries: it scans every route, converts each
segment on its own, and picks, among the routes that match the whole path, the one whose
per-segment priority ranks are lexicographically smallest (static < uuid < int < float <
custom in registration order < str < path). That is the documented rule; the tries must find
the same route with the same converted values, and the same 404 / 405 answers.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duoweb import _router_py
from duoweb._route_templates import RouteDefinitionError, resolve_template
from tests.speedups.conftest import implementation

U = "0123abcd-4567-89ef-fedc-ba9876543210"

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- custom converters used by every router in these tests ---------------------------------


def even(segment: str) -> int:
    value = int(segment)  # ValueError for non-numbers = no match
    if value % 2:
        raise ValueError(segment)
    return value


def upper(segment: str) -> str:
    if not segment.isalpha():
        raise ValueError(segment)
    return segment.upper()


CUSTOM: dict[str, Callable[[str], object]] = {"even": even, "upper": upper}
KINDS = ["str", "int", "float", "uuid", "path", "even", "upper"]

# -- the reference matcher -----------------------------------------------------------------

_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def ref_convert(kind: str, segment: str) -> tuple[bool, object]:
    """(matched, value) for one segment, written from the documentation, not the code."""
    if kind == "str":
        return bool(segment), segment
    if not segment:
        return False, None
    if kind == "int":
        if not _INT.fullmatch(segment) or len(segment.lstrip("-").lstrip("0")) > 19:
            return False, None
        value = int(segment)
        return -(2**63) <= value < 2**63, value
    if kind == "float":
        if not _FLOAT.fullmatch(segment):
            return False, None
        number = float(segment)
        return math.isfinite(number), number
    if kind == "uuid":
        return (True, uuid.UUID(segment)) if _UUID.fullmatch(segment) else (False, None)
    try:
        return True, CUSTOM[kind](segment)
    except ValueError:
        return False, None


@dataclass
class RefRoute:
    """One route shape in the reference: its segments and its endpoints per method."""

    segments: list[tuple[str, str | None, str | None]]  # (text, name, kind)
    methods: dict[str, object] = field(default_factory=dict)


def rank(kind: str | None) -> int:
    order = {None: 0, "uuid": 1, "int": 2, "float": 3, "str": 100, "path": 101}
    if kind in order:
        return order[kind]
    return 10 + list(CUSTOM).index(kind)  # type: ignore[arg-type]


class Reference:
    """Linear scan over routes with the documented priority."""

    def __init__(self) -> None:
        self.routes: dict[tuple[tuple[str, str | None], ...], RefRoute] = {}

    def add(self, template: str, methods: Sequence[str], endpoint: object, types: Any) -> None:
        segs = resolve_template(template, types, [*KINDS])
        key = tuple((s.text if s.kind is None else "", s.kind) for s in segs)
        route = self.routes.setdefault(key, RefRoute([(s.text, s.name, s.kind) for s in segs]))
        for method in methods:
            route.methods[method] = endpoint

    def match(self, method: str, path: str) -> tuple[object | None, Any]:
        if not path.startswith("/"):
            return None, None
        parts = path[1:].split("/")
        best: tuple[list[int], RefRoute, dict[str, object]] | None = None
        for route in self.routes.values():
            found = self._try(route, parts)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], route, found[1])
        if best is None:
            return None, None
        _ranks, route, params = best
        methods = dict(route.methods)
        if "GET" in methods:
            methods.setdefault("HEAD", methods["GET"])
        if method in methods:
            return methods[method], params
        return None, tuple(sorted({*methods, "OPTIONS"}))

    @staticmethod
    def _try(route: RefRoute, parts: list[str]) -> tuple[list[int], dict[str, object]] | None:
        ranks: list[int] = []
        params: dict[str, object] = {}
        for index, (text, name, kind) in enumerate(route.segments):
            ranks.append(rank(kind))
            if kind == "path":
                if index >= len(parts):
                    return None
                assert name is not None
                params[name] = "/".join(parts[index:])
                return ranks, params
            if index >= len(parts):
                return None
            if kind is None:
                if parts[index] != text:
                    return None
                continue
            ok, value = ref_convert(kind, parts[index])
            if not ok:
                return None
            assert name is not None
            params[name] = value
        if len(parts) != len(route.segments):
            return None
        return ranks, params


# -- strategies ----------------------------------------------------------------------------

ATOMS = [
    "a",
    "b",
    "ab",
    "1",
    "2",
    "-1",
    "007",
    "-0",
    "1.5",
    "-2.5e3",
    "1e400",
    "nan",
    "inf",
    "9223372036854775807",
    "9223372036854775808",
    U,
    U.upper(),
    "",
    "x y",
    "é",
    "\ud800",
    "\x00",
    "..",
    "+1",
]

# Few distinct texts and short templates, so that routes share prefixes and compete.
static_text = st.one_of(st.sampled_from(["a", "1", "", "b"]), st.sampled_from(ATOMS))


@st.composite
def templates(draw: st.DrawFn) -> tuple[str, dict[str, str] | None]:
    count = draw(st.one_of(st.integers(1, 2), st.integers(1, 4)))
    pieces: list[str] = []
    types: dict[str, str] = {}
    for index in range(count):
        if draw(st.integers(0, 2)) == 0:
            pieces.append(draw(static_text))
            continue
        kind = draw(st.sampled_from(KINDS))
        if kind == "path" and index != count - 1:
            kind = "str"
        name = draw(st.sampled_from([f"p{index}", f"q{index}"]))
        how = draw(st.integers(0, 2))
        if how == 0:
            pieces.append(f"{{{name}:{kind}}}")
        elif how == 1:
            pieces.append(f"{{{name}}}")
            types[name] = kind
        else:
            pieces.append(f"{{{name}}}" if kind == "str" else f"{{{name}:{kind}}}")
    return "/" + "/".join(pieces), (types or None)


route_tables = st.lists(
    st.tuples(
        templates(),
        st.lists(
            st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "DELETE"]), min_size=1, unique=True
        ),
    ),
    min_size=1,
    max_size=12,
)

paths = st.one_of(
    st.lists(st.sampled_from(ATOMS), min_size=0, max_size=5).map(lambda p: "/" + "/".join(p)),
    st.text(max_size=30),
    st.text(alphabet="/ab1-.", max_size=20),
)
# Values for a template's parameter slots: mostly ones that several kinds accept.
value_atoms = st.one_of(st.sampled_from(["1", "-1", "1.5", U, "a", ""]), st.sampled_from(ATOMS))
methods = st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "DELETE", "PUT", "get", ""])

# -- helpers -------------------------------------------------------------------------------


def canonical(result: tuple[object | None, Any]) -> tuple[object, ...]:
    """A comparable form that also tells int from float, and -0.0 from 0.0."""
    endpoint, extra = result
    if isinstance(extra, dict):
        items = sorted((k, type(v).__name__, repr(v)) for k, v in extra.items())
        return endpoint, "params", tuple(items)
    return endpoint, "other", extra


def register(router: Any, table: list[Any]) -> list[str | None]:
    """Add every route of ``table``; the error message (or None) per route."""
    for name, convert in CUSTOM.items():
        router.add_converter(name, convert)
    outcome: list[str | None] = []
    for index, ((template, types), wanted) in enumerate(table):
        try:
            router.add(template, wanted, f"e{index}", types)
        except RouteDefinitionError as exc:
            outcome.append(str(exc))
        else:
            outcome.append(None)
    return outcome


def sample_paths(table: list[Any], data: st.DataObject) -> list[str]:
    """Paths built from the table's own templates (so hits are common) plus random ones."""
    out = [data.draw(paths) for _ in range(4)]
    for (template, _types), _methods in table:
        filled = []
        for piece in template[1:].split("/"):
            filled.append(data.draw(value_atoms) if piece.startswith("{") else piece)
        if data.draw(st.booleans()):
            filled.append(data.draw(st.sampled_from(ATOMS)))
        out.append("/" + "/".join(filled))
    return out


# -- the properties ------------------------------------------------------------------------


@SETTINGS
@given(table=route_tables, data=st.data())
def test_compiled_and_pure_agree(table: list[Any], data: st.DataObject) -> None:
    compiled = implementation("router", "compiled").Router()
    pure: _router_py.Router[object] = _router_py.Router()
    walk: _router_py.Router[object] = _router_py.Router()
    walk._generate = False
    outcomes = register(compiled, table)
    assert register(pure, table) == outcomes
    assert register(walk, table) == outcomes
    assert compiled.routes() == pure.routes()
    for path in sample_paths(table, data):
        for method in ("GET", "HEAD", "POST", "OPTIONS", "PATCH"):
            expected = canonical(pure.match(method, path))
            assert canonical(compiled.match(method, path)) == expected, (method, path)
            assert canonical(walk.match(method, path)) == expected, (method, path)


@SETTINGS
@given(table=route_tables, data=st.data())
def test_matches_reference(router_impl: ModuleType, table: list[Any], data: st.DataObject) -> None:
    router = router_impl.Router()
    reference = Reference()
    for index, (outcome, ((template, types), wanted)) in enumerate(
        zip(register(router, table), table, strict=True)
    ):
        if outcome is None:
            reference.add(template, wanted, f"e{index}", types)
    for path in sample_paths(table, data):
        method = data.draw(methods)
        got = canonical(router.match(method, path))
        assert got == canonical(reference.match(method, path)), (method, path)


@SETTINGS
@given(segment=st.one_of(st.text(max_size=40), st.sampled_from(ATOMS)), data=st.data())
def test_converters_match_reference(
    router_impl: ModuleType, segment: str, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(["int", "float", "uuid", "str", "even", "upper"]))
    router = router_impl.Router()
    for name, convert in CUSTOM.items():
        router.add_converter(name, convert)
    router.add(f"/x/{{v:{kind}}}", ["GET"], "x")
    if "/" in segment:
        return
    ok, value = ref_convert(kind, segment)
    expected = ("x", {"v": value}) if ok else (None, None)
    assert canonical(router.match("GET", "/x/" + segment)) == canonical(expected)


@SETTINGS
@given(
    number=st.one_of(
        st.integers(-(2**63), 2**63 - 1),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    zeros=st.integers(0, 30),
    exponent=st.one_of(st.none(), st.integers(-400, 400)),
)
def test_numbers_match_python(
    router_impl: ModuleType, number: float, zeros: int, exponent: int | None
) -> None:
    router = router_impl.Router()
    router.add("/i/{v:int}", ["GET"], "i")
    router.add("/f/{v:float}", ["GET"], "f")
    text = repr(number)
    if exponent is not None and "e" not in text:
        text += f"e{exponent}"
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    text = sign + "0" * zeros + digits
    ok_int, int_value = ref_convert("int", text)
    ok_float, float_value = ref_convert("float", text)
    assert canonical(router.match("GET", "/i/" + text)) == canonical(
        ("i", {"v": int_value}) if ok_int else (None, None)
    )
    assert canonical(router.match("GET", "/f/" + text)) == canonical(
        ("f", {"v": float_value}) if ok_float else (None, None)
    )


@SETTINGS
@given(path=st.text(), method=st.text(max_size=10))
def test_arbitrary_text_never_raises(router_impl: ModuleType, path: str, method: str) -> None:
    router = router_impl.Router()
    router.add("/{a}/{b:int}/{c:float}/{d:uuid}", ["GET"], "x")
    router.add("/{a}/{rest:path}", ["POST"], "y")
    router.add("/s/t", ["GET"], "z")
    endpoint, extra = router.match(method, path)
    if endpoint is None:
        assert extra is None or isinstance(extra, tuple)
    else:
        assert isinstance(extra, dict)


@pytest.mark.parametrize("first", KINDS)
def test_every_pair_of_kinds_matches_reference(router_impl: ModuleType, first: str) -> None:
    for second in KINDS:
        for order in ((first, second), (second, first)):
            router = router_impl.Router()
            for name, convert in CUSTOM.items():
                router.add_converter(name, convert)
            reference = Reference()
            for index, kind in enumerate(order):
                template = f"/k/{{v{index}:{kind}}}"
                try:
                    router.add(template, ["GET"], kind)
                except RouteDefinitionError:
                    continue  # the same kind twice: indistinguishable
                reference.add(template, ["GET"], kind, None)
            for atom in [*ATOMS, "a/b", "1/2"]:
                path = "/k/" + atom
                assert canonical(router.match("GET", path)) == canonical(
                    reference.match("GET", path)
                ), (order, path)


@pytest.mark.parametrize("depth", [1, 24, 25, 200])
def test_deep_templates_agree(router_impl: ModuleType, depth: int) -> None:
    router = router_impl.Router()
    router.add("/" + "/".join(f"{{p{i}:int}}" for i in range(depth)), ["GET"], "deep")
    router.add("/" + "/".join(["s"] * depth), ["GET"], "static")
    path = "/" + "/".join(str(i) for i in range(depth))
    assert router.match("GET", path) == ("deep", {f"p{i}": i for i in range(depth)})
    assert router.match("GET", "/" + "/".join(["s"] * depth)) == ("static", {})
    assert router.match("GET", path + "/x") == (None, None)


def test_too_many_segments(router_impl: ModuleType) -> None:
    router = router_impl.Router()
    with pytest.raises(RouteDefinitionError, match="more than 255 segments"):
        router.add("/a" * 256, ["GET"], "x")
