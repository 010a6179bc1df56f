"""Route templates: parsing and validation shared by both routers, and url building.

A template is a ``/``-separated path whose segments are either literal text or a whole-segment
parameter ``{name}`` / ``{name:kind}``. Both router implementations parse templates here, so they
accept and reject exactly the same tables with exactly the same messages.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Final
from urllib.parse import quote

import msgspec

__all__ = [
    "BUILTIN_KINDS",
    "INT_MAX",
    "INT_MIN",
    "MAX_SEGMENTS",
    "PathBuildError",
    "RouteDefinitionError",
    "Segment",
    "build_path",
    "is_float_text",
    "is_uuid_text",
    "parse_template",
    "resolve_template",
]

#: Converters every router knows, in no particular order (see docs/routing-internals.md).
BUILTIN_KINDS: Final = frozenset({"str", "int", "float", "uuid", "path"})

#: Most segments a template may have (keeps the trie walk's recursion shallow).
MAX_SEGMENTS: Final = 255

#: Range of the ``int`` converter: signed 64-bit.
INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1

# Characters left unescaped in a built path segment: RFC 3986 pchar minus "%".
_SEGMENT_SAFE: Final = "-._~!$&'()*+,;=:@"

_FLOAT_RE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_UUID_RE: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_WHOLE_PARAM_RE: Final = re.compile(r"\{([^{}]*)\}")


class RouteDefinitionError(ValueError):
    """A route template, converter or registration the router cannot accept."""


class PathBuildError(RouteDefinitionError):
    """build_path() got missing, extra or unmatchable parameter values for a template."""


# Records here and in endpoints/params are msgspec Structs rather than dataclasses: the same
# fields, equality, hashing and repr, but defining one costs ~50µs instead of ~1ms at import.
class Segment(msgspec.Struct, frozen=True):
    """One ``/``-separated piece of a template: literal text, or a parameter and its kind."""

    text: str
    """The literal text; ``""`` for a parameter."""
    name: str | None = None
    """The parameter name, or None for literal text."""
    kind: str | None = None
    """The converter name; None when the template does not say (resolved later)."""


def is_float_text(text: str) -> bool:
    """True when ``text`` is a spelling the ``float`` converter accepts (finiteness aside)."""
    return _FLOAT_RE.fullmatch(text) is not None


def is_uuid_text(text: str) -> bool:
    """True when ``text`` is a canonical 8-4-4-4-12 hex UUID, in any letter case."""
    return _UUID_RE.fullmatch(text) is not None


def _fail(template: str, problem: str) -> RouteDefinitionError:
    return RouteDefinitionError(f"route template {template!r}: {problem}")


def parse_template(template: str) -> tuple[Segment, ...]:
    """Split ``template`` into segments, checking its syntax; kinds are only what it spells out."""
    _check_text(template)
    return _parse(template)


def _check_text(template: object) -> None:
    # Apps without a type checker may pass anything: a non-str is refused with a clear error.
    if not isinstance(template, str):
        raise RouteDefinitionError(f"route template must be a str, got {template!r}")


@lru_cache(maxsize=4096)
def _parse(template: str) -> tuple[Segment, ...]:
    if not template.startswith("/"):
        raise _fail(template, "must start with '/'")
    pieces = template[1:].split("/")
    if len(pieces) > MAX_SEGMENTS:
        raise _fail(template, f"has more than {MAX_SEGMENTS} segments")
    segments: list[Segment] = []
    seen: set[str] = set()
    for piece in pieces:
        if "{" not in piece and "}" not in piece:
            segments.append(Segment(piece))
            continue
        match = _WHOLE_PARAM_RE.fullmatch(piece)
        if match is None:
            if piece.count("{") == piece.count("}") and _WHOLE_PARAM_RE.search(piece):
                raise _fail(
                    template,
                    f"parameter in segment {piece!r} must be the whole segment, e.g. '/{{name}}'",
                )
            raise _fail(template, f"unbalanced braces in segment {piece!r}")
        name, colon, kind = match.group(1).partition(":")
        if not name:
            raise _fail(template, f"empty parameter name in segment {piece!r}")
        if not name.isidentifier():
            raise _fail(template, f"parameter name {name!r} is not a Python identifier")
        if name in seen:
            raise _fail(template, f"duplicate parameter name {name!r}")
        seen.add(name)
        if colon and not kind:
            raise _fail(template, f"empty converter name after ':' in segment {piece!r}")
        if colon and not kind.isidentifier():
            raise _fail(template, f"converter name {kind!r} is not an identifier")
        segments.append(Segment("", name, kind or None))
    return tuple(segments)


def resolve_template(
    template: str,
    param_types: Mapping[str, str] | None,
    known_kinds: Collection[str],
) -> tuple[Segment, ...]:
    """Parse ``template`` and give every parameter its kind (param_types, template, or "str")."""
    segments = parse_template(template)
    # Values are checked below: apps without a type checker may give any object as a kind.
    types: dict[str, object] = dict(param_types) if param_types else {}
    names = {seg.name for seg in segments if seg.name is not None}
    extra = sorted(set(types) - names)
    if extra:
        raise _fail(template, f"param_types names unknown parameter(s) {', '.join(extra)}")
    resolved: list[Segment] = []
    for index, seg in enumerate(segments):
        if seg.name is None:
            resolved.append(seg)
            continue
        kind = types.get(seg.name)
        if kind is None:
            kind = seg.kind or "str"
        elif seg.kind is not None and seg.kind != kind:
            raise _fail(
                template,
                f"parameter {seg.name!r} is {seg.kind!r} in the template "
                f"but {kind!r} in param_types",
            )
        if not isinstance(kind, str) or kind not in known_kinds:
            raise _fail(template, f"unknown converter {kind!r} for parameter {seg.name!r}")
        if kind == "path" and index != len(segments) - 1:
            raise _fail(template, f"path parameter {seg.name!r} must be the last segment")
        resolved.append(Segment("", seg.name, kind))
    return tuple(resolved)


def _quote(template: str, name: str, text: str, safe: str) -> str:
    try:
        return quote(text, safe=safe)
    except UnicodeEncodeError:
        raise PathBuildError(
            f"route template {template!r}: value of {name!r} cannot be encoded as UTF-8"
        ) from None


def _format_value(template: str, name: str, kind: str, value: object) -> str:
    def bad(why: str) -> PathBuildError:
        return PathBuildError(
            f"route template {template!r}: {kind} parameter {name!r} {why}, got {value!r}"
        )

    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("needs an int")
        if not INT_MIN <= value <= INT_MAX:
            raise bad("must fit in a signed 64-bit integer")
        return str(value)
    if kind == "float":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise bad("needs a float")
        try:
            number = float(value)
        except OverflowError:
            raise bad("must be finite") from None
        if not math.isfinite(number):
            raise bad("must be finite")
        return repr(number)
    if kind == "uuid":
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, str) and is_uuid_text(value):
            return value.lower()
        raise bad("needs a uuid.UUID or a canonical UUID string")
    if kind == "path":
        if not isinstance(value, str):
            raise bad("needs a str")
        return _quote(template, name, value, _SEGMENT_SAFE + "/")
    # "str" and custom converters: one non-empty segment.
    if kind == "str" and not isinstance(value, str):
        raise bad("needs a str")
    text = value if isinstance(value, str) else str(value)
    if not text or "/" in text:
        raise bad("must be non-empty and contain no '/'")
    return _quote(template, name, text, _SEGMENT_SAFE)


def build_path(
    template: str,
    params: Mapping[str, object],
    param_types: Mapping[str, str] | None = None,
) -> str:
    """Fill ``template`` with ``params`` into a percent-encoded path the router matches back.

    Kinds come from ``param_types`` (as in Router.add), then the template, then "str"; a kind
    that is not built in is formatted with ``str()`` as one segment. Raises PathBuildError (a
    RouteDefinitionError, hence a ValueError) for missing or extra parameters and for values
    the kind would not match back (wrong type, out of range, non-finite, empty or with '/').
    """
    segments = parse_template(template)
    names = [seg.name for seg in segments if seg.name is not None]
    missing = [name for name in names if name not in params]
    extra = sorted(set(params) - set(names))
    if missing or extra:
        parts: list[str] = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        raise PathBuildError(f"route template {template!r}: {'; '.join(parts)}")
    types = param_types or {}
    out: list[str] = []
    for seg in segments:
        if seg.name is None:
            out.append(_quote(template, "<literal>", seg.text, _SEGMENT_SAFE))
            continue
        kind = types.get(seg.name) or seg.kind or "str"
        out.append(_format_value(template, seg.name, kind, params[seg.name]))
    return "/" + "/".join(out)
