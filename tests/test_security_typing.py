"""The schemes' types: what ``Depends(scheme)`` gives, checked by mypy --strict, run by pytest.

``auto_error=False`` changes the type a scheme gives from ``X`` to ``X | None``. The
``type: ignore[...]`` lines are the negative proof: mypy --strict warns about unused
ignores, so if a scheme's type lost its precision these lines would fail mypy.
"""

from __future__ import annotations

import base64
from typing import assert_type

from duoweb.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    SecurityScopes,
    require_scope,
)


def test_required_schemes_give_the_credential() -> None:
    bearer = HTTPBearer()
    assert_type(bearer, HTTPBearer[str])
    assert_type(bearer("Bearer tok"), str)
    assert bearer("Bearer tok") == "tok"
    basic = HTTPBasic()
    encoded = base64.b64encode(b"ann:pw").decode()
    assert_type(basic(f"Basic {encoded}"), HTTPBasicCredentials)
    assert basic(f"Basic {encoded}").password == "pw"
    oauth2 = OAuth2PasswordBearer(token_url="/token")
    assert_type(oauth2("Bearer t"), str)
    assert_type(APIKeyHeader(name="X-Key")("k"), str)
    assert_type(APIKeyQuery(name="key")("k"), str)
    assert_type(APIKeyCookie(name="key")("k"), str)
    length: int = bearer("Bearer tok")  # type: ignore[assignment]
    assert isinstance(length, str)


def test_optional_schemes_may_give_none() -> None:
    bearer = HTTPBearer(auto_error=False)
    assert_type(bearer, HTTPBearer[str | None])
    assert_type(bearer(None), str | None)
    assert bearer(None) is None
    assert_type(HTTPBasic(auto_error=False)(None), HTTPBasicCredentials | None)
    assert_type(OAuth2PasswordBearer(token_url="/t", auto_error=False)(None), str | None)
    assert_type(APIKeyHeader(name="X-Key", auto_error=False)(None), str | None)
    assert_type(APIKeyQuery(name="key", auto_error=False)(None), str | None)
    assert_type(APIKeyCookie(name="key", auto_error=False)(None), str | None)
    token: str = bearer(None)  # type: ignore[assignment]
    assert token is None


def test_guards_return_nothing() -> None:
    guard = require_scope("admin", granted=lambda: SecurityScopes("admin"))
    assert_type(guard(SecurityScopes("admin")), None)
