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
import json
from pathlib import Path

import pytest

from tests.browser.devtools import devtools_chromium, open_page
from tests.browser.test_docs_page import chromium
from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e

__all__ = ["chromium"]  # the fixture, shared with the docs page test

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
    async with open_page(port, docs_url) as tools:
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


def test_try_it_out_uploads_a_file(chromium: str, tmp_path: Path) -> None:
    pytest.importorskip("swagger_ui", reason="the docs assets package (swagger-ui-py) is needed")
    pytest.importorskip("websockets", reason="the DevTools protocol client needs websockets")
    content = bytes(range(256)) * 400  # 100 KiB, every byte value
    upload = tmp_path / "picked file.bin"
    upload.write_bytes(content)
    profile = tmp_path / "profile"
    with (
        serve("hypercorn", "tests.e2e.forms_app:app.asgi") as base,
        devtools_chromium(chromium, profile) as port,
    ):
        shown = asyncio.run(try_it_out(port, f"{base}/docs", upload))
    assert json.loads(shown) == {
        "title": "from swagger",
        "filename": "picked file.bin",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
