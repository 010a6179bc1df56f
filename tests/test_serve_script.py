"""scripts/serve.sh, the README's serve command: what a user sees when the port is taken.

The script first runs ``scripts/setup.sh serve``, which returns at once here (the test
command's own setup already installed everything, and a dev install serves too).
"""

from __future__ import annotations

import os
import socket
import subprocess

from tests.e2e.servers import ROOT


def test_a_taken_port_is_one_line_naming_port() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUOWEB_")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["bash", "scripts/serve.sh"],
            cwd=ROOT,
            env={**env, "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in lines[0]
    assert "PORT=" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_an_unknown_server_is_refused_before_any_setup() -> None:
    result = subprocess.run(
        ["bash", "scripts/serve.sh"],
        cwd=ROOT,
        env={**os.environ, "SERVER": "waitress"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "SERVER must be gunicorn, hypercorn, uvicorn or granian, not 'waitress'"
    )
