"""Header, query and cookie parsing benchmark: duoweb compiled and pure against peers.

Run from the repository root (build the extension first)::

    .venv/bin/python benchmarks/bench_headers.py            # full run
    .venv/bin/python benchmarks/bench_headers.py --quick    # shorter repeats

Every contender parses the same realistic input in one process run: a browser's 12-header
request (as an ASGI header list and as a WSGI environ) for the Headers view, a 10-parameter
query string, a 6-cookie Cookie header, a browser Accept header, a Content-Type and a
Content-Length. Peers: ``urllib.parse.parse_qsl``, ``http.cookies.SimpleCookie``,
``werkzeug.http`` (``parse_options_header``, ``parse_accept_header``, ``parse_cookie``), and
for the header views Werkzeug's ``EnvironHeaders`` and Starlette's ``Headers``. The time per
call is the best of several interleaved repeats; ratios are against duoweb compiled (higher = duoweb
compiled is that many times faster). Timing is only reported, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import timeit
import warnings
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

# -- inputs ---------------------------------------------------------------------------------

BROWSER_HEADERS: list[tuple[str, str]] = [
    ("host", "api.example.com"),
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("accept-language", "en-US,en;q=0.5"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("content-type", "application/json; charset=utf-8"),
    ("content-length", "348"),
    ("origin", "https://www.example.com"),
    ("referer", "https://www.example.com/dashboard?tab=orders"),
    ("cookie", "sessionid=8f2c1e7a9b; csrftoken=QK3nV7pX2mW9; theme=dark"),
    ("connection", "keep-alive"),
    ("sec-fetch-mode", "cors"),
]
ASGI_HEADERS = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in BROWSER_HEADERS]
ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "POST",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/api/orders",
    "QUERY_STRING": "",
    "SERVER_NAME": "api.example.com",
    "SERVER_PORT": "443",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "10.0.0.7",
    "REMOTE_PORT": "53422",
    "RAW_URI": "/api/orders",
    "SERVER_SOFTWARE": "gunicorn/23.0.0",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "https",
    "wsgi.input": None,
    "wsgi.errors": None,
    "wsgi.multithread": False,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    "wsgi.file_wrapper": None,
    "wsgi.input_terminated": True,
    "gunicorn.socket": None,
}
for _name, _value in BROWSER_HEADERS:
    if _name in ("content-type", "content-length"):
        ENVIRON[_name.upper().replace("-", "_")] = _value
    else:
        ENVIRON["HTTP_" + _name.upper().replace("-", "_")] = _value
ASGI_SCOPE = {"type": "http", "headers": ASGI_HEADERS}

QUERY = (
    "q=wireless+headphones&category=electronics&min_price=50&max_price=300&sort=price_asc"
    "&page=2&per_page=24&brand=sony&brand=bose&in_stock=true"
)
COOKIE = (
    "sessionid=8f2c1e7a9b4d4e0f; csrftoken=QK3nV7pX2mW9zR4t; theme=dark; lang=en-US; "
    '_ga=GA1.2.1234567890.1700000000; consent="analytics:1"'
)
ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
OFFERS = ["application/json", "text/html"]
CONTENT_TYPE = "application/json; charset=utf-8"
CONTENT_LENGTH = "348"

# -- cases ----------------------------------------------------------------------------------


@dataclass
class Case:
    """One parser: what each contender runs per call, and which contenders are peers."""

    title: str
    stmts: dict[str, str]  # contender -> statement (timed with timeit, no wrapper call)
    peers: list[str] = field(default_factory=list)  # the contenders the 3x target is against
    target: str = "peers"  # "peers": >= 3x the fastest peer; "pure": >= 4x the pure twin


def build_cases() -> tuple[list[Case], dict[str, Any]]:
    """The cases and the globals their statements run in."""
    from http.cookies import SimpleCookie
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import EnvironHeaders, MIMEAccept
    from werkzeug.http import parse_accept_header, parse_cookie, parse_options_header

    from duoweb import _headers_py as pure

    try:
        from duoweb._speedups import _headers as compiled
    except ImportError:
        sys.exit(
            "build the extension first: .venv/bin/cythonize -i -3 duoweb/_speedups/_headers.pyx"
        )
    g: dict[str, Any] = {
        "C": compiled,
        "P": pure,
        "parse_qsl": parse_qsl,
        "SimpleCookie": SimpleCookie,
        "EnvironHeaders": EnvironHeaders,
        "MIMEAccept": MIMEAccept,
        "w_accept": parse_accept_header,
        "w_cookie": parse_cookie,
        "w_options": parse_options_header,
        "ASGI": ASGI_HEADERS,
        "SCOPE": ASGI_SCOPE,
        "ENV": ENVIRON,
        "QUERY": QUERY,
        "QUERY_B": QUERY.encode(),
        "COOKIE": COOKIE,
        "ACCEPT": ACCEPT,
        "OFFERS": OFFERS,
        "CT": CONTENT_TYPE,
        "CL": CONTENT_LENGTH,
        "RESPONSE": [("content-type", "application/json"), ("content-length", "348"),
                     ("set-cookie", "sid=abc; Path=/; HttpOnly"), ("x-request-id", "a1b2c3")],
    }  # fmt: skip
    read2 = "h.get('content-type'); h.get('accept')"
    cases = [
        Case(
            "Headers view, ASGI (12 headers, read 2)",
            {
                "duoweb compiled": f"h = C.Headers.from_asgi(ASGI); {read2}",
                "duoweb pure": f"h = P.Headers.from_asgi(ASGI); {read2}",
            },
            target="pure",
        ),
        Case(
            "Headers view, WSGI (12 headers, read 2)",
            {
                "duoweb compiled": f"h = C.Headers.from_environ(ENV); {read2}",
                "duoweb pure": f"h = P.Headers.from_environ(ENV); {read2}",
                "werkzeug EnvironHeaders": f"h = EnvironHeaders(ENV); {read2}",
            },
            target="pure",
        ),
        Case(
            "query string (10 params)",
            {
                "duoweb compiled": "C.parse_query(QUERY)",
                "duoweb compiled (bytes)": "C.parse_query(QUERY_B)",
                "duoweb pure": "P.parse_query(QUERY)",
                "urllib parse_qsl": "parse_qsl(QUERY, keep_blank_values=True)",
            },
            peers=["urllib parse_qsl"],
        ),
        Case(
            "Cookie (6 cookies)",
            {
                "duoweb compiled": "C.parse_cookie(COOKIE)",
                "duoweb pure": "P.parse_cookie(COOKIE)",
                "http.cookies SimpleCookie": "SimpleCookie(COOKIE)",
                "werkzeug parse_cookie": "w_cookie(COOKIE)",
            },
            peers=["http.cookies SimpleCookie", "werkzeug parse_cookie"],
        ),
        Case(
            "Content-Type",
            {
                "duoweb compiled": "C.parse_content_type(CT)",
                "duoweb pure": "P.parse_content_type(CT)",
                "werkzeug parse_options_header": "w_options(CT)",
            },
            peers=["werkzeug parse_options_header"],
        ),
        Case(
            "Accept (Chrome, 8 ranges)",
            {
                "duoweb compiled": "C.parse_accept(ACCEPT)",
                "duoweb pure": "P.parse_accept(ACCEPT)",
                "werkzeug parse_accept_header": "w_accept(ACCEPT)",
            },
            peers=["werkzeug parse_accept_header"],
        ),
        Case(
            "best_match (Chrome Accept, 2 offers)",
            {
                "duoweb compiled": "C.best_match(ACCEPT, OFFERS)",
                "duoweb pure": "P.best_match(ACCEPT, OFFERS)",
                "werkzeug MIMEAccept.best_match": "w_accept(ACCEPT, MIMEAccept).best_match(OFFERS)",
            },
            peers=["werkzeug MIMEAccept.best_match"],
        ),
        Case(
            "Content-Length",
            {
                "duoweb compiled": "C.parse_content_length(CL)",
                "duoweb pure": "P.parse_content_length(CL)",
            },
            target="pure",
        ),
        Case(
            "encode_headers (4 response headers)",
            {
                "duoweb compiled": "C.encode_headers(RESPONSE)",
                "duoweb pure": "P.encode_headers(RESPONSE)",
            },
            target="pure",
        ),
    ]
    try:
        from starlette.datastructures import Headers as StarletteHeaders
    except ImportError:
        pass
    else:
        g["SHeaders"] = StarletteHeaders
        cases[0].stmts["starlette Headers"] = f"h = SHeaders(scope=SCOPE); {read2}"
    return cases, g


# -- timing ---------------------------------------------------------------------------------


def calibrate(timer: timeit.Timer, budget: float) -> int:
    """How many executions take about ``budget`` seconds."""
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= budget / 4:
            return max(1, int(number * budget / elapsed))
        number *= 4 if elapsed < budget / 40 else 2


def time_case(
    stmts: dict[str, str], g: dict[str, Any], budget: float, repeats: int
) -> dict[str, float]:
    """Best-of-``repeats`` ns per execution of each statement, the contenders interleaved.

    Interleaving (A B C, A B C, ...) rather than timing each contender in one block keeps a
    burst of load on a shared machine from landing on one contender only.
    """
    timers = {name: timeit.Timer(stmt, globals=g) for name, stmt in stmts.items()}
    numbers = {name: calibrate(timer, budget) for name, timer in timers.items()}
    best = dict.fromkeys(stmts, float("inf"))
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, timer in timers.items():
                best[name] = min(best[name], timer.timeit(numbers[name]) / numbers[name] * 1e9)
    finally:
        gc.enable()
    return best


def main(argv: list[str] | None = None) -> None:
    """Time every case and print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter repeats (noisier)")
    args = parser.parse_args(argv)
    budget, repeats = (0.02, 5) if args.quick else (0.05, 20)
    warnings.simplefilter("ignore")
    cases, g = build_cases()
    print("| parser | contender | ns/call | ratio (contender / duoweb compiled) |")
    print("|---|---|---:|---:|")
    verdicts: list[str] = []
    for case in cases:
        times = time_case(case.stmts, g, budget, repeats)
        base = times["duoweb compiled"]
        for name, ns in times.items():
            ratio = "1.00x" if name == "duoweb compiled" else f"{ns / base:.2f}x"
            print(f"| {case.title} | {name} | {ns:,.0f} | {ratio} |")
        if case.target == "pure":
            got, need, against = times["duoweb pure"] / base, 4.0, "its pure twin"
        else:
            fastest = min(case.peers, key=times.__getitem__)
            got, need, against = times[fastest] / base, 3.0, f"fastest peer ({fastest})"
        status = "met" if got >= need else "NOT met"
        verdicts.append(
            f"- {case.title}: {got:.1f}x faster than {against} (target {need:.0f}x): {status}"
        )
    print()
    print("\n".join(verdicts))
    print()
    print(
        f"Python {sys.version.split()[0]}; best of {repeats} interleaved repeats of ~{budget}s"
        " per contender."
    )


if __name__ == "__main__":
    main()
