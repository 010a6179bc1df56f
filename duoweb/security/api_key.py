"""API keys read from a header, a query parameter or a cookie; the handler gets the key string."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeVar, overload

from duoweb._credentials import PLAIN
from duoweb.params import Cookie, Header, Param, Query
from duoweb.security.base import SecurityScheme, checked_parameter, inherits

T = TypeVar("T")


class APIKeyScheme(SecurityScheme[T]):
    """An API key named ``name`` in one place of the request (``located`` says which).

    A missing key is a 401 with ``WWW-Authenticate: APIKey`` (no registered scheme exists
    for API keys; the header still tells a client what is missing). Compare the key with
    ``constant_time_equal``.
    """

    #: Where the key is: "header", "query" or "cookie" (OpenAPI's ``in``).
    located: ClassVar[Literal["header", "query", "cookie"]]

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        #: The header, query parameter or cookie name carrying the key.
        self.name = checked_parameter("name", name)
        super().__init__(
            self.source(name),
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    def source(self, name: str) -> Param:
        """The parameter marker reading the key."""
        raise NotImplementedError

    def challenge(self, error: str | None = None, description: str | None = None) -> str:
        """``APIKey``: what a 401 for a missing key carries."""
        return "APIKey"

    def openapi_fields(self) -> dict[str, Any]:
        """``{"type": "apiKey", "in": ..., "name": ...}``."""
        return {"type": "apiKey", "in": self.located, "name": self.name}


class APIKeyHeader(APIKeyScheme[T]):
    """``Depends(APIKeyHeader(name="X-API-Key"))`` gives the key sent in that header."""

    located = "header"

    @overload
    def __init__(
        self: APIKeyHeader[str],
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[True] = True,
    ) -> None: ...
    @overload
    def __init__(
        self: APIKeyHeader[str | None],
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[False],
    ) -> None: ...
    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            name=name, scheme_name=scheme_name, description=description, auto_error=auto_error
        )

    def source(self, name: str) -> Param:
        """A header marker."""
        return Header(name)

    def gate_check(self) -> tuple[str, int] | None:
        """The key's header, taken as it is; None for a subclass with its own call or read."""
        if inherits(type(self), SecurityScheme, "__call__", "read"):
            return self.name, PLAIN
        return None


class APIKeyQuery(APIKeyScheme[T]):
    """``Depends(APIKeyQuery(name="api_key"))`` gives the key sent as that query parameter."""

    located = "query"

    @overload
    def __init__(
        self: APIKeyQuery[str],
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[True] = True,
    ) -> None: ...
    @overload
    def __init__(
        self: APIKeyQuery[str | None],
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[False],
    ) -> None: ...
    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            name=name, scheme_name=scheme_name, description=description, auto_error=auto_error
        )

    def source(self, name: str) -> Param:
        """A query marker."""
        return Query(name)


class APIKeyCookie(APIKeyScheme[T]):
    """``Depends(APIKeyCookie(name="session"))`` gives the key sent in that cookie."""

    located = "cookie"

    @overload
    def __init__(
        self: APIKeyCookie[str],
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[True] = True,
    ) -> None: ...
    @overload
    def __init__(
        self: APIKeyCookie[str | None],
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[False],
    ) -> None: ...
    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            name=name, scheme_name=scheme_name, description=description, auto_error=auto_error
        )

    def source(self, name: str) -> Param:
        """A cookie marker."""
        return Cookie(name)
