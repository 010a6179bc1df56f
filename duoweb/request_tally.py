"""Request tallies and their dispatcher observer: the implementation chosen by duoweb._select."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duoweb._tally_py import (
        OTHER_METHOD,
        STANDARD_METHODS,
        UNMATCHED,
        RequestTally,
        SeriesKey,
        TallyObserver,
    )
else:
    from duoweb import _select
    from duoweb._tally_py import SeriesKey

    _impl = _select.load("tally")
    OTHER_METHOD = _impl.OTHER_METHOD
    STANDARD_METHODS = _impl.STANDARD_METHODS
    UNMATCHED = _impl.UNMATCHED
    RequestTally = _impl.RequestTally
    TallyObserver = _impl.TallyObserver

__all__ = [
    "OTHER_METHOD",
    "STANDARD_METHODS",
    "UNMATCHED",
    "RequestTally",
    "SeriesKey",
    "TallyObserver",
]
