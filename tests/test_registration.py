"""Mistakes in route definitions are caught at registration, naming what is wrong."""

from __future__ import annotations

import datetime

import pytest

from duoweb import App, RouteDefinitionError


def test_parameter_of_unsupported_type_is_an_error_naming_it() -> None:
    app = App()
    with pytest.raises(RouteDefinitionError, match=r"handler.*'other'.*unsupported type"):

        @app.get("/a/{x}")
        def handler(x: int, other: dict[str, int]) -> None: ...


def test_path_parameter_without_handler_parameter_is_an_error() -> None:
    app = App()
    with pytest.raises(RouteDefinitionError, match=r"path parameter\(s\) y of"):

        @app.get("/a/{x}/{y}")
        def handler(x: int) -> None: ...


def test_unsupported_path_annotation_is_an_error() -> None:
    app = App()
    with pytest.raises(RouteDefinitionError, match="annotated"):

        @app.get("/a/{when}")
        def handler(when: datetime.date) -> None: ...


def test_template_kind_must_agree_with_annotation() -> None:
    app = App()
    with pytest.raises(RouteDefinitionError, match="'int'"):

        @app.get("/a/{x:int}")
        def handler(x: str) -> None: ...


def test_template_typo_is_an_error() -> None:
    app = App()
    with pytest.raises(RouteDefinitionError, match="unbalanced"):

        @app.get("/a/{x")
        def handler() -> None: ...


def test_indistinguishable_routes_are_rejected_naming_both() -> None:
    app = App()

    @app.get("/a/{x}")
    def first(x: int) -> None: ...

    with pytest.raises(RouteDefinitionError, match=r"/a/\{x\}.*/a/\{y\}|/a/\{y\}.*/a/\{x\}"):

        @app.get("/a/{y}")
        def second(y: int) -> None: ...


def test_same_name_for_two_paths_is_an_error() -> None:
    app = App()

    @app.get("/a", name="thing")
    def a() -> None: ...

    with pytest.raises(RouteDefinitionError, match="thing"):

        @app.get("/b", name="thing")
        def b() -> None: ...
