"""What every credential provider shares: one planned text parameter, the 401, the OpenAPI scheme.

A scheme object is an ordinary ``Depends()`` provider. Its signature, set per instance, names
the one header, query parameter or cookie it reads, so the dependency machinery extracts it
like any other parameter (no body read, no Request object). The OpenAPI builder recognises
schemes by their ``openapi_security_kind`` and declares them (duoweb.openapi_security).
"""

from __future__ import annotations

import hmac
import inspect
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, cast

from duoweb._credentials import CredentialGate
from duoweb.errors import HTTPError
from duoweb.params import Param

T = TypeVar("T")

#: The name of the one parameter a scheme's provider declares.
CREDENTIAL = "credential"


def constant_time_equal(given: str | bytes, expected: str | bytes) -> bool:
    """True when the secrets are equal; the time taken does not tell where they differ."""
    left = given.encode("utf-8") if isinstance(given, str) else given
    right = expected.encode("utf-8") if isinstance(expected, str) else expected
    return hmac.compare_digest(left, right)


def quoted(text: str) -> str:
    """``text`` as an HTTP quoted-string (RFC 9110 5.6.4): backslash and quote escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def checked_parameter(what: str, text: str) -> str:
    """``text`` unchanged when it may go into a header; ValueError for control characters."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise ValueError(f"{what} must not contain control characters: {text!r}")
    return text


def inherits(cls: type, base: type, *names: str) -> bool:
    """True when ``cls`` has ``base``'s own attributes ``names``, none overridden."""
    return all(getattr(cls, name) is getattr(base, name) for name in names)


def takes_in_order(handler: Callable[..., Any], names: tuple[str, ...]) -> bool:
    """True when ``handler``'s own first parameters are ``names``, in order, and positional.

    Calling it with their values by position then means the same as by keyword. The
    handler's own signature, not one ``functools.wraps`` copies onto a wrapper (which
    may take keywords only); False when it cannot be read.
    """
    try:
        parameters = list(inspect.signature(handler, follow_wrapped=False).parameters.values())
    except (TypeError, ValueError):
        return False
    if len(parameters) < len(names):
        return False
    return all(
        parameter.name == name and parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        for parameter, name in zip(parameters, names, strict=False)
    )


def declare_parameter(provider: Any, name: str, annotation: Any) -> None:
    """Give ``provider`` (a callable object) the signature ``(name: annotation = None)``.

    The dependency machinery plans a provider from ``inspect.signature`` and its type hints,
    both of which read these per-instance attributes, so each instance may read a
    differently named header, query parameter, cookie or dependency. The parameter may be
    passed by position, as ``__call__`` takes it: a route calls a lone provider that way.
    """
    parameter = inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=annotation
    )
    provider.__signature__ = inspect.Signature([parameter])
    provider.__annotations__ = {name: annotation}


class SecurityScheme(Generic[T]):
    """Base of the credential providers: ``Depends(scheme)`` gives the credential, or a 401.

    ``T`` is what the handler receives: the credential, or ``credential | None`` for a
    scheme made with ``auto_error=False``.
    """

    #: Tells the OpenAPI builder that this provider is a security scheme (duck-typed there).
    openapi_security_kind: ClassVar[Literal["scheme"]] = "scheme"

    def __init__(
        self,
        source: Param,
        *,
        scheme_name: str | None,
        description: str | None,
        auto_error: bool,
    ) -> None:
        #: The name under components.securitySchemes (default: the class name).
        self.scheme_name = scheme_name or type(self).__name__
        #: The scheme's description in the OpenAPI document.
        self.description = description
        #: Absent credentials answer 401 (True) or give None (False).
        self.auto_error = auto_error
        declare_parameter(self, CREDENTIAL, Annotated[str | None, source])

    def __call__(self, credential: str | None = None) -> T:
        """The checked credential; 401 when it is missing (unless ``auto_error=False``)."""
        if not credential:
            return self.absent()
        return cast(T, self.read(credential))

    def absent(self) -> T:
        """What a request without the credential gets: a 401, or None with ``auto_error=False``."""
        if self.auto_error:
            raise self.unauthorized("Not authenticated: credentials are missing.")
        return cast(T, None)

    def direct_gate(
        self, handler: Callable[..., Any], names: tuple[str, ...]
    ) -> CredentialGate | None:
        """A gate the dispatchers may run instead of calling this scheme, or None.

        ``handler`` is the route's; ``names`` are its parameters the gate passes (path
        parameters, then the one this scheme's value goes to, if any). Only a scheme that
        reads one header and whose call is the stock one (``gate_check``) has a gate; its
        failures are still this scheme's ``absent()`` and ``malformed()``.
        """
        check = self.gate_check()
        if check is None:
            return None
        header, kind = check
        return CredentialGate(self, header, kind, handler, names, takes_in_order(handler, names))

    def gate_check(self) -> tuple[str, int] | None:
        """The header and the check (duoweb._credentials PLAIN or BEARER) a gate runs."""
        return None

    def malformed(self) -> HTTPError:
        """The 401 for a credential of the wrong syntax."""
        return self.unauthorized("The credentials are malformed.")

    def read(self, credential: str) -> Any:
        """The value handed to the handler for the ``credential`` text the request carries."""
        return credential

    def challenge(self, error: str | None = None, description: str | None = None) -> str:
        """The ``WWW-Authenticate`` value a 401 of this scheme carries."""
        raise NotImplementedError

    def unauthorized(
        self, detail: str, *, error: str | None = None, description: str | None = None
    ) -> HTTPError:
        """A 401 problem with this scheme's challenge; ``detail`` must name no secret."""
        return HTTPError(
            401, detail, headers={"WWW-Authenticate": self.challenge(error, description)}
        )

    def openapi_scheme(self) -> dict[str, Any]:
        """The OpenAPI Security Scheme Object declared for this scheme."""
        scheme = self.openapi_fields()
        if self.description:
            scheme["description"] = self.description
        return scheme

    def openapi_fields(self) -> dict[str, Any]:
        """The type-specific members of the Security Scheme Object."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.scheme_name!r}>"
