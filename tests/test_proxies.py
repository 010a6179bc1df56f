"""duoweb.proxies: the client, scheme and host behind trusted reverse proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duoweb.headers import Headers
from duoweb.hosts import valid_host
from duoweb.proxies import HeaderLookup, RequestOrigin, TrustedProxies, resolve_origin


class RawLines:
    """A header lookup whose ``getall`` returns whole field lines, not list elements."""

    def __init__(self, fields: Iterable[tuple[str, str]]) -> None:
        self.fields = [(name.lower(), value) for name, value in fields]

    def get(self, name: str, /) -> str | None:
        values = self.getall(name)
        return ",".join(values) if values else None

    def getall(self, name: str, /) -> list[str]:
        return [value for key, value in self.fields if key == name]


MakeHeaders = Callable[[list[tuple[str, str]]], HeaderLookup]


@pytest.fixture(params=["duoweb-headers", "raw-lines"])
def make_headers(request: pytest.FixtureRequest) -> MakeHeaders:
    """Both kinds of lookup must give the same answers."""
    if request.param == "duoweb-headers":
        return lambda fields: Headers(fields)
    return lambda fields: RawLines(fields)


LOCAL = TrustedProxies.parse(["127.0.0.1"])
INTERNAL = TrustedProxies.parse(["127.0.0.1", "10.0.0.0/8", "fd00::/8"])
PEER = ("127.0.0.1", 50000)


def resolve(
    make: MakeHeaders,
    fields: list[tuple[str, str]],
    *,
    trusted: TrustedProxies = INTERNAL,
    peer: tuple[str, int] | None = PEER,
    scheme: str = "http",
) -> RequestOrigin:
    return resolve_origin(trusted, peer, make([("host", "internal:8000"), *fields]), scheme)


DIRECT = RequestOrigin("http", "internal:8000", "127.0.0.1", 50000)


# --- configuration -----------------------------------------------------------------------


def test_parse_addresses_networks_and_star() -> None:
    config = TrustedProxies.parse(["127.0.0.1", " 10.0.0.0/8 ", "::1", "", "127.0.0.1"])
    assert config.networks == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert not config.trust_all
    assert TrustedProxies.parse("*").trust_all
    assert TrustedProxies.parse("127.0.0.1, 10.0.0.0/8") == TrustedProxies.parse(
        ["127.0.0.1", "10.0.0.0/8"]
    )


def test_parse_accepts_ipaddress_objects_and_host_bits() -> None:
    config = TrustedProxies.parse(
        [ipaddress.ip_address("192.0.2.1"), ipaddress.ip_network("2001:db8::/32"), "10.1.2.3/8"]
    )
    assert config.networks == (
        ipaddress.ip_network("192.0.2.1/32"),
        ipaddress.ip_network("2001:db8::/32"),
        ipaddress.ip_network("10.0.0.0/8"),
    )


@pytest.mark.parametrize("entry", ["localhost", "10.0.0.0/33", "1.2.3", "unix:/tmp/s", "**"])
def test_parse_rejects_what_is_not_an_address(entry: str) -> None:
    with pytest.raises(ValueError, match="trusted proxy"):
        TrustedProxies.parse([entry])


def test_empty_configuration_trusts_no_one() -> None:
    for config in (TrustedProxies(), TrustedProxies.parse(None), TrustedProxies.parse([])):
        assert not config
        assert not config.trusts("127.0.0.1")
    assert TrustedProxies.parse("*")
    assert LOCAL


def test_config_is_frozen_and_hashable() -> None:
    with pytest.raises(AttributeError):
        LOCAL.trust_all = True  # type: ignore[misc]
    assert hash(LOCAL) == hash(TrustedProxies.parse("127.0.0.1"))


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("10.200.3.4", True),
        ("11.0.0.1", False),
        ("::ffff:10.0.0.1", True),  # an IPv4-mapped peer on a dual-stack socket
        ("::ffff:11.0.0.1", False),
        ("fd12::1", True),
        ("fe80::1", False),
        ("/run/app.sock", False),  # a Unix socket peer is trusted only with "*"
        ("", False),
        ("not an address", False),
    ],
)
def test_trusts(host: str, expected: bool) -> None:
    assert INTERNAL.trusts(host) is expected


def test_star_trusts_every_peer() -> None:
    config = TrustedProxies.parse(["*"])
    assert config.trusts("203.0.113.1")
    assert config.trusts("/run/app.sock")


def test_origin_client_shape() -> None:
    assert RequestOrigin("http", None, "1.2.3.4", None).client == ("1.2.3.4", 0)
    assert RequestOrigin("http", None, "1.2.3.4", 80).client == ("1.2.3.4", 80)
    assert RequestOrigin("http", None, None, None).client is None


# --- untrusted peers ---------------------------------------------------------------------

SPOOFS = [
    ("x-forwarded-for", "203.0.113.7"),
    ("x-forwarded-proto", "https"),
    ("x-forwarded-host", "evil.example"),
    ("forwarded", "for=203.0.113.7;proto=https;host=evil.example"),
]


def test_untrusted_peer_headers_are_ignored(make_headers: MakeHeaders) -> None:
    origin = resolve(make_headers, SPOOFS, peer=("192.0.2.10", 1234))
    assert origin == RequestOrigin("http", "internal:8000", "192.0.2.10", 1234)


def test_no_trusted_proxies_configured(make_headers: MakeHeaders) -> None:
    assert resolve(make_headers, SPOOFS, trusted=TrustedProxies()) == DIRECT


def test_unknown_peer(make_headers: MakeHeaders) -> None:
    origin = resolve(make_headers, SPOOFS, peer=None, scheme="HTTPS")
    assert origin == RequestOrigin("https", "internal:8000", None, None)


def test_no_host_header() -> None:
    origin = resolve_origin(LOCAL, PEER, Headers(), "http")
    assert origin == RequestOrigin("http", None, "127.0.0.1", 50000)


def test_forwarded_without_a_host_header() -> None:
    origin = resolve_origin(LOCAL, PEER, Headers([("forwarded", "for=203.0.113.7")]), "http")
    assert origin == RequestOrigin("http", None, "203.0.113.7", None)
    origin = resolve_origin(LOCAL, PEER, Headers([("x-forwarded-for", "203.0.113.7")]), "http")
    assert origin == RequestOrigin("http", None, "203.0.113.7", None)


def test_trusted_peer_without_forwarding_headers(make_headers: MakeHeaders) -> None:
    assert resolve(make_headers, [("x-other", "1")]) == DIRECT


# --- X-Forwarded-* -----------------------------------------------------------------------


def test_x_forwarded_single_proxy(make_headers: MakeHeaders) -> None:
    origin = resolve(
        make_headers,
        [
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "HTTPS"),
            ("x-forwarded-host", "api.example.com"),
        ],
    )
    assert origin == RequestOrigin("https", "api.example.com", "203.0.113.7", None)


def test_x_forwarded_for_walks_trusted_hops_right_to_left(make_headers: MakeHeaders) -> None:
    # The client forged the first entry; 198.51.100.2 is who connected to the edge proxy.
    fields = [("x-forwarded-for", "6.6.6.6, 198.51.100.2, 10.0.0.5,10.0.0.9")]
    assert resolve(make_headers, fields).client_host == "198.51.100.2"
    assert resolve(make_headers, fields, trusted=LOCAL).client_host == "10.0.0.9"


def test_x_forwarded_for_all_trusted_takes_the_leftmost(make_headers: MakeHeaders) -> None:
    fields = [("x-forwarded-for", "10.0.0.1, 10.0.0.2")]
    assert resolve(make_headers, fields).client_host == "10.0.0.1"
    star = TrustedProxies.parse("*")
    fields = [("x-forwarded-for", "6.6.6.6, 198.51.100.2")]
    assert resolve(make_headers, fields, trusted=star).client_host == "6.6.6.6"


def test_x_forwarded_for_repeated_fields_are_one_list(make_headers: MakeHeaders) -> None:
    fields = [("x-forwarded-for", "198.51.100.2"), ("x-forwarded-for", "10.0.0.5")]
    assert resolve(make_headers, fields).client_host == "198.51.100.2"


@pytest.mark.parametrize(
    ("entry", "host", "port"),
    [
        ("2001:DB8::0:1", "2001:db8::1", None),
        ("[2001:db8::1]", "2001:db8::1", None),
        ("[2001:db8::1]:4711", "2001:db8::1", 4711),
        ("198.51.100.2:4711", "198.51.100.2", 4711),
        ("  198.51.100.2\t", "198.51.100.2", None),
    ],
)
def test_x_forwarded_for_entry_forms(
    make_headers: MakeHeaders, entry: str, host: str, port: int | None
) -> None:
    origin = resolve(make_headers, [("x-forwarded-for", entry)])
    assert (origin.client_host, origin.client_port) == (host, port)


@pytest.mark.parametrize(
    "entry",
    ["unknown", "_hidden", "203.0.113.999", "[::1", "[1.2.3.4]", "1.2.3.4:0", "1.2.3.4:99999"],
)
def test_x_forwarded_for_malformed_peer_entry_believes_nothing(
    make_headers: MakeHeaders, entry: str
) -> None:
    fields = [
        ("x-forwarded-for", entry),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "api.example.com"),
    ]
    assert resolve(make_headers, fields) == DIRECT


def test_x_forwarded_for_malformed_further_left_stops_there(make_headers: MakeHeaders) -> None:
    fields = [("x-forwarded-for", "203.0.113.7, garbage, 10.0.0.5"), ("x-forwarded-proto", "https")]
    origin = resolve(make_headers, fields)
    assert origin == RequestOrigin("https", "internal:8000", "10.0.0.5", None)


def test_x_forwarded_for_empty_elements_are_skipped(make_headers: MakeHeaders) -> None:
    fields = [("x-forwarded-for", " , 203.0.113.7,, 10.0.0.5 ,")]
    assert resolve(make_headers, fields).client_host == "203.0.113.7"


def test_x_forwarded_proto_and_host_without_for(make_headers: MakeHeaders) -> None:
    fields = [("x-forwarded-proto", "https"), ("x-forwarded-host", "api.example.com:8443")]
    origin = resolve(make_headers, fields)
    assert origin == RequestOrigin("https", "api.example.com:8443", "127.0.0.1", 50000)


def test_x_forwarded_proto_appended_per_hop(make_headers: MakeHeaders) -> None:
    # The client claims https; the one trusted proxy appended what it really saw.
    fields = [
        ("x-forwarded-for", "6.6.6.6, 198.51.100.2"),
        ("x-forwarded-proto", "https, http"),
        ("x-forwarded-host", "evil.example, api.example.com"),
    ]
    origin = resolve(make_headers, fields)
    assert (origin.scheme, origin.host) == ("http", "api.example.com")


def test_x_forwarded_proto_set_by_outer_proxy(make_headers: MakeHeaders) -> None:
    # Edge load balancer (TLS) -> 10.0.0.5 -> nginx on 127.0.0.1 -> app; only the edge set it.
    fields = [("x-forwarded-for", "198.51.100.2, 10.0.0.5"), ("x-forwarded-proto", "https")]
    assert resolve(make_headers, fields).scheme == "https"


@pytest.mark.parametrize("proto", ["", "ht tp", "1http", "https://", "é"])
def test_x_forwarded_proto_invalid_is_ignored(make_headers: MakeHeaders, proto: str) -> None:
    fields = [("x-forwarded-for", "198.51.100.2"), ("x-forwarded-proto", proto)]
    assert resolve(make_headers, fields).scheme == "http"


@pytest.mark.parametrize(
    "host", ["evil.example/path", "user@evil.example", "a b", "[::1", "x:port", "%41.example", ""]
)
def test_x_forwarded_host_invalid_is_ignored(make_headers: MakeHeaders, host: str) -> None:
    fields = [("x-forwarded-for", "198.51.100.2"), ("x-forwarded-host", host)]
    assert resolve(make_headers, fields).host == "internal:8000"


@pytest.mark.parametrize("host", ["api.example.com", "api.example.com:443", "[2001:db8::1]:80"])
def test_x_forwarded_host_valid(make_headers: MakeHeaders, host: str) -> None:
    fields = [("x-forwarded-host", host)]
    assert resolve(make_headers, fields).host == host


# --- Forwarded (RFC 7239) ----------------------------------------------------------------


def test_forwarded_single_proxy(make_headers: MakeHeaders) -> None:
    fields = [("forwarded", 'for=203.0.113.7;proto=https;host="api.example.com:8443";by=_nginx')]
    origin = resolve(make_headers, fields)
    assert origin == RequestOrigin("https", "api.example.com:8443", "203.0.113.7", None)


def test_forwarded_rfc_examples(make_headers: MakeHeaders) -> None:
    fields = [("forwarded", 'For="[2001:db8:cafe::17]:4711"')]
    assert resolve(make_headers, fields).client == ("2001:db8:cafe::17", 4711)
    fields = [("forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43")]
    assert resolve(make_headers, fields).client == ("192.0.2.60", 0)
    fields = [("forwarded", "for=192.0.2.43, for=198.51.100.17")]
    assert resolve(make_headers, fields).client_host == "198.51.100.17"


def test_forwarded_walks_trusted_hops_and_takes_their_proto_and_host(
    make_headers: MakeHeaders,
) -> None:
    fields = [
        (
            "forwarded",
            "for=6.6.6.6;proto=ftp;host=evil.example, "
            'for=198.51.100.2;proto=https;host="api.example.com", '
            "for=10.0.0.5;proto=http;host=lb.internal",
        )
    ]
    origin = resolve(make_headers, fields)
    assert origin == RequestOrigin("https", "api.example.com", "198.51.100.2", None)


def test_forwarded_keeps_proto_and_host_of_inner_hops_when_outer_omit_them(
    make_headers: MakeHeaders,
) -> None:
    fields = [("forwarded", "for=198.51.100.2, for=10.0.0.5;proto=https;host=api.example.com")]
    origin = resolve(make_headers, fields)
    assert origin == RequestOrigin("https", "api.example.com", "198.51.100.2", None)


def test_forwarded_repeated_fields_and_spaces(make_headers: MakeHeaders) -> None:
    fields = [("forwarded", "for=198.51.100.2"), ("forwarded", "for=10.0.0.5 ; proto=https ")]
    origin = resolve(make_headers, fields)
    assert (origin.scheme, origin.client_host) == ("https", "198.51.100.2")


@pytest.mark.parametrize(
    ("node", "host", "port"),
    [
        ("unknown", "unknown", None),
        ("UNKNOWN", "unknown", None),
        ("_hidden", "_hidden", None),
        ('"_hidden:_port"', "_hidden", None),
        ('"198.51.100.2:_p"', "198.51.100.2", None),
        ('"[2001:db8::1]:_p"', "2001:db8::1", None),
        ("[2001:db8::1]", "2001:db8::1", None),  # unquoted: not a token, accepted anyway
        ("2001:db8::1", "2001:db8::1", None),
        ('"198.51.100.2:8080"', "198.51.100.2", 8080),
    ],
)
def test_forwarded_node_forms(
    make_headers: MakeHeaders, node: str, host: str, port: int | None
) -> None:
    origin = resolve(make_headers, [("forwarded", f"for={node}, for=10.0.0.5")])
    assert (origin.client_host, origin.client_port) == (host, port)


def test_forwarded_identifier_stops_the_walk(make_headers: MakeHeaders) -> None:
    fields = [("forwarded", "for=198.51.100.2, for=_edge;proto=https, for=10.0.0.5")]
    origin = resolve(make_headers, fields)
    assert (origin.scheme, origin.client_host) == ("https", "_edge")


def test_forwarded_element_without_for_stops_at_the_peer(make_headers: MakeHeaders) -> None:
    fields = [("forwarded", "for=6.6.6.6, proto=https;host=api.example.com")]
    origin = resolve(make_headers, fields)
    assert origin == RequestOrigin("https", "api.example.com", "127.0.0.1", 50000)


def test_forwarded_quoted_string_escapes(make_headers: MakeHeaders) -> None:
    fields = [("forwarded", r'for=198.51.100.2;ext="a\"b,c;d", for=10.0.0.5')]
    assert resolve(make_headers, fields).client_host == "198.51.100.2"


def test_forwarded_wins_over_x_forwarded(make_headers: MakeHeaders) -> None:
    fields = [
        ("x-forwarded-for", "203.0.113.99"),
        ("x-forwarded-proto", "http"),
        ("forwarded", "for=198.51.100.2;proto=https"),
    ]
    origin = resolve(make_headers, fields)
    assert (origin.scheme, origin.client_host) == ("https", "198.51.100.2")


def test_empty_forwarded_falls_back_to_x_forwarded(make_headers: MakeHeaders) -> None:
    fields = [("forwarded", " , "), ("x-forwarded-for", "198.51.100.2")]
    assert resolve(make_headers, fields).client_host == "198.51.100.2"


@pytest.mark.parametrize(
    "value",
    [
        "for=198.51.100.2;for=198.51.100.3",  # a parameter twice
        'for="198.51.100.2',  # an unterminated quoted string
        "for=198.51.100.2;proto",  # no "="
        "for=198.51.100.999",
        'for="198.51.100.2:99999"',
        "for=198.51.100.2;proto=h%20ttp",
        'for=198.51.100.2;host="evil.example/x"',
        "for= 198.51.100.2",
        "for=198.51.100.2;pr oto=https",
        'for="a\x7fb"',
        "for=[::1",
        '"for"=198.51.100.2',
    ],
)
def test_forwarded_malformed_peer_element_believes_nothing(
    make_headers: MakeHeaders, value: str
) -> None:
    assert resolve(make_headers, [("forwarded", value), ("x-forwarded-for", "1.1.1.1")]) == DIRECT


def test_forwarded_malformed_further_left_stops_there(make_headers: MakeHeaders) -> None:
    fields = [("forwarded", "for=6.6.6.6;for=7.7.7.7, for=10.0.0.5;proto=https")]
    origin = resolve(make_headers, fields)
    assert origin == RequestOrigin("https", "internal:8000", "10.0.0.5", None)


def test_forwarded_malformed_beyond_an_untrusted_hop_is_never_read(
    make_headers: MakeHeaders,
) -> None:
    fields = [("forwarded", 'for="[broken, for=198.51.100.2')]
    assert resolve(make_headers, fields) == DIRECT  # the quote swallows the proxy's element
    fields = [("forwarded", "for=[broken;x=;y, for=198.51.100.2;proto=https")]
    origin = resolve(make_headers, fields)
    assert (origin.scheme, origin.client_host) == ("https", "198.51.100.2")


# --- properties --------------------------------------------------------------------------

HEADER_NAMES = ["forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "host"]
latin1_text = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=80)
fragments = st.sampled_from(
    [
        "for=",
        "proto=",
        "host=",
        "by=",
        '"',
        "\\",
        ";",
        ",",
        " ",
        "[",
        "]",
        ":",
        "_x",
        "unknown",
        "127.0.0.1",
        "10.0.0.1",
        "::1",
        "2001:db8::1",
        "::ffff:10.0.0.2",
        "203.0.113.7",
        "https",
        "80",
        "99999",
        "example.com",
    ]
)
headerish_text = st.lists(fragments, max_size=16).map("".join)
header_fields = st.lists(
    st.tuples(st.sampled_from(HEADER_NAMES), latin1_text | headerish_text), max_size=6
)
peers = st.none() | st.tuples(
    st.sampled_from(["127.0.0.1", "10.9.8.7", "::1", "203.0.113.50", "/run/sock", ""]),
    st.integers(0, 65535),
)
configs = st.sampled_from([TrustedProxies(), LOCAL, INTERNAL, TrustedProxies.parse("*")])


@settings(max_examples=400, deadline=None)
@given(fields=header_fields, peer=peers, trusted=configs)
def test_any_header_text_never_raises(
    fields: list[tuple[str, str]], peer: tuple[str, int] | None, trusted: TrustedProxies
) -> None:
    for lookup in (Headers(fields), RawLines(fields)):
        origin = resolve_origin(trusted, peer, lookup, "http")
        assert origin.scheme in {"http", "https", "ws", "wss"}
        assert origin.host is None or valid_host(origin.host) == origin.host
        assert origin.client_port is None or 0 <= origin.client_port <= 65535
        if peer is None or not trusted.trusts(peer[0]):
            direct_host = valid_host(lookup.get("host"))  # a malformed Host is no host
            assert origin == RequestOrigin("http", direct_host, *(peer or (None, None)))


addresses = st.ip_addresses(v=4).map(str) | st.ip_addresses(v=6).map(str)


@settings(max_examples=200, deadline=None)
@given(
    client=st.ip_addresses(v=4).filter(lambda a: not a.is_private).map(str),
    spoofed=st.lists(addresses, max_size=3),
    inner=st.lists(
        st.integers(1, 2**24 - 2).map(lambda n: str(ipaddress.ip_address(0x0A000000 + n))),
        max_size=3,
    ),
    style=st.sampled_from(["x-forwarded", "forwarded"]),
)
def test_walk_finds_the_first_untrusted_hop(
    client: str, spoofed: list[str], inner: list[str], style: str
) -> None:
    # The client sends anything; then each proxy appends the address of its own peer.
    chain = [*spoofed, client, *inner]
    if style == "x-forwarded":
        fields = [("x-forwarded-for", ", ".join(chain))]
    else:
        fields = [
            ("forwarded", ", ".join(f'for="[{a}]"' if ":" in a else f"for={a}" for a in chain))
        ]
    origin = resolve_origin(INTERNAL, PEER, Headers(fields), "http")
    assert origin.client_host == str(ipaddress.ip_address(client))
