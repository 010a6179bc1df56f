"""Authentication and authorization as typed dependencies, declared in OpenAPI by themselves.

``Depends(scheme)`` gives a handler (or another provider) the request's credential, or
answers 401 with the scheme's ``WWW-Authenticate`` challenge; every scheme used by a route,
however deep in its dependencies, appears in the route's OpenAPI ``security``. Imported
only by apps that use it; ``duoweb.security.jwt`` (PyJWT) only by apps verifying JWTs.
"""

from __future__ import annotations

from duoweb.security.api_key import APIKeyCookie, APIKeyHeader, APIKeyQuery, APIKeyScheme
from duoweb.security.base import SecurityScheme, constant_time_equal
from duoweb.security.http import HTTPBasic, HTTPBasicCredentials, HTTPBearer
from duoweb.security.oauth2 import (
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    PasswordForm,
    ScopeGuard,
    SecurityScopes,
    require_scope,
)

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "APIKeyScheme",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "PasswordForm",
    "ScopeGuard",
    "SecurityScheme",
    "SecurityScopes",
    "constant_time_equal",
    "require_scope",
]
