"""atheris fuzz target for the compiled header, query and cookie parsers.

The first input byte picks the parser; the rest is the input. Each call goes to the compiled
extension and to the pure twin (whose coverage guides atheris): both must return the same value
or raise the same documented exception class, and nothing else may escape. Run it directly::

    .venv/bin/python tests/fuzz/fuzz_headers.py -runs=200000
    .venv/bin/python tests/fuzz/fuzz_headers.py -max_total_time=60 corpus_dir/

``tests/fuzz/test_fuzz_headers.py`` runs it for ~20 seconds under pytest (``-m fuzz``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import atheris

import duoweb._header_errors as errors

with atheris.instrument_imports(include=["duoweb._headers_py"]):
    from duoweb import _headers_py as pure

from duoweb._speedups import _headers as compiled

#: What each parser may raise on hostile input; anything else is a bug.
ALLOWED: dict[str, tuple[type[BaseException], ...]] = {
    "parse_query": (errors.TooManyQueryParameters,),
    "parse_content_length": (errors.InvalidContentLength,),
    "format_set_cookie": (errors.InvalidCookie,),
    "check_header": (errors.UnsafeHeader,),
    "encode_headers": (errors.UnsafeHeader,),
}


def normalize(value: Any) -> Any:
    """Plain data for Headers / QueryParams results, so the two implementations compare."""
    if type(value).__name__ == "QueryParams":
        return ("QueryParams", value.multi_items(), list(value.items()))
    if type(value).__name__ == "Headers":
        return ("Headers", list(value.items()), [value.getall(n) for n in value])
    return value


def outcome(module: ModuleType, name: str, args: tuple[Any, ...]) -> tuple[str, Any]:
    """Call ``module.name(*args)``: the normalized result, or the allowed exception's class."""
    try:
        return ("ok", normalize(getattr(module, name)(*args)))
    except ALLOWED.get(name, ()) as exc:
        return ("raised", type(exc))


def differential(name: str, *args: Any) -> None:
    """Both implementations must agree exactly."""
    expected = outcome(pure, name, args)
    got = outcome(compiled, name, args)
    if got != expected:
        raise AssertionError(f"{name}{args!r}: compiled {got!r} != pure {expected!r}")


def headers_view(fdp: atheris.FuzzedDataProvider) -> None:
    """ASGI and environ views: lazy lookups, full maps and getall agree with the pure twin."""
    raw = [
        (
            fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 12)),
            fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 20)),
        )
        for _ in range(fdp.ConsumeIntInRange(0, 8))
    ]
    probes = [fdp.ConsumeUnicodeNoSurrogates(8) for _ in range(3)]
    probes += [name.decode("latin-1") for name, _ in raw]
    environ = {
        "HTTP_" + p.upper().replace("-", "_"): fdp.ConsumeUnicodeNoSurrogates(8) for p in probes
    }
    environ["CONTENT_TYPE"] = fdp.ConsumeUnicodeNoSurrogates(8)
    for build, source in (("from_asgi", raw), ("from_environ", environ)):
        ours = getattr(compiled.Headers, build)(source)
        theirs = getattr(pure.Headers, build)(source)
        for probe in probes:
            if ours.get(probe) != theirs.get(probe) or ours.getall(probe) != theirs.getall(probe):
                raise AssertionError(f"{build}({source!r}) differs on {probe!r}")
        if list(ours.items()) != list(theirs.items()):
            raise AssertionError(
                f"{build}({source!r}): {list(ours.items())} != {list(theirs.items())}"
            )


def set_cookie(fdp: atheris.FuzzedDataProvider) -> None:
    """Set-Cookie formatting with fuzzed name, value and attributes."""
    name = fdp.ConsumeUnicodeNoSurrogates(10)
    value = fdp.ConsumeUnicodeNoSurrogates(20)
    kwargs: dict[str, Any] = {
        "max_age": fdp.ConsumeIntInRange(-10, 10**9) if fdp.ConsumeBool() else None,
        "expires": fdp.ConsumeIntInRange(0, 4 * 10**9) if fdp.ConsumeBool() else None,
        "path": fdp.ConsumeUnicodeNoSurrogates(10) if fdp.ConsumeBool() else "/",
        "domain": fdp.ConsumeUnicodeNoSurrogates(10) if fdp.ConsumeBool() else None,
        "secure": fdp.ConsumeBool(),
        "httponly": fdp.ConsumeBool(),
        "samesite": fdp.PickValueInList([None, "lax", "strict", "none", "Lax", "x"]),
        "partitioned": fdp.ConsumeBool(),
    }
    results = []
    for module in (pure, compiled):
        try:
            results.append(("ok", module.format_set_cookie(name, value, **kwargs)))
        except errors.InvalidCookie:
            results.append(("raised", errors.InvalidCookie))
    if results[0] != results[1]:
        raise AssertionError(f"format_set_cookie({name!r}, {value!r}, {kwargs}): {results}")
    if results[0][0] == "ok" and any(c in results[0][1] for c in "\r\n\x00"):
        raise AssertionError(f"Set-Cookie with a line break: {results[0][1]!r}")


def text_target(name: str) -> Callable[[atheris.FuzzedDataProvider], None]:
    """A target feeding one fuzzed str to parser ``name``."""

    def run(fdp: atheris.FuzzedDataProvider) -> None:
        differential(name, fdp.ConsumeUnicode(fdp.remaining_bytes()))

    return run


def query_bytes(fdp: atheris.FuzzedDataProvider) -> None:
    """A raw query string with a small parameter bound."""
    bound = fdp.ConsumeIntInRange(0, 40)
    differential("parse_query", fdp.ConsumeBytes(fdp.remaining_bytes()), bound)


def query_text(fdp: atheris.FuzzedDataProvider) -> None:
    """A query string given as str (surrogates included)."""
    differential("parse_query", fdp.ConsumeUnicode(fdp.remaining_bytes()))


def best_match(fdp: atheris.FuzzedDataProvider) -> None:
    """Content negotiation with fuzzed Accept and offers."""
    offers = [fdp.ConsumeUnicodeNoSurrogates(12) for _ in range(fdp.ConsumeIntInRange(0, 4))]
    offers += fdp.PickValueInList([[], ["application/json"], ["text/html", "application/json"]])
    differential("best_match", fdp.ConsumeUnicode(fdp.remaining_bytes()), offers)


def response_header(fdp: atheris.FuzzedDataProvider) -> None:
    """check_header / encode_headers never let CR, LF or NUL through."""
    name = fdp.ConsumeUnicode(12)
    value = fdp.ConsumeUnicode(fdp.remaining_bytes())
    differential("check_header", name, value)
    differential("encode_headers", [(name, value)])
    try:
        ((bname, bvalue),) = compiled.encode_headers([(name, value)])
    except errors.UnsafeHeader:
        return
    if any(c in bname + bvalue for c in (b"\r", b"\n", b"\x00")):
        raise AssertionError(f"unsafe header let through: {name!r}: {value!r}")


TARGETS: list[Callable[[atheris.FuzzedDataProvider], None]] = [
    query_bytes,
    query_text,
    text_target("parse_content_type"),
    text_target("parse_content_length"),
    text_target("parse_accept"),
    best_match,
    text_target("parse_cookie"),
    set_cookie,
    response_header,
    headers_view,
]


def test_one_input(data: bytes) -> None:
    """Dispatch on the first byte to one parser target."""
    if not data:
        return
    fdp = atheris.FuzzedDataProvider(data[1:])
    TARGETS[data[0] % len(TARGETS)](fdp)


def main() -> None:
    """Run atheris with the command-line libFuzzer flags."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
