"""Install the servers the deployment tests run, once, idempotently and within a time bound.

Python servers are pip-installed into this interpreter's environment; nginx comes from the
Debian package through ``apt-get`` (as root, non-interactively). Apache and mod_wsgi are not
here: scripts/provision_apache.sh builds them (see apache_env.py). Each requirement is
checked first and installed at most once per test session; installs may start in the
background as soon as the session knows it will need them (see ``conftest.py``). A test asks
with :func:`require`, which waits, then skips with the reason when the thing truly cannot be
had on this machine (optional servers), or fails (the servers duoweb is developed against).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.version import Version

PIP_TIMEOUT = 240
APT_UPDATE_TIMEOUT = 180
APT_INSTALL_TIMEOUT = 300
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


class Unavailable(Exception):
    """The requirement cannot be installed or used on this machine; the message says why."""


@dataclass(frozen=True)
class Requirement:
    """Something tests need: how to tell it is there, how to install it."""

    key: str
    present: Callable[[], bool]
    install: Callable[[], None]
    #: Skip when it cannot be had (a server duoweb supports but does not depend on); else fail.
    optional: bool
    #: Which installer queue runs it: installs of one kind run one at a time, in order.
    kind: str


# --- pip ---------------------------------------------------------------------------------


def _distribution_at_least(distribution: str, minimum: str | None) -> bool:
    try:
        installed = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return minimum is None or Version(installed) >= Version(minimum)


def _module_present(module: str, distribution: str, minimum: str | None) -> bool:
    importlib.invalidate_caches()
    return importlib.util.find_spec(module) is not None and _distribution_at_least(
        distribution, minimum
    )


def _tail(output: str | bytes | None, lines: int = 12) -> str:
    if isinstance(output, bytes):
        output = output.decode(errors="replace")
    return "\n".join((output or "").strip().splitlines()[-lines:])


def _run(argv: list[str], *, timeout: float, what: str, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise Unavailable(f"{what} took more than {timeout} s:\n{_tail(exc.output)}") from None
    except OSError as exc:
        raise Unavailable(f"{what} could not run: {exc}") from None
    if done.returncode != 0:
        raise Unavailable(f"{what} failed with exit code {done.returncode}:\n{_tail(done.stdout)}")


def _pip(
    key: str,
    distribution: str,
    module: str,
    *,
    minimum: str | None = None,
    optional: bool,
) -> Requirement:
    spec = distribution if minimum is None else f"{distribution}>={minimum}"

    def present() -> bool:
        return _module_present(module, distribution, minimum)

    def install() -> None:
        _run(
            [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", spec],
            timeout=PIP_TIMEOUT,
            what=f"pip install {spec}",
        )
        if not present():
            raise Unavailable(f"pip installed {spec}, but {module} still cannot be imported")

    return Requirement(key, present, install, optional, kind="pip")


# --- apt ---------------------------------------------------------------------------------

_apt_updated = False


def find_program(name: str) -> str | None:
    """The path of a program on PATH or in the sbin directories, where Debian puts daemons."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
    return shutil.which(name, path=path)


@contextlib.contextmanager
def _no_service_starts() -> Iterator[None]:
    """Keep the packages' maintainer scripts from starting daemons (policy-rc.d, exit 101).

    Without it a fresh machine would start nginx and Apache on port 80 at install time; the
    second one would fail to bind and fail the install. An existing policy is left alone.
    """
    if POLICY_RC_D.exists():
        yield
        return
    POLICY_RC_D.write_text("#!/bin/sh\n# added by duoweb's tests while apt-get runs\nexit 101\n")
    POLICY_RC_D.chmod(0o755)
    try:
        yield
    finally:
        POLICY_RC_D.unlink(missing_ok=True)


def _apt_install(packages: Iterable[str]) -> None:
    global _apt_updated
    names = list(packages)
    if shutil.which("apt-get") is None:
        raise Unavailable(f"no apt-get (not a Debian-based system) to install {names}")
    if os.geteuid() != 0:
        raise Unavailable(f"installing {names} with apt-get needs root")
    env = {"DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "a"}
    lock_wait = ["-o", "DPkg::Lock::Timeout=120"]
    if not _apt_updated:
        # A failed update is not fatal: the package lists may already be good enough.
        with contextlib.suppress(Unavailable):
            _run(
                ["apt-get", *lock_wait, "update", "-qq"],
                timeout=APT_UPDATE_TIMEOUT,
                what="apt-get update",
                env=env,
            )
        _apt_updated = True
    with _no_service_starts():
        _run(
            ["apt-get", *lock_wait, "install", "-y", "-qq", "--no-install-recommends", *names],
            timeout=APT_INSTALL_TIMEOUT,
            what=f"apt-get install {' '.join(names)}",
            env=env,
        )


def _apt(key: str, programs: list[str], packages: list[str]) -> Requirement:
    def present() -> bool:
        return all(find_program(program) for program in programs)

    def install() -> None:
        _apt_install(packages)
        missing = [program for program in programs if not find_program(program)]
        if missing:
            raise Unavailable(f"apt-get installed {packages}, but {missing} are still missing")

    return Requirement(key, present, install, optional=True, kind="apt")


# --- the requirements --------------------------------------------------------------------


# In the order a session installs them: quick wheels first, then what compiles.
REQUIREMENTS: dict[str, Requirement] = {
    r.key: r
    for r in [
        # 25.1: the asgi worker (24+) and --no-control-socket (25.1+).
        _pip("gunicorn", "gunicorn", "gunicorn", minimum="25.1", optional=False),
        _pip("hypercorn", "hypercorn", "hypercorn", optional=False),
        _pip("uvicorn", "uvicorn", "uvicorn", optional=False),
        _pip("uvloop", "uvloop", "uvloop", optional=True),
        _pip("uwsgi", "uwsgi", "uwsgidecorators", optional=True),
        _apt("nginx", ["nginx", "openssl"], ["nginx", "openssl"]),
    ]
}

# One queue per installer: pip must not run twice at once in one environment, nor apt-get.
_queues = {
    "pip": ThreadPoolExecutor(max_workers=1, thread_name_prefix="provision-pip"),
    "apt": ThreadPoolExecutor(max_workers=1, thread_name_prefix="provision-apt"),
}
_futures: dict[str, Future[None]] = {}
_reasons: dict[str, str | None] = {}
_futures_lock = threading.Lock()


def _provide(requirement: Requirement) -> None:
    if requirement.present():
        return
    requirement.install()


def start(keys: Iterable[str]) -> None:
    """Begin installing what ``keys`` name, in the background (in REQUIREMENTS order)."""
    wanted = set(keys)
    with _futures_lock:
        for key, requirement in REQUIREMENTS.items():
            if key in wanted and key not in _futures:
                _futures[key] = _queues[requirement.kind].submit(_provide, requirement)


def outcome(requirement: Requirement) -> None:
    """Wait for ``requirement``; record why it is unavailable, if it is."""
    start([requirement.key])
    try:
        _futures[requirement.key].result()
    except Unavailable as exc:
        _reasons[requirement.key] = str(exc)
    else:
        _reasons[requirement.key] = None


def require(*keys: str) -> None:
    """Make sure each requirement is installed; skip (optional) or fail the test if not."""
    start(keys)
    for key in keys:
        requirement = REQUIREMENTS[key]
        outcome(requirement)
        reason = _reasons[key]
        if reason is None:
            continue
        message = f"{key} is unavailable on this machine: {reason}"
        if requirement.optional:
            pytest.skip(message)
        pytest.fail(message, pytrace=False)


def missing(key: str) -> str | None:
    """Why ``key`` is unavailable (after :func:`require` or :func:`outcome`), or None."""
    return _reasons.get(key)
