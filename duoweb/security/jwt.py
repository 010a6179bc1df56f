"""Bearer JWTs verified with PyJWT (``pip install 'duoweb[jwt]'``): claims as a dependency.

``Depends(JWTBearer(key=..., algorithms=["HS256"]))`` gives the verified claims of the
request's bearer token. The signature is checked with a fixed list of algorithms, ``exp`` and
``nbf`` with a leeway, ``aud`` and ``iss`` when configured; every failure is a 401 saying
what is wrong with the token and nothing about the server. Keys may come from a JWKS
document (``JWKS``), selected by the token's ``kid`` and refreshed when a new one appears.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, cast

import jwt as pyjwt

from duoweb.dependencies import Depends
from duoweb.errors import HTTPError
from duoweb.security.base import declare_parameter
from duoweb.security.http import BearerScheme, HTTPBearer
from duoweb.security.oauth2 import SecurityScopes
from duoweb.type_guards import is_list, is_mapping

Claims = dict[str, Any]

#: Algorithms that are never accepted, whatever the configuration says.
_REFUSED_ALGORITHMS = frozenset({"none"})

#: PyJWT's failures -> what the 401 tells the client (no key material, no library detail).
_MESSAGES: tuple[tuple[type[Exception], str], ...] = (
    (pyjwt.ExpiredSignatureError, "The token has expired."),
    (pyjwt.ImmatureSignatureError, "The token is not valid yet."),
    (pyjwt.InvalidAudienceError, "The token is not meant for this service (audience)."),
    (pyjwt.InvalidIssuerError, "The token was not issued by a trusted issuer."),
    (pyjwt.InvalidAlgorithmError, "The token is signed with an algorithm that is not accepted."),
    (pyjwt.InvalidSignatureError, "The token signature is not valid."),
    (pyjwt.InvalidIssuedAtError, "The token's issue time is not valid."),
)


class JWKS:
    """A JSON Web Key Set: keys by ``kid``, from a document or from a URL the app loads.

    With a URL, a token naming an unknown ``kid`` reloads the set (keys were rotated), at
    most once every ``min_refresh_interval`` seconds, so bogus ``kid`` values cannot make
    the server fetch on every request. Load it at startup: ``JWKS.from_url(url)``.
    """

    def __init__(
        self,
        document: Mapping[str, Any] | None = None,
        *,
        url: str | None = None,
        min_refresh_interval: float = 60.0,
        timeout: float = 5.0,
    ) -> None:
        if document is None and url is None:
            raise ValueError("JWKS needs a document or a url")
        #: Where the set is (re)loaded from; None: a fixed document.
        self.url = url
        self.min_refresh_interval = min_refresh_interval
        self.timeout = timeout
        self._keys: dict[str | None, pyjwt.PyJWK] = {}
        #: kid -> the "alg" its JWK declares (None: the JWK leaves it open).
        self._algorithms: dict[str | None, str | None] = {}
        self._loaded_at = -float("inf")
        self._lock = threading.Lock()
        if document is not None:
            self.use(document)

    @classmethod
    def from_url(
        cls, url: str, *, min_refresh_interval: float = 60.0, timeout: float = 5.0
    ) -> JWKS:
        """The set published at ``url``, loaded now (so a wrong URL fails at startup)."""
        jwks = cls(url=url, min_refresh_interval=min_refresh_interval, timeout=timeout)
        jwks.load()
        return jwks

    def use(self, document: Mapping[str, Any]) -> None:
        """Replace the keys with those of ``document`` (``{"keys": [...]}``)."""
        key_set = pyjwt.PyJWKSet.from_dict(dict(document))
        declared = {
            jwk.get("kid"): jwk.get("alg") for jwk in document.get("keys", []) if is_mapping(jwk)
        }
        self._keys = {key.key_id: key for key in key_set.keys}
        self._algorithms = {kid: declared.get(kid) for kid in self._keys}
        self._loaded_at = time.monotonic()

    def load(self) -> None:
        """(Re)load the set from its URL."""
        if self.url is None:
            raise ValueError("this JWKS has no url to load from")
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            document = json.loads(response.read())
        self.use(document)

    def key_for(self, kid: str | None) -> pyjwt.PyJWK | None:
        """The key named ``kid`` (reloading once if it is unknown), or None."""
        key = self._keys.get(kid)
        if key is not None or self.url is None:
            return key if key is not None else self._only_key(kid)
        with self._lock:
            if time.monotonic() - self._loaded_at >= self.min_refresh_interval:
                try:
                    self.load()
                except (OSError, ValueError, pyjwt.PyJWTError):
                    self._loaded_at = time.monotonic()  # keep the old keys; retry later
        return self._keys.get(kid) or self._only_key(kid)

    def declared_algorithm(self, key: pyjwt.PyJWK) -> str | None:
        """The ``alg`` the key's JWK names, if it names one."""
        return self._algorithms.get(key.key_id)

    def _only_key(self, kid: str | None) -> pyjwt.PyJWK | None:
        """A token without ``kid`` may use a set's only key."""
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return None


class JWTBearer:
    """A provider giving the verified claims (a dict) of the request's bearer JWT.

    ``scheme`` reads the token (default: ``HTTPBearer(bearer_format="JWT")``; pass an
    OAuth2PasswordBearer for the password flow); its ``auto_error=False`` makes the claims
    optional (None without a token). ``require`` lists claims that must be present.
    ``scopes`` is a provider of the token's scopes, for ``require_scope(granted=...)``.
    """

    def __init__(
        self,
        *,
        algorithms: Sequence[str],
        key: Any = None,
        jwks: JWKS | None = None,
        audience: str | Iterable[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        leeway: float = 0.0,
        require: Sequence[str] = ("exp",),
        scheme: BearerScheme[Any] | None = None,
        scope_claim: str = "scope",
    ) -> None:
        if (key is None) == (jwks is None):
            raise ValueError("JWTBearer needs exactly one of key= and jwks=")
        chosen = list(algorithms)
        if not chosen or _REFUSED_ALGORITHMS & {name.lower() for name in chosen}:
            raise ValueError("JWTBearer needs a list of signing algorithms, without 'none'")
        self.algorithms = chosen
        self.key = key
        self.jwks = jwks
        self.audience = (
            audience if audience is None or isinstance(audience, str) else list(audience)
        )
        self.issuer = issuer
        self.leeway = leeway
        self.require = list(require)
        #: The scheme reading the token: the OpenAPI document declares it for the route.
        self.scheme: BearerScheme[Any] = scheme or HTTPBearer(bearer_format="JWT")
        self.scope_claim = scope_claim
        declare_parameter(self, "token", Annotated[Any, Depends(self.scheme)])
        #: Provider of the verified token's scopes (a SecurityScopes).
        self.scopes = TokenScopes(self)

    def __call__(self, token: str | None = None) -> Claims:
        """The verified claims; None when the scheme is optional and no token came."""
        if token is None:
            return cast(Claims, None)
        return self.verify(token)

    def verify(self, token: str) -> Claims:
        """The claims of ``token`` once every check passed, else a 401 ``invalid_token``."""
        try:
            key = self.signing_key(token)
            claims: Claims = pyjwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": self.require, "verify_aud": self.audience is not None},
            )
        except pyjwt.MissingRequiredClaimError as exc:
            raise self.invalid(f"The token lacks the {exc.claim!r} claim.") from None
        except (pyjwt.PyJWTError, ValueError, TypeError) as exc:
            # ValueError/TypeError: a key of one family offered a token of another.
            raise self.invalid(self.message(exc)) from None
        return claims

    def signing_key(self, token: str) -> Any:
        """The key verifying ``token``: the configured one, or the JWKS key its kid names."""
        if self.jwks is None:
            return self.key
        header = pyjwt.get_unverified_header(token)
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise pyjwt.DecodeError("kid is not a string")
        found = self.jwks.key_for(kid)
        if found is None:
            raise pyjwt.InvalidKeyError("unknown kid")
        declared = self.jwks.declared_algorithm(found)
        if declared is not None and declared != header.get("alg"):
            raise pyjwt.InvalidAlgorithmError("the key is for another algorithm")
        return found.key

    @staticmethod
    def message(exc: Exception) -> str:
        """What a 401 says about one PyJWT failure."""
        if isinstance(exc, pyjwt.InvalidKeyError):
            return "The token's signing key is not known."
        for kind, message in _MESSAGES:
            if isinstance(exc, kind):
                return message
        return "The token is malformed."

    def invalid(self, detail: str) -> HTTPError:
        """A 401 with the scheme's ``Bearer error="invalid_token"`` challenge."""
        return self.scheme.unauthorized(detail, error="invalid_token", description=detail)

    def __repr__(self) -> str:
        return f"<JWTBearer {self.algorithms!r}>"


class TokenScopes:
    """Provider of the scopes a verified token grants (its ``scope`` claim; ``scp`` too)."""

    def __init__(self, bearer: JWTBearer) -> None:
        self.claim = bearer.scope_claim
        declare_parameter(self, "claims", Annotated[Any, Depends(bearer)])

    def __call__(self, claims: Claims | None = None) -> SecurityScopes:
        """The scopes of ``claims``: space-separated text or a list of names."""
        if not claims:
            return SecurityScopes()
        held = claims.get(self.claim, claims.get("scp"))
        if isinstance(held, str):
            return SecurityScopes(held)
        if is_list(held) and all(isinstance(scope, str) for scope in held):
            return SecurityScopes(held)
        return SecurityScopes()


def encode_token(
    claims: Mapping[str, Any], key: Any, *, algorithm: str, expires_in: float | None = None
) -> str:
    """A signed JWT of ``claims`` (with ``iat``, and ``exp`` when ``expires_in`` seconds).

    ``key`` is the secret or private key, or a ``PyJWK`` whose ``kid`` goes in the header.
    """
    now = int(time.time())
    payload = {"iat": now, **claims}
    if expires_in is not None:
        payload["exp"] = now + int(expires_in)
    headers = {"kid": key.key_id} if isinstance(key, pyjwt.PyJWK) and key.key_id else None
    signing = key.key if isinstance(key, pyjwt.PyJWK) else key
    return pyjwt.encode(payload, signing, algorithm=algorithm, headers=headers)
