"""An app that uses every parameter source and model kind, to check its OpenAPI document.

Served by the OpenAPI tests (document contents, spec validation for 3.1 and 3.0, schemathesis)
and usable by hand: ``hypercorn tests.openapi_app:app.asgi``.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from typing import Annotated, Generic, Literal, TypedDict, TypeVar

import msgspec
import pydantic
from pydantic import BaseModel, Field

from duoweb import App, Cookie, Depends, Header, HTTPError, PlainTextResponse, Query
from duoweb.errors import ValidationErrorItem

T = TypeVar("T")

#: The one key the test app accepts.
API_KEY = "secret-key"

app = App(
    title="Inventory",
    version="2.1.0",
    description="Every kind of parameter and model duoweb documents.",
    security_schemes={
        "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        "bearer": {"type": "http", "scheme": "bearer"},
    },
    servers=[{"url": "/", "description": "this server"}],
)


# --- models of every kind ------------------------------------------------------------------


class Color(enum.Enum):
    """A paint color."""

    RED = "red"
    GREEN = "green"


class Size(enum.IntEnum):
    """A box size."""

    SMALL = 1
    LARGE = 2


class Dimensions(BaseModel):
    """Pydantic: nested in Product."""

    width: Annotated[float, Field(gt=0, le=1000)]
    height: Annotated[float, Field(gt=0, le=1000)]


class Product(BaseModel):
    """Pydantic: a product as clients send it."""

    name: Annotated[str, Field(min_length=1, max_length=40)]
    price: Annotated[float, Field(ge=0, le=10_000)]
    color: Color = Color.RED
    kind: Literal["tool", "toy"] = "tool"
    tags: list[Annotated[str, Field(max_length=10)]] = []
    dimensions: Dimensions | None = None
    released: datetime.date | None = None


class StoredProduct(BaseModel):
    """Pydantic: a product as stored."""

    id: uuid.UUID
    name: str
    price: float
    color: Color
    kind: Literal["tool", "toy"]
    tags: list[str]
    dimensions: Dimensions | None
    created: datetime.datetime


class Envelope(BaseModel, Generic[T]):
    """Pydantic: a generic wrapper."""

    data: T
    count: int


class Part(msgspec.Struct):
    """Msgspec: a part number and its quantity."""

    number: Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}-[0-9]{3}$")]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=99)] = 1
    size: Size = Size.SMALL


class Assembly(msgspec.Struct):
    """Msgspec: parts, an optional note and a position."""

    parts: Annotated[list[Part], msgspec.Meta(min_length=1, max_length=5)]
    note: str | None = None
    position: tuple[int, int] = (0, 0)


class Circle(msgspec.Struct, tag="circle"):
    """Msgspec: a tagged union member."""

    radius: Annotated[float, msgspec.Meta(gt=0, le=100)]


class Square(msgspec.Struct, tag="square"):
    """Msgspec: a tagged union member."""

    side: Annotated[float, msgspec.Meta(gt=0, le=100)]


class Page(msgspec.Struct, Generic[T]):
    """Msgspec: a generic page of results."""

    items: list[T]
    next: str | None = None


@dataclasses.dataclass
class Label:
    """Dataclass: a shelf label."""

    text: str
    copies: int = 1
    color: Color = Color.GREEN


class Address(TypedDict):
    """TypedDict: where to ship."""

    street: str
    city: str
    zip: str


class Conflict(msgspec.Struct):
    """Msgspec: what a 409 answers with."""

    reason: str


class InvalidInput(msgspec.Struct):
    """Msgspec: this app's own validation error body."""

    message: str
    fields: list[str]


# Two pairs of different classes that share a name, in different modules.
WarehouseItem = msgspec.defstruct(
    "Item", [("sku", str), ("bin", int)], module="tests.warehouse", kw_only=True
)
ShopItem = msgspec.defstruct(
    "Item", [("sku", str), ("price", float)], module="tests.shop", kw_only=True
)
CatalogItem = pydantic.create_model("Item", __module__="tests.catalog", title=(str, ...))
LedgerItem = pydantic.create_model("Item", __module__="tests.ledger", amount=(int, ...))


@app.validation_error_renderer(status=422, media_type="application/json")
def render_invalid(errors: list[ValidationErrorItem]) -> InvalidInput:
    """This app's 422 body: a message and the failing fields."""
    return InvalidInput(
        "invalid input", [".".join(str(part) for part in error.loc) for error in errors]
    )


# --- dependencies with their own parameters -------------------------------------------------


def tenant(x_tenant: Annotated[str, Header(min_length=1, max_length=20)] = "public") -> str:
    """The tenant from the X-Tenant header."""
    return x_tenant


def auth(
    api_key: Annotated[str | None, Header("x-api-key", description="the caller's key")] = None,
    current_tenant: Annotated[str, Depends(tenant)] = "",
) -> str:
    """The caller, from the API key and the tenant; 401 without a key."""
    if api_key != API_KEY:
        raise HTTPError(401, "A valid API key is required.", headers={"www-authenticate": "ApiKey"})
    return f"{current_tenant}:{len(api_key)}"


def paging(
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> tuple[int, int]:
    """Offset and limit from the query string."""
    return offset, limit


# --- routes ---------------------------------------------------------------------------------


@app.get("/products", tags=["products"])
def list_products(
    window: Annotated[tuple[int, int], Depends(paging)],
    q: Annotated[str | None, Query(max_length=20, description="search text")] = None,
    color: Color | None = None,
    kind: Literal["tool", "toy"] | None = None,
    tag: Annotated[list[str], Query(max_length=3)] = [],  # noqa: B006
    min_price: Annotated[float, Query(ge=0, le=10_000, examples=[9.5])] = 0.0,
    in_stock: bool = False,
    since: datetime.datetime | None = None,
    legacy: Annotated[int | None, Query(deprecated=True)] = None,
) -> list[StoredProduct]:
    """List products.

    Filters combine; ``tag`` may be repeated.
    """
    return []


@app.get("/parts", tags=["assemblies"])
def list_parts(window: Annotated[tuple[int, int], Depends(paging)]) -> Page[Part]:
    """A generic msgspec page of parts."""
    return Page(items=[Part("AB-123")], next=None)


@app.post(
    "/products",
    status_code=201,
    tags=["products"],
    security=[{"apiKey": []}],
    responses={401: "No API key"},
)
def create_product(product: Product, caller: Annotated[str, Depends(auth)]) -> StoredProduct:
    """Create a product (pydantic body and response)."""
    return StoredProduct(
        id=uuid.UUID(int=1),
        name=product.name,
        price=product.price,
        color=product.color,
        kind=product.kind,
        tags=product.tags,
        dimensions=product.dimensions,
        created=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
    )


@app.get(
    "/products/{product_id}",
    tags=["products"],
    responses={404: "No such product", 409: Conflict},
)
def get_product(product_id: uuid.UUID) -> StoredProduct | None:
    """Fetch one product; 204 when it is archived."""
    if product_id.int == 0:
        raise HTTPError(404, "No such product.")
    return None


@app.put("/products/{product_id}/labels/{count}", tags=["labels"], operation_id="putLabels")
def put_labels(product_id: uuid.UUID, count: int, labels: list[Label]) -> list[Label]:
    """Replace a product's labels (a list of dataclasses)."""
    return labels[:count] if count >= 0 else []


@app.post("/assemblies", tags=["assemblies"], summary="Check an assembly")
def check_assembly(assembly: Assembly) -> Assembly:
    """Msgspec body and response, nested constraints."""
    return assembly


@app.post("/shapes/area")
def area(shape: Circle | Square) -> float:
    """A tagged union body; the answer is a bare number."""
    return 3.0 * shape.radius**2 if isinstance(shape, Circle) else shape.side**2


@app.post("/addresses/check", status_code=200)
def check_address(address: Address) -> Address:
    """A TypedDict body and response."""
    return address


@app.post("/notes")
def add_note(note: Label | None = None) -> None:
    """An optional body; answers 204."""
    return None


@app.get("/measure/{value}/{ratio}")
def measure(
    value: int,
    ratio: float,
    unit: Annotated[str, Query(pattern="^[a-z]{1,3}$")] = "m",
    precision: Annotated[int, Query(multiple_of=2, ge=0, le=8)] = 2,
) -> dict[str, float]:
    """Typed path parameters and a multiple-of constraint."""
    return {"value": float(value), "ratio": ratio}


@app.get("/files/{name}/{rest:path}", tags=["files"])
def read_file(
    name: str,
    rest: str,
    request_id: Annotated[uuid.UUID | None, Header("x-request-id")] = None,
    accept_tags: Annotated[list[str], Header("x-tags")] = [],  # noqa: B006
    session: Annotated[str | None, Cookie(min_length=4, max_length=64)] = None,
    theme: Annotated[Literal["dark", "light"], Cookie()] = "light",
) -> PlainTextResponse:
    """Headers, cookies and a path parameter that spans segments."""
    return PlainTextResponse(f"{name}/{rest}")


@app.get("/dimensions/envelope")
def envelope() -> Envelope[Dimensions]:
    """A generic pydantic response."""
    return Envelope[Dimensions](data=Dimensions(width=1, height=2), count=1)


class Stock(msgspec.Struct):
    """Msgspec: two different classes called Item."""

    warehouse: WarehouseItem  # type: ignore[valid-type]
    shop: ShopItem  # type: ignore[valid-type]


class Books(BaseModel):
    """Pydantic: two different classes called Item."""

    catalog: CatalogItem  # type: ignore[valid-type]
    ledger: LedgerItem  # type: ignore[valid-type]


@app.get("/items/stock")
def stock() -> Stock:
    """Two different msgspec classes called Item."""
    return Stock(WarehouseItem(sku="a", bin=1), ShopItem(sku="b", price=1.0))


@app.get("/items/books")
def books() -> Books:
    """Two different pydantic classes called Item."""
    return Books(catalog=CatalogItem(title="c"), ledger=LedgerItem(amount=1))


@app.get("/legacy", deprecated=True, tags=["legacy"], security=[{"bearer": []}, {}])
def legacy() -> dict[str, str]:
    """An old route."""
    return {"status": "old"}


@app.route("/status", methods=["GET", "PUT"], name="status")
def status() -> dict[str, bool]:
    """One handler, two methods."""
    return {"ok": True}


@app.get("/hidden", include_in_schema=False)
def hidden() -> dict[str, bool]:
    """Not in the document."""
    return {"hidden": True}


@app.delete("/products/{product_id}", tags=["products"])
async def delete_product(product_id: uuid.UUID) -> None:
    """An async handler answering 204."""
