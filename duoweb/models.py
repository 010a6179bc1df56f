"""Request-body decoding into model types, with every library's errors in one 422 shape."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from duoweb.errors import HTTPError, RequestValidationError, ValidationErrorItem

Loc = tuple[str | int, ...]

# msgspec reports where a value failed as a JSONPath suffix: "... - at `$.items[0].price`".
_MSGSPEC_PATH = re.compile(r" - at `\$(.*)`$")
_MSGSPEC_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[(?:'|\")(.*?)(?:'|\")\]")


def from_msgspec(exc: msgspec.ValidationError, prefix: Loc) -> RequestValidationError:
    """Translate a msgspec ValidationError into the common 422 shape."""
    message = str(exc)
    loc: list[str | int] = list(prefix)
    found = _MSGSPEC_PATH.search(message)
    if found:
        message = message[: found.start()]
        for step in _MSGSPEC_STEP.finditer(found.group(1)):
            name, index, quoted = step.groups()
            loc.append(int(index) if index is not None else (name or quoted or ""))
    return RequestValidationError([ValidationErrorItem(tuple(loc), message, "validation_error")])


def from_pydantic(errors: Sequence[Any], prefix: Loc) -> RequestValidationError:
    """Translate pydantic's ``ValidationError.errors()`` into the common 422 shape."""
    items = [
        ValidationErrorItem(
            (*prefix, *(part for part in error.get("loc", ()))),
            str(error.get("msg", "invalid value")),
            str(error.get("type", "value_error")),
        )
        for error in errors
    ]
    return RequestValidationError(items)


def decode_pydantic_json(model: Any, body: bytes, *, strict: bool = True) -> Any:
    """Validate JSON ``body`` straight into pydantic ``model``: 400 if malformed, 422 if invalid."""
    from pydantic import ValidationError  # only apps that use pydantic import it

    try:
        return model.model_validate_json(body, strict=strict)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if any(error.get("type") == "json_invalid" for error in errors):
            raise HTTPError(400, "Malformed JSON body.") from None
        raise from_pydantic(errors, ("body",)) from None


def require_json(content_type: tuple[str, dict[str, str]]) -> None:
    """Answer 415 unless the media type is application/json (parameters allowed)."""
    if content_type[0] != "application/json":
        raise HTTPError(415, "The request body must be application/json.")
