"""atheris target: whole requests through an App's WSGI or ASGI callable, in-process.

Each input becomes one request -- method, path bytes, query, headers, body, framing -- sent to
the reference app (benchmarks/app.py) or to tests/robustness/kinds_app.py (a route for every
parameter kind), through ``app.wsgi`` or ``app.asgi`` as ``DUOWEB_FUZZ_MODE`` says. Nothing may
escape the callable, the status must never be 5xx, and the answer must be well-formed (one
status line, safe headers, a matching Content-Length, problem+json for every error). Run it
directly for a long session (see tests/fuzz/README.md):

    DUOWEB_FUZZ_MODE=asgi PYTHONPATH=. .venv/bin/python tests/fuzz/fuzz_app.py \
        -max_total_time=600
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

import atheris

with atheris.instrument_imports(include=["duoweb"]):
    import duoweb.app
    import duoweb.asgi
    import duoweb.dependency_graph
    import duoweb.endpoints
    import duoweb.form_linebreaks
    import duoweb.form_params
    import duoweb.form_parsing
    import duoweb.formdata
    import duoweb.models
    import duoweb.params
    import duoweb.requests
    import duoweb.responses
    import duoweb.signatures
    import duoweb.wsgi

import benchmarks.app as reference
from tests.robustness.inprocess import (
    Answer,
    RawRequest,
    call_asgi,
    call_wsgi,
    check_client_error_contract,
)
from tests.robustness.kinds_app import build_app

MODE = os.environ.get("DUOWEB_FUZZ_MODE", "wsgi")
if MODE not in ("wsgi", "asgi"):
    raise SystemExit(f"DUOWEB_FUZZ_MODE must be wsgi or asgi, not {MODE!r}")

logging.disable(logging.CRITICAL)  # 4xx are expected; failures surface as crashes
APPS = (reference.app, build_app())
LOOP = asyncio.new_event_loop()

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "FOO", ""]
#: (app index, method, path template): "{}" is filled with a fuzzed segment.
ROUTES = [
    (0, "GET", b"/plaintext"), (0, "GET", b"/json"), (0, "GET", b"/api/v1/r{}/{}"),
    (0, "GET", b"/search"), (0, "POST", b"/items"), (1, "GET", b"/p/int/{}"),
    (1, "GET", b"/p/float/{}"), (1, "GET", b"/p/uuid/{}"), (1, "GET", b"/p/str/{}"),
    (1, "GET", b"/p/path/{}/{}"), (1, "GET", b"/q"), (1, "GET", b"/h"), (1, "GET", b"/dep/{}"),
    (1, "GET", b"/request"), (1, "POST", b"/b/struct"), (1, "POST", b"/b/pydantic"),
    (1, "POST", b"/b/dataclass"), (1, "POST", b"/b/typeddict"), (1, "POST", b"/b/list"),
    (1, "POST", b"/b/json"), (1, "POST", b"/b/raw"), (1, "PUT", b"/b/optional"),
    (1, "POST", b"/form/fields"), (1, "POST", b"/form/upload"), (1, "POST", b"/form/model"),
]  # fmt: skip
TOKENS = [
    b"", b"0", b"-1", b"007", b"1.5", b"1e400", b"nan", b"inf", b"-0", b"7", b"42",
    b"9223372036854775807", b"9223372036854775808", b"9" * 30, b"1" * 4301,
    b"0123abcd-4567-89ef-fedc-ba9876543210", b"%ff", b"%c0%af", b"%ed%a0%80", b"%00", b"%2f",
    b"%", b"%zz", b"%4", b"..", b".", b"<script>", b"\xff", b"\xc3\xa9", b"true", b"red",
    b"P1D", b"2024-02-30", b"12:00", b"2024-01-01T00:00:00Z", b"sNaN", b"a" * 300, b"a,b",
    b'"q"', b"session=1; visits=2", b"application/json", b"*/*;q=0.5", b"chunked",
]  # fmt: skip
PARAMS = [
    b"q", b"limit", b"s", b"i", b"bounded", b"f", b"b", b"u", b"dt", b"d", b"t", b"td", b"dec",
    b"color", b"lit", b"many", b"pattern",
]  # fmt: skip
HEADERS = [
    b"content-type", b"content-length", b"cookie", b"accept", b"x-text", b"x-number", b"x-list",
    b"x-token", b"host", b"transfer-encoding", b"x_text", b"expect", b"authorization",
]  # fmt: skip
KEYS = [
    b"name", b"price", b"tags", b"x", b"y", b"children", b"count", b"amount", b"when", b"left",
    b"right", b"key", b"value", b"\xff", b"\\ud800", b"",
]  # fmt: skip
SCALARS = [
    b"1", b"-1", b"0.5", b"1e400", b"-1e400", b"1" * 5000, b"9" * 25, b'"a"', b'"\xff"',
    b'"\xc0\xaf"', b'"\\ud800"', b'"\\u0000"', b"null", b"true", b"NaN", b'"2024-01-01"',
    b'"1e999999999"', b'""', b"[" * 3000, b"{",
]  # fmt: skip
CONTENT_TYPES = [b"application/json", b"application/json; charset=utf-8", b"text/plain", b""]
BOUNDARY = b"fuzzBoundary"
FORM_TYPES = [
    b"multipart/form-data; boundary=fuzzBoundary", b'multipart/form-data; boundary="fuzzBoundary"',
    b"multipart/form-data", b"multipart/form-data; boundary=other",
    b"application/x-www-form-urlencoded", b"application/json",
]  # fmt: skip
FORM_NAMES = [b"name", b"count", b"tags", b"color", b"file", b"note", b"left", b"right", b""]
PART_HEADERS = [
    b'Content-Disposition: form-data; name="%s"', b'Content-Disposition: form-data; name="%s"; '
    b'filename="a.txt"', b"Content-Disposition: form-data; name=\"%s\"; filename*=UTF-8''%%E2",
    b"Content-Type: text/plain", b"Content-Disposition: attachment; name=%s", b"X: y", b"bad",
]  # fmt: skip


def _pick(fdp: atheris.FuzzedDataProvider, items: list[Any]) -> Any:
    return items[fdp.ConsumeIntInRange(0, len(items) - 1)]


def _bytes(fdp: atheris.FuzzedDataProvider, limit: int) -> bytes:
    return bytes(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, limit)))


def _piece(fdp: atheris.FuzzedDataProvider, known: list[bytes]) -> bytes:
    choice = fdp.ConsumeIntInRange(0, 3)
    if choice == 0:
        return bytes(_pick(fdp, known))
    if choice == 1:
        return bytes(_pick(fdp, TOKENS))
    raw = _bytes(fdp, 24)
    if choice == 2:  # percent-encode everything a server would refuse raw
        return b"".join(
            bytes([c]) if 0x21 <= c < 0x7F and c not in b"%?#/" else b"%%%02X" % c for c in raw
        )
    return raw  # as is: odd bytes that a lenient server might pass


def _target(fdp: atheris.FuzzedDataProvider, template: bytes) -> bytes:
    if fdp.ConsumeIntInRange(0, 7):
        path = template
        while b"{}" in path:
            path = path.replace(b"{}", _piece(fdp, TOKENS), 1)
    else:  # anything at all
        segments = [_piece(fdp, TOKENS) for _ in range(fdp.ConsumeIntInRange(0, 6))]
        path = (b"/" if fdp.ConsumeIntInRange(0, 15) else b"") + b"/".join(segments)
    if not fdp.ConsumeBool():
        return path
    pairs = []
    for _ in range(fdp.ConsumeIntInRange(0, 6)):
        pairs.append(_piece(fdp, PARAMS) + b"=" + _piece(fdp, TOKENS))
    return path + b"?" + b"&".join(pairs)


def _json(fdp: atheris.FuzzedDataProvider, depth: int = 0) -> bytes:
    kind = fdp.ConsumeIntInRange(0, 3) if depth < 3 else 0
    if kind == 0:
        return bytes(_pick(fdp, SCALARS))
    if kind == 1:
        items = [_json(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
        return b"[" + b",".join(items) + b"]"
    members = [
        b'"' + _pick(fdp, KEYS) + b'":' + _json(fdp, depth + 1)
        for _ in range(fdp.ConsumeIntInRange(0, 4))
    ]
    text = b"{" + b",".join(members) + b"}"
    return text if kind == 2 else text[: fdp.ConsumeIntInRange(0, len(text))]  # cut short


def _form(fdp: atheris.FuzzedDataProvider) -> bytes:
    """A multipart or urlencoded body, well-formed or broken in the ways clients break them."""
    if not fdp.ConsumeIntInRange(0, 3):
        pairs = [_pick(fdp, FORM_NAMES) + b"=" + _piece(fdp, TOKENS) for _ in range(5)]
        return b"&".join(pairs[: fdp.ConsumeIntInRange(0, 5)])
    newline = b"\r\n" if fdp.ConsumeIntInRange(0, 5) else b"\n"
    body = b""
    for _ in range(fdp.ConsumeIntInRange(0, 5)):
        lines = [
            _pick(fdp, PART_HEADERS).replace(b"%s", _pick(fdp, FORM_NAMES))
            for _ in range(fdp.ConsumeIntInRange(0, 3))
        ]
        content = _piece(fdp, TOKENS) if fdp.ConsumeBool() else _bytes(fdp, 64)
        body += b"--" + BOUNDARY + newline + newline.join(lines) + newline * 2
        body += content + newline
    body += b"--" + BOUNDARY + b"--" + newline
    if not fdp.ConsumeIntInRange(0, 3):
        body = body[: fdp.ConsumeIntInRange(0, len(body))]  # cut short
    return body


def _request(fdp: atheris.FuzzedDataProvider) -> tuple[int, RawRequest]:
    app_index, method, template = _pick(fdp, ROUTES)
    if not fdp.ConsumeIntInRange(0, 7):
        method = _pick(fdp, METHODS) if fdp.ConsumeBool() else _bytes(fdp, 12).decode("latin-1")
    target = _target(fdp, template)
    headers: list[tuple[bytes, bytes]] = []
    body = b""
    if template.startswith(b"/form/") and fdp.ConsumeIntInRange(0, 7):
        body = _form(fdp)
        headers.append((b"content-type", _pick(fdp, FORM_TYPES)))
    elif method in ("POST", "PUT") or not fdp.ConsumeIntInRange(0, 7):
        body = _json(fdp) if fdp.ConsumeIntInRange(0, 4) else _bytes(fdp, 256)
        content_type = b"application/json" if fdp.ConsumeIntInRange(0, 4) else None
        headers.append((b"content-type", content_type or _pick(fdp, CONTENT_TYPES)))
    for _ in range(fdp.ConsumeIntInRange(0, 4)):
        name = _pick(fdp, HEADERS)
        value = _piece(fdp, TOKENS).replace(b"\r", b"").replace(b"\n", b"")
        headers.append((name, value))
    chunked = bool(body) and fdp.ConsumeIntInRange(0, 3) == 0
    return app_index, RawRequest(method, target, tuple(headers), body, chunked)


def _send(app: duoweb.app.App, request: RawRequest) -> Answer:
    if MODE == "wsgi":
        return call_wsgi(app, request)
    return call_asgi(app, request, LOOP)


def test_one_input(data: bytes) -> None:
    """One request; any escaping exception or broken contract is a crash."""
    fdp = atheris.FuzzedDataProvider(data)
    app_index, request = _request(fdp)
    answer = _send(APPS[app_index], request)
    check_client_error_contract(answer, request.method)


def main() -> None:
    """Run atheris with the command-line options (see the module docstring)."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
