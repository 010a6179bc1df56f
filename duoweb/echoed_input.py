"""Client input quoted in validation messages: cut short and quoted, never echoed whole."""

from __future__ import annotations

import re

from duoweb._lazy import lazy_pattern

#: The most characters of a client's value a message repeats.
MAX_ECHO = 40

# msgspec messages that repeat a client's value: an enum/Literal value, an unknown field.
# (Compiled on the first validation error.)
_ECHOING = lazy_pattern(r"(Invalid enum value |Object contains unknown field )(.*)", re.DOTALL)


def quoted_input(value: object) -> str:
    """``value`` as a short quoted literal: at most MAX_ECHO characters, controls escaped."""
    text = value if isinstance(value, str) else str(value)
    cut = text[:MAX_ECHO] + ("..." if len(text) > MAX_ECHO else "")
    return repr(cut)


def without_echo(message: str) -> str:
    """A validation message whose repeated client value is cut short and quoted."""
    found = _ECHOING.fullmatch(message)
    if found is None:
        return message
    echoed = found.group(2)
    if echoed[:1] in "'`" and echoed[-1:] == echoed[:1] and len(echoed) >= 2:
        echoed = echoed[1:-1]
    return found.group(1) + quoted_input(echoed)


def short_loc_part(part: str | int) -> str | int:
    """A location step (a field name or key a client sent), cut to MAX_ECHO characters."""
    if isinstance(part, str) and len(part) > MAX_ECHO:
        return part[:MAX_ECHO] + "..."
    return part
