"""Types of the compiled observer base: the same API as its pure twin, duoweb._observer_py."""

from duoweb._observer_py import RequestObserver as RequestObserver

__all__ = ["RequestObserver"]
