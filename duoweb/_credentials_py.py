"""A route's one credential read and checked by the dispatcher itself: the pure twin.

``bearer_token`` is the RFC 6750 check of an ``Authorization`` value. ``CredentialGate`` is
what the dispatchers run, instead of an endpoint's responder, for a ``def`` route whose only
dependency is a security scheme reading one header (``Depends(HTTPBearer())`` and alike):
read the header, check it, call the handler with the path parameters and the credential.
A failure is the scheme's own answer (its 401), built only then.

``duoweb._speedups._credentials`` compiles the same API; this module is the typed source of
truth and the fallback when the extension is not built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from duoweb.requests import Request

__all__ = ["BEARER", "PLAIN", "CredentialGate", "bearer_token"]

#: The kinds of check a gate runs on the header's value.
PLAIN = 0  # any non-empty value is the credential (an API key)
BEARER = 1  # ``Bearer <b64token>`` (RFC 6750 2.1): the token is the credential

#: RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
#: Byte -> 0 for a b64token character (before the padding), 1 for any other: one
#: ``bytes.translate`` pass in C checks a whole token.
_B64TOKEN_CLASS = bytes(0 if byte in _B64TOKEN_CHARS else 1 for byte in range(256))


def bearer_token(credential: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value: ``""`` or None if there is none.

    ``""``: no bearer credential (empty, or another auth scheme such as Basic). None: a
    ``Bearer`` value whose token is not RFC 6750 b64token syntax. The scheme name is
    case-insensitive; spaces and tabs around the token are dropped. Linear time.
    """
    if not credential:
        return ""
    scheme, _, token = credential.partition(" ")
    if scheme != "Bearer" and scheme.lower() != "bearer":
        return ""
    token = token.strip(" \t")
    body = token.rstrip("=")
    if body and body.isascii() and 1 not in body.encode().translate(_B64TOKEN_CLASS):
        return token
    return None


class _Gated(Protocol):
    """What a gate asks of its scheme, and only when the credential is missing or malformed."""

    def absent(self) -> Any:
        """The value for a request without the credential, or raise its 401."""
        ...

    def malformed(self) -> Exception:
        """The 401 for a credential of the wrong syntax."""
        ...


class CredentialGate:
    """A route's one header credential, read and checked before its handler is called.

    ``names`` are the handler's parameter names the gate passes: its path parameters (the
    router's captures), then the parameter the credential goes to, if any (none for a route
    or router dependency, whose value is discarded). They go by keyword; ``by_position`` says
    the handler's own signature takes them first, in this order, and then a lone credential
    (no path parameters) goes by position.
    """

    __slots__ = ("by_position", "check", "handler", "header", "names", "scheme")

    def __init__(
        self,
        scheme: _Gated,
        header: str,
        check: int,
        handler: Callable[..., Any],
        names: tuple[str, ...],
        by_position: bool = False,
    ) -> None:
        if check not in (PLAIN, BEARER):
            raise ValueError(f"unknown credential check {check!r}")
        #: The scheme whose answers a missing or malformed credential gets.
        self.scheme = scheme
        #: The request header carrying the credential (any case).
        self.header = header
        #: PLAIN or BEARER.
        self.check = check
        #: The route's handler, which the gate calls.
        self.handler = handler
        #: The handler's parameters the gate passes: path parameters, then the credential's.
        self.names = names
        #: The handler takes ``names`` first, in order: a lone credential goes by position.
        self.by_position = by_position

    def credential(self, request: Request) -> Any:
        """The credential the handler gets, the scheme's ``absent()`` value, or its 401."""
        value = request.header(self.header)
        if not value:
            return self.scheme.absent()
        if self.check == PLAIN:
            return value
        token = bearer_token(value)
        if token:
            return token
        if token is None:
            raise self.scheme.malformed()
        return self.scheme.absent()

    def call(self, found: dict[str, Any], request: Request) -> Any:
        """Check the credential, then call the handler with ``found`` and it; the result."""
        credential = self.credential(request)
        names = self.names
        if len(names) == len(found):  # a route dependency: its value is not passed
            return self.handler(**found)
        if self.by_position and not found:  # a lone credential, the handler's first parameter
            return self.handler(credential)
        return self.handler(**found, **{names[-1]: credential})

    def __repr__(self) -> str:
        kind = "bearer" if self.check == BEARER else "plain"
        order = "by position" if self.by_position else "by keyword"
        return f"<CredentialGate {kind} {self.header!r} -> {self.names!r} {order}>"
