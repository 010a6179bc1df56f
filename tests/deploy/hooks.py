"""Read the hook log the served app writes, and check it against what a server should do."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.servers import ROOT


@dataclass(frozen=True)
class HookLog:
    """Which processes ran their startup and shutdown hooks, in order."""

    started: list[int]
    stopped: list[int]

    @classmethod
    def read(cls, path: Path) -> HookLog:
        """Parse ``startup PID`` / ``shutdown PID`` lines (a missing file means no hooks ran)."""
        started: list[int] = []
        stopped: list[int] = []
        if path.exists():
            for line in path.read_text().splitlines():
                event, _, pid = line.partition(" ")
                (started if event == "startup" else stopped).append(int(pid))
        return cls(started, stopped)

    def problems(
        self,
        *,
        master: int,
        served: set[int],
        workers: int | None,
        exact: bool,
        every_worker_stops: bool = True,
    ) -> list[str]:
        """What is wrong: hooks not once per worker process, in the master, or not stopped.

        ``served`` are the pids that answered requests; ``workers`` the number of worker
        processes that must have started (``exact``, as ASGI lifespan does at boot) or at
        most started (WSGI runs startup hooks on a worker's first request).
        """
        found: list[str] = []
        if len(set(self.started)) != len(self.started):
            found.append(f"a process ran its startup hooks twice: {self.started}")
        if master in self.started:
            found.append(f"the master process {master} ran the startup hooks")
        if not served <= set(self.started):
            found.append(f"pids {sorted(served - set(self.started))} served without startup")
        if workers is not None:
            count = len(set(self.started))
            if (exact and count != workers) or count > workers or count == 0:
                found.append(f"{count} processes started, expected {workers}: {self.started}")
        stopped_ok = (
            sorted(self.stopped) == sorted(self.started)
            if every_worker_stops
            else bool(self.stopped) and set(self.stopped) <= set(self.started)
        )
        if not stopped_ok:
            found.append(
                f"shutdown hooks ran in {sorted(self.stopped)}, startup in {sorted(self.started)}"
            )
        return found


@contextmanager
def scratch_dir(prefix: str = "duoweb-deploy-") -> Iterator[Path]:
    """A temporary directory any user can read, with a hook log any user can append to.

    Apache's mod_wsgi daemons and nginx's workers do not run as root, and pytest's tmp_path
    is private to its owner, so the servers get a directory of their own. It is removed
    afterwards unless DUOWEB_KEEP_DEPLOY_DIRS is set (to read the servers' logs).
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        path.chmod(0o755)
        log = path / "hooks.log"
        log.touch()
        log.chmod(0o666)
        yield path
    finally:
        if not os.environ.get("DUOWEB_KEEP_DEPLOY_DIRS"):
            shutil.rmtree(path, ignore_errors=True)


def unprivileged_user() -> tuple[str, str] | None:
    """The (user, group) servers that refuse to run as root should use, when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("www-data", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return name, grp.getgrgid(entry.pw_gid).gr_name
    return None


def cannot_run_python_as(
    user: str,
    group: str,
    module: str,
    *,
    python: str | os.PathLike[str] = sys.executable,
    cwd: Path = ROOT,
) -> str | None:
    """Why ``user`` cannot import ``module`` with ``python`` from ``cwd``, or None if it can.

    Only root can switch users; anyone else checks as themselves.
    """
    switch: dict[str, Any] = (
        {"user": user, "group": group, "extra_groups": []} if os.geteuid() == 0 else {}
    )
    try:
        done = subprocess.run(
            [os.fspath(python), "-c", f"import {module}"],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
            **switch,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"user {user} cannot run {python}: {exc}"
    if done.returncode != 0:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
        return f"user {user} cannot import {module} with {python}: {last}"
    return None
