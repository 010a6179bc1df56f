"""Pure-Python router: method + decoded path -> endpoint and typed params, or 404 / 405.

The typed source of truth for ``duoweb/_speedups/_router.pyx``, which must behave identically.
Lookup walks a segment trie, so its cost grows with the number of path segments, not routes.
At each trie node the candidates for a segment are tried in this fixed priority order, with
backtracking when a converter rejects the segment or the subtree below it dead-ends:

    static text > uuid > int > float > custom converters (registration order) > str > path

The first route found this way owns the path; the method then picks its endpoint (405 when
it has none). See docs/routing-internals.md for the full rules.
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Generic, TypeVar, cast

from duoweb._route_templates import (
    BUILTIN_KINDS,
    INT_MAX,
    INT_MIN,
    RouteDefinitionError,
    Segment,
    resolve_template,
)

__all__ = [
    "PRIORITY",
    "RouteDefinitionError",
    "Router",
]

#: Priority of the built-in kinds at one trie node; custom converters sit between float and str.
PRIORITY: Final = ("static", "uuid", "int", "float", "<custom>", "str", "path")

_METHOD_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Z]+")
_FLOAT_RE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_UUID_RE: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


# Registration checks what untyped callers pass too: these take any object, not just a str.
def _is_identifier(name: object) -> bool:
    return isinstance(name, str) and name.isidentifier()


def _is_method_token(method: object) -> bool:
    return isinstance(method, str) and _METHOD_RE.fullmatch(method) is not None


class _NoMatch:
    """Type of the sentinel a converter returns for a segment it rejects."""

    __slots__ = ()


_NO: Final = _NoMatch()
_MISS: Final = (None, None)

_Converter = Callable[[str], object]

#: What a router maps routes to (an App's ``Endpoint``, a ``WebSocketEndpoint``...).
EndpointT = TypeVar("EndpointT")


def convert_int(segment: str) -> object:
    """ASCII digits, optional leading "-", within signed 64-bit; else the no-match sentinel."""
    if segment.isdigit() and segment.isascii() and len(segment) < 19:
        return int(segment)  # fast path: unsigned and short enough to fit
    digits = segment[1:] if segment.startswith("-") else segment
    if not (digits.isascii() and digits.isdigit()):
        return _NO
    significant = digits.lstrip("0")
    if len(significant) > 19:
        return _NO
    value = int(significant or "0")
    if digits is not segment:
        value = -value
    return value if INT_MIN <= value <= INT_MAX else _NO


def convert_float(segment: str) -> object:
    """``-?D+(.D+)?([eE][+-]?D+)?`` (ASCII D) giving a finite float; else the no-match sentinel."""
    if _FLOAT_RE.fullmatch(segment) is None:
        return _NO
    value = float(segment)
    return value if math.isfinite(value) else _NO


def convert_uuid(segment: str) -> object:
    """Canonical 8-4-4-4-12 hex in any case -> uuid.UUID; else the no-match sentinel."""
    if len(segment) != 36 or _UUID_RE.fullmatch(segment) is None:
        return _NO
    return uuid.UUID(segment)


def _custom(convert: _Converter) -> _Converter:
    """Adapt a user converter (raises ValueError to reject) to the sentinel protocol."""

    def run(segment: str) -> object:
        try:
            return convert(segment)
        except ValueError:
            return _NO

    return run


class Leaf:
    """Where a route shape ends: its endpoints per method and its parameter names.

    ``methods`` maps each method to its endpoint (HEAD added where GET is), ``allowed`` is
    the sorted tuple a 405 names, and ``names`` are the path parameters in template order.
    The compiled twin builds its C leaves from these (see ``Router.shapes()``).
    """

    __slots__ = ("allowed", "methods", "names")

    def __init__(self, names: tuple[str, ...], endpoints: Mapping[str, Any]) -> None:
        self.names = names
        methods = dict(endpoints)
        if "GET" in methods and "HEAD" not in methods:
            methods["HEAD"] = methods["GET"]
        self.methods = methods
        self.allowed: tuple[str, ...] = tuple(sorted({*methods, "OPTIONS"}))


class _Node:
    """One trie node: children for the next segment, in priority order, and maybe a leaf."""

    __slots__ = ("leaf", "path_leaf", "static", "str_child", "typed")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.typed: list[tuple[_Converter, _Node]] = []
        self.str_child: _Node | None = None
        self.path_leaf: Leaf | None = None
        self.leaf: Leaf | None = None


class _Shape:
    """All routes sharing one shape (texts and kinds): one template's names, many methods."""

    __slots__ = ("endpoints", "names", "segments", "template")

    def __init__(self, template: str, segments: tuple[Segment, ...]) -> None:
        self.template = template
        self.segments = segments
        self.names = tuple(seg.name for seg in segments if seg.name is not None)
        self.endpoints: dict[str, Any] = {}


#: match()'s answer: (endpoint, params), or (None, allowed) for a 405. The endpoint is
#: typed by Router's parameter: this untyped inside is only what the router stored.
_Answer = tuple[Any, Any]
#: find(segs, len(segs), method): the answer when a route owns the path, else None (404).
_Finder = Callable[[list[str], int, str], "_Answer | None"]


class _Table:
    """The frozen lookup structure compile() builds."""

    __slots__ = ("find", "maxsplit", "static")

    def __init__(self, find: _Finder, static: dict[str, Leaf], maxsplit: int) -> None:
        self.find = find
        self.static = static
        self.maxsplit = maxsplit


def _walk(node: _Node, segs: list[str], i: int, n: int, values: list[object]) -> Leaf | None:
    """Depth-first search for the first leaf matching segs[i:], appending converted values."""
    if i == n:
        return node.leaf
    seg = segs[i]
    if node.static:
        child = node.static.get(seg)
        if child is not None:
            found = _walk(child, segs, i + 1, n, values)
            if found is not None:
                return found
    if seg:
        for convert, child in node.typed:
            value = convert(seg)
            if value is not _NO:
                values.append(value)
                found = _walk(child, segs, i + 1, n, values)
                if found is not None:
                    return found
                values.pop()
        child = node.str_child
        if child is not None:
            values.append(seg)
            found = _walk(child, segs, i + 1, n, values)
            if found is not None:
                return found
            values.pop()
    if node.path_leaf is not None:
        values.append("/".join(segs[i:]))
        return node.path_leaf
    return None


def _walk_finder(root: _Node) -> _Finder:
    """The generic trie walk as a finder (used for very deep tables and as the model)."""

    def find(segs: list[str], n: int, method: str) -> _Answer | None:
        values: list[object] = []
        leaf = _walk(root, segs, 1, n, values)
        if leaf is None:
            return None
        endpoint = leaf.methods.get(method)
        if endpoint is None:
            return None, leaf.allowed
        return endpoint, dict(zip(leaf.names, values, strict=True))

    return find


#: Deepest table (in segments) compiled to Python source; deeper ones use the generic walk.
_MAX_GENERATED_DEPTH: Final = 24
#: Nodes with more static children than this find the child through a dict, not ``==``.
_WIDE: Final = 8


class _CodeGen:
    """Compile the trie into one Python function that does what _walk does, unrolled.

    Each node becomes nested code whose failure falls through to the next candidate, which is
    exactly _walk's backtracking; parameter values live in locals, and the params dict is a
    literal at each leaf. Wide static fan-outs call per-child functions found through a dict.
    """

    def __init__(self) -> None:
        self.consts: dict[str, object] = {"_NO": _NO, "_C_int": convert_int}
        self.ids: dict[int, str] = {}
        self.functions: list[list[str]] = []
        self.dispatches: list[dict[str, Any]] = []
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        """A new unique global name."""
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: object, prefix: str) -> str:
        """A module-level name bound to ``value`` in the generated code."""
        name = self.ids.get(id(value))
        if name is None:
            name = self.fresh(prefix)
            self.consts[name] = value
            self.ids[id(value)] = name
        return name

    @staticmethod
    def params(leaf: Leaf, values: list[str]) -> str:
        pairs = ", ".join(
            f"{name!r}: {value}" for name, value in zip(leaf.names, values, strict=True)
        )
        return "{" + pairs + "}"

    def answer(self, out: list[str], leaf: Leaf, values: list[str], pad: str) -> None:
        """Emit the return of match()'s answer once ``leaf`` is found: a hit, or a 405.

        ``try``/``except`` costs nothing until it raises, which only a 405 does.
        """
        methods = self.const(leaf.methods, "M")
        allowed = self.const((None, leaf.allowed), "A")
        out.append(f"{pad}try:")
        out.append(f"{pad}    return {methods}[method], {self.params(leaf, values)}")
        out.append(f"{pad}except KeyError:")
        out.append(f"{pad}    return {allowed}")

    def function(self, name: str, node: _Node, depth: int, values: list[str]) -> None:
        """Emit ``def name(segs, n, method, *values)`` trying ``node`` at ``depth``."""
        lines = [f"def {name}({', '.join(['segs', 'n', 'method', *values])}):"]
        self.node(lines, node, depth, values, 1)
        lines.append("    return None")
        self.functions.append(lines)

    def wide(self, out: list[str], node: _Node, depth: int, values: list[str], ind: int) -> None:
        """Emit the static children of a node with many: a dict gives the child's function.

        (Measured: this beats both an ``==`` chain and a dict-to-index binary tree of ifs.)
        """
        pad = "    " * ind
        seg = f"s{depth + 1}"
        table: dict[str, Any] = {}
        for text, child in node.static.items():
            fname = self.fresh("F")
            self.function(fname, child, depth + 1, values)
            table[text] = fname  # the function itself once the source has run
        self.dispatches.append(table)
        dispatch = self.const(table, "D")
        args = ", ".join(["segs", "n", "method", *values])
        out.append(f"{pad}f = {dispatch}.get({seg})")
        out.append(f"{pad}if f is not None:")
        out.append(f"{pad}    r = f({args})")
        out.append(f"{pad}    if r is not None:")
        out.append(f"{pad}        return r")

    def node(self, out: list[str], node: _Node, depth: int, values: list[str], ind: int) -> None:
        """Emit code that returns match()'s answer if ``node`` matches, else falls through."""
        pad = "    " * ind
        k = depth + 1
        if node.leaf is not None:
            out.append(f"{pad}if n == {k}:")
            self.answer(out, node.leaf, values, pad + "    ")
        if not (node.static or node.typed or node.str_child or node.path_leaf):
            return
        out.append(f"{pad}if n > {k}:")
        pad += "    "
        seg = f"s{k}"
        out.append(f"{pad}{seg} = segs[{k}]")
        if len(node.static) > _WIDE:
            self.wide(out, node, depth, values, ind + 1)
        else:
            keyword = "if"
            for text, child in node.static.items():
                out.append(f"{pad}{keyword} {seg} == {text!r}:")
                self.node(out, child, depth + 1, values, ind + 2)
                keyword = "elif"
        if node.typed or node.str_child:
            out.append(f"{pad}if {seg}:")
            inner = pad + "    "
            var = f"v{k}"
            for convert, child in node.typed:
                if convert is convert_int:
                    out.append(
                        f"{inner}{var} = int({seg}) if {seg}.isdigit() and {seg}.isascii() "
                        f"and len({seg}) < 19 else _C_int({seg})"
                    )
                else:
                    out.append(f"{inner}{var} = {self.const(convert, 'C')}({seg})")
                out.append(f"{inner}if {var} is not _NO:")
                self.node(out, child, depth + 1, [*values, var], ind + 3)
            if node.str_child is not None:
                self.node(out, node.str_child, depth + 1, [*values, seg], ind + 2)
        if node.path_leaf is not None:
            rest = f'"/".join(segs[{k}:])'
            self.answer(out, node.path_leaf, [*values, rest], pad)


def _generated_finder(root: _Node) -> _Finder:
    """Compile the trie under ``root`` into Python source and return its find function."""
    gen = _CodeGen()
    gen.function("_find", root, 0, [])
    source = "\n".join(line for lines in gen.functions for line in lines) + "\n"
    namespace = dict(gen.consts)
    namespace["SOURCE"] = source  # for debugging: find.__globals__["SOURCE"]
    exec(compile(source, "<duoweb router>", "exec"), namespace)
    for table in gen.dispatches:
        for text, fname in table.items():
            table[text] = namespace[fname]
    return cast(_Finder, namespace["_find"])


class Router(Generic[EndpointT]):
    """Method + path -> endpoint router over a segment trie with typed parameters.

    Generic over the endpoint type: ``Router[Endpoint]`` matches to ``Endpoint | None``.
    """

    def __init__(self) -> None:
        """Create an empty router that knows the built-in converters."""
        self._converters: dict[str, _Converter] = {}
        self._shapes: dict[tuple[tuple[int, str], ...], _Shape] = {}
        self._routes: list[tuple[str, str, EndpointT]] = []
        self._table: _Table | None = None
        self._lock = threading.Lock()
        #: False makes compile() use the generic walk instead of generated code (for tests).
        self._generate = True

    def add_converter(self, name: str, convert: Callable[[str], object]) -> None:
        """Register a custom converter: it returns the value or raises ValueError (= no match).

        Custom converters are tried after float and before str, in registration order, and only
        on non-empty segments. Register them before the routes that use them.
        """
        if not _is_identifier(name):
            raise RouteDefinitionError(f"converter name {name!r} is not an identifier")
        if name in BUILTIN_KINDS or name in self._converters:
            raise RouteDefinitionError(f"converter {name!r} is already defined")
        if not callable(convert):
            raise RouteDefinitionError(f"converter {name!r} must be callable, got {convert!r}")
        self._converters[name] = convert

    def add(
        self,
        template: str,
        methods: Iterable[str],
        endpoint: EndpointT,
        param_types: Mapping[str, str] | None = None,
    ) -> None:
        """Register ``endpoint`` for the uppercase ``methods`` at ``template``.

        ``param_types`` maps a parameter name to a converter ("str", "int", "float", "uuid",
        "path" or a custom one); it wins over an absent ``:kind`` in the template and must agree
        with a present one; the default is "str". Raises RouteDefinitionError for malformed
        templates, unknown kinds, duplicate method+template, and routes that cannot be told
        apart from an existing one. Adding after compile() makes the next match() recompile.
        """
        segments = resolve_template(template, param_types, (*BUILTIN_KINDS, *self._converters))
        if isinstance(methods, str):
            raise RouteDefinitionError(
                f"route template {template!r}: methods must be an iterable of names, "
                f"not the string {methods!r}"
            )
        wanted = list(methods)
        if not wanted:
            raise RouteDefinitionError(f"route template {template!r}: no methods given")
        for method in wanted:
            if not _is_method_token(method):
                raise RouteDefinitionError(
                    f"route template {template!r}: method {method!r} is not an uppercase token"
                )
        if endpoint is None:
            raise RouteDefinitionError(f"route template {template!r}: endpoint must not be None")
        key = tuple((0, seg.text) if seg.kind is None else (1, seg.kind) for seg in segments)
        shape = self._shapes.get(key)
        if shape is None:
            shape = _Shape(template, segments)
        else:
            names = tuple(seg.name for seg in segments if seg.name is not None)
            if names != shape.names:
                raise RouteDefinitionError(
                    f"routes {shape.template!r} and {template!r} can never be told apart: "
                    "same shape, different parameter names"
                )
        seen: set[str] = set()
        for method in wanted:
            if method in shape.endpoints or method in seen:
                raise RouteDefinitionError(f"route {method} {template!r} is already registered")
            seen.add(method)
        with self._lock:
            self._shapes[key] = shape
            for method in wanted:
                shape.endpoints[method] = endpoint
                self._routes.append((method, template, endpoint))
            self._table = None

    def compile(self) -> None:
        """Freeze the table into the lookup structure; idempotent and thread-safe."""
        with self._lock:
            if self._table is None:
                self._table = self._build()

    def converters(self) -> dict[str, Callable[[str], object]]:
        """The custom converters by name, in registration order (a copy)."""
        return dict(self._converters)

    def shapes(self) -> list[tuple[tuple[Segment, ...], Leaf]]:
        """Each registered route shape's segments and a new Leaf for it: what compile() uses."""
        return [
            (shape.segments, Leaf(shape.names, shape.endpoints)) for shape in self._shapes.values()
        ]

    def _build(self) -> _Table:
        rank = {"uuid": -3, "int": -2, "float": -1}
        rank.update({name: index for index, name in enumerate(self._converters)})
        convert_for: dict[str, _Converter] = {
            "uuid": convert_uuid,
            "int": convert_int,
            "float": convert_float,
        }
        for name, convert in self._converters.items():
            convert_for[name] = _custom(convert)
        root = _Node()
        static: dict[str, Leaf] = {}
        typed: dict[int, dict[str, _Node]] = {}  # id(node) -> kind -> child, while building
        nodes: dict[int, _Node] = {}
        depth = 0
        for segments, leaf in self.shapes():
            depth = max(depth, len(segments))
            node = root
            for seg in segments:
                if seg.kind is None:
                    node = node.static.setdefault(seg.text, _Node())
                elif seg.kind == "path":
                    node.path_leaf = leaf  # always the last segment
                    break
                elif seg.kind == "str":
                    if node.str_child is None:
                        node.str_child = _Node()
                    node = node.str_child
                else:
                    nodes[id(node)] = node
                    node = typed.setdefault(id(node), {}).setdefault(seg.kind, _Node())
            else:
                node.leaf = leaf
                if all(seg.kind is None for seg in segments):
                    static["/" + "/".join(seg.text for seg in segments)] = leaf
        for key, children in typed.items():
            nodes[key].typed = [
                (convert_for[kind], children[kind])
                for kind in sorted(children, key=rank.__getitem__)
            ]
        if self._generate and depth <= _MAX_GENERATED_DEPTH:
            find = _generated_finder(root)
        else:
            find = _walk_finder(root)
        return _Table(find, static, depth + 1)

    def match(self, method: str, path: str) -> tuple[EndpointT | None, Any]:
        """Look up ``method`` and the decoded ``path``.

        Returns ``(endpoint, params)`` on a hit, ``(None, None)`` when no route has the path,
        and ``(None, allowed)`` when a route has the path but not the method: ``allowed`` is the
        sorted tuple of its methods plus "HEAD" when GET is there, and always "OPTIONS". HEAD
        falls back to GET. Never raises for any str input.
        """
        table = self._table
        if table is None:
            self.compile()
            table = self._table
            assert table is not None
        leaf = table.static.get(path)
        if leaf is not None:
            endpoint = leaf.methods.get(method)
            if endpoint is None:
                return None, leaf.allowed
            return endpoint, {}
        segs = path.split("/", table.maxsplit)
        if segs[0]:
            return _MISS  # not starting with "/"
        found = table.find(segs, len(segs), method)
        return _MISS if found is None else found

    def routes(self) -> list[tuple[str, str, EndpointT]]:
        """(method, template, endpoint) for every registered route, in registration order."""
        return list(self._routes)
