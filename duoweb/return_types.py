"""A handler's return annotation decides how its result is encoded: the response model."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import msgspec

from duoweb._lazy import lazy_logger
from duoweb.encoding import json_encode
from duoweb.errors import HTTPError
from duoweb.models import carries_model, carries_pydantic
from duoweb.responses import JSON_HEADERS, Response

logger = lazy_logger("duoweb", globals())

#: What an encoder raises for a result that does not match the response model.
ENCODE_ERRORS = (msgspec.ValidationError, ValueError, TypeError)


def _is_response_type(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Response)


class ResponsePlan:
    """How one route turns what its handler returns into a Response.

    - a ``Response`` is sent as it is; ``None`` is 204 No Content;
    - a return annotation that is or contains a model (pydantic, msgspec Struct, dataclass,
      TypedDict) is the response model: the result is converted to it (so extra attributes
      are dropped and a wrong shape is caught) and encoded — pydantic models by pydantic's own
      serializer, everything else by msgspec;
    - anything else (dict, list, str, int…) is encoded by msgspec as returned.
    """

    __slots__ = ("_encode", "annotation", "status_code")

    def __init__(self, annotation: Any, status_code: int) -> None:
        self.annotation = annotation
        self.status_code = status_code
        self._encode: Callable[[Any], bytes] = json_encode
        if annotation is inspect.Parameter.empty or annotation is None:
            return
        if _is_response_type(annotation) or not carries_model(annotation):
            return
        if carries_pydantic(annotation):
            self._encode = _pydantic_encoder(annotation)
        else:
            self._encode = _msgspec_encoder(annotation)

    def render(self, result: Any) -> Response:
        """The Response for ``result``."""
        if isinstance(result, Response):
            return result
        if result is None:
            # A new 204 each time: middleware add headers to the response in place, so a
            # shared one would carry one request's headers into the next.
            return Response.from_checked_parts(204, b"", [])
        try:
            body = self._encode(result)
        except ENCODE_ERRORS as exc:
            raise self.broken(exc) from exc
        return Response.from_checked_parts(self.status_code, body, list(JSON_HEADERS))

    @property
    def encoder(self) -> Callable[[Any], bytes]:
        """Encodes a result that is neither a Response nor None; may raise ``ENCODE_ERRORS``."""
        return self._encode

    def broken(self, error: Exception) -> HTTPError:
        """The 500 for a result ``encoder`` refused with ``error``, logged.

        The handler broke its own contract: a server error, never the client's.
        """
        logger.error("response does not match %r: %s", self.annotation, error)
        return HTTPError(500, "The server produced an invalid response.")


def _pydantic_encoder(annotation: Any) -> Callable[[Any], bytes]:
    from pydantic import TypeAdapter

    adapter: Any = TypeAdapter(annotation)
    model_class: Any = annotation if isinstance(annotation, type) else None

    def encode(result: Any) -> bytes:
        if model_class is not None and type(result) is model_class:
            serialized: bytes = model_class.__pydantic_serializer__.to_json(result)
            return serialized
        value = adapter.validate_python(result, from_attributes=True)
        dumped: bytes = adapter.dump_json(value)
        return dumped

    return encode


def _msgspec_encoder(annotation: Any) -> Callable[[Any], bytes]:
    model_class = annotation if isinstance(annotation, type) else None

    def encode(result: Any) -> bytes:
        if model_class is not None and type(result) is model_class:
            return json_encode(result)
        return json_encode(msgspec.convert(result, annotation, from_attributes=True))

    return encode
