"""The version is written once, in duoweb/__init__.py; the installed metadata reads it there."""

from __future__ import annotations

import importlib.metadata

import duoweb


def test_installed_metadata_carries_the_package_version() -> None:
    assert importlib.metadata.version("duoweb") == duoweb.__version__
