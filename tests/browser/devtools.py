"""Drive headless Chromium over the DevTools protocol (a WebSocket on 127.0.0.1).

Used by the browser tests that click through Swagger UI as a person would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.browser.test_docs_page import OFFLINE_FLAGS

FLAGS = [flag for flag in OFFLINE_FLAGS if not flag.startswith("--virtual-time-budget")]


class DevTools:
    """One page's DevTools protocol session: send a command, get its result."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        await self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(await self.socket.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def js(self, expression: str) -> Any:
        reply = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return reply.get("result", {}).get("value")

    async def until(self, expression: str, what: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")


def devtools_port(profile: Path, process: subprocess.Popen[str]) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().splitlines()[0])
        if process.poll() is not None:
            break
        time.sleep(0.1)
    said = process.stderr.read()[-2000:] if process.poll() is not None and process.stderr else ""
    raise AssertionError(f"Chromium did not open its DevTools port. {said}")


@contextlib.contextmanager
def devtools_chromium(chromium: str, profile: Path) -> Iterator[int]:
    """Headless Chromium on about:blank with a fresh profile; yields its DevTools port."""
    process = subprocess.Popen(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield devtools_port(profile, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()  # the pipe's file object, else unclosed when collected


@contextlib.asynccontextmanager
async def open_page(port: int, url: str) -> AsyncIterator[DevTools]:
    """A DevTools session on Chromium's page, navigated to ``url``."""
    import websockets

    targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
    page = next(target for target in targets if target["type"] == "page")
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
        tools = DevTools(socket)
        await tools.send("Page.enable")
        await tools.send("Page.navigate", url=url)
        yield tools
