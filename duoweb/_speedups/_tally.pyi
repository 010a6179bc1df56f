"""Types of the compiled request tallies: the same API as their pure twin, duoweb._tally_py."""

from duoweb._tally_py import OTHER_METHOD as OTHER_METHOD
from duoweb._tally_py import STANDARD_METHODS as STANDARD_METHODS
from duoweb._tally_py import UNMATCHED as UNMATCHED
from duoweb._tally_py import RequestTally as RequestTally
from duoweb._tally_py import TallyObserver as TallyObserver

__all__ = ["OTHER_METHOD", "STANDARD_METHODS", "UNMATCHED", "RequestTally", "TallyObserver"]
