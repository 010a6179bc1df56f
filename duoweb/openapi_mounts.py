"""Mounted duoweb Apps' operations merged into the parent's OpenAPI document."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from duoweb.routing import RouteDefinitionError

if TYPE_CHECKING:
    from duoweb.mounts import Mount

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: What OpenAPI forbids in a component's key (it must match ``^[a-zA-Z0-9.\-_]+$``).
_NOT_IN_KEY = re.compile(r"[^a-zA-Z0-9.\-_]")


def merge_mounted(document: dict[str, Any], mounts: list[Mount], version: str) -> None:
    """Add each schema-included mount's paths (under its prefix) and components to ``document``.

    operationIds become ``<mount name>.<id>``. A security scheme whose name the parent uses
    for another scheme becomes ``<mount name>.<name>``, each character a component key cannot
    hold replaced by ``_`` (and so do the mount's requirements naming it); any other component
    both documents define differently is an error, as it would make one of them wrong.
    """
    paths: dict[str, Any] = document.setdefault("paths", {})
    components: dict[str, Any] = document.get("components", {})
    tags = {tag["name"]: tag for tag in document.get("tags", [])}
    for mount in mounts:
        if not mount.include_in_schema:
            continue
        child = mount.app.openapi(version)
        child_components: dict[str, Any] = dict(child.get("components", {}))
        renamed = _renamed_schemes(components, child_components, mount.name)
        if renamed:
            child_components["securitySchemes"] = {
                renamed.get(key, key): value
                for key, value in child_components["securitySchemes"].items()
            }
        for path, item in child.get("paths", {}).items():
            merged = {}
            for key, operation in item.items():
                if key in _METHODS and "operationId" in operation:
                    operation = {
                        **operation,
                        "operationId": f"{mount.name}.{operation['operationId']}",
                    }
                if key in _METHODS and renamed and "security" in operation:
                    operation = {
                        **operation,
                        "security": _renamed_requirements(
                            cast("list[dict[str, list[str]]]", operation["security"]), renamed
                        ),
                    }
                merged[key] = operation
            paths[mount.prefix + path if path != "/" else mount.prefix] = merged
        for section, entries in child_components.items():
            target = components.setdefault(section, {})
            for key, value in entries.items():
                known = target.get(key)
                if known is not None and known != value:
                    raise RouteDefinitionError(
                        f"OpenAPI component {section}/{key} of the app mounted at "
                        f"{mount.prefix!r} differs from the parent's; rename one of them"
                    )
                target[key] = value
        for tag in child.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if components:
        document["components"] = components
    if tags:
        document["tags"] = list(tags.values())


def _renamed_schemes(
    components: dict[str, Any], child_components: dict[str, Any], mount_name: str
) -> dict[str, str]:
    """Child security scheme name -> ``<mount name>.<name>``, where the parent's differs.

    Only requirements name a security scheme, so renaming one is safe. A mount name may hold
    characters a component key cannot (``/admin v2``): those become ``_``.
    """
    known: dict[str, Any] = components.get("securitySchemes", {})
    return {
        key: _NOT_IN_KEY.sub("_", f"{mount_name}.{key}")
        for key, value in child_components.get("securitySchemes", {}).items()
        if key in known and known[key] != value
    }


def _renamed_requirements(
    requirements: list[dict[str, list[str]]], renamed: dict[str, str]
) -> list[dict[str, list[str]]]:
    """An operation's security requirements with the renamed schemes' new names."""
    return [
        {renamed.get(name, name): scopes for name, scopes in need.items()} for need in requirements
    ]
