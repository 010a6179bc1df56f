"""The ``duoweb`` command: serve an app with a real server, list its routes, print its OpenAPI."""

from __future__ import annotations

import argparse
import errno
import importlib
import importlib.util
import json
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Sequence

from duoweb import __version__
from duoweb.app import App, RouteInfo

#: Servers ``duoweb run`` knows how to start; the first is the default.
SERVERS = ("hypercorn", "gunicorn")
DEFAULT_BIND = "127.0.0.1:8000"
#: Exit status for every error the user can fix (the same status argparse uses).
USAGE_ERROR = 2

_INSTALL_HINT = "pip install 'duoweb[servers]'"


class CLIError(Exception):
    """A mistake the user can fix: reported as one line on stderr, exit status 2."""


# --- loading the app -------------------------------------------------------------------------


def parse_app_path(path: str) -> tuple[str, str]:
    """Split ``module:attribute`` into its two dotted names, or raise CLIError."""
    module, sep, attribute = path.partition(":")
    if sep and _is_dotted_name(module) and _is_dotted_name(attribute):
        return module, attribute
    hint = "expected MODULE:ATTRIBUTE, e.g. 'myapp:app' or 'package.module:app'"
    if module.endswith(".py") or "/" in module or os.sep in module:
        hint += "; give the module's import name, not a file path"
    raise CLIError(f"malformed app path {path!r}: {hint}")


def _is_dotted_name(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def load_app(path: str) -> App:
    """Import the App named by ``module:attribute``, looking in the working directory first."""
    module_name, attribute = parse_app_path(path)
    # Servers put the working directory on sys.path; do the same so both find the same module.
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        message = f"cannot import module {module_name!r}: {exc}"
        if module_name.endswith(".py"):
            message += f"; did you mean '{module_name.removesuffix('.py')}:{attribute}'?"
        raise CLIError(message) from None
    except SyntaxError as exc:
        where = f"{exc.filename}, line {exc.lineno}"
        raise CLIError(f"cannot import module {module_name!r}: {exc.msg} ({where})") from None
    except Exception as exc:
        raise CLIError(
            f"importing module {module_name!r} raised {type(exc).__name__}: {exc} "
            f"(run: python -c 'import {module_name}' to see the traceback)"
        ) from None
    found: object = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise CLIError(f"module {module_name!r} has no attribute {attribute!r}") from None
    if not isinstance(found, App):
        kind = type(found).__qualname__
        message = f"{path!r} is a {kind}, not a duoweb App"
        if isinstance(getattr(found, "app", None), App):
            message += "; name the App object itself (e.g. 'module:app', not 'module:app.asgi')"
        raise CLIError(message)
    return found


# --- duoweb run ------------------------------------------------------------------------------


def server_command(
    server: str,
    app_path: str,
    *,
    binds: Sequence[str] = (DEFAULT_BIND,),
    workers: int = 1,
    reload: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """The command line that serves ``app_path`` with ``server``; ``extra`` goes to the server."""
    module, attribute = parse_app_path(app_path)
    command = [sys.executable, "-m", server]
    if server == "gunicorn":
        if "." in attribute:
            raise CLIError(
                f"gunicorn loads only a plain name after the colon, not {attribute!r}: "
                "make the App a module-level name (module:app)"
            )
        command += ["-k", "sync"]
        # The App object is itself the WSGI callable.
        target = f"{module}:{attribute}"
    elif server == "hypercorn":
        # app.asgi is a coroutine function, which Hypercorn recognises as ASGI.
        target = f"{module}:{attribute}.asgi"
    else:
        raise CLIError(f"unknown server {server!r}; choose one of {', '.join(SERVERS)}")
    command += ["-w", str(workers)]
    for bind in binds:
        command += ["-b", bind]
    if reload:
        command.append("--reload")
    # Passed-through options come after duoweb's own, so the server lets them win. A '--'
    # only ended duoweb's options; the server must not see it (it would end the server's).
    if "--" in extra:
        extra = list(extra)
        extra.remove("--")
    command += extra
    command.append(target)
    return command


def check_server_installed(server: str) -> None:
    """Raise CLIError unless ``server`` can be imported by this interpreter."""
    if importlib.util.find_spec(server) is None:
        raise CLIError(f"{server} is not installed in {sys.executable}; run: {_INSTALL_HINT}")


def check_bind_available(bind: str) -> None:
    """Raise CLIError if a server could not listen on ``bind`` (HOST:PORT) right now."""
    if bind.startswith(("unix:", "fd://")):
        return
    host, port = _split_bind(bind)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Bind the way the servers do (SO_REUSEADDR), so a port in TIME_WAIT is not "in use".
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CLIError(
                    f"address {bind} is already in use: stop what is listening there "
                    "or choose another --bind"
                ) from None
            raise CLIError(f"cannot listen on {bind}: {exc.strerror or exc}") from None


def _split_bind(bind: str) -> tuple[str, int]:
    if bind.startswith("["):
        host, sep, rest = bind[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise CLIError(f"malformed --bind {bind!r}: expected [IPV6]:PORT")
        port_text = rest[1:] if rest else None
    elif bind.count(":") == 1:
        host, port_text = bind.split(":")
    elif ":" in bind:
        raise CLIError(f"malformed --bind {bind!r}: write IPv6 addresses in brackets, [::1]:8000")
    else:
        host, port_text = bind, None
    if port_text is None:
        return host, 8000
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise CLIError(f"malformed --bind {bind!r}: the port must be a number 0-65535")
    return host, int(port_text)


def _exec(command: list[str]) -> int:
    """Replace this process with ``command`` (POSIX); elsewhere run it and return its status."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execv(command[0], command)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    load_app(args.app)  # fail here, clearly, rather than in the server's traceback
    binds: list[str] = args.bind or [DEFAULT_BIND]
    command = server_command(
        args.server, args.app, binds=binds, workers=args.workers, reload=args.reload, extra=extra
    )
    if args.print_command:
        print(shlex.join(command))
        return 0
    check_server_installed(args.server)
    for bind in binds:
        check_bind_available(bind)
    protocol = "WSGI" if args.server == "gunicorn" else "ASGI"
    print(
        f"duoweb: serving {args.app} with {args.server} ({protocol}) on {', '.join(binds)}",
        file=sys.stderr,
    )
    return _exec(command)


# --- duoweb routes / openapi -----------------------------------------------------------------


def format_routes(routes: Sequence[RouteInfo]) -> str:
    """The route table as aligned columns: method, path, handler name, sync/async."""
    rows = [("METHOD", "PATH", "NAME", "MODE")]
    rows += [(r.method, r.path, r.name, "async" if r.is_async else "sync") for r in routes]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[3]])
        for row in rows
    ]
    return "\n".join(lines)


def _print(text: str) -> int:
    """Print ``text``; a reader that stops early (``| head``) ends the command quietly."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python would report the failed flush again at exit: point stdout at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 0


def _routes(args: argparse.Namespace) -> int:
    return _print(format_routes(load_app(args.app).routes()))


def _openapi(args: argparse.Namespace) -> int:
    app = load_app(args.app)
    if not hasattr(app, "openapi"):
        raise CLIError(
            f"OpenAPI generation is not available in this version of duoweb ({__version__})"
        )
    version = args.openapi_version
    document = app.openapi() if version == "3.1" else app.openapi(version)
    return _print(json.dumps(document, indent=2))


# --- entry point -----------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for the ``duoweb`` command."""
    parser = argparse.ArgumentParser(
        prog="duoweb", description="Serve and inspect duoweb applications."
    )
    parser.add_argument("--version", action="version", version=f"duoweb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    app_help = "the App to load, as MODULE:ATTRIBUTE (imported from the working directory)"

    run = commands.add_parser(
        "run",
        help="serve an app with Hypercorn (ASGI) or Gunicorn (WSGI)",
        description="Serve an app with a real server. Options duoweb does not know are passed "
        "to the server; put them after the app path, or after '--'.",
        allow_abbrev=False,  # never mistake a server's option for an abbreviation of ours
    )
    run.add_argument("app", help=app_help)
    run.add_argument(
        "--server",
        choices=SERVERS,
        default=SERVERS[0],
        help="hypercorn serves app.asgi; gunicorn serves the App as WSGI with sync workers "
        "(default: %(default)s)",
    )
    run.add_argument(
        "-w", "--workers", type=_positive_int, default=1, help="worker processes (default: 1)"
    )
    run.add_argument(
        "-b",
        "--bind",
        action="append",
        metavar="HOST:PORT",
        help=f"address to listen on, repeatable (default: {DEFAULT_BIND})",
    )
    run.add_argument("--reload", action="store_true", help="restart when code changes (dev only)")
    run.add_argument(
        "--print-command",
        "--dry-run",
        dest="print_command",
        action="store_true",
        help="print the server command instead of running it",
    )

    routes = commands.add_parser("routes", help="print the route table")
    routes.add_argument("app", help=app_help)

    openapi = commands.add_parser("openapi", help="print the app's OpenAPI document as JSON")
    openapi.add_argument("app", help=app_help)
    openapi.add_argument(
        "--version",
        dest="openapi_version",
        choices=("3.1", "3.0"),
        default="3.1",
        help="OpenAPI version of the document (default: 3.1)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``duoweb`` command with ``argv`` (default: sys.argv[1:]); return the exit status."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and args.command != "run":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # argparse's own usage errors, --help and --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    try:
        if args.command == "run":
            return _run(args, extra)
        if args.command == "routes":
            return _routes(args)
        return _openapi(args)
    except CLIError as exc:
        message = str(exc)
        if args.command == "run" and extra and message.startswith("malformed app path"):
            message += " (options for the server go after the app path)"
        print(f"duoweb: error: {message}", file=sys.stderr)
        return USAGE_ERROR
