"""Request-body decoding into model types, with every library's errors in one 422 shape."""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Sequence
from typing import Any

import msgspec

from duoweb.echoed_input import short_loc_part
from duoweb.errors import HTTPError, RequestValidationError, ValidationErrorItem
from duoweb.headers import parse_content_type
from duoweb.msgspec_errors import Loc, from_msgspec

__all__ = [
    "BodyParam",
    "carries_model",
    "carries_pydantic",
    "from_msgspec",
    "from_pydantic",
    "is_json_media_type",
    "is_model_type",
    "require_json",
]


def from_pydantic(errors: Sequence[Any], prefix: Loc) -> RequestValidationError:
    """Translate pydantic's ``ValidationError.errors()`` into the common 422 shape."""
    items = [
        ValidationErrorItem(
            (*prefix, *(short_loc_part(part) for part in error.get("loc", ()))),
            str(error.get("msg", "invalid value")),
            str(error.get("type", "value_error")),
        )
        for error in errors
    ]
    return RequestValidationError(items)


def is_json_media_type(media_type: str) -> bool:
    """True for application/json and the ``application/*+json`` types (RFC 6839)."""
    if media_type == "application/json":
        return True
    main, _, sub = media_type.partition("/")
    return main == "application" and sub.endswith("+json") and len(sub) > 5


def require_json(content_type: str | None) -> None:
    """Answer 415 unless ``content_type`` is JSON (``application/json`` or ``*+json``)."""
    if content_type == "application/json":
        return
    if content_type is None or not is_json_media_type(parse_content_type(content_type)[0]):
        raise HTTPError(415, "The request body must be application/json.")


def _is_pydantic_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and hasattr(annotation, "__pydantic_validator__")


def is_model_type(annotation: Any) -> bool:
    """True for a pydantic model, msgspec Struct, dataclass or TypedDict class."""
    if not isinstance(annotation, type):
        return False
    cls: type[Any] = annotation
    return (
        _is_pydantic_model(cls)
        or issubclass(cls, msgspec.Struct)
        or hasattr(cls, "__dataclass_fields__")  # dataclasses.is_dataclass, for a class
        or typing.is_typeddict(cls)
    )


def carries_model(annotation: Any) -> bool:
    """True when ``annotation`` is a model type or contains one (``list[Item]``, ``Item|None``)."""
    if is_model_type(annotation):
        return True
    return any(carries_model(arg) for arg in typing.get_args(annotation))


def carries_pydantic(annotation: Any) -> bool:
    """True when ``annotation`` is or contains a pydantic model."""
    if _is_pydantic_model(annotation):
        return True
    return any(carries_pydantic(arg) for arg in typing.get_args(annotation))


class BodyParam:
    """A parameter decoded from the JSON body into its annotated type, strictly."""

    __slots__ = ("_decode", "_pydantic", "_target", "annotation", "default", "name", "required")

    def __init__(self, name: str, annotation: Any, default: Any, optional: bool) -> None:
        self.name = name
        self.annotation = annotation
        self.required = default is inspect.Parameter.empty and not optional
        self.default = None if default is inspect.Parameter.empty else default
        self._pydantic = carries_pydantic(annotation)
        target = self._target = _strip_none(annotation)
        if self._pydantic:
            if _is_pydantic_model(target):
                validator = target.__pydantic_validator__
            else:
                from pydantic import TypeAdapter

                validator = TypeAdapter(target).validator
            self._decode: Any = functools.partial(validator.validate_json, strict=True)
        else:
            self._decode = msgspec.json.Decoder(target).decode

    def extract(self, request: Any) -> Any:
        """The decoded body: 415 unless JSON, 400 if malformed, 422 if it fails validation."""
        body: bytes = request.body
        if not body and not self.required:
            return self.default
        content_type = request.raw_content_type()
        if content_type != "application/json":  # the usual case costs no call
            require_json(content_type)
        if self._pydantic:
            from pydantic import ValidationError

            try:
                return self._decode(body)
            except ValidationError as exc:
                errors = exc.errors(include_url=False, include_input=False)
                if any(error.get("type") == "json_invalid" for error in errors):
                    raise HTTPError(400, "Malformed JSON body.") from None
                raise from_pydantic(errors, ("body",)) from None
        try:
            return self._decode(body)
        except msgspec.ValidationError as exc:
            raise self._validation_failure(body, exc) from None
        except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec: bad UTF-8 in a string
            raise HTTPError(400, "Malformed JSON body.") from None
        except RecursionError:
            raise HTTPError(400, "The JSON body is nested too deeply.") from None

    def _validation_failure(self, body: bytes, exc: msgspec.ValidationError) -> Exception:
        """The error path: 400 if the body is not JSON at all, else every validation error.

        msgspec validates as it parses, so a field can fail before the parser reaches
        garbage further on; the whole body is parsed again, untyped, to tell them apart.
        """
        from duoweb.model_errors import every_error  # only bodies that fail import it

        try:
            document = msgspec.json.decode(body)
        except msgspec.ValidationError:  # (a DecodeError too) a number out of range: well-formed
            return from_msgspec(exc, ("body",))
        except (msgspec.DecodeError, UnicodeDecodeError):
            return HTTPError(400, "Malformed JSON body.")
        except RecursionError:
            return HTTPError(400, "The JSON body is nested too deeply.")
        errors = every_error(document, self._target, ("body",))
        return RequestValidationError(errors) if errors else from_msgspec(exc, ("body",))


def _strip_none(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation
