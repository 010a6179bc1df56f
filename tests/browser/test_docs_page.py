"""The docs page, rendered by real headless Chromium against a real Hypercorn on 127.0.0.1.

Chromium comes from scripts/provision_system.sh, which the README's test command runs (the
test skips, saying so, when it is missing). It gets flags that keep it off the network, a fresh
profile, and a virtual time budget so the page's scripts finish before the DOM is dumped. The
screenshot is kept in test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import ROOT, serve
from tests.openapi_app import app as openapi_app

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
OFFLINE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--virtual-time-budget=20000",
)


def _find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium executable (scripts/provision_system.sh installs it)."""
    found = _find_chromium()
    if not found:
        pytest.skip("Chromium is not installed; `bash scripts/provision_system.sh` installs it")
    return found


def _run_chromium(executable: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [executable, *OFFLINE_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _documented_paths() -> set[str]:
    return set(openapi_app.openapi()["paths"])


def test_docs_page_lists_every_operation(chromium: str, tmp_path: Path) -> None:
    pytest.importorskip("swagger_ui", reason="the docs assets package (swagger-ui-py) is needed")
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "docs-page.png"
    screenshot.unlink(missing_ok=True)
    with serve("hypercorn", "tests.openapi_app:app.asgi") as base:
        page = httpx.get(f"{base}/docs", timeout=10)
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        dumped = _run_chromium(chromium, tmp_path / "dom", "--dump-dom", f"{base}/docs")
        shot = _run_chromium(
            chromium,
            tmp_path / "shot",
            "--window-size=1280,1800",
            f"--screenshot={screenshot}",
            f"{base}/docs",
        )
    dom = dumped.stdout
    (ARTIFACTS / "docs-page.html").write_text(dom)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    # Swagger UI rendered one block per operation, with the path and the method.
    rendered = {html.unescape(p) for p in re.findall(r'data-path="([^"]+)"', dom)}
    assert rendered == _documented_paths()
    methods = re.findall(r'opblock-summary-method">([A-Z]+)<', dom)
    operations = sum(
        len([m for m in item if m in {"get", "post", "put", "delete", "patch"}])
        for item in openapi_app.openapi()["paths"].values()
    )
    assert len(methods) == operations
    assert "Inventory" in dom  # the title from the document's info
    assert "OAS 3.1" in dom  # Swagger UI 5 read the 3.1 document itself
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.stat().st_size > 10_000
