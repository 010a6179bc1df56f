"""Build the optional Cython speedups; a module that does not compile falls back to pure Python.

Each speedup is an ``Extension(optional=True)``: setuptools warns and installs without it
when it does not compile. ``DUOWEB_REQUIRE_EXTENSIONS=1`` (CI sets it) makes every speedup
required instead, so that one which does not translate or compile fails the build.
"""

from __future__ import annotations

import glob
import os
import warnings

from setuptools import setup

REQUIRED = os.environ.get("DUOWEB_REQUIRE_EXTENSIONS", "") == "1"


def speedup_extensions() -> list:  # type: ignore[type-arg]
    """Cythonize duoweb/_speedups/*.pyx, or return nothing when Cython is unusable."""
    if os.environ.get("DUOWEB_NO_EXTENSIONS", "") not in ("", "0"):
        return []
    sources = sorted(glob.glob(os.path.join("duoweb", "_speedups", "*.pyx")))
    if not sources:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRED:
            raise
        warnings.warn("duoweb: Cython is not installed; using pure Python", stacklevel=1)
        return []
    try:
        extensions = cythonize(
            sources,
            compiler_directives={
                "language_level": "3",
                "boundscheck": False,
                "wraparound": False,
                "cdivision": True,
                "embedsignature": True,
            },
            quiet=True,
        )
    except Exception as exc:  # a Cython translation error: install the pure twins instead
        if REQUIRED:
            raise
        warnings.warn(f"duoweb: cythonize failed ({exc}); using pure Python", stacklevel=1)
        return []
    for extension in extensions:  # set here: cythonize() drops it from a template Extension
        extension.optional = not REQUIRED
    return extensions


setup(ext_modules=speedup_extensions(), zip_safe=False)
