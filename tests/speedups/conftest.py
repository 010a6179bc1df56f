"""Fixtures that run every speedups-level test against both implementations."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

from duoweb._select import SPEEDUP_MODULES

# CI sets this so that a missing compiled module fails loudly instead of skipping.
REQUIRE_COMPILED = os.environ.get("DUOWEB_REQUIRE_EXTENSIONS", "") == "1"


def implementation(name: str, kind: str) -> ModuleType:
    """Import the ``kind`` ("pure" or "compiled") implementation of hot-path module ``name``."""
    compiled, pure = SPEEDUP_MODULES[name]
    if kind == "pure":
        return importlib.import_module(pure)
    try:
        return importlib.import_module(compiled)
    except ImportError as exc:
        if REQUIRE_COMPILED:
            raise
        pytest.skip(f"compiled {compiled} is not built here ({exc}); the pure twin is tested")


@pytest.fixture(params=["pure", "compiled"])
def router_impl(request: pytest.FixtureRequest) -> ModuleType:
    """The router implementation under test: pure-Python twin or compiled extension."""
    return implementation("router", request.param)


@pytest.fixture(params=["pure", "compiled"])
def headers_impl(request: pytest.FixtureRequest) -> ModuleType:
    """The header/query/cookie parser implementation under test."""
    return implementation("headers", request.param)


@pytest.fixture(params=["pure", "compiled"])
def messages_impl(request: pytest.FixtureRequest) -> ModuleType:
    """The request/response core implementation under test."""
    return implementation("messages", request.param)


@pytest.fixture(params=["pure", "compiled"])
def multipart_impl(request: pytest.FixtureRequest) -> ModuleType:
    """The multipart/form-data push parser implementation under test."""
    return implementation("multipart", request.param)


@pytest.fixture(params=["pure", "compiled"])
def credentials_impl(request: pytest.FixtureRequest) -> ModuleType:
    """The bearer token check and credential gate implementation under test."""
    return implementation("credentials", request.param)


@pytest.fixture(params=["pure", "compiled"])
def observer_impl(request: pytest.FixtureRequest) -> ModuleType:
    """The request observer base implementation under test."""
    return implementation("observer", request.param)
