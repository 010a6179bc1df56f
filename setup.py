"""Build the optional Cython speedups; a failed compile falls back to pure Python."""

from __future__ import annotations

import glob
import os
import warnings

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """A build_ext that warns instead of failing when a speedup cannot be compiled."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            self._warn(exc)

    def build_extension(self, ext):  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._warn(exc, ext.name)

    @staticmethod
    def _warn(exc: BaseException, name: str = "speedups") -> None:
        warnings.warn(
            f"duoweb: could not compile {name} ({exc}); the pure-Python twin will be used",
            stacklevel=1,
        )


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
        warnings.warn("duoweb: Cython is not installed; using pure Python", stacklevel=1)
        return []
    try:
        return cythonize(
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
        warnings.warn(f"duoweb: cythonize failed ({exc}); using pure Python", stacklevel=1)
        return []


setup(
    ext_modules=speedup_extensions(),
    cmdclass={"build_ext": OptionalBuildExt},
    zip_safe=False,
)
