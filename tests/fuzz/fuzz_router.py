"""atheris fuzz target: arbitrary methods and paths into the compiled router.

Every lookup must give one of the documented answers -- (endpoint, params dict), (None, None)
or (None, sorted allowed tuple) -- never an exception, and exactly what the pure twin gives.
Run it directly for a long session (see tests/fuzz/README.md):

    .venv/bin/python tests/fuzz/fuzz_router.py -max_total_time=600
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

import atheris

with atheris.instrument_imports():
    from duoweb import _router_py
    from duoweb._speedups import _router as _compiled

TOKENS = [
    "",
    "a",
    "users",
    "me",
    "files",
    "1",
    "-1",
    "007",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "1.5",
    "-2.5e-3",
    "1e400",
    "nan",
    "inf",
    "0123abcd-4567-89ef-fedc-ba9876543210",
    "0123ABCD-4567-89EF-FEDC-BA9876543210",
    "..",
    ".",
    "\x00",
    "\ud800",
    "é",
    "日本",
    "💩",
]
ENDPOINTS = ("users", "user", "me", "file", "num", "flt", "uid", "slug", "deep", "root", "all")


def _slug(segment: str) -> str:
    if not segment.isalnum():
        raise ValueError(segment)
    return segment.lower()


def _build(module: Any) -> Any:
    router = module.Router()
    router.add_converter("slug", _slug)
    router.add("/", ["GET"], "root")
    router.add("/users", ["GET", "POST"], "users")
    router.add("/users/me", ["GET"], "me")
    router.add("/users/{id:int}", ["GET", "DELETE"], "user")
    router.add("/users/{name}/files/{rest:path}", ["GET"], "file")
    router.add("/n/{v:int}/{w:float}", ["PUT"], "num")
    router.add("/n/{v:float}", ["GET"], "flt")
    router.add("/n/{v:uuid}", ["GET"], "uid")
    router.add("/n/{v:slug}", ["GET"], "slug")
    router.add("/d/{a}/{b}/{c}/{d:int}/e", ["GET"], "deep")
    router.add("/any/{p:path}", ["GET", "OPTIONS"], "all")
    router.compile()
    return router


COMPILED = _build(_compiled)
PURE = _build(_router_py)


def _text(fdp: atheris.FuzzedDataProvider, limit: int) -> str:
    return str(fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, limit)))


def _path(fdp: atheris.FuzzedDataProvider) -> str:
    if fdp.ConsumeBool():
        return _text(fdp, 300)
    pieces = []
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        if fdp.ConsumeBool():
            pieces.append(TOKENS[fdp.ConsumeIntInRange(0, len(TOKENS) - 1)])
        else:
            pieces.append(_text(fdp, 40))
    prefix = "/" if fdp.ConsumeIntInRange(0, 15) else ""
    return prefix + "/".join(pieces)


def _check(result: object) -> None:
    assert isinstance(result, tuple), result
    assert len(result) == 2, result
    endpoint, extra = result
    if endpoint is None:
        if extra is not None:
            assert isinstance(extra, tuple), extra
            assert list(extra) == sorted(extra), extra
            assert "OPTIONS" in extra, extra
    else:
        assert endpoint in ENDPOINTS, endpoint
        assert isinstance(extra, dict), extra
        for value in extra.values():
            assert isinstance(value, str | int | float | uuid.UUID), value


def _same(a: object, b: object) -> bool:
    return repr(a) == repr(b) and a == b


def TestOneInput(data: bytes) -> None:
    """One fuzz input: a method and a path, looked up in both routers."""
    fdp = atheris.FuzzedDataProvider(data)
    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]
    pick = fdp.ConsumeIntInRange(0, len(methods))
    method = methods[pick] if pick < len(methods) else _text(fdp, 10)
    path = _path(fdp)
    got = COMPILED.match(method, path)
    _check(got)
    want = PURE.match(method, path)
    assert _same(got, want), (method, path, got, want)


def main() -> None:
    """Run the fuzzer with libFuzzer arguments from the command line."""
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
