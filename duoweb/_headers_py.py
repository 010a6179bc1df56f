"""Pure-Python twin of ``duoweb._speedups._headers``: header, query and cookie parsing.

This module is the typed source of truth for mypy and the reference behaviour: the compiled
extension must return the same values and raise the same exception classes for every input.
The rules (and every deliberate difference from the standard library and Werkzeug) are
documented in ``docs/parsing.md``.
"""

from __future__ import annotations

import contextlib
import operator
import re
from collections.abc import (
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    ValuesView,
)
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, cast, overload
from urllib.parse import unquote_to_bytes

from duoweb._header_errors import (
    InvalidContentLength,
    InvalidCookie,
    TooManyQueryParameters,
    UnsafeHeader,
)

__all__ = [
    "Headers",
    "InvalidContentLength",
    "InvalidCookie",
    "QueryParams",
    "TooManyQueryParameters",
    "UnsafeHeader",
    "asgi_header",
    "best_match",
    "check_header",
    "encode_headers",
    "environ_header",
    "format_set_cookie",
    "parse_accept",
    "parse_content_length",
    "parse_content_type",
    "parse_cookie",
    "parse_query",
    "parse_qvalue",
]

T = TypeVar("T")

#: RFC 9110 ``tchar``: the characters a token (header name, media type, parameter name) may use.
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN_RE = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
#: Characters a response header value may not hold: CTLs but HTAB, DEL, and non-latin-1.
_UNSAFE_VALUE_RE = re.compile("[\x00-\x08\x0a-\x1f\x7f\u0100-\U0010ffff]")
#: RFC 6265 ``cookie-octet``: what a Set-Cookie value may hold without quoting or escaping.
_COOKIE_VALUE_RE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
#: RFC 6265 ``path-value``/domain: any US-ASCII CHAR except CTLs and ";".
_ATTRIBUTE_VALUE_RE = re.compile(r"[\x20-\x3a\x3c-\x7e]+")
#: WSGI ``HTTP_*`` keys whose remainder holds one of these is not a server-made key; skipped.
_NON_CANONICAL_ENV_RE = re.compile(r"[a-z\-]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_OWS = " \t"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SAMESITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


def _lower(text: str) -> str:
    """Lowercase ASCII letters only, as HTTP case-insensitivity means (never Unicode folding)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _is_token(text: str) -> bool:
    """True when ``text`` is a non-empty RFC 9110 token."""
    return _TOKEN_RE.fullmatch(text) is not None


def _split_list(value: str) -> list[str]:
    """Split an RFC 9110 list field value into its trimmed, non-empty elements."""
    if '"' not in value:
        return [part for part in (item.strip(_OWS) for item in value.split(",")) if part]
    elements: list[str] = []
    start = 0
    quoted = False
    i = 0
    n = len(value)
    while i < n:
        c = value[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == ",":
            part = value[start:i].strip(_OWS)
            if part:
                elements.append(part)
            start = i + 1
        i += 1
    part = value[start:].strip(_OWS)
    if part:
        elements.append(part)
    return elements


# --------------------------------------------------------------------------------------------
# Request headers
# --------------------------------------------------------------------------------------------


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive view of request headers; repeated fields joined with ","."""

    __slots__ = ("_map",)

    _map: dict[str, str]

    def __init__(self, fields: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        """Build a view from ``(name, value)`` string pairs or a mapping (tests, tools)."""
        # A Mapping here is the Mapping[str, str] arm (isinstance cannot check the parameters).
        pairs = cast("Mapping[str, str]", fields).items() if isinstance(fields, Mapping) else fields
        combined: dict[str, str] = {}
        for name, value in pairs:
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError("header names and values must be str")
            key = _lower(name)
            previous = combined.get(key)
            combined[key] = value if previous is None else previous + "," + value
        self._map = combined

    @classmethod
    def from_asgi(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """View an ASGI ``scope["headers"]`` list (latin-1 bytes pairs, any name case)."""
        combined: dict[str, str] = {}
        for name, value in raw:
            if not isinstance(name, bytes) or not isinstance(value, bytes):
                raise TypeError("ASGI header names and values must be bytes")
            key = name.lower().decode("latin-1")
            text = value.decode("latin-1")
            previous = combined.get(key)
            combined[key] = text if previous is None else previous + "," + text
        view = cls.__new__(cls)
        view._map = combined
        return view

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Headers:
        """View a WSGI environ's headers: ``HTTP_*`` plus ``CONTENT_TYPE``/``CONTENT_LENGTH``."""
        if not isinstance(environ, Mapping):
            raise TypeError("a WSGI environ must be a mapping")
        combined: dict[str, str] = {}
        for key, value in environ.items():
            if not isinstance(key, str) or not isinstance(value, str):
                continue
            if key.startswith("HTTP_"):
                rest = key[5:]
                if (
                    rest == "CONTENT_TYPE"
                    or rest == "CONTENT_LENGTH"
                    or _NON_CANONICAL_ENV_RE.search(rest) is not None
                ):
                    continue
                combined[_lower(rest).replace("_", "-")] = value
            elif key == "CONTENT_TYPE":
                if value:
                    combined["content-type"] = value
            elif key == "CONTENT_LENGTH" and value:
                combined["content-length"] = value
        view = cls.__new__(cls)
        view._map = combined
        return view

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    @overload
    def get(self, name: str, default: T) -> str | T: ...
    def get(self, name: str, default: object = None) -> object:
        """The field's value (repeats joined with ","), or ``default`` when absent."""
        if not isinstance(name, str):
            return default
        return self._map.get(_lower(name), default)

    def getall(self, name: str) -> list[str]:
        """The field's list elements (split on "," outside quoted strings, trimmed, non-empty)."""
        value = self.get(name)
        return [] if value is None else _split_list(value)

    def __getitem__(self, name: str) -> str:
        """The field's value; ``KeyError`` when absent."""
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        """True when the field is present (any case)."""
        return isinstance(name, str) and _lower(name) in self._map

    def __iter__(self) -> Iterator[str]:
        """Iterate over the lowercase field names, in first-seen order."""
        return iter(self._map)

    def __len__(self) -> int:
        """The number of distinct field names."""
        return len(self._map)

    def keys(self) -> KeysView[str]:
        """The lowercase field names."""
        return self._map.keys()

    def values(self) -> ValuesView[str]:
        """The combined field values."""
        return self._map.values()

    def items(self) -> ItemsView[str, str]:
        """``(lowercase name, combined value)`` pairs."""
        return self._map.items()

    def __eq__(self, other: object) -> bool:
        """Equal to another view or mapping with the same lowercase names and values."""
        if isinstance(other, Headers):
            return self._map == other._map
        if isinstance(other, Mapping):
            theirs = cast("Mapping[object, object]", other)  # isinstance leaves the types open
            return self._map == dict(theirs.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """``Headers({...})`` with the lowercase names and combined values."""
        return f"Headers({self._map!r})"


def environ_header(environ: Mapping[str, Any], name: str) -> str | None:
    """``Headers.from_environ(environ).get(name)``, read with one environ lookup.

    A header's CGI key is ``HTTP_`` plus its name in uppercase with ``-`` as ``_``
    (``CONTENT_TYPE`` and ``CONTENT_LENGTH`` have none, and count only when not empty).
    """
    if not isinstance(environ, Mapping):
        raise TypeError("a WSGI environ must be a mapping")
    if not isinstance(name, str):
        return None
    key = _lower(name)
    if "_" in key:  # never in a name made from an environ key
        return None
    cgi = key == "content-type" or key == "content-length"
    upper = key.upper() if key.isascii() else key.translate(_ASCII_UPPER)
    upper = upper.replace("-", "_")
    value = environ.get(upper if cgi else "HTTP_" + upper)
    if not isinstance(value, str) or (cgi and not value):
        return None
    return value


def asgi_header(raw: Iterable[tuple[bytes, bytes]], name: str) -> str | None:
    """``Headers.from_asgi(raw).get(name)``, found by one scan of the pairs.

    Repeated fields are joined with ","; a pair that is not two bytes raises the TypeError
    ``Headers.from_asgi`` raises.
    """
    target: bytes | None = None  # None: no field can match (the pairs are still checked)
    if isinstance(name, str):
        with contextlib.suppress(UnicodeEncodeError):  # no latin-1 name: nothing matches
            target = _lower(name).encode("latin-1")
    found: str | None = None
    for key, value in raw:
        if not isinstance(key, bytes) or not isinstance(value, bytes):
            raise TypeError("ASGI header names and values must be bytes")
        if target is not None and len(key) == len(target) and key.lower() == target:
            text = value.decode("latin-1")
            found = text if found is None else found + "," + text
    return found


# --------------------------------------------------------------------------------------------
# Query strings
# --------------------------------------------------------------------------------------------


class QueryParams(Mapping[str, str]):
    """Read-only multi-valued mapping of query parameters; ``get`` returns the FIRST value."""

    __slots__ = ("_first", "_items")

    _items: list[tuple[str, str]]
    _first: dict[str, str]

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        """Build from ``(name, value)`` string pairs, in order."""
        pairs: list[tuple[str, str]] = []
        first: dict[str, str] = {}
        for name, value in items:
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError("query parameter names and values must be str")
            pairs.append((name, value))
            first.setdefault(name, value)
        self._items = pairs
        self._first = first

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    @overload
    def get(self, name: str, default: T) -> str | T: ...
    def get(self, name: str, default: object = None) -> object:
        """The first value given for ``name``, or ``default``."""
        if not isinstance(name, str):
            return default
        return self._first.get(name, default)

    def getall(self, name: str) -> list[str]:
        """Every value given for ``name``, in order (empty list when absent)."""
        if not isinstance(name, str) or name not in self._first:
            return []
        return [value for key, value in self._items if key == name]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` pair, in order, repeats included."""
        return list(self._items)

    def __getitem__(self, name: str) -> str:
        """The first value for ``name``; ``KeyError`` when absent."""
        if not isinstance(name, str):
            raise KeyError(name)
        return self._first[name]

    def __contains__(self, name: object) -> bool:
        """True when ``name`` was given at least once."""
        return isinstance(name, str) and name in self._first

    def __iter__(self) -> Iterator[str]:
        """Iterate over the distinct names, in first-seen order."""
        return iter(self._first)

    def __len__(self) -> int:
        """The number of distinct names."""
        return len(self._first)

    def keys(self) -> KeysView[str]:
        """The distinct names."""
        return self._first.keys()

    def values(self) -> ValuesView[str]:
        """The first value of each distinct name."""
        return self._first.values()

    def items(self) -> ItemsView[str, str]:
        """``(name, first value)`` pairs; see ``multi_items`` for every pair."""
        return self._first.items()

    def __eq__(self, other: object) -> bool:
        """Equal to another QueryParams with the same pairs, or a mapping of first values."""
        if isinstance(other, QueryParams):
            return self._items == other._items
        if isinstance(other, Mapping):
            theirs = cast("Mapping[object, object]", other)  # isinstance leaves the types open
            return self._first == dict(theirs.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """``QueryParams([...])`` with every pair."""
        return f"QueryParams({self._items!r})"


def _unquote_plus(raw: bytes) -> str:
    """Decode one query component: ``+`` is a space, bad ``%`` escapes stay, bad UTF-8 is U+FFFD."""
    if raw.isalnum():  # most names and values: nothing to decode (isalnum is ASCII-only)
        return raw.decode("ascii")
    # find(), not ``in``: bytes.__contains__ tries the operand as an int first, which costs a
    # formatted TypeError per call.
    if raw.find(b"+") >= 0:
        raw = raw.replace(b"+", b" ")
    if raw.find(b"%") >= 0:
        raw = unquote_to_bytes(raw)
    return raw.decode("utf-8", "replace")


def parse_query(raw: bytes | str, max_params: int = 1000) -> QueryParams:
    """Parse a query string (``&``-separated, ``+`` and ``%XX`` decoded, UTF-8) into QueryParams."""
    limit = operator.index(max_params)
    if isinstance(raw, str):
        data = raw.encode("utf-8", "surrogatepass")
    elif isinstance(raw, bytes):
        data = raw
    else:
        raise TypeError("the query string must be bytes or str")
    pairs: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    count = 0
    if data:
        for segment in data.split(b"&"):
            if not segment:
                continue
            count += 1
            if count > limit:
                raise TooManyQueryParameters(f"more than {limit} query parameters in the request")
            name, _, value = segment.partition(b"=")
            key = _unquote_plus(name)
            text = _unquote_plus(value)
            pairs.append((key, text))
            if key not in first:
                first[key] = text
    params = QueryParams.__new__(QueryParams)
    params._items = pairs
    params._first = first
    return params


# --------------------------------------------------------------------------------------------
# Content-Type, Content-Length, Accept
# --------------------------------------------------------------------------------------------


def _skip_ows(text: str, i: int, n: int) -> int:
    """The index of the first non-OWS character at or after ``i``."""
    while i < n and (text[i] == " " or text[i] == "\t"):
        i += 1
    return i


def _parse_params(text: str, i: int, out: dict[str, str]) -> None:
    """Parse ``*( OWS ";" OWS [ name=value ] )`` from ``text[i]`` (a ";") into ``out``.

    Names are lowercased; the first occurrence of a name wins; a malformed parameter is skipped
    up to the next ";". Values are tokens or quoted strings (quoted-pairs unescaped).
    """
    n = len(text)
    while i < n:
        i = _skip_ows(text, i + 1, n)  # past the ";"
        if i >= n:
            return
        if text[i] == ";":
            continue
        start = i
        while i < n and text[i] in _TCHAR:
            i += 1
        name = text[start:i]
        i = _skip_ows(text, i, n)
        value: str | None = None
        if name and i < n and text[i] == "=":
            i = _skip_ows(text, i + 1, n)
            if i < n and text[i] == '"':
                i += 1
                chunks: list[str] = []
                while i < n:
                    c = text[i]
                    code = ord(c)
                    if c == '"':
                        value = "".join(chunks)
                        i += 1
                        break
                    if c == "\\":
                        if i + 1 < n and (text[i + 1] == "\t" or 0x20 <= ord(text[i + 1]) != 0x7F):
                            chunks.append(text[i + 1])
                            i += 2
                            continue
                        break
                    if c == "\t" or 0x20 <= code != 0x7F:
                        chunks.append(c)
                        i += 1
                        continue
                    break
            else:
                start = i
                while i < n and text[i] in _TCHAR:
                    i += 1
                if i > start:
                    value = text[start:i]
            if value is not None:
                i = _skip_ows(text, i, n)
                if i < n and text[i] != ";":
                    value = None
        if value is None:
            i = text.find(";", i)
            if i < 0:
                return
            continue
        key = _lower(name)
        if key not in out:
            out[key] = value


def _media_type(text: str) -> tuple[str, int]:
    """The lowercased ``type/subtype`` at the start of ``text`` and the index of the first ";".

    Returns ``("", index)`` when the part before the ";" is not ``token "/" token``.
    """
    semi = text.find(";")
    if semi < 0:
        semi = len(text)
    head = text[:semi].strip(_OWS)
    slash = head.find("/")
    if slash <= 0 or not _is_token(head[:slash]) or not _is_token(head[slash + 1 :]):
        return "", semi
    return head.lower(), semi


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Parse a media type into ``("type/subtype", {param: value})``; ``("", {})`` when invalid."""
    if not isinstance(value, str):
        raise TypeError("the header value must be str")
    media_type, semi = _media_type(value)
    if not media_type:
        return "", {}
    params: dict[str, str] = {}
    if semi < len(value):
        _parse_params(value, semi, params)
    return media_type, params


def parse_content_length(value: str) -> int:
    """Parse a Content-Length: one or more ASCII digits and nothing else (else ValueError)."""
    if not isinstance(value, str):
        raise TypeError("the header value must be str")
    if not value or not value.isascii() or not value.isdigit():
        raise InvalidContentLength(f"invalid Content-Length {value[:40]!r}")
    try:
        return int(value)
    except ValueError:  # more digits than int() accepts (sys.get_int_max_str_digits)
        raise InvalidContentLength(f"Content-Length too long ({len(value)} digits)") from None


def parse_qvalue(text: str) -> float | None:
    """The RFC 9110 ``qvalue`` in ``text`` (0..1, at most 3 decimals), or None when malformed."""
    if not isinstance(text, str):
        raise TypeError("the q-value must be str")
    n = len(text)
    if n == 0 or n > 5 or (text[0] != "0" and text[0] != "1"):
        return None
    if n == 1:
        return float(text[0] == "1")
    if text[1] != ".":
        return None
    digits = text[2:]
    if not (digits == "" or (digits.isascii() and digits.isdigit())):
        return None
    milli = int((digits + "000")[:3])
    if text[0] == "1":
        return None if milli else 1.0
    return milli / 1000.0


def parse_accept(value: str) -> list[tuple[str, float, dict[str, str]]]:
    """Parse an Accept header into ``(media_range, q, params)`` tuples, best first."""
    if not isinstance(value, str):
        raise TypeError("the header value must be str")
    ranked: list[tuple[float, int, int, int, tuple[str, float, dict[str, str]]]] = []
    for index, element in enumerate(_split_list(value)):
        media_range, semi = _media_type(element)
        if not media_range:
            continue
        main, _, sub = media_range.partition("/")
        if main == "*" and sub != "*":
            continue
        params: dict[str, str] = {}
        if semi < len(element):
            _parse_params(element, semi, params)
        q = 1.0
        raw_q = params.pop("q", None)
        if raw_q is not None:
            parsed = parse_qvalue(raw_q)
            if parsed is not None:
                q = parsed
        level = (main != "*") + (sub != "*")
        ranked.append((-q, -level, -len(params), index, (media_range, q, params)))
    ranked.sort(key=lambda entry: entry[:4])
    return [entry[4] for entry in ranked]


def best_match(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers per its Accept header (RFC 9110 12.5.1), or None.

    Each offer takes the q of the most specific range that matches it; the highest q > 0 wins,
    ties go to the more specific match, then to the earlier offer. No (or an empty) Accept
    header accepts anything: the first valid offer wins.
    """
    ranges = parse_accept(accept) if accept is not None else []
    best: str | None = None
    best_q = 0.0
    best_spec = (-1, -1)
    for offer in offers:
        offer_type, offer_params = parse_content_type(offer)
        if not offer_type:
            continue
        if not ranges:
            return offer
        main, _, sub = offer_type.partition("/")
        match_q = -1.0
        match_spec = (-1, -1)
        for media_range, q, params in ranges:
            range_main, _, range_sub = media_range.partition("/")
            if range_main == "*":
                level = 0
            elif range_main != main:
                continue
            elif range_sub == "*":
                level = 1
            elif range_sub != sub:
                continue
            else:
                level = 2
            if params and any(offer_params.get(k) != v for k, v in params.items()):
                continue
            spec = (level, len(params))
            if spec > match_spec:
                match_spec = spec
                match_q = q
        if match_q <= 0.0:
            continue
        if match_q > best_q or (match_q == best_q and match_spec > best_spec):
            best = offer
            best_q = match_q
            best_spec = match_spec
    return best


# --------------------------------------------------------------------------------------------
# Cookies
# --------------------------------------------------------------------------------------------


def parse_cookie(value: str) -> dict[str, str]:
    """Parse a Cookie header (RFC 6265 5.4, leniently): the first occurrence of a name wins."""
    if not isinstance(value, str):
        raise TypeError("the header value must be str")
    cookies: dict[str, str] = {}
    for part in value.split(";"):
        name, eq, text = part.partition("=")
        if not eq:
            continue
        name = name.strip(_OWS)
        if not name or name in cookies:
            continue
        text = text.strip(_OWS)
        if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
            text = text[1:-1]
        cookies[name] = text
    return cookies


def _imf_fixdate(moment: datetime) -> str:
    """Format an aware or (assumed UTC) naive datetime as an RFC 9110 IMF-fixdate."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT"
    )


def format_set_cookie(
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    expires: datetime | int | float | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: Literal["lax", "strict", "none"] | None = None,
    partitioned: bool = False,
) -> str:
    """Build a Set-Cookie value; InvalidCookie (ValueError) for anything that would break it."""
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError("cookie names and values must be str")
    if not _is_token(name):
        raise InvalidCookie(f"cookie name {name[:40]!r} is not an RFC 9110 token")
    inner = value[1:-1] if len(value) >= 2 and value[0] == '"' and value[-1] == '"' else value
    if _COOKIE_VALUE_RE.fullmatch(inner) is None:
        raise InvalidCookie(
            f"cookie value {value[:40]!r} holds characters outside RFC 6265 cookie-octet; "
            "encode it (e.g. base64url) first"
        )
    parts = [f"{name}={value}"]
    if expires is not None:
        if isinstance(expires, datetime):
            moment = expires
        elif isinstance(expires, (int, float)) and not isinstance(expires, bool):
            moment = datetime.fromtimestamp(expires, UTC)
        else:
            raise TypeError("expires must be a datetime or a UNIX timestamp")
        parts.append("Expires=" + _imf_fixdate(moment))
    if max_age is not None:
        if not isinstance(max_age, int) or isinstance(max_age, bool):
            raise TypeError("max_age must be an int")
        parts.append(f"Max-Age={max_age}")
    if domain is not None:
        if not isinstance(domain, str) or _ATTRIBUTE_VALUE_RE.fullmatch(domain) is None:
            raise InvalidCookie(f"invalid cookie Domain {domain!r}")
        parts.append("Domain=" + domain)
    if path is not None:
        if not isinstance(path, str) or _ATTRIBUTE_VALUE_RE.fullmatch(path) is None:
            raise InvalidCookie(f"invalid cookie Path {path!r}")
        parts.append("Path=" + path)
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite is not None:
        label = _SAMESITE.get(_lower(samesite)) if isinstance(samesite, str) else None
        if label is None:
            raise InvalidCookie(f"samesite must be 'lax', 'strict' or 'none', not {samesite!r}")
        if label == "None" and not secure:
            raise InvalidCookie("SameSite=None requires secure=True (browsers drop it otherwise)")
        parts.append("SameSite=" + label)
    if partitioned:
        if not secure:
            raise InvalidCookie("Partitioned requires secure=True (browsers drop it otherwise)")
        parts.append("Partitioned")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# Response headers
# --------------------------------------------------------------------------------------------


def check_header(name: str, value: str) -> None:
    """Refuse (UnsafeHeader, a ValueError) a header that could inject or break the header block.

    The name must be an RFC 9110 token; the value must hold no CR, LF, NUL or other control
    character but HTAB, no DEL, and only latin-1 characters (what WSGI and ASGI can carry).
    """
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError("header names and values must be str")
    if _TOKEN_RE.fullmatch(name) is None:
        raise UnsafeHeader(f"invalid header name {name[:40]!r}")
    if _UNSAFE_VALUE_RE.search(value) is not None:
        raise UnsafeHeader(f"unsafe character in the value of header {name!r}")


def encode_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Check every pair and encode it for ASGI: lowercased ASCII name, latin-1 value."""
    encoded: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        check_header(name, value)
        encoded.append((name.lower().encode("ascii"), value.encode("latin-1")))
    return encoded
