"""The bearer token check and the credential gate: both implementations agree, on any input."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duoweb.errors import HTTPError

B64TOKEN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"


def reference(credential: str) -> str | None:
    """RFC 6750 read the plain way: ``Bearer`` (any case), a space, then the b64token."""
    if not credential:
        return ""
    scheme, _, token = credential.partition(" ")
    if scheme.lower() != "bearer":
        return ""
    token = token.strip(" \t")
    body = token.rstrip("=")
    if body and all(char in B64TOKEN for char in body):
        return token
    return None


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        ("", ""),
        ("Basic dTpw", ""),
        ("Bearerabc", ""),
        ("Bear", ""),
        ("Bearer\tabc", ""),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer    ", None),
        ("Bearer ==", None),
        ("Bearer a b", None),
        ("Bearer abc=def", None),
        ("Bearer abc =", None),
        ("Bearer t\u00e9", None),
        ("Bearer t\u0101", None),
        ("Bearer t\U0001f600", None),
        ("Bearer abc", "abc"),
        ("bEaReR abc.DEF-_~+/9==", "abc.DEF-_~+/9=="),
        ("Bearer  \t tok= \t", "tok="),
        ("B\u00e9arer abc", ""),
        ("\u0181earer abc", ""),
    ],
)
def test_bearer_token(credentials_impl: ModuleType, credential: str, expected: str | None) -> None:
    assert credentials_impl.bearer_token(credential) == expected
    assert reference(credential) == expected


prefixes = st.sampled_from(["Bearer ", "bearer ", "BEARER  ", "Bearer", "Basic ", "", "Bearer\t"])
tokens = st.text(alphabet=B64TOKEN + "= \t\u00e9\u0101\U0001f600,\"'") | st.text()


@given(prefix=prefixes, token=tokens)
def test_bearer_token_matches_the_plain_reading(prefix: str, token: str) -> None:
    from tests.speedups.conftest import implementation

    expected = reference(prefix + token)
    for kind in ("pure", "compiled"):
        assert implementation("credentials", kind).bearer_token(prefix + token) == expected


class Scheme:
    """What a gate asks of a scheme: its answers for a missing and a malformed credential."""

    def __init__(self, auto_error: bool) -> None:
        self.auto_error = auto_error

    def absent(self) -> Any:
        if self.auto_error:
            raise HTTPError(401, "missing")
        return None

    def malformed(self) -> HTTPError:
        return HTTPError(401, "malformed")


class HeaderOnly:
    """A request that answers ``header()`` only."""

    def __init__(self, value: str | None) -> None:
        self.value = value
        self.asked: list[str] = []

    def header(self, name: str) -> str | None:
        self.asked.append(name)
        return self.value


def test_a_gate_needs_a_known_check(credentials_impl: ModuleType) -> None:
    with pytest.raises(ValueError, match="unknown credential check"):
        credentials_impl.CredentialGate(Scheme(True), "authorization", 7, ())


@pytest.mark.parametrize(
    ("value", "check", "auto_error", "expected"),
    [
        ("Bearer abc", "BEARER", True, "abc"),
        ("Basic abc", "BEARER", True, "missing"),
        ("Basic abc", "BEARER", False, None),
        (None, "BEARER", False, None),
        ("", "BEARER", True, "missing"),
        ("Bearer a b", "BEARER", False, "malformed"),
        ("Bearer a b", "PLAIN", True, "Bearer a b"),
        (None, "PLAIN", True, "missing"),
        ("", "PLAIN", False, None),
    ],
)
def test_a_gate_reads_its_header(
    credentials_impl: ModuleType, value: str | None, check: str, auto_error: bool, expected: Any
) -> None:
    kind = getattr(credentials_impl, check)
    gate = credentials_impl.CredentialGate(Scheme(auto_error), "x-cred", kind, ())
    request = HeaderOnly(value)
    if expected in ("missing", "malformed"):
        with pytest.raises(HTTPError, match=expected):
            gate.credential(request)
    else:
        assert gate.credential(request) == expected
    assert request.asked == ["x-cred"]
    assert check.lower() in repr(gate)


def test_a_gate_calls_the_handler_with_the_captures_and_the_credential(
    credentials_impl: ModuleType,
) -> None:
    calls: list[dict[str, Any]] = []

    def handler(**arguments: Any) -> str:
        calls.append(arguments)
        return "done"

    passing = credentials_impl.CredentialGate(
        Scheme(True), "x", credentials_impl.PLAIN, ("a", "b", "key")
    )
    assert passing.call(handler, {"a": 1, "b": 2}, HeaderOnly("k")) == "done"
    guarding = credentials_impl.CredentialGate(Scheme(True), "x", credentials_impl.PLAIN, ("a",))
    guarding.call(handler, {"a": 1}, HeaderOnly("k"))
    bare = credentials_impl.CredentialGate(Scheme(True), "x", credentials_impl.PLAIN, ())
    bare.call(handler, {}, HeaderOnly("k"))
    many = tuple(f"p{index}" for index in range(10))
    wide = credentials_impl.CredentialGate(Scheme(True), "x", credentials_impl.PLAIN, many)
    wide.call(handler, {name: 0 for name in many[:-1]}, HeaderOnly("k"))
    assert calls == [
        {"a": 1, "b": 2, "key": "k"},
        {"a": 1},
        {},
        {**{name: 0 for name in many[:-1]}, "p9": "k"},
    ]
    with pytest.raises(HTTPError, match="missing"):
        passing.call(handler, {"a": 1, "b": 2}, HeaderOnly(None))
    assert len(calls) == 4  # a refused credential never reaches the handler
