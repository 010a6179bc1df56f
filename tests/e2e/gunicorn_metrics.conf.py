"""Gunicorn configuration for prometheus-client's multiprocess mode (the documented one)."""

from duoweb.metrics import gunicorn_child_exit as child_exit

__all__ = ["child_exit"]
