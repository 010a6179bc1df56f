"""docs/deployment.md shows exactly the commands and configuration files the tests run."""

from __future__ import annotations

import pytest

from tests.deploy.commands import HERE, SERVERS, ServerSpec
from tests.e2e.servers import ROOT

pytestmark = pytest.mark.e2e

DOC = (ROOT / "docs" / "deployment.md").read_text()


def _lines(text: str) -> str:
    """The text with each line's indentation removed (the docs indent some code blocks)."""
    return "\n".join(line.strip() for line in text.splitlines())


@pytest.mark.parametrize("spec", SERVERS, ids=[spec.name for spec in SERVERS])
def test_documented_command(spec: ServerSpec) -> None:
    assert spec.documented() in DOC


@pytest.mark.parametrize("name", ["uwsgi.ini", "nginx.conf.in", "apache.conf.in"])
def test_documented_configuration_file(name: str) -> None:
    assert _lines((HERE / name).read_text()).strip() in _lines(DOC), (
        f"docs/deployment.md does not show tests/deploy/{name} as it is"
    )
