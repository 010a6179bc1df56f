"""Swagger UI's Authorize button logs in with the OAuth2 password flow, in real headless Chromium.

Against tests/e2e/security_app.py under a real Hypercorn: open the docs page, call
``GET /me`` with "Try it out" (401: no token yet), press Authorize, type a username and
password into the OAuth2 password-flow form (Swagger UI posts them to ``/token``, which the
document names), close the dialog and call ``GET /me`` again: Swagger UI now sends the
bearer token it got, and the app answers with the user the token names.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.browser.devtools import DevTools, devtools_chromium, open_page
from tests.browser.test_docs_page import chromium
from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e

__all__ = ["chromium"]  # the fixture, shared with the docs page test

OPERATION = "#operations-default-me"

#: Page functions each expression below may call (defined afresh in every evaluation).
HELPERS = """
const q = (selector, root) => (root || document).querySelector(selector);
const buttonIn = (root, label) => root &&
  [...root.querySelectorAll('button')].find(b => b.textContent.trim() === label);
const press = (button) => { if (!button) return false; button.click(); return true; };
const passwordFlow = () => [...document.querySelectorAll('.modal-ux .auth-container')]
  .find(c => c.textContent.includes('OAuth2PasswordBearer'));
const response = () => {
  const table = q(OPERATION + ' .live-responses-table');
  const status = table && q('tbody .response-col_status', table);
  const body = table && q('tbody .response-col_description pre', table);
  return status && body ? status.textContent.trim() + ' ' + body.textContent : '';
};
"""


def page_js(body: str, **values: object) -> str:
    """An expression running ``body`` with HELPERS and ``values`` (as JSON) in scope."""
    constants = "".join(f"const {name} = {json.dumps(value)};\n" for name, value in values.items())
    return (
        f"(() => {{\nconst OPERATION = {json.dumps(OPERATION)};\n{constants}{HELPERS}{body}\n}})()"
    )


OPEN_OPERATION = page_js(
    """
    const block = q(OPERATION);
    if (!block) return false;
    if (block.classList.contains('is-open')) return true;
    if (!block.dataset.clicked) {
      block.dataset.clicked = 'yes';
      (q('.opblock-summary-control', block) || q('.opblock-summary', block)).click();
    }
    return false;
    """
)
OPEN_AUTHORIZE = page_js("return press(q('.auth-wrapper .authorize'));")
LOGGED_IN = page_js("return !!buttonIn(passwordFlow(), 'Logout');")
CLOSE_DIALOG = page_js("return press(q('.modal-ux .btn-done') || q('.modal-ux .close-modal'));")


def press_in_operation(label: str) -> str:
    return page_js("return press(buttonIn(q(OPERATION), LABEL));", LABEL=label)


def press_in_flow(label: str) -> str:
    return page_js("return press(buttonIn(passwordFlow(), LABEL));", LABEL=label)


def focus_in_flow(field: str) -> str:
    return page_js(
        """
        const input = passwordFlow() && q('#' + FIELD, passwordFlow());
        if (!input) return false;
        input.focus();
        return document.activeElement === input;
        """,
        FIELD=field,
    )


async def execute(tools: DevTools, previous: str) -> str:
    """Press Execute and wait for a response other than ``previous``."""
    await tools.until(press_in_operation("Execute"), 'the "Execute" button')
    changed = page_js("const r = response(); return r !== PREVIOUS && r;", PREVIOUS=previous)
    shown: str = await tools.until(changed, "the response Swagger UI shows")
    return shown


async def type_into(tools: DevTools, field: str, text: str) -> None:
    await tools.until(focus_in_flow(field), f"the {field} field")
    await tools.send("Input.insertText", text=text)  # typed, as a person would


async def authorize_and_call(port: int, docs_url: str) -> tuple[str, str]:
    async with open_page(port, docs_url) as tools:
        await tools.until(OPEN_OPERATION, "the GET /me operation")
        await tools.until(press_in_operation("Try it out"), '"Try it out"')
        before = await execute(tools, "")
        await tools.until(OPEN_AUTHORIZE, "the Authorize button")
        await type_into(tools, "oauth_username", "ada")
        await type_into(tools, "oauth_password", "lovelace")
        await asyncio.sleep(1)  # Swagger UI takes a field's text after a debounce delay
        await tools.until(press_in_flow("Authorize"), "the dialog's Authorize")
        await tools.until(LOGGED_IN, "the password flow to log in")
        await tools.until(CLOSE_DIALOG, "the dialog's Close button")
        after = await execute(tools, before)
        return before, after


def test_authorize_then_call_a_protected_operation(chromium: str, tmp_path: Path) -> None:
    pytest.importorskip("swagger_ui", reason="the docs assets package (swagger-ui-py) is needed")
    pytest.importorskip("websockets", reason="the DevTools protocol client needs websockets")
    pytest.importorskip("jwt", reason="the app signs tokens with PyJWT (duoweb[jwt])")
    with (
        serve("hypercorn", "tests.e2e.security_app:app.asgi") as base,
        devtools_chromium(chromium, tmp_path / "profile") as port,
    ):
        before, after = asyncio.run(authorize_and_call(port, f"{base}/docs"))
    status, _, body = before.partition(" ")
    assert status == "401"
    assert json.loads(body)["detail"] == "Not authenticated: credentials are missing."
    status, _, body = after.partition(" ")
    assert status == "200"
    assert json.loads(body) == {"user": "ada", "scope": "items:read admin"}
