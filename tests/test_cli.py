"""The ``duoweb`` command line: route table, server commands, errors, and real servers."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.app import app as reference_app
from duoweb import App, cli

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``duoweb argv`` in-process; return (exit status, stdout, stderr)."""
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def run_module(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m duoweb argv`` in a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [PY, "-m", "duoweb", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_usage_error(status: int, err: str, *fragments: str) -> None:
    """A user error: status 2, one clear message, no traceback."""
    assert status == 2, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def no_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    """An in-process test that reaches exec fails instead of replacing pytest with a server."""

    def refuse(command: list[str]) -> int:
        pytest.fail(f"would have exec'd {command}")

    monkeypatch.setattr(cli, "_exec", refuse)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory; modules written there are forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if str(tmp_path) in str(getattr(sys.modules[name], "__file__", None) or ""):
            del sys.modules[name]


def write_module(directory: Path, name: str, source: str) -> None:
    """Write ``name.py`` into ``directory``."""
    (directory / f"{name}.py").write_text(textwrap.dedent(source))


# --- duoweb routes ---------------------------------------------------------------------------


def test_routes_prints_the_reference_app_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "routes", "benchmarks.app:app")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["METHOD", "PATH", "NAME", "MODE"]
    # The five reference route kinds (104 routes) plus the OpenAPI document's own routes.
    assert len(lines) == 1 + len(reference_app.routes())
    rows = [line.split() for line in lines[1:]]
    assert ["GET", "/openapi.json", "openapi_document", "sync"] in rows
    for row in (
        ["GET", "/plaintext", "plaintext", "sync"],
        ["GET", "/json", "json", "sync"],
        ["GET", "/api/v1/r0/{id}", "r0", "sync"],
    ):
        assert row in rows
    assert lines[-1].split() == ["POST", "/items", "create_item", "sync"]
    expected = [
        [r.method, r.path, r.name, "async" if r.is_async else "sync"]
        for r in reference_app.routes()
    ]
    assert [line.split() for line in lines[1:]] == expected


def test_routes_columns_are_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "routes", "benchmarks.app:app")
    assert status == 0
    lines = out.splitlines()
    header = lines[0]
    starts = [header.index(title) for title in ("PATH", "NAME", "MODE")]
    for line in lines[1:]:
        cells = line.split()
        assert [line.index(cell, start) for cell, start in zip(cells[1:], starts, strict=True)] == (
            starts
        ), line
        assert line[starts[0] - 2 : starts[0]] == "  "
        assert line == line.rstrip()


def test_routes_shows_async_handlers_and_every_method(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_module(
        project,
        "mixed_app",
        """
        from duoweb import App

        app = App(openapi_url=None, docs_url=None)

        @app.route("/things/{thing_id}", methods=["GET", "PUT"], name="thing")
        async def thing(thing_id: int) -> dict[str, int]:
            return {"id": thing_id}

        @app.delete("/a-much-longer-path/{name:path}")
        def remove(name: str) -> None:
            return None
        """,
    )
    status, out, err = run_cli(capsys, "routes", "mixed_app:app")
    assert status == 0, err
    assert [line.split() for line in out.splitlines()] == [
        ["METHOD", "PATH", "NAME", "MODE"],
        ["GET", "/things/{thing_id}", "thing", "async"],
        ["PUT", "/things/{thing_id}", "thing", "async"],
        ["DELETE", "/a-much-longer-path/{name:path}", "remove", "sync"],
    ]


def test_loader_imports_from_the_working_directory(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = project / "cwd_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    write_module(
        package,
        "site",
        """
        from duoweb import App

        class Holder:
            app = App(openapi_url=None, docs_url=None)

        application = Holder.app

        @application.get("/only-here")
        def only_here() -> str:
            return "here"
        """,
    )
    assert str(project) not in sys.path
    status, out, err = run_cli(capsys, "routes", "cwd_pkg.site:application")
    assert status == 0, err
    assert out.splitlines()[1].split() == ["GET", "/only-here", "only_here", "sync"]
    # A dotted attribute path reaches the same App.
    status, out2, _ = run_cli(capsys, "routes", "cwd_pkg.site:Holder.app")
    assert (status, out2) == (0, out)


def test_routes_sample_in_the_docs_is_the_real_output(capsys: pytest.CaptureFixture[str]) -> None:
    doc = (ROOT / "docs" / "cli.md").read_text()
    start = doc.index("$ duoweb routes benchmarks.app:app\n")
    sample = doc[start : doc.index("```", start)].splitlines()[1:]
    status, out, _ = run_cli(capsys, "routes", "benchmarks.app:app")
    assert status == 0
    lines = out.splitlines()
    cut = sample.index("...")
    assert sample[:cut] == lines[:cut]
    assert sample[cut + 1 :] == lines[len(lines) - (len(sample) - cut - 1) :]


MANY_ROUTES = """
from duoweb import App

app = App()
for number in range(3000):
    app.get(f"/a/rather/long/path/number/{number}/{{item_id}}", name=f"route_{number}")(
        lambda item_id: item_id
    )
"""


@pytest.mark.parametrize("command", ["routes", "openapi"])
def test_a_reader_that_stops_early_ends_the_command_quietly(command: str, tmp_path: Path) -> None:
    # `duoweb routes APP | head -1`: head closes the pipe after one line, long before the
    # output (far more than a pipe's buffer) is written.
    (tmp_path / "many_routes.py").write_text(MANY_ROUTES)
    process = subprocess.Popen(
        [PY, "-m", "duoweb", command, "many_routes:app"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    errors = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 0
    assert first
    assert errors == b""


def test_routes_via_python_dash_m() -> None:
    result = run_module("routes", "benchmarks.app:app")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + len(reference_app.routes())
    assert ["GET", "/json", "json", "sync"] in [line.split() for line in lines]


# --- duoweb openapi --------------------------------------------------------------------------


def test_openapi_without_support_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "openapi", "benchmarks.app:app")
    if hasattr(App, "openapi"):  # the OpenAPI issue has landed: the document is printed
        assert status == 0, err
        assert json.loads(out) == reference_app.openapi()  # type: ignore[attr-defined,unused-ignore]
        return
    assert_usage_error(status, err, "OpenAPI generation is not available in this version")
    assert out == ""


def test_openapi_prints_the_document_when_the_app_has_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_module(
        project,
        "documented_app",
        """
        from typing import Any
        from duoweb import App

        class DocumentedApp(App):
            def openapi(self) -> dict[str, Any]:
                return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}

        app = DocumentedApp()
        """,
    )
    status, out, err = run_cli(capsys, "openapi", "documented_app:app")
    assert status == 0, err
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}
    assert out == json.dumps(document, indent=2) + "\n"


# --- duoweb run: the server's command line ---------------------------------------------------


def printed_command(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    """The command ``duoweb run argv --print-command`` prints, as a list."""
    status, out, err = run_cli(capsys, "run", "--print-command", *argv)
    assert status == 0, err
    return shlex.split(out)


def test_run_defaults_to_hypercorn_serving_app_asgi(capsys: pytest.CaptureFixture[str]) -> None:
    command = printed_command(capsys, "benchmarks.app:app")
    assert command == [
        *(PY, "-m", "hypercorn"),
        *("-w", "1", "-b", "127.0.0.1:8000"),
        "benchmarks.app:app.asgi",
    ]


def test_run_gunicorn_with_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["benchmarks.app:app", "--server", "gunicorn", "--workers", "4"]
    command = printed_command(capsys, *argv, "--bind", "0.0.0.0:9000", "--reload")
    assert command == [
        *(PY, "-m", "gunicorn", "-k", "sync"),
        *("-w", "4", "-b", "0.0.0.0:9000", "--reload"),
        "benchmarks.app:app",
    ]


def test_run_hypercorn_with_short_flags_and_two_binds(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["benchmarks.app:app", "-w", "3", "-b", "127.0.0.1:7000", "-b", "[::1]:7000"]
    command = printed_command(capsys, *argv, "--reload")
    assert command == [
        *(PY, "-m", "hypercorn"),
        *("-w", "3", "-b", "127.0.0.1:7000", "-b", "[::1]:7000", "--reload"),
        "benchmarks.app:app.asgi",
    ]


def test_dry_run_is_the_same_as_print_command(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "run", "benchmarks.app:app", "--server=gunicorn", "--dry-run")
    assert status == 0
    assert shlex.split(out) == printed_command(capsys, "benchmarks.app:app", "--server=gunicorn")


@pytest.mark.parametrize("server", ["gunicorn", "hypercorn"])
def test_unknown_options_are_passed_to_the_server(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = printed_command(
        capsys,
        "benchmarks.app:app",
        f"--server={server}",
        "--graceful-timeout",
        "5",
        "--access-logfile=-",
        "-k",
        "custom",
    )
    passed = ["--graceful-timeout", "5", "--access-logfile=-", "-k", "custom"]
    assert command[-1 - len(passed) : -1] == passed
    assert command[-1].startswith("benchmarks.app:app")


def test_options_after_double_dash_are_passed_through(capsys: pytest.CaptureFixture[str]) -> None:
    command = printed_command(capsys, "benchmarks.app:app", "--", "--workers", "9")
    assert command[-3:] == ["--workers", "9", "benchmarks.app:app.asgi"]
    assert "--" not in command  # it ended duoweb's options; the server would stop at it
    assert command[3:5] == ["-w", "1"]  # duoweb's own --workers was not touched


def test_own_options_are_not_abbreviated(capsys: pytest.CaptureFixture[str]) -> None:
    # "--work" is Hypercorn's business, not an abbreviation of duoweb's --workers.
    command = printed_command(capsys, "benchmarks.app:app", "--work", "2")
    assert command[3:5] == ["-w", "1"]
    assert command[-3:-1] == ["--work", "2"]


def test_run_print_command_via_python_dash_m() -> None:
    result = run_module("run", "benchmarks.app:app", "--server", "gunicorn", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert shlex.split(result.stdout) == [
        *(PY, "-m", "gunicorn", "-k", "sync", "-w", "1", "-b", "127.0.0.1:8000"),
        "benchmarks.app:app",
    ]


def test_run_execs_the_built_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    executed: list[list[str]] = []

    def fake_exec(command: list[str]) -> int:
        executed.append(command)
        return 0

    monkeypatch.setattr(cli, "_exec", fake_exec)
    port = free_port()
    argv = ["run", "benchmarks.app:app", "--server", "gunicorn", "-b", f"127.0.0.1:{port}"]
    status, out, err = run_cli(capsys, *argv)
    assert status == 0, err
    assert executed == [
        [
            PY,
            "-m",
            "gunicorn",
            "-k",
            "sync",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "benchmarks.app:app",
        ]
    ]
    assert out == ""


# --- errors: status 2, one line, no traceback ------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["benchmarks.app", "benchmarks.app:", ":app", "a:b:c", "my-app:app", "x:app()", "dir/app:app"],
)
@pytest.mark.parametrize("command", ["routes", "openapi", "run"])
def test_malformed_app_path(command: str, path: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, command, path)
    assert_usage_error(status, err, f"malformed app path {path!r}", "MODULE:ATTRIBUTE")
    assert out == ""


def test_malformed_path_hints_at_option_order(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "run", "--timeout", "30", "benchmarks.app:app")
    assert_usage_error(status, err, "'30'", "after the app path")


def test_missing_module_shows_the_import_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "routes", "no_such_module_for_cli_test:app")
    assert_usage_error(
        status, err, "cannot import", "No module named 'no_such_module_for_cli_test'"
    )


def test_import_error_inside_the_module_is_shown(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_module(project, "broken_dep", "import dependency_that_is_not_installed\n")
    status, _, err = run_cli(capsys, "run", "broken_dep:app", "--print-command")
    assert_usage_error(
        status, err, "'broken_dep'", "No module named 'dependency_that_is_not_installed'"
    )


def test_file_path_instead_of_module_gets_a_hint(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_module(project, "hinted", "from duoweb import App\napp = App()\n")
    status, _, err = run_cli(capsys, "routes", "hinted.py:app")
    assert_usage_error(status, err, "did you mean 'hinted:app'?")


def test_syntax_error_in_the_module(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_module(project, "bad_syntax", "def broken(:\n")
    status, _, err = run_cli(capsys, "routes", "bad_syntax:app")
    assert_usage_error(status, err, "cannot import module 'bad_syntax'", "line 1")


def test_exception_while_importing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_module(project, "raises_at_import", "raise RuntimeError('no database')\n")
    status, _, err = run_cli(capsys, "routes", "raises_at_import:app")
    assert_usage_error(status, err, "RuntimeError: no database", "import raises_at_import")


def test_missing_attribute(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "routes", "benchmarks.app:no_such_app")
    assert_usage_error(status, err, "'benchmarks.app' has no attribute 'no_such_app'")


@pytest.mark.parametrize(
    ("path", "kind"),
    [("benchmarks.app:add_fixed_routes", "function"), ("benchmarks.app:wsgi", "WSGIAdapter")],
)
def test_attribute_that_is_not_an_app(
    path: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run_cli(capsys, "run", path, "--print-command")
    assert_usage_error(status, err, f"{path!r} is a {kind}, not a duoweb App")


def test_gunicorn_needs_a_plain_name(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_module(project, "nested", "from duoweb import App\nclass Ns:\n    app = App()\n")
    status, _, err = run_cli(capsys, "run", "nested:Ns.app", "--server=gunicorn", "--dry-run")
    assert_usage_error(status, err, "gunicorn loads only a plain name", "'Ns.app'")
    assert printed_command(capsys, "nested:Ns.app")[-1] == "nested:Ns.app.asgi"


@pytest.mark.parametrize("server", ["gunicorn", "hypercorn"])
def test_missing_server_package(
    server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, server, None)  # what find_spec reports when not installed
    argv = ["run", "benchmarks.app:app", "--server", server, "-b", f"127.0.0.1:{free_port()}"]
    status, _, err = run_cli(capsys, *argv)
    assert_usage_error(status, err, f"{server} is not installed", "pip install 'duoweb[servers]'")


def test_port_already_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        address = f"127.0.0.1:{busy.getsockname()[1]}"
        free = f"127.0.0.1:{free_port()}"
        status, _, err = run_cli(capsys, "run", "benchmarks.app:app", "-b", free, "-b", address)
    assert_usage_error(status, err, f"address {address} is already in use")
    assert free not in err


@pytest.mark.parametrize(
    ("bind", "message"),
    [
        ("127.0.0.1:http", "the port must be a number"),
        ("127.0.0.1:70000", "the port must be a number"),
        ("::1:8000", "in brackets"),
        ("[::1", "expected [IPV6]:PORT"),
    ],
)
def test_malformed_bind(bind: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "run", "benchmarks.app:app", "--bind", bind)
    assert_usage_error(status, err, f"malformed --bind {bind!r}", message)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "benchmarks.app:app", "--workers", "0"], "at least 1"),
        (["run", "benchmarks.app:app", "--server", "uwsgi"], "invalid choice: 'uwsgi'"),
        (["routes", "benchmarks.app:app", "--verbose"], "unrecognized arguments: --verbose"),
        (["routes"], "the following arguments are required: app"),
        ([], "the following arguments are required: COMMAND"),
        (["serve", "x:app"], "invalid choice: 'serve'"),
    ],
)
def test_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, *argv)
    assert_usage_error(status, err, message)


def test_errors_via_python_dash_m() -> None:
    result = run_module("run", "no_such_module_for_cli_test:app")
    assert result.returncode == 2
    assert result.stderr == (
        "duoweb: error: cannot import module 'no_such_module_for_cli_test': "
        "No module named 'no_such_module_for_cli_test'\n"
    )
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        address = f"127.0.0.1:{busy.getsockname()[1]}"
        result = run_module("run", "benchmarks.app:app", "--bind", address)
    assert result.returncode == 2
    assert result.stderr == f"duoweb: error: address {address} is already in use: " + (
        "stop what is listening there or choose another --bind\n"
    )


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "run", "--help")
    assert status == 0
    for option in ("--server", "--workers", "--bind", "--reload", "--print-command"):
        assert option in out
    status, out, _ = run_cli(capsys, "--version")
    assert (status, out.split()[0]) == (0, "duoweb")


# --- real servers ----------------------------------------------------------------------------


@contextlib.contextmanager
def duoweb_run(server: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start ``python -m duoweb run benchmarks.app:app`` on a free port; stop it by PID."""
    port = free_port()
    bind = f"127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [PY, "-m", "duoweb", "run", "benchmarks.app:app", "--server", server, "--bind", bind],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process, f"http://{bind}"
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            with contextlib.suppress(ProcessLookupError):  # sweep workers left in its group
                os.killpg(process.pid, signal.SIGKILL)


def wait_for_json(process: subprocess.Popen[bytes], url: str, log: Path) -> httpx.Response:
    """Poll ``url`` until the server answers; fail if it exits or takes over 30 s."""
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}:\n{log.read_text()}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"no answer within 30 s:\n{log.read_text()}")
            time.sleep(0.2)


@pytest.mark.e2e
@pytest.mark.parametrize("server", ["gunicorn", "hypercorn"])
def test_run_serves_the_reference_app(server: str, tmp_path: Path) -> None:
    log = tmp_path / f"{server}.log"
    with duoweb_run(server, log) as (process, base):
        response = wait_for_json(process, base + "/json", log)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content == b'{"message":"Hello, World!"}'
        cmdline = Path(f"/proc/{process.pid}/cmdline")
        if cmdline.exists():  # the CLI replaced itself with the server: same PID, no wrapper
            assert server in cmdline.read_bytes().decode().split("\0")[2]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, log.read_text()
    with pytest.raises(httpx.TransportError):
        httpx.get(base + "/json", timeout=2)
