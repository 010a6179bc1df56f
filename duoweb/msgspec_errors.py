"""msgspec's validation errors in duoweb's common 422 shape (loc, msg, type)."""

from __future__ import annotations

import msgspec

from duoweb._lazy import lazy_pattern
from duoweb.echoed_input import short_loc_part, without_echo
from duoweb.errors import RequestValidationError, ValidationErrorItem

Loc = tuple[str | int, ...]

# msgspec's ValidationError carries no structured data (as of 0.23): where and how a value
# failed are read from its message. tests/test_msgspec_errors.py pins each wording read here.
# Where: a JSONPath suffix, "... - at `$.items[0].price`"; a dict key shows as "[...]" and is
# skipped. (Compiled on the first validation error.)
_MSGSPEC_PATH = lazy_pattern(r" - at `\$(.*)`$")
_MSGSPEC_STEP = lazy_pattern(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")
_MSGSPEC_MISSING = lazy_pattern(r"^Object missing required field `(.*)`$")


def from_msgspec(exc: msgspec.ValidationError, prefix: Loc) -> RequestValidationError:
    """Translate a msgspec ValidationError into the common 422 shape."""
    message = str(exc)
    loc: list[str | int] = list(prefix)
    found = _MSGSPEC_PATH.search(message)
    if found:
        message = message[: found.start()]
        for step in _MSGSPEC_STEP.finditer(found.group(1)):
            name, index = step.groups()
            if index is not None:
                loc.append(int(index))
            elif name is not None:
                loc.append(short_loc_part(name))
    message = without_echo(message)
    kind = (
        "type_error" if message.startswith("Expected `") and ", got `" in message else "value_error"
    )
    missing = _MSGSPEC_MISSING.match(message)
    if missing:
        loc.append(missing.group(1))
        message, kind = "Field required", "missing"
    return RequestValidationError([ValidationErrorItem(tuple(loc), message, kind)])
