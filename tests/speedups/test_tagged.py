"""The ETag responder of a path-parameters-only route: the pure twin and the compiled one agree."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import msgspec
import pytest

from duoweb.caching import strong_etag
from duoweb.errors import HTTPError
from duoweb.responses import JSONResponse, Response
from duoweb.return_types import ResponsePlan
from tests.speedups.conftest import implementation


@pytest.fixture(params=["pure", "compiled"])
def tagged_impl(request: pytest.FixtureRequest) -> ModuleType:
    """The responder implementation under test."""
    return implementation("tagged", request.param)


class FakeRequest:
    def __init__(self, path_params: dict[str, Any], if_none_match: str | None = None) -> None:
        self.path_params = path_params
        self.fields = {} if if_none_match is None else {"if-none-match": if_none_match}

    def header(self, name: str) -> str | None:
        return self.fields.get(name)


def finished(request: Any, response: Response) -> Response:
    response.append_header("x-finished", "yes")
    return response


def responder(tagged_impl: ModuleType, handler: Any, status: int = 200, model: Any = Any) -> Any:
    return tagged_impl.TaggedResponder(handler, ResponsePlan(model, status), finished).respond


def test_a_result_is_encoded_and_tagged(tagged_impl: ModuleType) -> None:
    respond = responder(tagged_impl, lambda item_id: {"id": item_id})
    response = respond(FakeRequest({"item_id": 3}))
    assert response.status_code == 200
    assert response.body == b'{"id":3}'
    assert response.headers == [
        ("content-type", "application/json"),
        ("etag", strong_etag(b'{"id":3}')),
    ]
    again = respond(FakeRequest({"item_id": 3}))  # the remembered tag
    assert again.headers == response.headers
    assert again is not response
    other = respond(FakeRequest({"item_id": 4}))
    assert other.get_header("etag") == strong_etag(b'{"id":4}')
    assert respond(FakeRequest({"item_id": 3})).get_header("etag") == strong_etag(b'{"id":3}')


def test_a_handler_without_parameters_is_called_with_none(tagged_impl: ModuleType) -> None:
    respond = responder(tagged_impl, lambda: {"message": "Hello"})
    assert respond(FakeRequest({})).body == b'{"message":"Hello"}'


@pytest.mark.parametrize(
    ("condition", "status"),
    [
        ("EXACT", 304),
        ('W/"x", EXACT', 304),
        ("*", 304),
        ('"other"', 200),
        ("", 200),
        ('"', 200),
    ],
)
def test_if_none_match_answers_304_when_it_matches(
    tagged_impl: ModuleType, condition: str, status: int
) -> None:
    respond = responder(tagged_impl, lambda: [1, 2])
    tag = strong_etag(b"[1,2]")
    response = respond(FakeRequest({}, condition.replace("EXACT", tag)))
    assert response.status_code == status
    assert response.get_header("etag") == tag
    assert response.body == (b"" if status == 304 else b"[1,2]")


def test_responses_and_none_go_through_the_routes_finish(tagged_impl: ModuleType) -> None:
    respond = responder(tagged_impl, lambda kind: JSONResponse(1) if kind == "r" else None)
    own = respond(FakeRequest({"kind": "r"}))
    assert own.get_header("x-finished") == "yes"
    assert own.get_header("etag") is None
    empty = respond(FakeRequest({"kind": "n"}))
    assert empty.status_code == 204
    assert empty.get_header("x-finished") == "yes"


def test_another_status_is_not_tagged(tagged_impl: ModuleType) -> None:
    response = responder(tagged_impl, lambda: {"a": 1}, status=201)(FakeRequest({}, "*"))
    assert response.status_code == 201
    assert response.headers == [("content-type", "application/json")]


class Item(msgspec.Struct):
    id: int


def test_a_result_that_breaks_the_model_is_a_500(tagged_impl: ModuleType) -> None:
    respond = responder(tagged_impl, lambda: {"id": "not a number"}, model=Item)
    with pytest.raises(HTTPError) as caught:
        respond(FakeRequest({}))
    assert caught.value.status == 500
