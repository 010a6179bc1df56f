"""OAuth2: the password flow's bearer scheme and form, scopes, and guards that answer 403."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal, TypeVar, overload

import msgspec

from duoweb.dependencies import Depends
from duoweb.errors import HTTPError
from duoweb.params import Form
from duoweb.security.base import checked_parameter, declare_parameter, quoted
from duoweb.security.http import BearerScheme

T = TypeVar("T")


class OAuth2PasswordBearer(BearerScheme[T]):
    """``Depends(OAuth2PasswordBearer(token_url="/token"))`` gives the bearer token.

    Read like HTTPBearer; declared in OpenAPI as an OAuth2 password flow, so Swagger UI's
    Authorize button asks for a username and password, posts them to ``token_url`` and then
    sends the token it gets. ``scopes`` (name -> description) are the scopes offered there.
    """

    @overload
    def __init__(
        self: OAuth2PasswordBearer[str],
        *,
        token_url: str,
        scopes: Mapping[str, str] | None = None,
        refresh_url: str | None = None,
        realm: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[True] = True,
    ) -> None: ...
    @overload
    def __init__(
        self: OAuth2PasswordBearer[str | None],
        *,
        token_url: str,
        scopes: Mapping[str, str] | None = None,
        refresh_url: str | None = None,
        realm: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: Literal[False],
    ) -> None: ...
    def __init__(
        self,
        *,
        token_url: str,
        scopes: Mapping[str, str] | None = None,
        refresh_url: str | None = None,
        realm: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            realm=realm, scheme_name=scheme_name, description=description, auto_error=auto_error
        )
        #: Where clients post the password form for a token.
        self.token_url = token_url
        #: Scopes a token may carry: name -> description.
        self.scopes = dict(scopes or {})
        self.refresh_url = refresh_url

    def openapi_fields(self) -> dict[str, Any]:
        """An ``oauth2`` scheme with one ``password`` flow."""
        flow: dict[str, Any] = {"tokenUrl": self.token_url, "scopes": dict(self.scopes)}
        if self.refresh_url:
            flow["refreshUrl"] = self.refresh_url
        return {"type": "oauth2", "flows": {"password": flow}}


class OAuth2PasswordRequestForm(msgspec.Struct, frozen=True):
    """The token request of the password grant (RFC 6749 4.3.2), read from the form body.

    Take it as ``form: Annotated[OAuth2PasswordRequestForm, Form()]``. ``grant_type`` may be
    left out (as many clients do); when sent it must be ``password``.
    """

    username: str
    password: str
    grant_type: Literal["password"] | None = None
    #: Space-separated scope names (RFC 6749 3.3); ``scopes`` has them as a list.
    scope: str = ""
    client_id: str | None = None
    client_secret: str | None = None

    @property
    def scopes(self) -> list[str]:
        """The requested scopes, in order, without repeats."""
        return list(dict.fromkeys(self.scope.split()))

    def __repr__(self) -> str:
        return f"OAuth2PasswordRequestForm(username={self.username!r}, password='***', ...)"


#: The form as a handler parameter annotation, for brevity: ``form: PasswordForm``.
PasswordForm = Annotated[OAuth2PasswordRequestForm, Form()]


class SecurityScopes:
    """A set of OAuth2 scope names: those a token grants, or those a route needs.

    Built from a list, or from the space-separated text of a token's ``scope`` claim.
    """

    __slots__ = ("scopes",)

    def __init__(self, scopes: Iterable[str] | str = ()) -> None:
        names = scopes.split() if isinstance(scopes, str) else scopes
        #: The scope names, in order, without repeats.
        self.scopes: tuple[str, ...] = tuple(dict.fromkeys(names))

    @property
    def scope_str(self) -> str:
        """The scopes as one space-separated string, as OAuth2 writes them."""
        return " ".join(self.scopes)

    def missing(self, needed: Iterable[str]) -> list[str]:
        """The scopes of ``needed`` this set does not hold."""
        held = set(self.scopes)
        return [scope for scope in needed if scope not in held]

    def __contains__(self, scope: object) -> bool:
        return scope in self.scopes

    def __iter__(self) -> Iterator[str]:
        return iter(self.scopes)

    def __len__(self) -> int:
        return len(self.scopes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecurityScopes):
            return set(self.scopes) == set(other.scopes)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self.scopes))

    def __repr__(self) -> str:
        return f"SecurityScopes({list(self.scopes)!r})"


class ScopeGuard:
    """A provider that lets a request through only when ``granted`` holds every needed scope.

    ``granted`` is any provider giving the request's scopes (a SecurityScopes, a list, or
    OAuth2's space-separated text); it usually depends on a scheme, and the OpenAPI document
    lists the needed scopes in that scheme's requirement. A missing scope is 403 with
    ``WWW-Authenticate: Bearer error="insufficient_scope"`` (RFC 6750 3.1).
    """

    #: Tells the OpenAPI builder that the schemes below this provider need ``scopes``.
    openapi_security_kind: ClassVar[Literal["scopes"]] = "scopes"

    def __init__(self, scopes: Iterable[str], granted: Callable[..., Any]) -> None:
        #: The scopes a request needs.
        self.scopes = SecurityScopes(checked_parameter("scope", scope) for scope in scopes)
        #: The provider giving the scopes a request holds.
        self.granted = granted
        declare_parameter(self, "held", Annotated[Any, Depends(granted)])

    def __call__(self, held: Any = None) -> None:
        """Nothing when ``held`` covers the needed scopes, else a 403."""
        if not isinstance(held, SecurityScopes):
            held = SecurityScopes(() if held is None else held)
        missing = held.missing(self.scopes)
        if missing:
            raise HTTPError(
                403,
                f"Missing scope: {' '.join(missing)}.",
                headers={
                    "WWW-Authenticate": 'Bearer error="insufficient_scope", '
                    f"scope={quoted(self.scopes.scope_str)}"
                },
            )

    def __repr__(self) -> str:
        return f"<ScopeGuard {self.scopes.scope_str!r}>"


def require_scope(*scopes: str, granted: Callable[..., Any]) -> ScopeGuard:
    """A guard for ``dependencies=[Depends(...)]`` or a parameter: 403 unless all ``scopes``.

    ``granted`` is the provider of the scopes the request holds, e.g. one reading a verified
    token's ``scope`` claim.
    """
    if not scopes:
        raise ValueError("require_scope() needs at least one scope")
    return ScopeGuard(scopes, granted)
