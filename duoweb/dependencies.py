"""``Depends(provider)``: values computed per request by plain, async or generator functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Depends:
    """Mark a parameter as the result of ``provider``, run once per request (unless no cache).

    The provider may be ``def``, ``async def``, or a (async) generator whose code after
    ``yield`` runs once the response is ready, even when the handler failed. Its own
    parameters are extracted like a handler's: path, query, headers, cookies, body, the
    Request, and other dependencies.
    """

    __slots__ = ("provider", "use_cache")

    def __init__(self, provider: Callable[..., Any], *, use_cache: bool = True) -> None:
        if not callable(provider):
            raise TypeError(f"Depends() needs a callable, got {provider!r}")
        self.provider = provider
        self.use_cache = use_cache

    def __repr__(self) -> str:
        return f"Depends({getattr(self.provider, '__qualname__', self.provider)})"


class DependencyOverrides(dict[Callable[..., Any], Callable[..., Any]]):
    """``app.dependency_overrides``: provider -> replacement, e.g. a fake database in tests."""

    def __init__(self) -> None:
        super().__init__()
        #: Bumped on every change.
        self.version = 0
        self._watchers: list[Callable[[], None]] = []

    def watch(self, replan: Callable[[], None]) -> None:
        """Call ``replan`` after every change: routes re-plan once per change, not per request."""
        self._watchers.append(replan)

    def _changed(self) -> None:
        """Count the change and tell every watcher; the first failure is raised after all ran."""
        self.version += 1
        failure: Exception | None = None
        for replan in self._watchers:
            try:
                replan()
            except Exception as exc:  # e.g. an override whose parameters cannot be planned
                failure = failure or exc
        if failure is not None:
            raise failure

    def __setitem__(self, key: Callable[..., Any], value: Callable[..., Any]) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: Callable[..., Any]) -> None:
        super().__delitem__(key)
        self._changed()

    def clear(self) -> None:
        """Remove every override."""
        super().clear()
        self._changed()

    def pop(self, key: Any, *default: Any) -> Any:
        """Remove and return the override of ``key``."""
        value = super().pop(key, *default)
        self._changed()
        return value

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Add several overrides."""
        super().update(*args, **kwargs)
        self._changed()
