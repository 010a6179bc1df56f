"""Start installing the servers the selected deployment tests need as soon as they are known."""

from __future__ import annotations

import pytest

from tests.deploy import provision
from tests.deploy.commands import HERE, ServerSpec

# Requirements of the test modules that do not take a ServerSpec parameter.
_MODULE_NEEDS = {
    "test_graceful.py": ("gunicorn",),
    "test_nginx.py": ("nginx", "gunicorn", "hypercorn"),
}


def _needs(item: pytest.Item) -> tuple[str, ...]:
    callspec = getattr(item, "callspec", None)
    spec = callspec.params.get("spec") if callspec is not None else None
    if isinstance(spec, ServerSpec):
        return spec.requires
    return _MODULE_NEEDS.get(item.path.name, ())


def pytest_collection_finish(session: pytest.Session) -> None:
    """Begin the installs in the background; each test still waits for its own."""
    if session.config.option.collectonly:
        return
    needed: dict[str, None] = {}
    for item in session.items:
        if item.path.parent == HERE:
            needed.update(dict.fromkeys(_needs(item)))
    provision.start(needed)
