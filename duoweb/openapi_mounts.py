"""Mounted duoweb Apps' operations merged into the parent's OpenAPI document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from duoweb.routing import RouteDefinitionError

if TYPE_CHECKING:
    from duoweb.mounts import Mount

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def merge_mounted(document: dict[str, Any], mounts: list[Mount], version: str) -> None:
    """Add each schema-included mount's paths (under its prefix) and components to ``document``.

    operationIds become ``<mount name>.<id>``; a component both documents define differently
    is an error, as it would make one of them wrong.
    """
    paths: dict[str, Any] = document.setdefault("paths", {})
    components: dict[str, Any] = document.get("components", {})
    tags = {tag["name"]: tag for tag in document.get("tags", [])}
    for mount in mounts:
        if not mount.include_in_schema:
            continue
        child = mount.app.openapi(version)
        for path, item in child.get("paths", {}).items():
            merged = {}
            for key, operation in item.items():
                if key in _METHODS and "operationId" in operation:
                    operation = {
                        **operation,
                        "operationId": f"{mount.name}.{operation['operationId']}",
                    }
                merged[key] = operation
            paths[mount.prefix + path if path != "/" else mount.prefix] = merged
        for section, entries in child.get("components", {}).items():
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
