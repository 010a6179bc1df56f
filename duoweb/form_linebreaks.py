"""LF-only multipart bodies rewritten with CRLF framing, as the multipart parser reads them.

RFC 7578 frames parts with CRLF, but hand-written clients and some tools send bare LF. When
the body's first boundary line ends in a bare LF, every framing line break is taken to be
LF: the header lines and the line break before each boundary become CRLF, and the contents
are passed on untouched. A body that mixes both is left for the parser to refuse.
"""

from __future__ import annotations

_HEADERS = 0
_CONTENT = 1
_AFTER_BOUNDARY = 2
_DONE = 3


def uses_bare_lf(head: bytes, delimiter: bytes) -> bool:
    """True when the body starts with its first boundary line ended by a bare LF."""
    return head.startswith(delimiter + b"\n")


class LineBreakFraming:
    """Rewrites an LF-framed multipart stream chunk by chunk, in linear time."""

    def __init__(self, delimiter: bytes) -> None:
        #: ``--boundary``: the stream starts with it and a bare LF.
        self._delimiter = delimiter
        self._separator = b"\n" + delimiter  # a boundary inside the stream
        self._state = _AFTER_BOUNDARY
        self._carry = b""
        self._skip = len(delimiter)  # the first boundary is passed on as it is

    def feed(self, chunk: bytes) -> bytes:
        """The CRLF-framed bytes that ``chunk`` completes (some may wait for the next)."""
        data = self._carry + chunk
        self._carry = b""
        out: list[bytes] = []
        if self._skip:
            taken = data[: self._skip]
            out.append(taken)
            self._skip -= len(taken)
            data = data[len(taken) :]
        position = 0
        end = len(data)
        while position < end:
            state = self._state
            if state == _HEADERS:
                blank = data.find(b"\n\n", position)
                if blank < 0:
                    keep = end - 1 if data.endswith(b"\n") else end
                    out.append(data[position:keep].replace(b"\n", b"\r\n"))
                    self._carry = data[keep:]
                    break
                out.append(data[position:blank].replace(b"\n", b"\r\n") + b"\r\n\r\n")
                position = blank + 2
                self._state = _CONTENT
            elif state == _CONTENT:
                found = data.find(self._separator, position)
                if found < 0:
                    keep = max(position, end - len(self._separator) + 1)
                    out.append(data[position:keep])
                    self._carry = data[keep:]
                    break
                out.append(data[position:found] + b"\r\n" + self._delimiter)
                position = found + len(self._separator)
                self._state = _AFTER_BOUNDARY
            elif state == _AFTER_BOUNDARY:
                if end - position < 2:
                    self._carry = data[position:]
                    break
                if data[position : position + 2] == b"--":
                    out.append(b"--")
                    position += 2
                    self._state = _DONE
                elif data[position : position + 1] == b"\n":
                    out.append(b"\r\n")
                    position += 1
                    self._state = _HEADERS
                else:  # not LF framing after all: let the parser say what is wrong
                    out.append(data[position:])
                    self._state = _DONE
                    break
            else:  # after the final boundary: the epilogue, passed on
                out.append(data[position:].replace(b"\n", b"\r\n", 1))
                break
        return b"".join(out)

    def flush(self) -> bytes:
        """Whatever was held back waiting for more input."""
        carry, self._carry = self._carry, b""
        return carry
