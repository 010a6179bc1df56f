"""Form parameters beyond text fields: files, models filled from fields, the whole FormData.

Imported only when a handler (or dependency) declares one, together with the form reading
that runs before a form route's arguments are extracted.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import msgspec

from duoweb.errors import RequestValidationError, ValidationErrorItem
from duoweb.form_parsing import read_form, receive_form
from duoweb.formdata import DEFAULT_LIMITS, FormData, FormLimits, UploadFile
from duoweb.models import carries_pydantic, from_msgspec, from_pydantic, is_model_type
from duoweb.params import (
    FORM_STATE_KEY,
    Form,
    form_of,
    sequence_item,
    split_annotated,
    strip_optional,
)
from duoweb.type_guards import is_dict, is_list

if TYPE_CHECKING:
    from duoweb.concurrency import ThreadPool
    from duoweb.requests import Request
    from duoweb.responses import Response


def _form(request: Any) -> FormData:
    form: FormData = form_of(request)
    return form


def _missing(key: str) -> ValidationErrorItem:
    return ValidationErrorItem(("form", key), "Field required", "missing")


class FileParam(msgspec.Struct, frozen=True):
    """An ``UploadFile`` (or ``list[UploadFile]``) parameter: the parts with that name."""

    name: str
    key: str
    multi: bool
    required: bool
    default: Any
    annotation: Any
    marker: Form | None
    source: str = "form"

    def extract(self, request: Any, errors: list[ValidationErrorItem]) -> Any:
        """The uploaded file(s), or the default; a missing or text value is added to errors."""
        form = _form(request)
        files = form.files(self.key)
        if files:
            return files if self.multi else files[0]
        if self.key in form.fields:
            errors.append(
                ValidationErrorItem(
                    ("form", self.key), "Expected a file, got a text field", "invalid"
                )
            )
            return None
        if self.required:
            errors.append(_missing(self.key))
            return None
        default = self.default
        return list(default) if is_list(default) else default


class FormDataParam(msgspec.Struct, frozen=True):
    """A ``FormData`` parameter: the whole form, in order."""

    name: str
    annotation: Any
    source: str = "form"

    def extract(self, request: Any, errors: list[ValidationErrorItem]) -> Any:
        """The parsed form."""
        return _form(request)


class FormModelParam:
    """A model (pydantic, msgspec Struct, dataclass, TypedDict) filled from the text fields."""

    __slots__ = ("_convert", "annotation", "default", "fields", "marker", "name", "required")

    source = "form"

    def __init__(
        self, name: str, annotation: Any, default: Any, optional: bool, marker: Form | None
    ) -> None:
        self.name = name
        self.annotation = annotation
        self.marker = marker
        self.required = default is inspect.Parameter.empty and not optional
        self.default = None if default is inspect.Parameter.empty else default
        model, _ = strip_optional(annotation)
        #: (wire name, takes repeated values) of each model field.
        self.fields = _model_fields(model)
        if carries_pydantic(model):
            validate = model.model_validate

            def convert(data: dict[str, Any]) -> Any:
                from pydantic import ValidationError

                try:
                    return validate(data)
                except ValidationError as exc:
                    errors = exc.errors(include_url=False, include_input=False)
                    raise from_pydantic(errors, ("form",)) from None

        else:
            msgspec.inspect.type_info(model)  # msgspec must understand the model (raises if not)

            def convert(data: dict[str, Any]) -> Any:
                try:
                    return msgspec.convert(data, model, strict=False)
                except msgspec.ValidationError as exc:
                    from duoweb.model_errors import every_error  # the error path only

                    found = every_error(data, model, ("form",), strict=False)
                    if found:
                        raise RequestValidationError(found) from None
                    raise from_msgspec(exc, ("form",)) from None

        self._convert = convert

    def extract(self, request: Any, errors: list[ValidationErrorItem]) -> Any:
        """The model built from the form's fields; failures are added to ``errors``."""
        fields = _form(request).fields
        data: dict[str, Any] = {}
        for key, multi in self.fields:
            if multi:
                values = fields.getall(key)
                if values:
                    data[key] = values
            else:
                value = fields.get(key)
                if value is not None:
                    data[key] = value
        if not data and not self.required:
            return self.default
        try:
            return self._convert(data)
        except RequestValidationError as exc:
            errors.extend(exc.errors)
            return None


def _model_fields(model: type[Any]) -> list[tuple[str, bool]]:
    """(wire name, is a list) for each field of a model class."""
    found: list[tuple[str, bool]] = []
    pydantic_fields = getattr(model, "model_fields", None)
    if is_dict(pydantic_fields):
        for name, info in pydantic_fields.items():
            key = info.alias or name
            found.append((key, _takes_many(info.annotation)))
        return found
    hints = typing.get_type_hints(model, include_extras=True)
    if issubclass(model, msgspec.Struct):
        info = cast("msgspec.inspect.StructType", msgspec.inspect.type_info(model))
        for field in info.fields:
            found.append((field.encode_name, _takes_many(hints.get(field.name))))
        return found
    if dataclasses.is_dataclass(model):
        return [
            (field.name, _takes_many(hints.get(field.name))) for field in dataclasses.fields(model)
        ]
    return [(name, _takes_many(hint)) for name, hint in hints.items()]  # a TypedDict


def _takes_many(annotation: Any) -> bool:
    base, _ = split_annotated(annotation)
    inner, _ = strip_optional(base)
    return sequence_item(inner) is not None


def plan_form_parameter(
    name: str, annotation: Any, metadata: tuple[Any, ...], default: Any, marker: Form | None
) -> FileParam | FormDataParam | FormModelParam | None:
    """Plan a file, FormData or form-model parameter; None when it is none of them."""
    inner, optional = strip_optional(annotation)
    key = marker.wire_name(name) if marker is not None else name
    if inner is FormData:
        return FormDataParam(name, annotation)
    item = sequence_item(inner)
    element = inner if item is None else split_annotated(item)[0]
    if element is UploadFile:
        has_default = default is not inspect.Parameter.empty
        return FileParam(
            name=name,
            key=key,
            multi=item is not None,
            required=not has_default and not optional,
            default=default if has_default else None,
            annotation=annotation,
            marker=marker,
        )
    if is_model_type(inner):
        return FormModelParam(name, annotation, default, optional, marker)
    return None


def form_responders(
    respond_sync: Callable[[Request], Response],
    respond_async: Callable[[Request, ThreadPool], Awaitable[Response]],
    limits: FormLimits | None,
    max_body_size: int,
) -> tuple[Callable[[Request], Response], Callable[[Request, ThreadPool], Awaitable[Response]]]:
    """An endpoint's responders wrapped to parse the form first and close its files after."""
    limits = limits or DEFAULT_LIMITS

    def respond_form_sync(request: Request) -> Response:
        form = read_form(request, limits, max_body_size)
        request.state[FORM_STATE_KEY] = form
        try:
            return respond_sync(request)
        finally:
            form.close()

    async def respond_form_async(request: Request, pool: ThreadPool) -> Response:
        form = await receive_form(request, limits, max_body_size)
        request.state[FORM_STATE_KEY] = form
        try:
            return await respond_async(request, pool)
        finally:
            form.close()

    return respond_form_sync, respond_form_async
