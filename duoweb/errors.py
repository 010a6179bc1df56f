"""HTTP errors a handler or the framework raises, rendered as RFC 9457 problem+json."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import msgspec

PROBLEM_MEDIA_TYPE = "application/problem+json"


def status_phrase(status: int) -> str:
    """The reason phrase of an HTTP status code, or "Unknown" for an unregistered one."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class HTTPError(Exception):
    """Raise to answer the request with an RFC 9457 problem response of this status."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        type: str = "about:blank",
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"HTTPError status must be 4xx or 5xx, not {status}")
        self.status = status
        self.detail = detail
        self.title = title or status_phrase(status)
        self.type = type
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})
        super().__init__(status, detail)

    def __str__(self) -> str:
        return f"{self.status} {self.title}" + (f": {self.detail}" if self.detail else "")

    def problem(self) -> dict[str, Any]:
        """The problem object (RFC 9457 members plus extensions) this error renders to."""
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail is not None:
            body["detail"] = self.detail
        body.update(self.extensions)
        return body


class ValidationErrorItem(msgspec.Struct, frozen=True):
    """One failed check: where (``loc``), what went wrong (``msg``) and its kind (``type``)."""

    loc: tuple[str | int, ...]
    msg: str
    type: str


class RequestValidationError(HTTPError):
    """A request failed validation: 422 with an ``errors`` list of loc/msg/type items."""

    def __init__(self, errors: Sequence[ValidationErrorItem], detail: str | None = None) -> None:
        self.errors = list(errors)
        super().__init__(
            422,
            detail or "The request did not pass validation.",
            extensions={"errors": [msgspec.structs.asdict(e) for e in self.errors]},
        )


class ClientDisconnected(Exception):
    """The client went away before the request body was complete; no response can be sent."""


class UnsupportedInterfaceError(RuntimeError):
    """A server tried to run the App through a calling convention duoweb does not serve."""
