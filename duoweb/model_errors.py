"""Every validation error of a msgspec-decoded value, found on the error path only.

msgspec stops at the first invalid field; a client fixing a form field by field needs them
all. After a decode has failed, :func:`every_error` walks the untyped document against the
target type: each field of a Struct, dataclass or TypedDict (and of the models nested in it,
and in lists of them) is converted on its own, so one failure does not hide the next. The
fast path never runs this: it costs only requests that are answered 422 anyway.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, NamedTuple

import msgspec

from duoweb.echoed_input import quoted_input
from duoweb.errors import ValidationErrorItem
from duoweb.msgspec_errors import from_msgspec
from duoweb.type_guards import is_dict, is_list

Loc = tuple[str | int, ...]


class _Field(NamedTuple):
    """One field of a model as it appears in JSON."""

    wire_name: str
    annotation: Any
    required: bool


class _Model(NamedTuple):
    """A model's fields, and whether fields it does not declare are refused."""

    fields: list[_Field]
    forbid_unknown: bool


def every_error(
    value: Any, annotation: Any, prefix: Loc, *, strict: bool = True
) -> list[ValidationErrorItem]:
    """The validation errors of ``value`` (an untyped JSON document) against ``annotation``.

    Empty when the walk finds nothing on its own (a model-level check such as a Struct's
    ``__post_init__``): the caller then reports msgspec's own first error.
    """
    model = _model_of(annotation)
    if model is not None and is_dict(value):
        errors: list[ValidationErrorItem] = []
        known: set[str] = set()
        for field in model.fields:
            known.add(field.wire_name)
            if field.wire_name not in value:
                if field.required:
                    errors.append(
                        ValidationErrorItem((*prefix, field.wire_name), "Field required", "missing")
                    )
                continue
            errors.extend(
                every_error(
                    value[field.wire_name],
                    field.annotation,
                    (*prefix, field.wire_name),
                    strict=strict,
                )
            )
        if model.forbid_unknown:
            for key in value:
                if key not in known:
                    message = f"Object contains unknown field {quoted_input(key)}"
                    errors.append(ValidationErrorItem(prefix, message, "value_error"))
        return errors
    item = _list_item(annotation)
    if item is not None and is_list(value) and _model_of(item) is not None:
        found: list[ValidationErrorItem] = []
        for index, element in enumerate(value):
            found.extend(every_error(element, item, (*prefix, index), strict=strict))
        return found
    try:
        msgspec.convert(value, annotation, strict=strict)
    except msgspec.ValidationError as exc:
        return list(from_msgspec(exc, prefix).errors)
    return []


def _list_item(annotation: Any) -> Any | None:
    base = _without_annotated(annotation)
    if typing.get_origin(base) in (list, tuple, set, frozenset):
        args = typing.get_args(base)
        if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis):
            return args[0]
    return None


def _without_annotated(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Annotated:
        return annotation.__origin__
    return annotation


def _without_required(hint: Any) -> Any:
    """A TypedDict item's type without its ``Required[]`` / ``NotRequired[]`` wrapper."""
    if typing.get_origin(hint) in (typing.Required, typing.NotRequired):
        return typing.get_args(hint)[0]
    return hint


def _model_of(annotation: Any) -> _Model | None:
    """The fields of a Struct, dataclass or TypedDict class; None for anything else.

    A Struct encoded as an array, or tagged (part of a union), is left to msgspec whole.
    """
    unwrapped = _without_annotated(annotation)
    if not isinstance(unwrapped, type):
        return None
    model: type[object] = unwrapped
    try:
        hints = typing.get_type_hints(model, include_extras=True)
    except Exception:  # an annotation that does not resolve: msgspec reports it as is
        return None
    if issubclass(model, msgspec.Struct):
        config = model.__struct_config__
        if config.array_like or config.tag is not None:
            return None
        info = msgspec.inspect.type_info(model)
        if not isinstance(info, msgspec.inspect.StructType):  # what a Struct class always gets
            return None
        fields = [_Field(f.encode_name, hints.get(f.name, Any), f.required) for f in info.fields]
        return _Model(fields, config.forbid_unknown_fields)
    if dataclasses.is_dataclass(model):
        return _Model(
            [
                _Field(
                    f.name,
                    hints.get(f.name, Any),
                    f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                )
                for f in dataclasses.fields(model)
                if f.init
            ],
            False,
        )
    if typing.is_typeddict(model):
        required = model.__required_keys__  # type: ignore[attr-defined]
        return _Model(
            [
                _Field(name, _without_required(hint), name in required)
                for name, hint in hints.items()
            ],
            False,
        )
    return None
