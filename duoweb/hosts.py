"""The Host a request names: a valid ``host[:port]``, and the hosts an app agrees to serve.

``Request.host``, ``request.url``, ``url_for`` and ``base_url`` build absolute URLs from the
Host header (or a trusted proxy's forwarded host), so a value that is not a plain host name
or IP literal with an optional port is never used: reading it answers 400. With
``App(allowed_hosts=[...])`` (:class:`duoweb.host_check.HostCheck`) every request (and
WebSocket handshake) whose host matches none of the patterns is refused with 400 before
routing, like Django's ``ALLOWED_HOSTS``:

- ``"api.example.com"``: that host, any port; ``"api.example.com:8443"``: that port only;
- ``"*.example.com"``: any subdomain of example.com (not example.com itself);
- ``".example.com"``: example.com and any subdomain;
- ``"*"``: any valid host; ``"[::1]"``, ``"127.0.0.1"``: IP literals.
"""

from __future__ import annotations

from collections.abc import Iterable

from duoweb._lazy import lazy_pattern

__all__ = ["AllowedHosts", "split_host", "valid_host"]

# A Host value: a DNS-ish name or an IP literal, an optional port. Deliberately narrower than
# RFC 3986's reg-name: it ends up in absolute URLs the app builds, so no "@", "/", "%", etc.
_HOST = lazy_pattern(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~\-]+)(?::[0-9]{0,5})?")


def valid_host(text: str | None) -> str | None:
    """``text`` when it is a valid ``host[:port]`` (a Host header's value), else None."""
    return text if text and len(text) <= 1024 and _HOST.fullmatch(text) else None


def split_host(host: str) -> tuple[str, str]:
    """``(name, port)`` of a valid host: the name lowercased without a trailing dot."""
    if host.startswith("["):
        end = host.index("]") + 1
        name, port = host[:end], host[end + 1 :]
    else:
        name, _, port = host.partition(":")
    return name.lower().rstrip("."), port


# A pattern: a host as valid_host accepts it, optionally led by "*." or ".".
_PATTERN = lazy_pattern(r"(?:\*\.|\.)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~\-]+)(?::[0-9]{1,5})?|\*")


class AllowedHosts:
    """The host patterns an app serves (see the module docstring); parsed once."""

    __slots__ = ("_any", "_exact", "_suffixes")

    def __init__(self, patterns: str | Iterable[str]) -> None:
        # Items are checked below: apps without a type checker may give any object.
        items: list[object] = [patterns] if isinstance(patterns, str) else list(patterns)
        if not items:
            raise ValueError("allowed_hosts: give at least one host pattern (or '*')")
        self._any = False
        self._exact: set[str] = set()
        self._suffixes: list[tuple[str, bool]] = []  # (".example.com", also the bare domain)
        for item in items:
            if not isinstance(item, str) or _PATTERN.fullmatch(item) is None:
                raise ValueError(
                    f"allowed_hosts: {item!r} is not a host pattern such as 'example.com', "
                    "'example.com:8000', '*.example.com', '.example.com' or '*'"
                )
            if item == "*":
                self._any = True
            elif item.startswith("*."):
                self._suffixes.append((item[1:].lower().rstrip("."), False))
            elif item.startswith("."):
                self._suffixes.append((item.lower().rstrip("."), True))
            else:
                name, port = split_host(item)
                self._exact.add(f"{name}:{port}" if port else name)

    def allows(self, host: str | None) -> bool:
        """True when ``host`` (a valid ``host[:port]``, or None when absent) is served."""
        if host is None:
            return False
        if self._any:
            return True
        name, port = split_host(host)
        if name in self._exact or (port and f"{name}:{port}" in self._exact):
            return True
        for suffix, bare in self._suffixes:
            if name.endswith(suffix) or (bare and name == suffix[1:]):
                return True
        return False
