"""Trusted reverse proxies: which client, scheme and host a proxied request really came from.

Behind a reverse proxy the server's peer is the proxy, not the client. The proxy reports the
client in ``Forwarded`` (RFC 7239) or in the de-facto ``X-Forwarded-For/-Proto/-Host``
headers. Anyone can send those headers, so they are believed only when the peer is a
configured trusted proxy, and then only hop by hop, right to left, while each hop is trusted
too. :func:`resolve_origin` is a pure function of the peer, the headers and the
:class:`TrustedProxies` configuration; it never raises on what a client sends.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple, Protocol

from duoweb._lazy import lazy_pattern
from duoweb.hosts import valid_host

__all__ = ["HeaderLookup", "RequestOrigin", "TrustedProxies", "resolve_origin"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class HeaderLookup(Protocol):
    """The request headers as :func:`resolve_origin` reads them (lowercase names)."""

    def get(self, name: str, /) -> str | None:
        """The field's value, or None when absent."""
        ...

    def getall(self, name: str, /) -> list[str]:
        """Every value (or list element) of the field, in the order received."""
        ...


class RequestOrigin(NamedTuple):
    """Where a request came from: the effective scheme, host and client address."""

    #: The URL scheme the client used, lowercase ("http" or "https").
    scheme: str
    #: The host (and port, if any) the client asked for, as in a Host header; None if unknown.
    host: str | None
    #: The client's address, or an RFC 7239 identifier ("unknown", "_hidden"); None if unknown.
    client_host: str | None
    #: The client's port; None when no one said.
    client_port: int | None

    @property
    def client(self) -> tuple[str, int] | None:
        """``(client_host, port or 0)``, or None: the shape of ``Request.client``."""
        if self.client_host is None:
            return None
        return (self.client_host, self.client_port or 0)


def _parse_network(entry: str | IPAddress | IPNetwork) -> IPNetwork:
    if isinstance(entry, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return entry
    if isinstance(entry, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return ipaddress.ip_network(entry)
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise ValueError(
            f"trusted proxy {entry!r} is not an IP address, a network like '10.0.0.0/8', or '*'"
        ) from None


class TrustedProxies:
    """The peers whose forwarding headers are believed: IP networks, or every peer (``"*"``).

    ``TrustedProxies.parse(["127.0.0.1", "10.0.0.0/8"])`` or ``TrustedProxies.parse("*")``.
    A peer that is not an IP address (a Unix socket) is trusted only with ``"*"``.
    Immutable, compared and hashed by its fields: a frozen dataclass, written out, since every
    App builds one and defining a dataclass costs about a millisecond at import.
    """

    __slots__ = ("_exact", "_networks", "_trust_all")

    _networks: tuple[IPNetwork, ...]
    _trust_all: bool
    _exact: frozenset[str]

    def __init__(self, networks: tuple[IPNetwork, ...] = (), trust_all: bool = False) -> None:
        object.__setattr__(self, "_networks", networks)
        object.__setattr__(self, "_trust_all", trust_all)
        # Single addresses are matched as strings first: no parsing for the usual proxy peer.
        exact = frozenset(str(n.network_address) for n in networks if n.num_addresses == 1)
        object.__setattr__(self, "_exact", exact)

    @property
    def networks(self) -> tuple[IPNetwork, ...]:
        """The trusted networks (a single address is a /32 or /128 network)."""
        return self._networks

    @property
    def trust_all(self) -> bool:
        """Every peer is trusted (``"*"``)."""
        return self._trust_all

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TrustedProxies) or other.__class__ is not self.__class__:
            return NotImplemented
        return (self._networks, self._trust_all) == (other._networks, other._trust_all)

    def __hash__(self) -> int:
        return hash((self._networks, self._trust_all))

    def __repr__(self) -> str:
        name = type(self).__qualname__
        return f"{name}(networks={self._networks!r}, trust_all={self._trust_all!r})"

    @classmethod
    def parse(
        cls, entries: str | Iterable[str | IPAddress | IPNetwork] | None = None
    ) -> TrustedProxies:
        """Build from addresses, networks and ``"*"``; a string may list them comma-separated.

        Raises ValueError for an entry that is none of these (a configuration error).
        """
        if entries is None:
            return cls()
        items: Iterable[str | IPAddress | IPNetwork] = (
            entries.split(",") if isinstance(entries, str) else entries
        )
        networks: list[IPNetwork] = []
        trust_all = False
        for item in items:
            if isinstance(item, str):
                item = item.strip()
                if not item:
                    continue
                if item == "*":
                    trust_all = True
                    continue
            network = _parse_network(item)
            if network not in networks:
                networks.append(network)
        return cls(tuple(networks), trust_all)

    def __bool__(self) -> bool:
        """False when no peer is trusted (forwarding headers are then never read)."""
        return self._trust_all or bool(self._networks)

    def trusts(self, host: str) -> bool:
        """Whether a peer at ``host`` (an address string) may report the hops before it."""
        if self._trust_all:
            return True
        if not self._networks:
            return False
        if host in self._exact:
            return True
        address = _parse_address(host)
        if address is None:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._networks)


# --- parsing helpers: each returns None for a malformed value, never raises ----------------
# (The patterns compile on first use: only apps with trusted proxies parse these headers.)

_ADDRESS_CHARS = lazy_pattern(r"[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.\-]+)?")
_PORT = lazy_pattern(r"[0-9]{1,5}")
_OBFUSCATED = lazy_pattern(r"_[A-Za-z0-9._\-]+")
_TOKEN = lazy_pattern(r"[!#$%&'*+.^_`|~0-9A-Za-z\-]+")
# A value's characters: visible ASCII, space, tab and obs-text, but no DEL or other controls.
_VALUE_CHARS = lazy_pattern(r"[\t \x21-\x7e\x80-\xff]*")
_NOT_BARE = lazy_pattern(r'[ \t"\\]')
_QUOTED_STRING = lazy_pattern(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _parse_address(text: str) -> IPAddress | None:
    """An IPv4 or IPv6 address (with an optional zone), or None."""
    if len(text) > 64 or _ADDRESS_CHARS.fullmatch(text) is None:
        return None
    return _cached_address(text)


@lru_cache(maxsize=1024)
def _cached_address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _parse_port(text: str) -> int | None:
    if _PORT.fullmatch(text) is None:
        return None
    port = int(text)
    return port if 0 < port <= 65535 else None


class _Node(NamedTuple):
    """A hop: an IP address (canonical text) or an RFC 7239 identifier, and maybe a port."""

    host: str
    port: int | None


def _parse_node(text: str, *, identifiers: bool) -> _Node | None:
    """A hop such as ``1.2.3.4``, ``1.2.3.4:80``, ``::1``, ``[::1]`` or ``[::1]:80``.

    With ``identifiers``, also RFC 7239's ``unknown`` and ``_obfuscated`` names and ports.
    """
    if not text:
        return None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        address = _parse_address(text[1:end])
        if not isinstance(address, ipaddress.IPv6Address):
            return None
        rest = text[end + 1 :]
        port: int | None = None
        if rest:
            if rest[0] != ":":
                return None
            port = _parse_port_or_identifier(rest[1:], identifiers=identifiers)
            if port == -1:
                return None
        return _Node(str(address), port)
    address = _parse_address(text)
    if address is not None:  # a bare IPv4, or a bare IPv6 (which cannot carry a port)
        return _Node(str(address), None)
    name, colon, rest = text.partition(":")
    if identifiers and (name.lower() == "unknown" or _OBFUSCATED.fullmatch(name)):
        host = "unknown" if name.lower() == "unknown" else name
    else:
        parsed = _parse_address(name)
        if not isinstance(parsed, ipaddress.IPv4Address):
            return None
        host = str(parsed)
    port = None
    if colon:
        port = _parse_port_or_identifier(rest, identifiers=identifiers)
        if port == -1:
            return None
    return _Node(host, port)


def _parse_port_or_identifier(text: str, *, identifiers: bool) -> int | None:
    """A port number, None for an obfuscated port, or -1 when malformed."""
    if identifiers and _OBFUSCATED.fullmatch(text):
        return None
    port = _parse_port(text)
    return -1 if port is None else port


# The schemes a proxy may report: anything else ("javascript") would end up in absolute URLs.
_FORWARDED_SCHEMES = frozenset({"http", "https", "ws", "wss"})


def _valid_scheme(text: str) -> str | None:
    scheme = text.lower()
    return scheme if scheme in _FORWARDED_SCHEMES else None


def _joined(headers: HeaderLookup, name: str) -> str:
    """Every value of a field as one comma-separated list ("" when absent)."""
    values = headers.getall(name)
    return ",".join(values) if values else ""


def _plain_list(text: str) -> list[str]:
    """The non-empty, trimmed elements of a comma-separated list that has no quoting."""
    return [item for item in (part.strip(" \t") for part in text.split(",")) if item]


def _split_quoted(text: str, separator: str) -> list[str] | None:
    """Split on ``separator`` outside quoted strings; None if a quoted string never ends.

    Each ``find`` moves forward only, so the work is linear in the text (many quoted strings
    and no separator must not rescan the rest of the text once per quote).
    """
    if '"' not in text:
        return text.split(separator)
    parts: list[str] = []
    start = 0
    quote = text.find('"')
    split = text.find(separator)
    while True:
        if split >= 0 and (quote < 0 or split < quote):
            parts.append(text[start:split])
            start = split + 1
            split = text.find(separator, start)
        elif quote >= 0:
            quoted = _QUOTED_STRING.match(text, quote)
            if quoted is None:
                return None
            position = quoted.end()
            quote = text.find('"', position)
            if 0 <= split < position:  # the separator was inside the quoted string
                split = text.find(separator, position)
        else:
            parts.append(text[start:])
            return parts


def _unquote(value: str) -> str | None:
    """A Forwarded parameter's value: a quoted-string's content, or the bare value; None if bad."""
    if _VALUE_CHARS.fullmatch(value) is None:
        return None
    if not value.startswith('"'):
        # RFC 7239 wants a token here; a bare address with ":" or "[" is a common, harmless slip.
        if not value or _NOT_BARE.search(value):
            return None
        return value
    if len(value) < 2 or not value.endswith('"'):
        return None
    inner = value[1:-1]
    if "\\" not in inner:
        return None if '"' in inner else inner
    out: list[str] = []
    i = 1
    end = len(value) - 1
    while i < end:
        char = value[i]
        if char == "\\":
            i += 1
            if i >= end:
                return None
            char = value[i]
        elif char == '"':
            return None
        out.append(char)
        i += 1
    return "".join(out)


def _parse_forwarded_element(element: str) -> dict[str, str] | None:
    """One forwarded-element's parameters (lowercase names, unquoted values), or None."""
    pairs = _split_quoted(element, ";")
    if pairs is None:
        return None
    params: dict[str, str] = {}
    for pair in pairs:
        pair = pair.strip(" \t")
        if not pair:
            continue
        name, equals, raw = pair.partition("=")
        if not equals or _TOKEN.fullmatch(name) is None:
            return None
        name = name.lower()
        value = _unquote(raw)
        if value is None or name in params:  # RFC 7239: each parameter at most once
            return None
        params[name] = value
    return params


# --- the resolution ----------------------------------------------------------------------


def resolve_origin(
    trusted: TrustedProxies,
    peer: tuple[str, int] | None,
    headers: HeaderLookup,
    scheme: str,
) -> RequestOrigin:
    """The effective scheme, host and client of a request, honouring trusted proxies' headers.

    ``peer`` is the connection's remote (host, port) and ``scheme`` the one the server
    received the request on. Unless the peer is trusted, the result is the peer, ``scheme``
    and the Host header, and no forwarding header is read. From a trusted peer, RFC 7239
    ``Forwarded`` is used if present, else ``X-Forwarded-For`` with ``X-Forwarded-Proto`` and
    ``X-Forwarded-Host``. The hops are walked right to left: each element was added by the
    hop to its right, so the walk stops at the first hop that is not trusted (that is the
    client) or at a malformed element (the last hop reached is then the client).
    """
    host = valid_host(headers.get("host"))  # a malformed Host is no host (Request.host: 400)
    client_host, client_port = peer if peer is not None else (None, None)
    direct = RequestOrigin(scheme.lower(), host, client_host, client_port)
    if client_host is None or not trusted or not trusted.trusts(client_host):
        return direct
    forwarded = _joined(headers, "forwarded")
    if forwarded.strip(" \t,"):
        return _from_forwarded(trusted, forwarded, direct)
    return _from_x_forwarded(trusted, headers, direct)


def _from_forwarded(trusted: TrustedProxies, header: str, origin: RequestOrigin) -> RequestOrigin:
    elements = _split_quoted(header, ",")
    if elements is None:
        return origin
    scheme, host, client_host, client_port = origin
    for element in reversed(elements):
        if not element.strip(" \t"):
            continue
        params = _parse_forwarded_element(element)
        if params is None:
            break
        proto, new_host, node_text = params.get("proto"), params.get("host"), params.get("for")
        new_scheme = scheme if proto is None else _valid_scheme(proto)
        checked_host = host if new_host is None else valid_host(new_host)
        node = None if node_text is None else _parse_node(node_text, identifiers=True)
        if (
            new_scheme is None
            or (new_host is not None and checked_host is None)
            or (node_text is not None and node is None)
        ):
            break  # a malformed element: keep what the hops to its right established
        scheme, host = new_scheme, checked_host
        if node is None:
            break  # this proxy did not say who its client was
        client_host, client_port = node
        if not trusted.trusts(client_host):
            break
    return RequestOrigin(scheme, host, client_host, client_port)


def _from_x_forwarded(
    trusted: TrustedProxies, headers: HeaderLookup, origin: RequestOrigin
) -> RequestOrigin:
    scheme, host, client_host, client_port = origin
    chain = _plain_list(_joined(headers, "x-forwarded-for"))
    hops = 0
    for entry in reversed(chain):
        node = _parse_node(entry, identifiers=False)
        if node is None:
            break
        hops += 1
        client_host, client_port = node
        if not trusted.trusts(client_host):
            break
    if chain and hops == 0:
        return origin  # the trusted peer's own entry is malformed: believe nothing
    # Each trusted hop may have appended to -Proto/-Host too; a proxy that overwrites them
    # leaves one value. Align from the right and take the value of the outermost hop walked.
    hops = max(hops, 1)
    protos = _plain_list(_joined(headers, "x-forwarded-proto"))
    if protos:
        scheme = _valid_scheme(protos[max(0, len(protos) - hops)]) or scheme
    hosts = _plain_list(_joined(headers, "x-forwarded-host"))
    if hosts:
        host = valid_host(hosts[max(0, len(hosts) - hops)]) or host
    return RequestOrigin(scheme, host, client_host, client_port)
