"""Apache with mod_wsgi in daemon mode, configured as docs/deployment.md shows (apache.conf.in).

Apache (Debian's package) runs tests/deploy/apache.conf.in: a virtual host whose
WSGIDaemonProcess runs the reference app in 2 processes x 4 threads as an unprivileged user,
in the main interpreter, mounted under ``/api`` with WSGIScriptAlias. Besides the answers, the
tests stop Apache and restart it gracefully, and reload the app by touching its WSGI script
under a stream of requests. The Python environment and mod_wsgi come from
scripts/provision_apache.sh (see tests/deploy/apache_env.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.deploy import apache_env
from tests.deploy.cases import PROBLEM, check_all, new_client
from tests.deploy.commands import HERE, SERVED_APP
from tests.deploy.hooks import HookLog, scratch_dir
from tests.deploy.launch import Running, run_server
from tests.deploy.test_graceful import Stream, children, wait_for
from tests.deploy.test_servers import ask_concurrently
from tests.e2e.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

MOUNT = "/api"
PROCESSES = 2
LIMIT = 1024 * 1024  # the reference app's max_body_size


@dataclass
class Apache:
    """A running Apache: its process, address and directory, and the environment it runs."""

    running: Running
    base: str
    scratch: Path
    env: apache_env.ApacheEnv

    @property
    def app_url(self) -> str:
        """The URL the app is mounted at."""
        return self.base + MOUNT

    @property
    def hook_log(self) -> Path:
        """Where the served app writes its startup and shutdown lines."""
        return self.scratch / "hooks.log"


def render_config(values: dict[str, str]) -> str:
    """apache.conf.in with every ``@NAME@`` replaced by ``values[NAME]``."""
    text = (HERE / "apache.conf.in").read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    directives = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    left = re.findall(r"@[A-Z_]+@", directives)
    assert not left, f"unfilled placeholders: {left}"
    return text


@contextlib.contextmanager
def serve_apache() -> Iterator[Apache]:
    """Run Apache with apache.conf.in in the foreground on a free port until the block ends."""
    env = apache_env.require()
    with scratch_dir("duoweb-apache-") as scratch:
        project = apache_env.copy_served_app(env, scratch / "project", SERVED_APP)
        (project / "wsgi.py").write_text(f"from {SERVED_APP} import app as application\n")
        (project / "wsgi.py").chmod(0o644)
        port = free_port()
        user, group = apache_env.daemon_account()
        config = scratch / "apache.conf"
        config.write_text(
            render_config(
                {
                    "PREFIX": str(scratch),
                    "PORT": str(port),
                    "USER": user,
                    "GROUP": group,
                    "MODULES": str(env.modules_dir),
                    "MOD_WSGI": str(env.module),
                    "PYTHON_HOME": str(env.prefix),
                    "PROJECT": str(project),
                }
            )
        )
        base = f"http://127.0.0.1:{port}"
        with run_server(
            "apache",
            [str(env.httpd), "-f", str(config), "-DFOREGROUND"],
            base_url=base,
            env={"DUOWEB_HOOK_LOG": str(scratch / "hooks.log")},
            stop_signal=signal.SIGWINCH,  # Apache's graceful stop
            ready_path=MOUNT + "/_deploy/pid",
            startup_timeout=60,
        ) as running:
            yield Apache(running, base, scratch, env)


@pytest.fixture(scope="module")
def apache() -> Iterator[Apache]:
    with serve_apache() as served:
        yield served


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with new_client() as http:
        yield http


def test_reference_routes_under_the_mount(apache: Apache, client: httpx.Client) -> None:
    problems = check_all(client, apache.app_url)
    assert not problems, "\n".join([*problems, apache.running.log_tail()])


def test_outside_the_mount_is_apache_not_the_app(apache: Apache, client: httpx.Client) -> None:
    response = client.get(apache.base + "/json")
    assert response.status_code == 404
    assert response.headers["content-type"] != "application/json"


def test_script_name_is_the_mount(apache: Apache, client: httpx.Client) -> None:
    response = client.get(apache.app_url + "/_deploy/where?x=1")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "root_path": MOUNT,
        "path": "/_deploy/where",
        "url": f"{apache.app_url}/_deploy/where?x=1",
        "r87": f"{apache.app_url}/api/v1/r87/42",
    }


def test_runs_in_the_provisioned_environment_with_compiled_speedups(
    apache: Apache, client: httpx.Client
) -> None:
    response = client.get(apache.app_url + "/_deploy/runtime")
    assert response.status_code == 200, response.text
    runtime = response.json()
    assert runtime["prefix"] == str(apache.env.prefix)
    assert Path(runtime["duoweb"]).is_relative_to(apache.env.prefix), runtime["duoweb"]
    # The daemon processes inherit the environment: a run of the suite in pure mode serves
    # the pure twins, as documented in docs/speedups.md.
    pure_mode = os.environ.get("DUOWEB_NO_EXTENSIONS", "") not in ("", "0")
    expected = "pure" if pure_mode else "compiled"
    assert set(runtime["speedups"].values()) == {expected}, runtime["speedups"]


def test_declared_body_over_the_limit_is_a_413_problem(
    apache: Apache, client: httpx.Client
) -> None:
    response = client.post(
        apache.app_url + "/items",
        content=b" " * (LIMIT + 10),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 413


def _chunks(count: int, size: int = 65536) -> Iterator[bytes]:
    for _ in range(count):
        yield b" " * size


def test_chunked_body_over_the_limit_is_a_413_problem(apache: Apache, client: httpx.Client) -> None:
    response = client.post(
        apache.app_url + "/items",
        content=_chunks(LIMIT // 65536 + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM


def test_chunked_body_within_the_limit_is_read(apache: Apache, client: httpx.Client) -> None:
    response = client.post(
        apache.app_url + "/items",
        content=iter([b'{"name":"chunk', b'ed","price":3}']),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "chunked"


def test_streaming_response_is_passed_on_chunk_by_chunk(
    apache: Apache, client: httpx.Client
) -> None:
    release = apache.scratch / "stream.release"
    release.unlink(missing_ok=True)
    received = b""
    with client.stream("GET", apache.app_url + "/_deploy/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert "content-length" not in response.headers
        for chunk in response.iter_raw():
            received += chunk
            if received.endswith(b"first\n") and not release.exists():
                release.touch()  # only now may the app send its second line
    assert received == b"first\nreleased\n"


def test_hooks_once_per_daemon_process_and_on_graceful_stop() -> None:
    with serve_apache() as served, new_client() as client:
        pids = ask_concurrently(client, served.app_url + "/_deploy/pid", 24)
        pids |= ask_concurrently(client, served.app_url + "/_deploy/pid", 24)
        returncode = served.running.stop()
        hooks = HookLog.read(served.hook_log)
        log = served.running.log_tail()
    found = hooks.problems(master=served.running.pid, served=pids, workers=PROCESSES, exact=False)
    assert not found, "\n".join([*found, f"exit code {returncode}", log])
    assert returncode == 0, log


def test_graceful_restart_replaces_daemon_processes_and_runs_their_hooks() -> None:
    with serve_apache() as served, new_client() as client:
        url = served.app_url + "/_deploy/pid"
        old = ask_concurrently(client, url, 24)
        served.running.process.send_signal(signal.SIGUSR1)  # apachectl graceful

        # While mod_wsgi recreates its daemon sockets a request may get Apache's 503
        # (WSGI0117, documented); this test is about which processes serve afterwards.
        def a_new_process_serves() -> bool:
            with contextlib.suppress(httpx.TransportError):
                response = client.get(url)
                return response.status_code == 200 and int(response.json()) not in old
            return False

        wait_for(a_new_process_serves, 30, "a new daemon process to serve")
        later = ask_concurrently(client, url, 24)
        returncode = served.running.stop()
        hooks = HookLog.read(served.hook_log)
        log = served.running.log_tail()
    assert not later & old, f"replaced processes {sorted(later & old)} still served"
    # Each process, old or new, ran its startup hooks once and its shutdown hooks on leaving.
    found = hooks.problems(
        master=served.running.pid, served=old | later, workers=2 * PROCESSES, exact=False
    )
    assert not found, "\n".join([*found, f"exit code {returncode}", log])


def test_touching_the_script_reloads_the_app_without_losing_a_request() -> None:
    with serve_apache() as served, new_client() as client:
        old = ask_concurrently(client, served.app_url + "/_deploy/pid", 24)
        script = served.scratch / "project" / "wsgi.py"
        with Stream(served.app_url, threads=3, limit=2000, slow_ms=300) as stream:
            wait_for(lambda: len(stream.outcomes) >= 6, 15, "the stream to flow")
            wait_for(stream.slow_in_flight.is_set, 15, "a slow request in flight")
            time.sleep(0.1)  # it has reached a daemon process, which sleeps in the handler
            touched_at = time.monotonic()
            later = script.stat().st_mtime + 10  # mod_wsgi reloads when the time differs
            os.utime(script, (later, later))
            wait_for(
                lambda: bool(stream.served_by() - old) and not children(served.running.pid) & old,
                30,
                "new daemon processes answering and the old ones gone",
            )
        failures = stream.failures()
        in_flight = [
            o
            for o in stream.outcomes
            if o.pid in old and o.started < touched_at < o.finished and o.error is None
        ]
        served_by = stream.served_by()
        returncode = served.running.stop()
        hooks = HookLog.read(served.hook_log)
        log = served.running.log_tail()
    assert not failures, f"{len(failures)} of {len(stream.outcomes)} failed: {failures[:5]}"
    assert in_flight, "no slow request was in flight in an old daemon process during the reload"
    found = hooks.problems(
        master=served.running.pid, served=old | served_by, workers=2 * PROCESSES, exact=False
    )
    assert not found, "\n".join([*found, f"exit code {returncode}", log])
