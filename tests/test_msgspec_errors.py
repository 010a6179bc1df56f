"""msgspec's error wording, pinned message kind by message kind.

msgspec (0.23) gives a ValidationError no structured data: the location and the kind of a
failure live only in its message, which duoweb.msgspec_errors parses. Each test here first
pins the exact text msgspec produces for one kind of failure, then what duoweb makes of it,
so a msgspec release that rewords a message fails here instead of silently losing 422 locs.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

import msgspec
import pytest

from duoweb.errors import ValidationErrorItem
from duoweb.msgspec_errors import from_msgspec


class Colour(enum.Enum):
    RED = "red"


class Inner(msgspec.Struct):
    count: int


class Model(msgspec.Struct, forbid_unknown_fields=True):
    number: int = 0
    positive: Annotated[int, msgspec.Meta(gt=0)] = 1
    short: Annotated[str, msgspec.Meta(max_length=3)] = ""
    choice: Literal["a", "b"] = "a"
    colour: Colour = Colour.RED
    inners: list[Inner] = []
    by_key: dict[str, list[int]] = {}
    pair: tuple[int, int] = (0, 0)
    renamed: int = msgspec.field(default=0, name="Renamed-Field")


class Required(msgspec.Struct):
    needed: int


def failure(body: str, target: Any = Model) -> msgspec.ValidationError:
    """The ValidationError msgspec raises decoding ``body`` into ``target``."""
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(body, type=target)
    return caught.value


def translated(exc: msgspec.ValidationError) -> list[ValidationErrorItem]:
    return list(from_msgspec(exc, ("body",)).errors)


def test_msgspec_gives_no_structured_error_data() -> None:
    # If a release adds structured fields, duoweb should read them instead of the message.
    exc = failure('{"number": "x"}')
    assert exc.args == (str(exc),)
    assert not [name for name in vars(exc) if not name.startswith("_")]


def test_wrong_type_at_a_field() -> None:
    exc = failure('{"number": "x"}')
    assert str(exc) == "Expected `int`, got `str` - at `$.number`"
    assert translated(exc) == [
        ValidationErrorItem(("body", "number"), "Expected `int`, got `str`", "type_error")
    ]


def test_wrong_type_of_the_whole_body_has_no_path() -> None:
    exc = failure("[1]")
    assert str(exc) == "Expected `object`, got `array`"
    assert translated(exc) == [
        ValidationErrorItem(("body",), "Expected `object`, got `array`", "type_error")
    ]


def test_list_indexes_and_nested_fields() -> None:
    exc = failure('{"inners": [{"count": 1}, {"count": "x"}]}')
    assert str(exc) == "Expected `int`, got `str` - at `$.inners[1].count`"
    assert translated(exc)[0].loc == ("body", "inners", 1, "count")


def test_dict_keys_are_not_named_in_the_path() -> None:
    exc = failure('{"by_key": {"k": [1, "x"]}}')
    assert str(exc) == "Expected `int`, got `str` - at `$.by_key[...][1]`"
    assert translated(exc)[0].loc == ("body", "by_key", 1)


def test_renamed_fields_appear_by_their_wire_name() -> None:
    exc = failure('{"Renamed-Field": "x"}')
    assert str(exc) == "Expected `int`, got `str` - at `$.Renamed-Field`"
    assert translated(exc)[0].loc == ("body", "Renamed-Field")


def test_long_field_names_are_cut_short_in_the_loc() -> None:
    name = "n" * 100
    exc = failure(f'{{"{name}": "x"}}', msgspec.defstruct("Long", [(name, int)]))
    assert str(exc) == f"Expected `int`, got `str` - at `$.{name}`"
    assert translated(exc)[0].loc == ("body", "n" * 40 + "...")


def test_missing_field() -> None:
    exc = failure("{}", Required)
    assert str(exc) == "Object missing required field `needed`"
    assert translated(exc) == [ValidationErrorItem(("body", "needed"), "Field required", "missing")]


def test_missing_field_in_a_nested_model() -> None:
    exc = failure('{"inners": [{}]}')
    assert str(exc) == "Object missing required field `count` - at `$.inners[0]`"
    assert translated(exc) == [
        ValidationErrorItem(("body", "inners", 0, "count"), "Field required", "missing")
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("positive", "0", "Expected `int` >= 1"),
        ("short", '"long"', "Expected `str` of length <= 3"),
        ("pair", "[1]", "Expected `array` of length 2"),
        ("number", "1e400", "Number out of range"),
    ],
)
def test_constraint_failures_are_value_errors(field: str, value: str, message: str) -> None:
    exc = failure(f'{{"{field}": {value}}}')
    assert str(exc) == f"{message} - at `$.{field}`"
    assert translated(exc) == [ValidationErrorItem(("body", field), message, "value_error")]


@pytest.mark.parametrize(
    ("body", "field"), [('{"choice": "c"}', "choice"), ('{"colour": "blue"}', "colour")]
)
def test_invalid_enum_value_is_echoed_short_and_quoted(body: str, field: str) -> None:
    value = msgspec.json.decode(body)[field]
    exc = failure(body)
    assert str(exc) == f"Invalid enum value '{value}' - at `$.{field}`"
    assert translated(exc) == [
        ValidationErrorItem(("body", field), f"Invalid enum value '{value}'", "value_error")
    ]
    long_value = "v" * 100
    exc = failure(f'{{"{field}": "{long_value}"}}')
    assert translated(exc)[0].msg == f"Invalid enum value '{'v' * 40}...'"


def test_unknown_field_is_echoed_short_and_quoted() -> None:
    exc = failure('{"surprise": 1}')
    assert str(exc) == "Object contains unknown field `surprise`"
    assert translated(exc) == [
        ValidationErrorItem(("body",), "Object contains unknown field 'surprise'", "value_error")
    ]
    exc = failure(f'{{"{"u" * 100}": 1}}')
    assert translated(exc)[0].msg == f"Object contains unknown field '{'u' * 40}...'"
