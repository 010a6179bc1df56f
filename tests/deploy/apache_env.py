"""The Apache + mod_wsgi environment that scripts/provision_apache.sh builds, as tests find it.

mod_wsgi runs the app in daemon processes as an unprivileged user (www-data when the tests
run as root), which can read neither a Python under /root nor this checkout's .venv. The
script builds a virtualenv every user can read, from Debian's Python, with mod_wsgi and duoweb
compiled in it, and writes its path to build/apache-env (``DUOWEB_APACHE_ENV`` overrides it).
The tests only look for it: they install nothing. Missing or out of date, the test fails
under CI (``CI`` set, and not ``0`` or ``false``) and skips elsewhere, naming the command
that provides it.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.hooks import cannot_run_python_as, unprivileged_user
from tests.e2e.servers import ROOT

PROVISION = "bash scripts/provision_apache.sh"
POINTER = ROOT / "build" / "apache-env"
# What the daemon processes import, copied where they can read it (the checkout may not be).
SERVED_FILES = (
    "benchmarks/__init__.py",
    "benchmarks/app.py",
    "tests/__init__.py",
    "tests/deploy/__init__.py",
    "tests/deploy/served_app.py",
)
_SOURCE_SUFFIXES = {".py", ".pyx", ".pxd", ".pyi"}


class NotProvisioned(Exception):
    """The environment is missing, incomplete or older than this checkout; says which."""


@dataclass(frozen=True)
class ApacheEnv:
    """A readable Python environment with mod_wsgi and duoweb, and the Apache it was built for."""

    prefix: Path
    #: mod_wsgi's Apache module (what ``mod_wsgi-express module-location`` prints).
    module: Path
    #: The Apache binary and its modules directory, as apxs reports them.
    httpd: Path
    modules_dir: Path

    @property
    def python(self) -> Path:
        """The environment's interpreter."""
        return self.prefix / "bin" / "python"

    @property
    def mod_wsgi_express(self) -> Path:
        """The ``mod_wsgi-express`` script pip installed with mod_wsgi."""
        return self.prefix / "bin" / "mod_wsgi-express"


def _output(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise NotProvisioned(f"{argv[0]} cannot run: {exc}") from None
    if done.returncode != 0 or not done.stdout.strip():
        raise NotProvisioned(f"{' '.join(argv)} failed: {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


def _outdated_files(prefix: Path) -> list[str]:
    """duoweb's source files whose installed copy in ``prefix`` differs from the checkout."""
    installed = sorted(prefix.glob("lib/python3*/site-packages/duoweb"))
    if not installed:
        return ["duoweb (not installed)"]
    outdated = []
    for source in sorted((ROOT / "duoweb").rglob("*")):
        if source.suffix not in _SOURCE_SUFFIXES or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(ROOT / "duoweb")
        copy = installed[-1] / relative
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            outdated.append(f"duoweb/{relative}")
    return outdated


def locate() -> ApacheEnv:
    """The provisioned environment, checked to be complete and to hold this checkout's duoweb."""
    configured = os.environ.get("DUOWEB_APACHE_ENV", "")
    if not configured and POINTER.is_file():
        configured = POINTER.read_text().strip()
    if not configured:
        raise NotProvisioned(f"{POINTER.relative_to(ROOT)} does not exist")
    prefix = Path(configured)
    express = prefix / "bin" / "mod_wsgi-express"
    if not express.is_file():
        raise NotProvisioned(f"{express} does not exist")
    outdated = _outdated_files(prefix)
    if outdated:
        raise NotProvisioned(
            f"duoweb in {prefix} is not this checkout's ({len(outdated)} files differ,"
            f" e.g. {outdated[0]})"
        )
    apxs = shutil.which("apxs")
    if apxs is None:
        raise NotProvisioned("apxs (Debian's apache2-dev) is not installed")
    return ApacheEnv(
        prefix=prefix,
        module=Path(_output([str(express), "module-location"])),
        httpd=Path(_output([apxs, "-q", "SBINDIR"])) / _output([apxs, "-q", "TARGET"]),
        modules_dir=Path(_output([apxs, "-q", "LIBEXECDIR"])),
    )


def require() -> ApacheEnv:
    """The environment; fails the test under CI, skips it elsewhere, if it is unusable."""
    try:
        return locate()
    except NotProvisioned as exc:
        message = (
            f"Apache + mod_wsgi are not provisioned for these tests: {exc}. Run `{PROVISION}`"
            " as root (scripts/test.sh does): it installs Debian's apache2, apache2-dev,"
            " python3-dev and python3-venv with apt-get, then builds mod_wsgi and duoweb into"
            " a Python environment every user can read."
        )
    if os.environ.get("CI", "") not in ("", "0", "false"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def daemon_account() -> tuple[str, str]:
    """The (user, group) mod_wsgi's daemon processes run as: unprivileged when we are root."""
    account = unprivileged_user()
    if account is not None:
        return account
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def copy_served_app(env: ApacheEnv, project: Path, module: str) -> Path:
    """Copy the served app's modules into ``project``, readable by the daemon's user.

    Fails the test if that user cannot then import ``module`` with the environment's Python.
    """
    for name in SERVED_FILES:
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, target)
        target.chmod(0o644)
    for directory in [project, *(p for p in project.rglob("*") if p.is_dir())]:
        directory.chmod(0o755)
    user, group = daemon_account()
    reason = cannot_run_python_as(user, group, module, python=env.python, cwd=project)
    if reason is not None:
        pytest.fail(f"{reason}; {PROVISION} should have made this readable", pytrace=False)
    return project
