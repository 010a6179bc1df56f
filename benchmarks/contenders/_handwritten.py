"""Hand-written checks for the contenders whose framework has no schema validation of its own.

Falcon, Flask, Bottle and Starlette leave validation to the application; their docs show plain
Python checks on the decoded JSON, which is what this is. The raw floors do not use it.
"""

from __future__ import annotations

from typing import Any

MAX_BODY = 1024 * 1024
NAME_MAX = 64


def item_errors(data: Any) -> list[str]:
    """Reasons a decoded ``POST /items`` body breaks the schema (empty when it is valid)."""
    if not isinstance(data, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    name = data.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX:
        errors.append("name must be a string of 1 to 64 characters")
    price = data.get("price")
    if isinstance(price, bool) or not isinstance(price, int | float) or not price > 0:
        errors.append("price must be a number greater than 0")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors.append("tags must be a list of strings")
    return errors


def parse_limit(raw: str | None) -> int | None:
    """The ``limit`` query parameter as an int in 1..100 (10 when absent), None when invalid."""
    if raw is None:
        return 10
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 1 <= value <= 100 else None


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}
