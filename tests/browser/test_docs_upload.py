"""Swagger UI's "Try it out" uploads a file, in real headless Chromium, to a real Hypercorn.

Chromium is driven over the DevTools protocol (a WebSocket on 127.0.0.1): open the docs
page, expand ``POST /upload``, press "Try it out", type the title, choose a file (the
protocol's ``DOM.setFileInputFiles``, as a person picking one would), press "Execute" and
read the answer Swagger UI shows. The app hashes what it received, so the test knows the
file's bytes arrived whole through the multipart form Swagger UI built from the document.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.test_docs_page import OFFLINE_FLAGS, chromium
from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e

__all__ = ["chromium"]  # the fixture, shared with the docs page test

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


CLICK_OPERATION = """
(() => {
  const block = [...document.querySelectorAll('.opblock')]
    .find(b => b.querySelector('[data-path="/upload"]'));
  if (!block) return false;
  if (block.classList.contains('is-open')) return true;
  const control = block.querySelector('.opblock-summary-control') ||
    block.querySelector('.opblock-summary');
  if (!block.dataset.clicked) {
    block.dataset.clicked = 'yes';
    control.click();
  }
  return false;
})()
"""

CLICK_BUTTON = """
(() => {
  const button = [...document.querySelectorAll('#operations-default-upload button')]
    .find(b => b.textContent.trim() === %s);
  if (!button) return false;
  button.click();
  return true;
})()
"""

FOCUS_TITLE = """
(() => {
  const input = document.querySelector(
    '#operations-default-upload input[placeholder="title"]');
  if (!input) return false;
  input.focus();
  input.select();
  return document.activeElement === input;
})()
"""

RESPONSE_BODY = """
(() => {
  const body = document.querySelector(
    '#operations-default-upload .live-responses-table .response-col_description pre');
  return body ? body.textContent : '';
})()
"""


async def try_it_out(port: int, docs_url: str, upload: Path) -> str:
    import websockets

    targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
    page = next(target for target in targets if target["type"] == "page")
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
        tools = DevTools(socket)
        await tools.send("Page.enable")
        await tools.send("Page.navigate", url=docs_url)
        await tools.until(CLICK_OPERATION, "the POST /upload operation")
        await tools.until(CLICK_BUTTON % json.dumps("Try it out"), 'the "Try it out" button')
        document = await tools.send("DOM.getDocument", depth=-1)
        found = await tools.send(
            "DOM.querySelector",
            nodeId=document["root"]["nodeId"],
            selector='#operations-default-upload input[type="file"]',
        )
        assert found.get("nodeId"), "Swagger UI shows no file input for the upload"
        await tools.send("DOM.setFileInputFiles", files=[str(upload)], nodeId=found["nodeId"])
        await tools.until(FOCUS_TITLE, "the title field")
        await tools.send("Input.insertText", text="from swagger")  # typed, as a person would
        await asyncio.sleep(1.5)  # Swagger UI takes a field's text after a debounce delay
        await tools.until(CLICK_BUTTON % json.dumps("Execute"), 'the "Execute" button')
        shown: str = await tools.until(RESPONSE_BODY, "the response Swagger UI shows")
        return shown


def _devtools_port(profile: Path, process: subprocess.Popen[str]) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().splitlines()[0])
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError("Chromium did not open its DevTools port")


def test_try_it_out_uploads_a_file(chromium: str, tmp_path: Path) -> None:
    pytest.importorskip("swagger_ui", reason="the docs assets package (swagger-ui-py) is needed")
    pytest.importorskip("websockets", reason="the DevTools protocol client needs websockets")
    content = bytes(range(256)) * 400  # 100 KiB, every byte value
    upload = tmp_path / "picked file.bin"
    upload.write_bytes(content)
    profile = tmp_path / "profile"
    with serve("hypercorn", "tests.e2e.forms_app:app.asgi") as base:
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
            port = _devtools_port(profile, process)
            shown = asyncio.run(try_it_out(port, f"{base}/docs", upload))
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert json.loads(shown) == {
        "title": "from swagger",
        "filename": "picked file.bin",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
