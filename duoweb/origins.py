"""Which browser origins may use an endpoint: CORS responses and WebSocket handshakes.

An origin rule is ``"*"`` (any origin), one origin such as ``"https://app.example"``
(scheme, host and port if not the default; no path, no trailing slash), a list of them, a
compiled regex that must match the whole origin, or a predicate ``(origin) -> bool``. The
opaque origin ``"null"`` (sandboxed frames, ``file:`` pages) matches only when listed by name,
unless the caller says a ``"*"`` covers it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

__all__ = ["AllowedOrigins", "OriginRule"]

#: What ``allow_origins`` / ``allowed_origins`` accept.
OriginRule = str | Iterable[str] | re.Pattern[str] | Callable[[str], bool]

_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#@\s]+")


class AllowedOrigins:
    """An origin rule, checked once at construction (a ValueError names a bad entry)."""

    __slots__ = ("any_origin", "names", "pattern", "predicate")

    def __init__(self, rule: OriginRule, what: str = "allow_origins") -> None:
        #: ``"*"`` was given: every origin matches.
        self.any_origin = False
        self.names: frozenset[str] = frozenset()
        self.pattern: re.Pattern[str] | None = None
        self.predicate: Callable[[str], bool] | None = None
        if isinstance(rule, re.Pattern):
            self.pattern = rule
        elif callable(rule):
            self.predicate = rule
        else:
            origins = [rule] if isinstance(rule, str) else list(rule)
            if "*" in origins:
                if len(origins) != 1:
                    raise ValueError(f"{what}: '*' cannot be combined with origins")
                self.any_origin = True
            for origin in origins:
                if origin != "*" and origin != "null" and not _ORIGIN.fullmatch(origin.lower()):
                    raise ValueError(
                        f"{what}: {origin!r} is not an origin like 'https://example.com' "
                        "(scheme://host[:port], no path or trailing slash)"
                    )
            self.names = frozenset(origin.lower() for origin in origins)

    def allows(self, origin: str, *, null_by_star: bool) -> bool:
        """True when ``origin`` matches; ``null_by_star``: a ``"*"`` also admits ``"null"``."""
        if origin == "null":
            return (self.any_origin and null_by_star) or "null" in self.names
        if self.any_origin:
            return True
        if self.pattern is not None:
            return self.pattern.fullmatch(origin) is not None
        if self.predicate is not None:
            return bool(self.predicate(origin))
        return origin.lower() in self.names
