"""The reference app under every server users run: same answers, hooks once per worker.

Each configuration in tests/deploy/commands.py is started on 127.0.0.1, sent every case in
tests/deploy/cases.py, then stopped with its graceful-stop signal; the hook log must show
startup hooks once in each worker process (never in the master) and shutdown hooks in each.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.deploy import apache_env, provision
from tests.deploy.cases import check_all, new_client
from tests.deploy.commands import SERVED_APP, SERVERS, ServerSpec, values_for
from tests.deploy.hooks import HookLog, scratch_dir
from tests.deploy.launch import run_server
from tests.e2e.servers import free_port

pytestmark = pytest.mark.e2e


def server_argv(spec: ServerSpec, values: dict[str, str]) -> list[str]:
    """The command line for ``spec`` on this machine.

    mod_wsgi-express comes from the readable environment scripts/provision_apache.sh built,
    serves a copy of the app its daemon processes' user can read, and, when the tests run as
    root, runs those processes as that unprivileged user (mod_wsgi refuses root).
    """
    if spec.program != "mod_wsgi-express":
        return spec.argv(values)
    env = apache_env.require()
    project = apache_env.copy_served_app(env, Path(values["run_dir"]) / "project", SERVED_APP)
    values = {**values, "root": str(project), "prefix": str(env.prefix)}
    argv = [str(env.mod_wsgi_express), *(arg.format(**values) for arg in spec.args)]
    if os.geteuid() == 0:
        user, group = apache_env.daemon_account()
        argv += ["--user", user, "--group", group]
    return argv


def _get_once_more_if_dropped(client: httpx.Client, url: str) -> httpx.Response:
    """GET ``url``; a connection the server closed before answering is tried once more.

    uWSGI (2 processes x 2 threads) now and then closes one of a burst of simultaneous
    connections without reading it; the request never reaches the app, and this burst only
    learns which workers serve, so one retry of this idempotent GET is enough. The client's
    pool, shared by the burst's threads, has also once failed a read with EBADF (a ReadError)
    under Granian on a loaded machine: retried the same way.
    """
    try:
        return client.get(url)
    except (httpx.RemoteProtocolError, httpx.ReadError):
        return client.get(url)


def ask_concurrently(client: httpx.Client, url: str, count: int) -> set[int]:
    """Send ``count`` requests at once, so new workers race to run their startup hooks."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: _get_once_more_if_dropped(client, url), range(count)))
    assert all(r.status_code == 200 for r in responses), [r.status_code for r in responses]
    return {int(r.json()) for r in responses}


# Room for a first run that installs and compiles the server (it skips if that fails).
@pytest.mark.timeout(600)
@pytest.mark.parametrize("spec", SERVERS, ids=[spec.name for spec in SERVERS])
def test_serves_reference_app(spec: ServerSpec) -> None:
    provision.require(*spec.requires)
    with scratch_dir() as scratch:
        port = free_port()
        values = values_for(port, scratch)
        argv = server_argv(spec, values)
        log = scratch / "hooks.log"
        env = {"DUOWEB_HOOK_LOG": str(log), **spec.environment(values)}
        base = f"http://127.0.0.1:{port}"
        with (
            run_server(
                spec.name,
                argv,
                base_url=base,
                env=env,
                stop_signal=spec.stop_signal,
                startup_timeout=spec.startup_timeout,
            ) as running,
            new_client() as client,
        ):
            served = ask_concurrently(client, base + "/_deploy/pid", 24)
            problems = check_all(client, base)
            served |= ask_concurrently(client, base + "/_deploy/pid", 24)
            returncode = running.stop()
        assert not problems, "\n".join(problems)
        hooks = HookLog.read(log)
    found = hooks.problems(
        master=running.pid,
        served=served,
        workers=spec.workers,
        exact=spec.protocol == "asgi",
        # Hypercorn 0.18's master terminate()s the remaining workers as soon as the first one
        # exits, which can cut their lifespan shutdown short (a race in the server): with
        # several workers only "some worker ran its shutdown hooks" is guaranteed.
        # tests/e2e/test_servers.py checks shutdown hooks under a single Hypercorn worker.
        every_worker_stops=not spec.name.startswith("hypercorn"),
    )
    assert not found, "\n".join([*found, f"exit code {returncode}", running.log_tail()])
