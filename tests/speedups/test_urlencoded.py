"""The urlencoded form parser, compiled and pure: decoding, the field bound, odd input.

Both must give what duoweb's query-string parser (``duoweb.headers.parse_query``, the same
syntax, written and tested apart) gives for any body, and agree with each other exactly.
"""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duoweb._multipart_errors import TooManyParts
from duoweb.headers import parse_query
from tests.speedups.conftest import implementation


@pytest.mark.parametrize(
    ("body", "pairs"),
    [
        (b"", []),
        (b"a=1&b=2", [("a", "1"), ("b", "2")]),
        (b"name=J%C3%BCrgen+M%c3%bcller", [("name", "Jürgen Müller")]),
        (b"raw=J\xc3\xbcrgen", [("raw", "Jürgen")]),
        (b"plus=%2B+%2b", [("plus", "+ +")]),
        (b"a+b%3Dc=d%26e", [("a b=c", "d&e")]),
        (b"&&a=1&&&b&", [("a", "1"), ("b", "")]),
        (b"=v&k=", [("", "v"), ("k", "")]),
        (b"e=x=y=z", [("e", "x=y=z")]),
        (b"first+name=a+b+=c+", [("first name", "a b =c ")]),  # "+" only: written in place
        (b"+=+&++", [(" ", " "), ("  ", "")]),
        (b"bad=%zz%4%%41%", [("bad", "%zz%4%A%")]),
        (b"end=%4", [("end", "%4")]),
        (b"end=%41", [("end", "A")]),
        (b"utf8=%ff%C3&lone=\xff", [("utf8", "\ufffd\ufffd"), ("lone", "\ufffd")]),
        (b"nul=%00&space=%20", [("nul", "\x00"), ("space", " ")]),
    ],
)
def test_decoding(multipart_impl: ModuleType, body: bytes, pairs: list[tuple[str, str]]) -> None:
    assert multipart_impl.parse_urlencoded(body, 1000) == pairs


def test_the_field_bound_counts_non_empty_fields(multipart_impl: ModuleType) -> None:
    parse = multipart_impl.parse_urlencoded
    assert len(parse(b"a=1&&b=2&&&c", 3)) == 3
    for bound in (0, 2):
        with pytest.raises(TooManyParts, match="too many fields"):
            parse(b"a=1&&b=2&&&c", bound)
    assert parse(b"&&&", 0) == []


@pytest.mark.parametrize("unit", [b"&", b"=", b"%", b"%4", b"+", b"%41", b"\xff", b"a"])
def test_a_large_body_of_one_unit(multipart_impl: ModuleType, unit: bytes) -> None:
    """Each byte is handled a bounded number of times: 2 MiB of any one pattern parses."""
    body = unit * (2 * 1024 * 1024 // len(unit))
    pairs = multipart_impl.parse_urlencoded(body, 10**7)
    assert pairs == parse_query(body, 10**7).multi_items()


PIECES = [b"&", b"=", b"+", b"%", b"%2", b"%2B", b"%e2%82%ac", b"%C3", b"\xc3\xa9", b"\xff"]
BODIES = st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=6)), max_size=24).map(
    b"".join
)


@given(body=BODIES, bound=st.integers(min_value=0, max_value=8))
def test_both_implementations_match_the_query_parser(body: bytes, bound: int) -> None:
    pure = implementation("multipart", "pure")
    compiled = implementation("multipart", "compiled")
    outcomes = []
    for parse in (pure.parse_urlencoded, compiled.parse_urlencoded):
        try:
            outcomes.append(parse(body, bound))
        except TooManyParts as exc:
            outcomes.append(str(exc))
    fields = parse_query(body, 10**6).multi_items()
    expected = fields if len(fields) <= bound else "The form has too many fields."
    assert outcomes == [expected, expected]


def test_names_seen_before_give_the_same_fields(multipart_impl: ModuleType) -> None:
    """The compiled parser shares the strs of names it has seen: sharing changes no result.

    More distinct names than it keeps (4096), names as long as it keeps (32 bytes) and one
    longer, and names alike in their first and last 8 bytes (one hash) must each come back
    as sent, in every later parse too.
    """
    parse = multipart_impl.parse_urlencoded
    alike = [b"prefix__" + b"%02d" % i + b"__suffix" for i in range(100)]  # 20 bytes each
    names = [b"field%d" % i for i in range(6000)] + alike + [b"n" * 32, b"n" * 33, b""]
    body = b"&".join(name + b"=" + b"%d" % i for i, name in enumerate(names))
    expected = [(name.decode(), str(i)) for i, name in enumerate(names)]
    for _ in range(3):
        assert parse(body, 10**6) == expected
    repeated = parse(b"same=1&same=2&same=3", 10)
    assert [name for name, _ in repeated] == ["same"] * 3


@pytest.mark.parametrize("special", [b"&", b"=", b"+", b"%41", b"\xc3\xa9"])
def test_a_special_byte_at_every_offset(multipart_impl: ModuleType, special: bytes) -> None:
    """The compiled scanner reads 16 bytes at a time: a special byte in any lane, or in the
    tail shorter than 16, is found."""
    parse = multipart_impl.parse_urlencoded
    for at in range(48):
        body = b"k" * at + special + b"v" * (40 - at % 40)
        assert parse(body, 10**6) == parse_query(body, 10**6).multi_items(), (at, special)
        body = b"k=" + body
        assert parse(body, 10**6) == parse_query(body, 10**6).multi_items(), (at, special)
