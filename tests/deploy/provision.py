"""What the deployment tests need, checked (never installed) before a test uses it.

Tests install nothing. The Python servers come from the dev extra that ``bash scripts/setup.sh``
installs; nginx (and Chromium, for tests/browser) from ``scripts/provision_system.sh``, and
Apache with mod_wsgi from ``scripts/provision_apache.sh``, both run by the README's test
command before pytest. A test asks with :func:`require`: a server duoweb is developed against
fails the test when missing; an optional one skips it, saying what to run.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from packaging.version import Version

SETUP = "bash scripts/setup.sh"
PROVISION_SYSTEM = "bash scripts/provision_system.sh"


@dataclass(frozen=True)
class Requirement:
    """Something tests need: how to tell it is there, and what provides it."""

    key: str
    present: Callable[[], bool]
    #: The command that installs it.
    provider: str
    #: Skip when it is missing (a server duoweb supports but does not depend on); else fail.
    optional: bool


def _distribution_at_least(distribution: str, minimum: str | None) -> bool:
    try:
        installed = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return minimum is None or Version(installed) >= Version(minimum)


def _pip(
    key: str, distribution: str, module: str, *, minimum: str | None = None, optional: bool
) -> Requirement:
    def present() -> bool:
        return importlib.util.find_spec(module) is not None and _distribution_at_least(
            distribution, minimum
        )

    return Requirement(key, present, SETUP, optional)


def find_program(name: str) -> str | None:
    """The path of a program on PATH or in the sbin directories, where Debian puts daemons."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
    return shutil.which(name, path=path)


def _program(key: str, programs: list[str]) -> Requirement:
    def present() -> bool:
        return all(find_program(program) for program in programs)

    return Requirement(key, present, PROVISION_SYSTEM, optional=True)


REQUIREMENTS: dict[str, Requirement] = {
    r.key: r
    for r in [
        # 25.1: the asgi worker (24+) and --no-control-socket (25.1+).
        _pip("gunicorn", "gunicorn", "gunicorn", minimum="25.1", optional=False),
        _pip("hypercorn", "hypercorn", "hypercorn", optional=False),
        _pip("uvicorn", "uvicorn", "uvicorn", optional=False),
        _pip("granian", "granian", "granian", optional=False),
        _pip("uvicorn-worker", "uvicorn-worker", "uvicorn_worker", optional=False),
        # No wheels on every platform: the dev extra leaves them out on Windows.
        _pip("uvloop", "uvloop", "uvloop", optional=True),
        _pip("uwsgi", "uwsgi", "uwsgidecorators", optional=True),
        _program("nginx", ["nginx", "openssl"]),
    ]
}


def missing(key: str) -> str | None:
    """Why ``key`` is unavailable on this machine, or None when it is there."""
    requirement = REQUIREMENTS[key]
    importlib.invalidate_caches()
    if requirement.present():
        return None
    return f"{key} is not installed; `{requirement.provider}` installs it"


def require(*keys: str) -> None:
    """Skip (optional) or fail the test for the first requirement that is missing."""
    for key in keys:
        reason = missing(key)
        if reason is None:
            continue
        if REQUIREMENTS[key].optional:
            pytest.skip(reason)
        pytest.fail(reason, pytrace=False)
