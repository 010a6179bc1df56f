"""Registry of the benchmarked apps: where each callable lives and how it must be loaded."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Contender:
    """One app in one protocol mode, loadable by import path in a fresh process."""

    name: str
    family: str
    mode: str  # "wsgi" or "asgi"
    target: str  # "module:attribute"
    dists: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def module(self) -> str:
        """Import path of the module defining the callable."""
        return self.target.partition(":")[0]

    @property
    def attr(self) -> str:
        """Attribute name of the callable in its module."""
        return self.target.partition(":")[2]

    @property
    def is_floor(self) -> bool:
        """True for the raw callable every other contender of this mode is divided by."""
        return self.family == "raw"

    def load(self) -> Any:
        """Import the module (building the app) and return the callable."""
        return getattr(importlib.import_module(self.module), self.attr)

    def child_env(self) -> dict[str, str]:
        """Environment for a child process running this contender."""
        env = dict(os.environ)
        env.pop("DUOWEB_NO_EXTENSIONS", None)
        env.update(self.env)
        return env


_PKG = "benchmarks.contenders"
_PURE = {"DUOWEB_NO_EXTENSIONS": "1"}

#: Every contender, floors first, in report order.
CONTENDERS: tuple[Contender, ...] = (
    Contender("raw-wsgi", "raw", "wsgi", f"{_PKG}.raw_wsgi:wsgi", ("msgspec",)),
    Contender("raw-asgi", "raw", "asgi", f"{_PKG}.raw_asgi:asgi", ("msgspec",)),
    Contender("duoweb-wsgi", "duoweb", "wsgi", "benchmarks.app:wsgi", ("duoweb", "msgspec")),
    Contender("duoweb-asgi", "duoweb", "asgi", "benchmarks.app:asgi", ("duoweb", "msgspec")),
    Contender("duoweb-pure-wsgi", "duoweb-pure", "wsgi", "benchmarks.app:wsgi", ("duoweb",), _PURE),
    Contender("duoweb-pure-asgi", "duoweb-pure", "asgi", "benchmarks.app:asgi", ("duoweb",), _PURE),
    Contender("falcon-wsgi", "falcon", "wsgi", f"{_PKG}.falcon_wsgi:wsgi", ("falcon",)),
    Contender("falcon-asgi", "falcon", "asgi", f"{_PKG}.falcon_asgi:asgi", ("falcon",)),
    Contender("flask", "flask", "wsgi", f"{_PKG}.flask_app:wsgi", ("flask", "werkzeug")),
    Contender("bottle", "bottle", "wsgi", f"{_PKG}.bottle_app:wsgi", ("bottle",)),
    Contender("starlette", "starlette", "asgi", f"{_PKG}.starlette_app:asgi", ("starlette",)),
    Contender("fastapi", "fastapi", "asgi", f"{_PKG}.fastapi_app:asgi", ("fastapi", "pydantic")),
    Contender("litestar", "litestar", "asgi", f"{_PKG}.litestar_app:asgi", ("litestar",)),
    Contender("blacksheep", "blacksheep", "asgi", f"{_PKG}.blacksheep_app:asgi", ("blacksheep",)),
)

#: Variants of duoweb's reference app, counted on request against duoweb itself, never part of
#: the full run or the docs page: what one feature costs the same routes.
VARIANTS: tuple[Contender, ...] = (
    Contender(
        "duoweb-tasks-wsgi", "duoweb-tasks", "wsgi", "benchmarks.app_tasks:wsgi", ("duoweb",)
    ),
    Contender(
        "duoweb-tasks-asgi", "duoweb-tasks", "asgi", "benchmarks.app_tasks:asgi", ("duoweb",)
    ),
)

BY_NAME: dict[str, Contender] = {c.name: c for c in (*CONTENDERS, *VARIANTS)}


def floor_for(mode: str) -> Contender:
    """The raw callable of ``mode``, the denominator of every ratio in that mode."""
    return next(c for c in CONTENDERS if c.is_floor and c.mode == mode)


def select(spec: Iterable[str] | None) -> list[Contender]:
    """Contenders named (or whose family is named) in ``spec``; all when ``spec`` is empty.

    The raw floors are always included: without them there is nothing to divide by.
    """
    wanted = {s.strip() for s in spec or () if s.strip()}
    if not wanted:
        return list(CONTENDERS)
    known = (*CONTENDERS, *VARIANTS)
    unknown = wanted - {c.name for c in known} - {c.family for c in known}
    if unknown:
        raise ValueError(f"unknown contender(s): {', '.join(sorted(unknown))}")
    return [c for c in known if c.is_floor or c.name in wanted or c.family in wanted]
