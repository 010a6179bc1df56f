"""Query, header and cookie parameters declared in the signature, in both modes."""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Annotated, Any, Literal

import annotated_types
import msgspec
import pytest
from pydantic import Field

from duoweb import App, Cookie, Header, Query
from tests.conftest import MakeClient


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def build_app() -> App:
    app = App()

    @app.get("/search")
    async def search(
        q: str,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        user_agent: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        return {"q": q, "limit": limit, "agent": user_agent}

    @app.get("/types")
    def types(
        flag: bool = False,
        ratio: float = 0.5,
        when: datetime.date | None = None,
        ident: uuid.UUID | None = None,
        color: Color = Color.RED,
        order: Literal["asc", "desc"] = "asc",
    ) -> dict[str, Any]:
        return {
            "flag": flag,
            "ratio": ratio,
            "when": when.isoformat() if when else None,
            "ident": str(ident) if ident else None,
            "color": color.value,
            "order": order,
        }

    @app.get("/many")
    def many(tag: list[str] = [], n: list[int] = []) -> dict[str, Any]:  # noqa: B006
        return {"tag": tag, "n": n}

    @app.get("/constraints")
    def constraints(
        a: Annotated[int, msgspec.Meta(ge=0)] = 0,
        b: Annotated[int, annotated_types.Le(5)] = 0,
        c: Annotated[str, Field(min_length=2)] = "xx",
        d: Annotated[str, Query(pattern="^[a-z]+$")] = "abc",
    ) -> list[Any]:
        return [a, b, c, d]

    @app.get("/aliases")
    def aliases(
        page_size: Annotated[int, Query(alias="page-size")] = 20,
        token: Annotated[str, Header(alias="X-Token")] = "none",
        session: Annotated[str | None, Cookie()] = None,
        theme: Annotated[str, Cookie(alias="ui-theme")] = "light",
    ) -> dict[str, Any]:
        return {"page_size": page_size, "token": token, "session": session, "theme": theme}

    @app.get("/items/{item_id}")
    def item(item_id: int, verbose: bool = False) -> dict[str, Any]:
        return {"id": item_id, "verbose": verbose}

    return app


def test_query_and_header_parameters(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.get("/search?q=duo&limit=5", headers={"user-agent": "probe/1"})
        assert response.json() == {"q": "duo", "limit": 5, "agent": "probe/1"}
        assert client.get("/search?q=x&unknown=1").json()["limit"] == 10


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("", ["query", "q"]),
        ("?q=a&limit=0", ["query", "limit"]),
        ("?q=a&limit=101", ["query", "limit"]),
        ("?q=a&limit=ten", ["query", "limit"]),
        ("?q=a&limit=5.0", ["query", "limit"]),
        ("?q=a&limit=+5", ["query", "limit"]),
    ],
)
def test_query_validation_errors_are_422_with_loc(
    make_client: MakeClient, query: str, loc: list[str]
) -> None:
    with make_client(build_app()) as client:
        response = client.get(f"/search{query}")
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        errors = response.json()["errors"]
        assert [e["loc"] for e in errors] == [loc]
        assert all(isinstance(e["msg"], str) and isinstance(e["type"], str) for e in errors)


def test_every_error_is_reported_at_once(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.get("/types?flag=maybe&ratio=x&when=never&order=up")
        locs = sorted(tuple(e["loc"]) for e in response.json()["errors"])
        assert locs == [
            ("query", "flag"),
            ("query", "order"),
            ("query", "ratio"),
            ("query", "when"),
        ]


def test_scalar_types_convert_from_text(make_client: MakeClient) -> None:
    ident = uuid.uuid4()
    with make_client(build_app()) as client:
        response = client.get(
            f"/types?flag=true&ratio=2.5&when=2024-02-29&ident={ident}&color=blue&order=desc"
        )
        assert response.json() == {
            "flag": True,
            "ratio": 2.5,
            "when": "2024-02-29",
            "ident": str(ident),
            "color": "blue",
            "order": "desc",
        }
        assert client.get("/types?color=green").status_code == 422
        assert client.get("/types?ident=nope").status_code == 422


def test_repeated_query_keys_fill_lists(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        assert client.get("/many?tag=a&tag=b&n=1&n=2").json() == {"tag": ["a", "b"], "n": [1, 2]}
        assert client.get("/many").json() == {"tag": [], "n": []}
        assert client.get("/many?n=1&n=x").status_code == 422


def test_constraints_from_msgspec_annotated_types_pydantic_and_query(
    make_client: MakeClient,
) -> None:
    with make_client(build_app()) as client:
        assert client.get("/constraints?a=1&b=5&c=ok&d=xyz").json() == [1, 5, "ok", "xyz"]
        for bad in ("a=-1", "b=6", "c=x", "d=ABC"):
            response = client.get(f"/constraints?{bad}")
            assert response.status_code == 422, bad
            assert response.json()["errors"][0]["loc"] == ["query", bad[0]]


def test_aliases_headers_and_cookies(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.get(
            "/aliases?page-size=50",
            headers={"x-token": "t0k", "cookie": "session=abc; ui-theme=dark"},
        )
        assert response.json() == {
            "page_size": 50,
            "token": "t0k",
            "session": "abc",
            "theme": "dark",
        }
        assert client.get("/aliases").json() == {
            "page_size": 20,
            "token": "none",
            "session": None,
            "theme": "light",
        }
        bad = client.get("/aliases?page-size=x")
        assert bad.json()["errors"][0]["loc"] == ["query", "page-size"]


def test_path_and_query_together(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        assert client.get("/items/3?verbose=1").json() == {"id": 3, "verbose": True}


def test_too_many_query_parameters_is_400(make_client: MakeClient) -> None:
    app = App(max_query_params=5)

    @app.get("/q")
    def q(a: str = "") -> str:
        return a

    with make_client(app) as client:
        assert client.get("/q?a=1&b=2").status_code == 200
        response = client.get("/q?" + "&".join(f"k{i}=v" for i in range(6)))
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"


def test_float_query_values_must_be_finite(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        assert client.get("/types?ratio=1e3").json()["ratio"] == 1000.0
        for bad in ("nan", "inf", "-Infinity", "1e999"):
            response = client.get(f"/types?ratio={bad}")
            assert response.status_code == 422, bad
            assert response.json()["errors"][0]["loc"] == ["query", "ratio"]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("n=5", 200, None),
        ("n=1", 200, None),
        ("n=9", 200, None),
        ("n=0", 422, "Expected `int` >= 1"),
        ("n=10", 422, "Expected `int` <= 9"),
        ("m=3", 200, None),
        ("m=2", 422, "Expected `int` >= 3"),
        ("m=7", 422, "Expected `int` <= 6"),
        ("n=0005", 200, None),
        ("n=-3", 422, "Expected `int` >= 1"),
        ("n=" + "9" * 30, 422, "Expected `int` <= 9"),
        ("n=%2B5", 422, "Expected an integer (ASCII digits with an optional leading -)"),
        ("n=%D9%A3", 422, "Expected an integer (ASCII digits with an optional leading -)"),
        ("n=5.0", 422, "Expected an integer (ASCII digits with an optional leading -)"),
    ],
)
def test_int_bounds_inclusive_and_exclusive(
    make_client: MakeClient, query: str, status: int, message: str | None
) -> None:
    app = App()

    @app.get("/bounded")
    def bounded(
        n: Annotated[int, Query(ge=1, le=9)] = 5,
        m: Annotated[int, annotated_types.Gt(2), annotated_types.Lt(7)] = 4,
    ) -> list[int]:
        return [n, m]

    with make_client(app) as client:
        response = client.get(f"/bounded?{query}")
        assert response.status_code == status
        if message is not None:
            assert response.json()["errors"][0]["msg"] == message


# Issue 20, item 3: an int the handler did not bound is still a signed 64-bit number.
INT64_MAX = 2**63 - 1


@pytest.mark.parametrize("handler_kind", ["def", "async def"])
@pytest.mark.parametrize(
    ("where", "good", "bad"),
    [
        ("query", {"params": {"n": str(INT64_MAX)}}, {"params": {"n": str(INT64_MAX + 1)}}),
        ("query", {"params": {"n": str(-INT64_MAX - 1)}}, {"params": {"n": str(-INT64_MAX - 2)}}),
        ("list", {"params": {"ns": ["1", str(INT64_MAX)]}}, {"params": {"ns": ["1", "9" * 30]}}),
        ("multiple", {"params": {"k": "3"}}, {"params": {"k": str(2**63 + 1)}}),
        ("lower-only", {"params": {"o": "0"}}, {"params": {"o": str(INT64_MAX + 1)}}),
        ("header", {"headers": {"x-n": "7"}}, {"headers": {"x-n": str(INT64_MAX + 1)}}),
        ("cookie", {"headers": {"cookie": "c=7"}}, {"headers": {"cookie": f"c={INT64_MAX + 1}"}}),
        ("form", {"data": {"f": "7"}}, {"data": {"f": str(INT64_MAX + 1)}}),
    ],
)
def test_unbounded_ints_default_to_signed_64_bits(
    make_client: MakeClient,
    handler_kind: str,
    where: str,
    good: dict[str, Any],
    bad: dict[str, Any],
) -> None:
    from duoweb import Form

    app = App()

    def reply(**values: Any) -> dict[str, Any]:
        return {k: v for k, v in values.items() if v is not None}

    if handler_kind == "def":

        @app.post("/n")
        def numbers(
            n: int | None = None,
            ns: Annotated[list[int], Query()] = [],  # noqa: B006
            k: Annotated[int, Query(multiple_of=3)] = 0,
            o: Annotated[int, Query(ge=0)] = 0,
            x_n: Annotated[int, Header()] = 0,
            c: Annotated[int, Cookie()] = 0,
            f: Annotated[int, Form()] = 0,
        ) -> dict[str, Any]:
            return reply(n=n, ns=ns, k=k, o=o, x_n=x_n, c=c, f=f)

    else:

        @app.post("/n")
        async def numbers_async(
            n: int | None = None,
            ns: Annotated[list[int], Query()] = [],  # noqa: B006
            k: Annotated[int, Query(multiple_of=3)] = 0,
            o: Annotated[int, Query(ge=0)] = 0,
            x_n: Annotated[int, Header()] = 0,
            c: Annotated[int, Cookie()] = 0,
            f: Annotated[int, Form()] = 0,
        ) -> dict[str, Any]:
            return reply(n=n, ns=ns, k=k, o=o, x_n=x_n, c=c, f=f)

    with make_client(app) as client:
        assert client.post("/n", **good).status_code == 200
        response = client.post("/n", **bad)
        assert response.status_code == 422, response.text
        message = response.json()["errors"][0]["msg"]
        assert message.startswith("Expected `int` "), message
