"""Response objects: status, validated headers and a body, independent of the protocol."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

import msgspec

from duoweb._messages import HeadersInput, ResponseCore, content_type_field
from duoweb.encoding import json_encode
from duoweb.errors import PROBLEM_MEDIA_TYPE, HTTPError
from duoweb.headers import check_header, format_set_cookie


class Response(ResponseCore):
    """A complete HTTP response; the body is bytes and Content-Length is added on output.

    Status, header fields and body live in the compiled core, which also builds the header
    list sent (Content-Length added there).
    """

    __slots__ = ()

    #: The media type of this class's responses (a subclass sets it; None: no Content-Type).
    media_type: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The class's own Content-Type field, checked once when the class is defined.
        cls._default_content_type = (
            None if cls.media_type is None else content_type_field(cls.media_type)
        )

    @property
    def headers(self) -> list[tuple[str, str]]:
        """A copy of the header fields (lowercase names); change them with set/append_header."""
        return list(self._headers)

    def get_header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name``, or ``default``."""
        name = name.lower()
        for key, value in self._headers:
            if key == name:
                return value
        return default

    def set_header(self, name: str, value: str) -> None:
        """Replace every value of header ``name``; CR, LF and NUL are refused."""
        check_header(name, value)
        name = name.lower()
        self._headers = [(k, v) for k, v in self._headers if k != name]
        self._headers.append((name, value))

    def delete_header(self, name: str) -> None:
        """Remove every value of header ``name``."""
        name = name.lower()
        self._headers = [(k, v) for k, v in self._headers if k != name]

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        expires: datetime | int | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a Set-Cookie header; HttpOnly and SameSite=Lax unless you say otherwise.

        ``samesite="none"`` requires ``secure=True`` (browsers drop the cookie otherwise).
        """
        if samesite == "none" and not secure:
            raise ValueError("SameSite=None cookies must be Secure")
        self.append_header(
            "set-cookie",
            format_set_cookie(
                name,
                value,
                max_age=max_age,
                expires=expires,
                path=path,
                domain=domain,
                secure=secure,
                httponly=httponly,
                samesite=samesite,
                partitioned=partitioned,
            ),
        )

    def delete_cookie(
        self, name: str, *, path: str | None = "/", domain: str | None = None, secure: bool = False
    ) -> None:
        """Tell the client to drop cookie ``name`` (same path and domain as when it was set)."""
        self.set_cookie(
            name, "", max_age=0, expires=0, path=path, domain=domain, secure=secure, samesite=None
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code} {len(self.body)} bytes>"


class PlainTextResponse(Response):
    """A ``text/plain; charset=utf-8`` response."""

    __slots__ = ()
    media_type = "text/plain; charset=utf-8"


class JSONResponse(Response):
    """A response whose body is ``content`` encoded as JSON by msgspec."""

    __slots__ = ()
    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: HeadersInput = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(json_encode(content), status_code, headers, media_type)


JSON_HEADERS: list[tuple[str, str]] = [("content-type", "application/json")]
PROBLEM_HEADERS: list[tuple[str, str]] = [("content-type", PROBLEM_MEDIA_TYPE)]


def problem_response(error: HTTPError) -> Response:
    """Render an HTTPError as an RFC 9457 ``application/problem+json`` response."""
    body = msgspec.json.encode(error.problem())
    response = Response.from_checked_parts(error.status, body, list(PROBLEM_HEADERS))
    for name, value in error.headers.items():
        response.set_header(name, value)
    return response
