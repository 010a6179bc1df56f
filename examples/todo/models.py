"""What the todo API accepts and returns: msgspec Structs, validated strictly."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

#: A list or item title: 1 to 200 characters.
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
#: Free-form notes on an item: at most 2000 characters.
Notes = Annotated[str, msgspec.Meta(max_length=2000)]


class NewList(msgspec.Struct, forbid_unknown_fields=True):
    """The body of ``POST /lists``."""

    title: Title


class ListChanges(msgspec.Struct, forbid_unknown_fields=True):
    """The body of ``PATCH /lists/{list_id}``: only the fields sent are changed."""

    title: Title | UnsetType = UNSET


class TodoList(msgspec.Struct):
    """A todo list as the API returns it."""

    id: int
    title: str


class ListPage(msgspec.Struct):
    """One page of todo lists, and how many there are in all."""

    lists: list[TodoList]
    total: int
    limit: int
    offset: int


class NewItem(msgspec.Struct, forbid_unknown_fields=True):
    """The body of ``POST /lists/{list_id}/items``."""

    title: Title
    notes: Notes = ""
    done: bool = False


class ItemChanges(msgspec.Struct, forbid_unknown_fields=True):
    """The body of ``PATCH /lists/{list_id}/items/{item_id}``: only the fields sent change."""

    title: Title | UnsetType = UNSET
    notes: Notes | UnsetType = UNSET
    done: bool | UnsetType = UNSET


class Item(msgspec.Struct):
    """A todo item as the API returns it."""

    id: int
    list_id: int
    title: str
    notes: str
    done: bool


class ItemPage(msgspec.Struct):
    """One page of the items that matched a filter, and how many matched in all."""

    items: list[Item]
    total: int
    limit: int
    offset: int


def changes(patch: msgspec.Struct) -> dict[str, object]:
    """The fields a partial update actually sent (those not left UNSET)."""
    return {
        name: value for name, value in msgspec.structs.asdict(patch).items() if value is not UNSET
    }


class Activity(msgspec.Struct):
    """One entry of the activity log."""

    id: int
    action: str
    detail: str


class ActivityPage(msgspec.Struct):
    """One page of the activity log, newest first, and how many entries there are in all."""

    activity: list[Activity]
    total: int
    limit: int
    offset: int
