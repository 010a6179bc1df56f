"""The credential gate and bearer token check: the implementation chosen by duoweb._select."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duoweb._credentials_py import BEARER, PLAIN, CredentialGate, bearer_token
else:
    from duoweb import _select

    _impl = _select.load("credentials")
    BEARER = _impl.BEARER
    PLAIN = _impl.PLAIN
    CredentialGate = _impl.CredentialGate
    bearer_token = _impl.bearer_token

__all__ = ["BEARER", "PLAIN", "CredentialGate", "bearer_token"]
