"""Types of the compiled credential gate: the same API as duoweb._credentials_py."""

from duoweb._credentials_py import BEARER as BEARER
from duoweb._credentials_py import PLAIN as PLAIN
from duoweb._credentials_py import CredentialGate as CredentialGate
from duoweb._credentials_py import bearer_token as bearer_token

__all__ = ["BEARER", "PLAIN", "CredentialGate", "bearer_token"]
