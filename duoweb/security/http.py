"""The ``Authorization`` header schemes: Bearer tokens (RFC 6750) and Basic (RFC 7617)."""

from __future__ import annotations

import binascii
import re
from typing import Any, ClassVar, Literal, TypeVar, cast, overload

import msgspec

from duoweb._credentials import BEARER, bearer_token
from duoweb.errors import HTTPError
from duoweb.params import Header
from duoweb.security.base import SecurityScheme, checked_parameter, inherits, quoted

T = TypeVar("T")

#: The control characters Basic credentials may not hold (one regex pass, not a loop).
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def is_b64token(token: str) -> bool:
    """True for RFC 6750 ``b64token`` text (``token`` exactly, no blanks around it)."""
    return bearer_token("Bearer " + token) == token


def auth_params(realm: str | None, **params: str | None) -> str:
    """``realm="x", error="y"``: the auth-params of a challenge, the ``None`` ones left out."""
    pairs = [("realm", realm), *params.items()]
    return ", ".join(f"{name}={quoted(value)}" for name, value in pairs if value is not None)


class AuthorizationScheme(SecurityScheme[T]):
    """A scheme carried in the ``Authorization`` header, answering 401 with its challenge."""

    #: The auth-scheme token, as sent in the challenge ("Bearer", "Basic").
    auth_scheme: ClassVar[str] = ""
    #: The same, lowercased: the scheme name is case-insensitive.
    auth_scheme_lower: ClassVar[str] = ""

    def __init__(
        self,
        *,
        realm: str | None,
        scheme_name: str | None,
        description: str | None,
        auto_error: bool,
    ) -> None:
        super().__init__(
            Header("Authorization"),
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
        #: The protection space named in the challenge.
        self.realm = None if realm is None else checked_parameter("realm", realm)

    def __call__(self, credential: str | None = None) -> T:
        """The checked credential; another auth scheme counts as no credential at all."""
        if credential:
            scheme, _, rest = credential.partition(" ")
            if scheme == self.auth_scheme or scheme.lower() == self.auth_scheme_lower:
                return cast(T, self.read(rest.strip(" \t")))
        return self.absent()  # none, or e.g. Basic sent to a Bearer route: not ours to judge

    def challenge(self, error: str | None = None, description: str | None = None) -> str:
        """``Bearer realm="api", error="invalid_token", ...``."""
        params = auth_params(self.realm, error=error, error_description=description)
        return f"{self.auth_scheme} {params}" if params else self.auth_scheme


class BearerScheme(AuthorizationScheme[T]):
    """Reads ``Authorization: Bearer <token>`` (RFC 6750) and gives the token string."""

    auth_scheme = "Bearer"
    auth_scheme_lower = "bearer"

    def __call__(self, credential: str | None = None) -> T:
        """The bearer token; another auth scheme counts as no credential at all."""
        token = bearer_token(credential) if credential else ""
        if token:
            return token  # type: ignore[return-value]  # T is str or str | None
        if token is None:
            raise self.malformed()
        return self.absent()  # none, or e.g. Basic sent to a Bearer route: not ours to judge

    def gate_check(self) -> tuple[str, int] | None:
        """``Authorization``, checked as a bearer token; None for a subclass with its own call."""
        return ("authorization", BEARER) if inherits(type(self), BearerScheme, "__call__") else None

    def read(self, credential: str) -> str:
        """The token (the credential after ``Bearer``) if well-formed, else 401 invalid_token."""
        if not is_b64token(credential):
            raise self.malformed()
        return credential

    def malformed(self) -> HTTPError:
        """The 401 ``invalid_token`` for a token that is not RFC 6750 syntax."""
        return self.unauthorized(
            "The bearer token is malformed.",
            error="invalid_token",
            description="The access token is malformed",
        )


class HTTPBearer(BearerScheme[T]):
    """``Depends(HTTPBearer())`` gives the bearer token of ``Authorization: Bearer <token>``.

    Checking the token (a database lookup, a JWT signature) is the app's, or
    ``duoweb.security.jwt``'s.
    """

    @overload
    def __init__(
        self: HTTPBearer[str],
        *,
        bearer_format: str | None = None,
        realm: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[True] = True,
    ) -> None: ...
    @overload
    def __init__(
        self: HTTPBearer[str | None],
        *,
        bearer_format: str | None = None,
        realm: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[False],
    ) -> None: ...
    def __init__(
        self,
        *,
        bearer_format: str | None = None,
        realm: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            realm=realm, scheme_name=scheme_name, description=description, auto_error=auto_error
        )
        #: A hint for the docs of how tokens are made ("JWT").
        self.bearer_format = bearer_format

    def openapi_fields(self) -> dict[str, Any]:
        """``{"type": "http", "scheme": "bearer"}``, with the bearer format if given."""
        fields: dict[str, Any] = {"type": "http", "scheme": "bearer"}
        if self.bearer_format:
            fields["bearerFormat"] = self.bearer_format
        return fields


class HTTPBasicCredentials(msgspec.Struct, frozen=True):
    """The user-id and password of an ``Authorization: Basic`` header."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"HTTPBasicCredentials(username={self.username!r}, password='***')"


class HTTPBasic(AuthorizationScheme[T]):
    """``Depends(HTTPBasic())`` gives the HTTPBasicCredentials of ``Authorization: Basic``.

    The credentials are base64 of UTF-8 ``user-id:password`` (RFC 7617); anything else (bad
    base64, no colon, not UTF-8, control characters) is a 401. Compare the password with
    ``constant_time_equal``.
    """

    auth_scheme = "Basic"
    auth_scheme_lower = "basic"

    @overload
    def __init__(
        self: HTTPBasic[HTTPBasicCredentials],
        *,
        realm: str = "api",
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[True] = True,
    ) -> None: ...
    @overload
    def __init__(
        self: HTTPBasic[HTTPBasicCredentials | None],
        *,
        realm: str = "api",
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[False],
    ) -> None: ...
    def __init__(
        self,
        *,
        realm: str = "api",
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            realm=realm, scheme_name=scheme_name, description=description, auto_error=auto_error
        )

    def challenge(self, error: str | None = None, description: str | None = None) -> str:
        """``Basic realm="api", charset="UTF-8"`` (RFC 7617 2.1)."""
        return f'Basic realm={quoted(self.realm or "")}, charset="UTF-8"'

    def read(self, credential: str) -> HTTPBasicCredentials:
        """The credentials of a well-formed Basic token (after ``Basic``), else a 401."""
        token = credential
        try:
            decoded = binascii.a2b_base64(token.encode("ascii"), strict_mode=True)
            text = decoded.decode("utf-8")
        except (ValueError, UnicodeError):  # binascii.Error is a ValueError
            raise self.unauthorized("The Basic credentials are not base64 of UTF-8 text.") from None
        username, colon, password = text.partition(":")
        if not colon:
            raise self.unauthorized("The Basic credentials have no colon after the user-id.")
        if _CONTROL.search(text) is not None:
            raise self.unauthorized("The Basic credentials contain control characters.")
        return HTTPBasicCredentials(username, password)

    def openapi_fields(self) -> dict[str, Any]:
        """``{"type": "http", "scheme": "basic"}``."""
        return {"type": "http", "scheme": "basic"}
