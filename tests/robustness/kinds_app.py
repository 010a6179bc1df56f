"""An app with a route for every kind of parameter, for hostile-input tests and fuzzing.

Every handler echoes what it received, so a value that reaches a handler also reaches the
response encoder: input that survives conversion must survive encoding too.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal, TypedDict

import msgspec
from pydantic import BaseModel, Field

from duoweb import (
    App,
    Cookie,
    Depends,
    Form,
    FormData,
    FormLimits,
    Header,
    Query,
    Request,
    Response,
    UploadFile,
)


class Color(enum.Enum):
    """An enum query parameter."""

    RED = "red"
    BLUE = "blue"


class Point(msgspec.Struct):
    """A msgspec body model with nesting and numbers."""

    x: int
    y: float
    tags: list[str] = []
    children: list[Point] = []


class PydanticItem(BaseModel):
    """A pydantic body model with constraints."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    count: int = 0
    price: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    amount: decimal.Decimal = decimal.Decimal(0)
    when: datetime.datetime | None = None


@dataclasses.dataclass
class DataPair:
    """A dataclass body model."""

    left: int
    right: str


class TypedPair(TypedDict):
    """A TypedDict body model."""

    key: str
    value: int


def build_app(**options: Any) -> App:
    """A fresh app with every parameter kind; ``options`` go to ``App(...)``."""
    app = App(openapi_url=None, docs_url=None, **options)

    @app.get("/p/int/{v}")
    def path_int(v: int) -> dict[str, int]:
        return {"v": v}

    @app.get("/p/float/{v}")
    def path_float(v: float) -> dict[str, float]:
        return {"v": v}

    @app.get("/p/uuid/{v}")
    def path_uuid(v: uuid.UUID) -> dict[str, str]:
        return {"v": str(v)}

    @app.get("/p/str/{v}")
    async def path_str(v: str) -> dict[str, str]:
        return {"v": v}

    @app.get("/p/path/{v:path}")
    def path_path(v: str) -> dict[str, str]:
        return {"v": v}

    @app.get("/q")
    def query_kinds(
        s: str = "",
        i: int = 0,
        bounded: Annotated[int, Query(ge=-5, le=5)] = 0,
        f: float = 0.0,
        b: bool = False,
        u: uuid.UUID | None = None,
        dt: datetime.datetime | None = None,
        d: datetime.date | None = None,
        t: datetime.time | None = None,
        td: datetime.timedelta | None = None,
        dec: decimal.Decimal | None = None,
        color: Color = Color.RED,
        lit: Literal["a", "b"] = "a",
        many: list[int] | None = None,
        pattern: Annotated[str, Query(pattern="^[a-z]+$", max_length=8)] = "x",
    ) -> dict[str, Any]:
        return {
            "s": s,
            "i": i,
            "bounded": bounded,
            "f": f,
            "b": b,
            "u": u,
            "dt": dt,
            "d": d,
            "t": t,
            "td": td,
            "dec": dec,
            "color": color,
            "lit": lit,
            "many": many,
            "pattern": pattern,
        }

    @app.get("/h")
    async def header_kinds(
        x_text: Annotated[str, Header()] = "",
        x_number: Annotated[int, Header()] = 0,
        x_list: Annotated[list[str] | None, Header()] = None,
        session: Annotated[str, Cookie()] = "",
        visits: Annotated[int, Cookie()] = 0,
    ) -> dict[str, Any]:
        return {
            "x_text": x_text,
            "x_number": x_number,
            "x_list": x_list,
            "session": session,
            "visits": visits,
        }

    @app.post("/b/struct")
    def body_struct(point: Point) -> Point:
        return point

    @app.post("/b/pydantic")
    async def body_pydantic(item: PydanticItem) -> PydanticItem:
        return item

    @app.post("/b/dataclass")
    def body_dataclass(pair: DataPair) -> DataPair:
        return pair

    @app.post("/b/typeddict")
    def body_typeddict(pair: TypedPair) -> dict[str, Any]:
        return dict(pair)

    @app.post("/b/list")
    def body_list(points: list[Point]) -> int:
        return len(points)

    @app.put("/b/optional")
    def body_optional(point: Point | None = None) -> bool:
        return point is not None

    @app.post("/b/json")
    def body_json(request: Request) -> Any:
        return request.json()

    @app.post("/b/raw", max_body_size=4096)
    async def body_raw(request: Request) -> Response:
        return Response(request.body, media_type="application/octet-stream")

    def provider(request: Request, x_token: Annotated[str, Header()] = "") -> Iterator[str]:
        request.state["token"] = x_token
        yield x_token

    @app.get("/dep/{item}")
    def with_dependency(item: int, token: Annotated[str, Depends(provider)]) -> dict[str, Any]:
        return {"item": item, "token": token}

    small_form = FormLimits(max_parts=8, max_files=2, max_part_header_size=512, max_field_size=64)

    @app.post("/form/fields", form_limits=small_form)
    def form_fields(
        name: Annotated[str, Form(min_length=1)],
        count: Annotated[int, Form(ge=0)] = 0,
        tags: Annotated[list[str], Form()] = [],  # noqa: B006
        color: Annotated[Color | None, Form()] = None,
    ) -> dict[str, Any]:
        return {"name": name, "count": count, "tags": tags, "color": color}

    @app.post("/form/upload", max_body_size=8192, form_limits=small_form)
    async def form_upload(
        file: UploadFile, note: Annotated[str | None, Form()] = None
    ) -> dict[str, Any]:
        return {"filename": file.filename, "size": len(file.read()), "note": note}

    @app.post("/form/model", form_limits=small_form)
    def form_model(pair: Annotated[DataPair, Form()], form: FormData) -> dict[str, Any]:
        return {"left": pair.left, "right": pair.right, "names": form.keys()}

    @app.get("/request")
    def request_info(request: Request) -> dict[str, Any]:
        return {
            "path": request.path,
            "query": list(request.query.multi_items()),
            "headers": dict(request.headers.items()),
            "cookies": request.cookies,
            "content_type": request.content_type[0],
            "accept": request.accepts("application/json", "text/plain"),
            "url": request.url,
        }

    return app


app = build_app()
wsgi = app.wsgi
asgi = app.asgi
