"""The exact command lines the deployment tests run, one per server configuration.

docs/deployment.md shows the same commands (``documented()`` renders them for a project
called ``myapp`` on port 8000; tests/deploy/test_docs.py checks the two agree).
"""

from __future__ import annotations

import shutil
import signal
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tests.e2e.servers import ROOT

HERE = Path(__file__).resolve().parent
SERVED_APP = "tests.deploy.served_app"

# What the placeholders become in docs/deployment.md.
DOC_VALUES = {
    "port": "8000",
    "app": "myapp",
    "prefix": "/srv/myapp/venv",
    "root": "/srv/myapp",
    "run_dir": "/run/myapp",
    "ini": "uwsgi.ini",
}

# Programs run through this interpreter (python -m ...) so the test environment's copy is used.
_PYTHON_MODULES = {"gunicorn", "hypercorn", "uvicorn", "granian"}


@dataclass(frozen=True)
class ServerSpec:
    """One tested way to serve the app: the program, its arguments, how to stop it gracefully."""

    name: str
    protocol: Literal["wsgi", "asgi"]
    program: str
    #: Arguments with ``{port}``, ``{app}`` (a module whose ``app`` is the App), ``{prefix}``
    #: (the Python environment), ``{root}`` (the project), ``{run_dir}`` (scratch), ``{ini}``.
    args: tuple[str, ...]
    #: Worker processes the configuration runs.
    workers: int
    #: tests.deploy.provision keys.
    requires: tuple[str, ...]
    #: Environment variables the command needs (values may hold placeholders too).
    env: tuple[tuple[str, str], ...] = ()
    #: The signal that asks the server for a graceful shutdown.
    stop_signal: signal.Signals = signal.SIGTERM
    #: Seconds to wait for the first answer.
    startup_timeout: float = 30.0
    notes: tuple[str, ...] = field(default=(), compare=False)

    def argv(self, values: dict[str, str]) -> list[str]:
        """The command line to run here, with the placeholders filled in."""
        return [*program_argv(self.program), *(arg.format(**values) for arg in self.args)]

    def environment(self, values: dict[str, str]) -> dict[str, str]:
        """The extra environment variables, filled in."""
        return {name: value.format(**values) for name, value in self.env}

    def documented(self) -> str:
        """The command as docs/deployment.md shows it (``myapp`` on port 8000)."""
        words = [self.program, *(arg.format(**DOC_VALUES) for arg in self.args)]
        env = " ".join(f"{name}={value.format(**DOC_VALUES)}" for name, value in self.env)
        return (env + " " if env else "") + " ".join(words)


def program_argv(program: str) -> list[str]:
    """How to start ``program`` from this interpreter's environment."""
    if program in _PYTHON_MODULES:
        return [sys.executable, "-m", program]
    scripts = Path(sysconfig.get_path("scripts"))
    candidate = scripts / program
    if candidate.exists():
        return [str(candidate)]
    found = shutil.which(program)
    return [found or program]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_GUNICORN = "-b 127.0.0.1:{port} --graceful-timeout 5 --no-control-socket"
_HYPERCORN = "-w 2 -b 127.0.0.1:{port} --graceful-timeout 5"
_GRANIAN = "--host 127.0.0.1 --port {port} --workers 2 --workers-kill-timeout 5"

# The ones whose install compiles come last, so their builds overlap the other tests.
SERVERS: list[ServerSpec] = [
    ServerSpec(
        "gunicorn-sync",
        "wsgi",
        "gunicorn",
        _words(f"-k sync -w 3 {_GUNICORN} {{app}}:app"),
        workers=3,
        requires=("gunicorn",),
    ),
    ServerSpec(
        "gunicorn-asgi",
        "asgi",
        "gunicorn",
        _words(f"-k asgi -w 2 {_GUNICORN} {{app}}:app"),
        workers=2,
        requires=("gunicorn",),
    ),
    ServerSpec(
        "hypercorn-asyncio",
        "asgi",
        "hypercorn",
        _words(f"-k asyncio {_HYPERCORN} {{app}}:app"),
        workers=2,
        requires=("hypercorn",),
    ),
    ServerSpec(
        "hypercorn-uvloop",
        "asgi",
        "hypercorn",
        _words(f"-k uvloop {_HYPERCORN} asgi:{{app}}:app"),
        workers=2,
        requires=("hypercorn", "uvloop"),
    ),
    ServerSpec(
        "uvicorn",
        "asgi",
        "uvicorn",
        _words(
            "{app}:app --host 127.0.0.1 --port {port} --workers 2 --timeout-graceful-shutdown 5"
        ),
        workers=2,
        requires=("uvicorn",),
    ),
    ServerSpec(
        "gunicorn-uvicorn-worker",
        "asgi",
        "gunicorn",
        _words(f"-k uvicorn_worker.UvicornWorker -w 2 {_GUNICORN} {{app}}:app"),
        workers=2,
        requires=("gunicorn", "uvicorn-worker"),
    ),
    ServerSpec(
        "granian-wsgi",
        "wsgi",
        "granian",
        _words(f"--interface wsgi {_GRANIAN} {{app}}:app"),
        workers=2,
        requires=("granian",),
    ),
    ServerSpec(
        "granian-asgi",
        "asgi",
        "granian",
        _words(f"--interface asgi {_GRANIAN} {{app}}:app"),
        workers=2,
        requires=("granian",),
    ),
    ServerSpec(
        "uwsgi",
        "wsgi",
        "uwsgi",
        _words("--ini {ini} --virtualenv {prefix} --chdir {root}"),
        workers=2,
        requires=("uwsgi",),
        env=(("DUOWEB_PORT", "{port}"), ("DUOWEB_APP", "{app}")),
    ),
    ServerSpec(
        "mod_wsgi",
        "wsgi",
        "mod_wsgi-express",
        _words(
            "start-server --host 127.0.0.1 --port {port} --processes 2 --threads 4"
            " --server-root {run_dir}/apache --application-type module --entry-point {app}"
            " --callable-object app --python-path {root} --working-directory {root}"
            " --log-to-terminal --shutdown-timeout 5 --locale C.UTF-8"
        ),
        workers=2,
        # scripts/provision_apache.sh provides it (tests/deploy/apache_env.py finds it).
        requires=(),
        stop_signal=signal.SIGWINCH,  # Apache's graceful-stop
        startup_timeout=60.0,
    ),
]

SERVERS_BY_NAME = {spec.name: spec for spec in SERVERS}


def values_for(port: int, run_dir: Path, app: str = SERVED_APP) -> dict[str, str]:
    """The placeholder values for a test run."""
    return {
        "port": str(port),
        "app": app,
        "prefix": sys.prefix,
        "root": str(ROOT),
        "run_dir": str(run_dir),
        "ini": str(HERE / "uwsgi.ini"),
    }
