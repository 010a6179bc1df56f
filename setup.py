"""Build the optional Cython speedups; a module that does not compile falls back to pure Python.

Each speedup is an ``Extension(optional=True)``: setuptools warns and installs without it
when it does not compile. ``DUOWEB_REQUIRE_EXTENSIONS=1`` (CI sets it) makes every speedup
required instead, so that one which does not translate or compile fails the build.
"""

from __future__ import annotations

import glob
import os
import warnings

from setuptools import Extension, setup

REQUIRED = os.environ.get("DUOWEB_REQUIRE_EXTENSIONS", "") == "1"


def speedup_sources() -> dict[str, str]:
    """Module name -> source: each .pyx, and the pure twin of each .pxd without a .pyx.

    ``duoweb/_speedups/_x.pxd`` alone compiles ``duoweb/_x_py.py`` in Cython's pure-Python mode.
    """
    speedups = os.path.join("duoweb", "_speedups")
    sources: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(speedups, "*.pyx"))):
        sources["duoweb._speedups." + os.path.basename(path)[:-4]] = path
    for path in sorted(glob.glob(os.path.join(speedups, "*.pxd"))):
        stem = os.path.basename(path)[:-4]
        sources.setdefault("duoweb._speedups." + stem, os.path.join("duoweb", stem + "_py.py"))
    return sources


def speedup_extensions() -> list:  # type: ignore[type-arg]
    """Cythonize duoweb/_speedups/*.pyx, or return nothing when Cython is unusable."""
    if os.environ.get("DUOWEB_NO_EXTENSIONS", "") not in ("", "0"):
        return []
    sources = speedup_sources()
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
            [Extension(name, [source]) for name, source in sources.items()],
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
