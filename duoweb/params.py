"""Where a handler parameter comes from (Query, Header, Cookie, Form, Body); text into values.

Markers go in ``Annotated``: ``limit: Annotated[int, Query(ge=1, le=100)] = 10``. Constraints
may also be given the ways pydantic and msgspec already understand — ``msgspec.Meta``,
annotated-types (``annotated_types.Ge(1)``) or a pydantic ``Field(ge=1)`` — and all of them
become one ``msgspec.Meta`` that msgspec enforces while converting the text.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import math
import types
import typing
import uuid
from typing import Any, Literal, Protocol, Union

import msgspec

from duoweb._route_templates import INT_MAX, INT_MIN
from duoweb.echoed_input import without_echo
from duoweb.errors import ValidationErrorItem
from duoweb.type_guards import is_list

Source = Literal["query", "header", "cookie", "form"]

#: Where the endpoint keeps a form route's parsed FormData in ``request.state``.
FORM_STATE_KEY = "duoweb.form"

_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")


class Param:
    """Base marker: where a scalar parameter is read from, its wire name and its constraints."""

    source: typing.ClassVar[Source]

    def __init__(
        self,
        alias: str | None = None,
        *,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        description: str | None = None,
        deprecated: bool = False,
        examples: list[Any] | None = None,
    ) -> None:
        self.alias = alias
        self.constraints = {
            key: value
            for key, value in (
                ("gt", gt),
                ("ge", ge),
                ("lt", lt),
                ("le", le),
                ("multiple_of", multiple_of),
                ("min_length", min_length),
                ("max_length", max_length),
                ("pattern", pattern),
            )
            if value is not None
        }
        self.description = description
        self.deprecated = deprecated
        self.examples = examples

    def wire_name(self, parameter: str) -> str:
        """The name the value has in the request."""
        return self.alias or parameter


class Query(Param):
    """Read the parameter from the query string (the default for scalars)."""

    source = "query"


class Header(Param):
    """Read the parameter from a request header; ``user_agent`` reads ``user-agent``."""

    source = "header"

    def wire_name(self, parameter: str) -> str:
        """The header name: the alias, or the parameter name with ``_`` as ``-``."""
        return (self.alias or parameter.replace("_", "-")).lower()


class Cookie(Param):
    """Read the parameter from a request cookie."""

    source = "cookie"


class Form(Param):
    """Read the parameter from the form body (urlencoded or multipart); a model takes all fields.

    ``UploadFile``, ``list[UploadFile]`` and ``FormData`` parameters need no marker.
    """

    source = "form"


def form_of(request: Any) -> Any:
    """The FormData the endpoint parsed for ``request`` (a form route's parameters read it)."""
    form = request.state.get(FORM_STATE_KEY)
    if form is None:
        raise RuntimeError(
            "this route's form was not read: a dependency override added a form parameter "
            "after the route was planned; the route re-plans on this request and reads the "
            "form from the next one"
        )
    return form


def is_form_type(annotation: Any) -> bool:
    """True for UploadFile, FormData and lists of them (they mark themselves; no import)."""
    item = sequence_item(annotation)
    found = annotation if item is None else item
    return getattr(found, "__duoweb_form__", False) is True


class Body:
    """Read the parameter from the JSON request body (implied for model types)."""

    def __init__(self, *, description: str | None = None) -> None:
        self.description = description


SCALAR_TYPES: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    uuid.UUID,
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    decimal.Decimal,
)


def strip_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (annotation, False)."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) < len(typing.get_args(annotation)):
            inner = members[0] if len(members) == 1 else Union[tuple(members)]  # noqa: UP007
            return inner, True
    return annotation, False


def split_annotated(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """``Annotated[T, a, b]`` -> (T, (a, b)); anything else -> (annotation, ())."""
    if typing.get_origin(annotation) is typing.Annotated:
        return annotation.__origin__, tuple(annotation.__metadata__)
    return annotation, ()


def is_scalar(annotation: Any) -> bool:
    """True for types a single text value converts to (str, int, UUID, date, enums, Literal…)."""
    if typing.get_origin(annotation) is Literal:
        return all(isinstance(v, str | int | bool) for v in typing.get_args(annotation))
    if isinstance(annotation, type):
        return issubclass(annotation, SCALAR_TYPES) or issubclass(annotation, enum.Enum)
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return all(is_scalar(arg) for arg in typing.get_args(annotation))
    return False


def sequence_item(annotation: Any) -> Any | None:
    """The item type of ``list[X]``/``tuple[X, ...]``/``set[X]``/``frozenset[X]``, else None."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, set, frozenset) and len(args) == 1:
        return args[0]
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return None


def constraints_from(metadata: tuple[Any, ...]) -> dict[str, Any]:
    """Collect constraints from Param markers, msgspec.Meta, annotated-types and pydantic Field."""
    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, Param):
            found.update(item.constraints)
        elif isinstance(item, msgspec.Meta):
            found.update(
                {k: getattr(item, k) for k in _CONSTRAINTS if getattr(item, k) is not None}
            )
        else:
            # annotated-types objects (Ge, Le, MinLen, …) and pydantic FieldInfo (its .metadata
            # holds annotated-types objects) expose the same attribute names.
            nested = getattr(item, "metadata", None)
            if is_list(nested):
                found.update(constraints_from(tuple(nested)))
            for key in _CONSTRAINTS:
                value = getattr(item, key, None)
                if value is not None and not callable(value):
                    found[key] = value
    return found


def with_constraints(annotation: Any, constraints: dict[str, Any]) -> Any:
    """``annotation`` with ``constraints`` attached as a msgspec.Meta (none: unchanged)."""
    if not constraints:
        return annotation
    return typing.Annotated[annotation, msgspec.Meta(**constraints)]


def parse_int_text(text: str) -> int:
    """An int from ASCII digits with an optional leading "-" (no "+", spaces, "_", "5.0")."""
    digits = text[1:] if text[:1] == "-" else text
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError("Expected an integer (ASCII digits with an optional leading -)")
    try:
        return int(text)
    except ValueError:  # more digits than sys.get_int_max_str_digits() allows
        raise ValueError("Integer value out of range") from None


def int_in_range(number: int, bounds: tuple[int, int]) -> int:
    """``number`` if ``lowest <= number <= highest``, else a ValueError naming the bound."""
    lowest, highest = bounds
    if number < lowest:
        raise ValueError(f"Expected `int` >= {lowest}")
    if number > highest:
        raise ValueError(f"Expected `int` <= {highest}")
    return number


def _is_int_type(annotation: Any) -> bool:
    return (
        isinstance(annotation, type)
        and issubclass(annotation, int)
        and not (issubclass(annotation, bool | enum.Enum))
    )


_TEXT_ENCODED = (
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    decimal.Decimal,
)


def _is_text_encoded(annotation: Any) -> bool:
    """True for types whose JSON form is a string: their text needs no lax coercion."""
    return isinstance(annotation, type) and issubclass(annotation, _TEXT_ENCODED)


def _int_bounds(constraints: dict[str, Any]) -> tuple[int, int] | None:
    """Inclusive (lowest, highest) for int constraints that are only bounds, else None."""
    if not set(constraints) <= {"ge", "gt", "le", "lt"}:
        return None
    values = constraints.values()
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    return _int_range(constraints)


def _int_range(constraints: dict[str, Any]) -> tuple[int, int]:
    """The inclusive range of ge/gt/le/lt; a side without an int bound is signed 64 bits."""
    bounds = {
        k: v
        for k, v in constraints.items()
        if k in ("ge", "gt", "le", "lt") and isinstance(v, int) and not isinstance(v, bool)
    }
    lowest = bounds.get("ge")
    if "gt" in bounds:
        lowest = max(bounds["gt"] + 1, lowest) if lowest is not None else bounds["gt"] + 1
    highest = bounds.get("le")
    if "lt" in bounds:
        highest = min(bounds["lt"] - 1, highest) if highest is not None else bounds["lt"] - 1
    return (INT_MIN if lowest is None else lowest, INT_MAX if highest is None else highest)


class Extractor(Protocol):
    """A planned parameter read from the request: scalars here, form parts in form_params."""

    @property
    def name(self) -> str:
        """The handler parameter it fills."""
        ...

    @property
    def source(self) -> str:
        """Where it is read from: "query", "header", "cookie" or "form"."""
        ...

    def extract(self, request: Any, errors: list[ValidationErrorItem]) -> Any:
        """The value for the handler; a failed check is added to ``errors``."""


class ScalarParam(msgspec.Struct, frozen=True):
    """A parameter read as text from the query, a header or a cookie, then converted."""

    name: str
    source: Source
    key: str
    target: Any
    multi: bool
    required: bool
    default: Any
    plain_text: bool
    int_text: bool
    annotation: Any
    marker: Param | None
    #: The value's JSON form is a string (datetime, UUID…): convert it strictly, so that lax
    #: mode's extra readings (a number as a Unix timestamp) are not accepted.
    strict_text: bool = False
    #: A float: "nan" and "inf" are refused, as the path converter refuses them.
    finite: bool = False
    #: A single int with at most ge/gt/le/lt bounds: (lowest, highest) checked here directly,
    #: since msgspec.convert would re-hash the Annotated target on every call.
    int_bounds: tuple[int, int] | None = None
    #: An int's (or each list item's) inclusive range: the handler's ge/gt/le/lt, else signed
    #: 64 bits (what a path int and a database column hold); outside it is a 422.
    int_range: tuple[int, int] = (INT_MIN, INT_MAX)
    #: The default is a list: each request that uses it gets its own copy.
    list_default: bool = False

    def extract(self, request: Any, errors: list[ValidationErrorItem]) -> Any:
        """The converted value, or the default; a failure is added to ``errors``."""
        source = self.source
        raw: Any
        if source == "header" and not self.multi:
            raw = request.header(self.key)  # one field, without building the headers view
        else:
            if source == "query":
                container: Any = request.parsed_query or request.query  # parsed once per request
            elif source == "header":
                container = request.headers
            elif source == "cookie":
                container = request.cookies
            else:  # "form": the text fields of the form the endpoint parsed before extracting
                container = form_of(request).fields
            if self.multi:
                if source == "cookie":
                    value = container.get(self.key)
                    raw = [] if value is None else [value]
                else:
                    raw = container.getall(self.key)
                if not raw:
                    raw = None
            else:
                raw = container.get(self.key)
        if raw is None:
            if self.required:
                errors.append(ValidationErrorItem((source, self.key), "Field required", "missing"))
                return None
            return list(self.default) if self.list_default else self.default
        if self.plain_text:
            return raw
        try:
            if self.int_text:
                bounds = self.int_bounds
                if bounds is not None:
                    # Short ASCII digit strings, the common case, convert without the checks.
                    if len(raw) < 19 and raw.isdigit() and raw.isascii():
                        number = int(raw)
                    else:
                        number = parse_int_text(raw)
                    return int_in_range(number, bounds)
                if self.multi:
                    raw = [int_in_range(parse_int_text(t), self.int_range) for t in raw]
                else:
                    raw = int_in_range(parse_int_text(raw), self.int_range)
                return msgspec.convert(raw, self.target)
            value = msgspec.convert(raw, self.target, strict=self.strict_text)
            if self.finite and not all(map(math.isfinite, value if self.multi else (value,))):
                raise ValueError("Expected a finite number")
            return value
        except (msgspec.ValidationError, ValueError, TypeError) as exc:
            message = without_echo(str(exc).split(" - at `", 1)[0])
            errors.append(ValidationErrorItem((source, self.key), message, "invalid"))
            return None


def scalar_param(
    name: str,
    annotation: Any,
    metadata: tuple[Any, ...],
    default: Any,
    marker: Param | None,
) -> ScalarParam | None:
    """Plan a query/header/cookie parameter, or None when ``annotation`` is not text-shaped."""
    inner, optional = strip_optional(annotation)
    item = sequence_item(inner)
    multi = item is not None
    element = inner
    if multi:
        element, _ = split_annotated(item)
        if not is_scalar(element):
            return None
    elif not is_scalar(inner):
        return None
    source: Source = marker.source if marker is not None else "query"
    key = marker.wire_name(name) if marker is not None else name
    constraints = constraints_from(metadata)
    # For a list, constraints apply to the list itself (min_length/max_length: item count).
    target = with_constraints(inner, constraints)
    msgspec.inspect.type_info(target)  # msgspec must understand the target (raises if not)
    has_default = default is not inspect.Parameter.empty
    return ScalarParam(
        name=name,
        source=source,
        key=key,
        target=target,
        multi=multi,
        required=not has_default and not optional,
        default=default if has_default else None,
        list_default=has_default and isinstance(default, list),
        plain_text=inner is str and not constraints,
        int_text=_is_int_type(element),
        strict_text=_is_text_encoded(element),
        finite=isinstance(element, type) and issubclass(element, float),
        int_bounds=None if multi or not _is_int_type(element) else _int_bounds(constraints),
        # A list's constraints count its items: its items get signed 64 bits.
        int_range=(INT_MIN, INT_MAX) if multi else _int_range(constraints),
        annotation=annotation,
        marker=marker,
    )
