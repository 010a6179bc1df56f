"""nginx (the Debian package) terminating TLS in front of Gunicorn and of Hypercorn.

One nginx runs tests/deploy/nginx.conf.in with two listeners: one sends X-Forwarded-For,
-Proto and -Host, the other RFC 7239 Forwarded. Behind it, the reference app answers every
case as it does directly, and tests/deploy/proxy_app.py reports what it learnt about the
client (who connects from 127.0.0.2, so that a trusted 127.0.0.1 proxy is the only one).
"""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy import provision, proxy_app
from tests.deploy.cases import check_all, new_client
from tests.deploy.commands import HERE, SERVED_APP, SERVERS_BY_NAME, values_for
from tests.deploy.hooks import scratch_dir
from tests.deploy.launch import run_server
from tests.e2e.servers import free_port

# Room for a first run that installs nginx (it skips if that fails).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

UPSTREAMS = {"gunicorn": "gunicorn-sync", "hypercorn": "hypercorn-asyncio"}
CLIENT_ADDRESS = "127.0.0.2"  # any 127/8 address is loopback on Linux; not a trusted proxy
FORGED = {"x-forwarded-for": "203.0.113.9", "forwarded": "for=198.51.100.1;proto=http"}


def render_config(prefix: Path, ports: dict[str, int]) -> Path:
    """Fill in nginx.conf.in for a run in ``prefix``; returns the config's path."""
    text = (HERE / "nginx.conf.in").read_text().replace("@PREFIX@", str(prefix))
    for name, port in ports.items():
        text = text.replace(f"@{name}@", str(port))
    left = re.findall(r"@[A-Z_]+@", text.split("\n", 3)[-1])  # past the header comment
    assert not left, f"unfilled placeholders: {left}"
    path = prefix / "nginx.conf"
    path.write_text(text)
    return path


def make_certificate(prefix: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem in ``prefix``)."""
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(prefix / "key.pem"), "-out", str(prefix / "cert.pem")),
        ],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    return prefix / "cert.pem"


def can_bind(address: str) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Stack:
    """nginx in front of an upstream server: where each part listens."""

    upstream: str
    x_forwarded: str
    forwarded: str
    probe: str
    tls: ssl.SSLContext

    def client(self, *, source: str | None = None) -> httpx.Client:
        """A client that trusts the test certificate, optionally from ``source``."""
        transport = httpx.HTTPTransport(verify=self.tls, local_address=source)
        return new_client(transport=transport)


@pytest.fixture(scope="module", params=list(UPSTREAMS))
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    upstream: str = request.param
    spec = SERVERS_BY_NAME[UPSTREAMS[upstream]]
    provision.require("nginx", *spec.requires)
    nginx = provision.find_program("nginx")
    assert nginx is not None
    with scratch_dir("duoweb-nginx-") as prefix, contextlib.ExitStack() as stack:
        cert = make_certificate(prefix)
        tls = ssl.create_default_context(cafile=str(cert))
        ports = {
            name: free_port() for name in ("APP_PORT", "PROBE_PORT", "XFF_PORT", "FORWARDED_PORT")
        }
        for name, module in (("APP_PORT", SERVED_APP), ("PROBE_PORT", "tests.deploy.proxy_app")):
            port = ports[name]
            values = values_for(port, prefix, app=module)
            stack.enter_context(
                run_server(
                    f"{spec.name}-behind-nginx",
                    spec.argv(values),
                    base_url=f"http://127.0.0.1:{port}",
                    ready_path="/_deploy/pid" if module == SERVED_APP else "/proxy/items/1",
                )
            )
        config = render_config(prefix, ports)
        x_forwarded = f"https://127.0.0.1:{ports['XFF_PORT']}"
        with httpx.Client(verify=tls, timeout=2) as ready_client:
            stack.enter_context(
                run_server(
                    "nginx",
                    [nginx, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")],
                    base_url=x_forwarded,
                    ready_client=ready_client,
                    stop_signal=signal.SIGQUIT,  # graceful shutdown
                )
            )
        yield Stack(
            upstream,
            x_forwarded,
            f"https://127.0.0.1:{ports['FORWARDED_PORT']}",
            f"http://127.0.0.1:{ports['PROBE_PORT']}",
            tls,
        )


@pytest.mark.parametrize("style", ["x-forwarded", "forwarded"])
def test_reference_routes_through_nginx(stack: Stack, style: str) -> None:
    base = stack.x_forwarded if style == "x-forwarded" else stack.forwarded
    with stack.client() as client:
        problems = check_all(client, base)
    assert not problems, "\n".join(problems)


def test_bodies_through_nginx(stack: Stack) -> None:
    json = {"content-type": "application/json"}
    with stack.client() as client:
        # nginx buffers a chunked upload and hands the app a Content-Length.
        chunked = client.post(
            stack.x_forwarded + "/items",
            content=iter([b'{"name":"chunk', b'ed","price":3}']),
            headers=json,
        )
        # nginx and the app agree on the limit: 1 MiB reaches the app (not JSON: 400), and
        # one byte more is refused by nginx with the app's own 413 problem.
        at_limit = client.post(
            stack.x_forwarded + "/items", content=b" " * (1024 * 1024), headers=json
        )
        too_big = client.post(
            stack.x_forwarded + "/items", content=b" " * (1024 * 1024 + 1), headers=json
        )
    assert (chunked.status_code, chunked.json()["name"]) == (201, "chunked")
    assert at_limit.status_code == 400  # it reached the app, which could not decode it
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    assert too_big.json() == {
        "type": "about:blank",
        "title": "Request Entity Too Large",
        "status": 413,
        "detail": "The request body is larger than 1048576 bytes.",
    }


def whoami(stack: Stack, base: str) -> dict[str, Any]:
    if not can_bind(CLIENT_ADDRESS):
        pytest.skip(f"cannot send from {CLIENT_ADDRESS} (needed for a client that is not a proxy)")
    with stack.client(source=CLIENT_ADDRESS) as client:
        response = client.get(base + "/proxy/whoami", headers=FORGED)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def test_x_forwarded_headers(stack: Stack) -> None:
    report = whoami(stack, stack.x_forwarded)
    host = stack.x_forwarded.removeprefix("https://")
    assert report["headers"] == {
        "host": "duoweb_probe",  # nginx's default: the upstream's name
        "forwarded": None,  # the client's own was dropped
        "x-forwarded-for": f"203.0.113.9, {CLIENT_ADDRESS}",  # nginx appended the real peer
        "x-forwarded-proto": "https",
        "x-forwarded-host": host,
    }
    assert report["resolved"] == {
        "scheme": "https",
        "host": host,
        "client_host": CLIENT_ADDRESS,
        "client_port": None,
    }


def test_forwarded_header(stack: Stack) -> None:
    report = whoami(stack, stack.forwarded)
    host = stack.forwarded.removeprefix("https://")
    assert report["headers"] == {
        "host": "duoweb_probe",
        "forwarded": f'for={CLIENT_ADDRESS};proto=https;host="{host}"',  # the client's replaced
        "x-forwarded-for": None,
        "x-forwarded-proto": None,
        "x-forwarded-host": None,
    }
    assert report["resolved"] == {
        "scheme": "https",
        "host": host,
        "client_host": CLIENT_ADDRESS,
        "client_port": None,
    }


def test_untrusted_peer_is_not_believed(stack: Stack) -> None:
    # Straight to the upstream, not through nginx: the made-up headers must change nothing.
    report = whoami(stack, stack.probe)
    resolved = report["resolved"]
    assert resolved["scheme"] == "http"
    assert resolved["host"] == stack.probe.removeprefix("http://")
    assert resolved["client_host"] == CLIENT_ADDRESS
    assert resolved["client_port"] == report["peer"][1]


@pytest.mark.parametrize("style", ["x-forwarded", "forwarded", "direct"])
def test_request_api_behind_the_proxy(stack: Stack, style: str) -> None:
    if not proxy_app.WIRED:
        pytest.skip("waiting for App(trusted_proxies=...) wiring")
    base = {"x-forwarded": stack.x_forwarded, "forwarded": stack.forwarded, "direct": stack.probe}
    report = whoami(stack, base[style])
    public = base[style]
    assert report["app"] == {
        "scheme": public.partition(":")[0],
        "client": CLIENT_ADDRESS,
        "url": f"{public}/proxy/whoami",
        "link": f"{public}/proxy/items/7",
    }
