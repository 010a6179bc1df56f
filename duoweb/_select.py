"""Choose, once per process, between each compiled speedup and its pure-Python twin.

This is the only place that decides. ``DUOWEB_NO_EXTENSIONS=1`` forces every twin; otherwise a
compiled module is used when it imports, and its pure twin when it does not (not built, or
built for another interpreter). The pure twins are the typed source of truth for mypy.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

#: Hot-path modules: public name -> (compiled module, pure-Python twin).
SPEEDUP_MODULES: dict[str, tuple[str, str]] = {
    "router": ("duoweb._speedups._router", "duoweb._router_py"),
    "headers": ("duoweb._speedups._headers", "duoweb._headers_py"),
    "messages": ("duoweb._speedups._messages", "duoweb._messages_py"),
    "serve": ("duoweb._speedups._serve", "duoweb._serve_py"),
    "multipart": ("duoweb._speedups._multipart", "duoweb._multipart_py"),
    "tally": ("duoweb._speedups._tally", "duoweb._tally_py"),
    "observer": ("duoweb._speedups._observer", "duoweb._observer_py"),
    "credentials": ("duoweb._speedups._credentials", "duoweb._credentials_py"),
    "tagged": ("duoweb._speedups._tagged", "duoweb._tagged_py"),
}

EXTENSIONS_DISABLED = os.environ.get("DUOWEB_NO_EXTENSIONS", "") not in ("", "0")

_chosen: dict[str, ModuleType] = {}


def load(name: str) -> ModuleType:
    """Return the implementation of hot-path module ``name`` this process uses."""
    module = _chosen.get(name)
    if module is None:
        compiled, pure = SPEEDUP_MODULES[name]
        module = None
        if not EXTENSIONS_DISABLED:
            try:
                module = importlib.import_module(compiled)
            except ImportError:
                module = None
        if module is None:
            module = importlib.import_module(pure)
        _chosen[name] = module
    return module


def speedups_report() -> dict[str, str]:
    """Map each hot-path module to ``"compiled"`` or ``"pure"``, as this process uses it."""
    return {
        name: "compiled" if load(name).__name__ == compiled else "pure"
        for name, (compiled, _pure) in SPEEDUP_MODULES.items()
    }


def speedups_enabled() -> bool:
    """True when every hot-path module runs compiled code."""
    return all(kind == "compiled" for kind in speedups_report().values())
