"""WebSocket connections for ASGI servers: a typed handler API over the ASGI websocket scope."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec

from duoweb.errors import HTTPError
from duoweb.headers import (
    Headers,
    QueryParams,
    TooManyQueryParameters,
    check_header,
    encode_headers,
    parse_query,
)

Message = dict[str, Any]


class CloseCode(enum.IntEnum):
    """RFC 6455 close codes a handler commonly uses."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    INVALID_PAYLOAD = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011


class WebSocketDisconnect(Exception):
    """The client closed the connection (``code`` is its close code)."""

    def __init__(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class WebSocketState(enum.Enum):
    """Where a connection is in its life."""

    CONNECTING = "connecting"
    OPEN = "open"
    CLOSED = "closed"


class WebSocket:
    """One WebSocket connection: accept it, exchange text/bytes/JSON messages, close it."""

    def __init__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
        path: str,
        path_params: dict[str, Any],
        max_message_size: int,
        max_query_params: int = 1000,
    ) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        #: The path, relative to the mount point.
        self.path = path
        #: Path parameters converted to the handler's annotated types.
        self.path_params = path_params
        #: Largest message accepted from the client, in bytes (larger: close with 1009).
        self.max_message_size = max_message_size
        #: Most query parameters accepted (more: ``query`` raises a 400 HTTPError, and a
        #: handler that lets it escape is closed with 1008).
        self.max_query_params = max_query_params
        self.state = WebSocketState.CONNECTING
        self._headers: Headers | None = None
        self._query: QueryParams | None = None

    @property
    def scope(self) -> dict[str, Any]:
        """The ASGI websocket scope of the handshake."""
        return self._scope

    @property
    def headers(self) -> Headers:
        """The handshake request's headers."""
        if self._headers is None:
            self._headers = Headers.from_asgi(self._scope.get("headers", []))
        return self._headers

    @property
    def query(self) -> QueryParams:
        """The handshake request's query string, parsed."""
        if self._query is None:
            try:
                self._query = parse_query(
                    self._scope.get("query_string", b""), self.max_query_params
                )
            except TooManyQueryParameters as exc:
                raise HTTPError(400, str(exc)) from None
        return self._query

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self._scope.get("subprotocols", []))

    @property
    def client(self) -> tuple[str, int] | None:
        """The peer's (host, port), when the server tells it."""
        client = self._scope.get("client")
        return (str(client[0]), int(client[1])) if client else None

    async def accept(
        self, subprotocol: str | None = None, headers: list[tuple[str, str]] | None = None
    ) -> None:
        """Complete the handshake (optionally choosing one of the offered subprotocols).

        ``headers`` go out in the 101 response: each is checked like any response header
        (a token name; no CR, LF or other control character; latin-1 only) and sent as
        latin-1, so an unsafe one raises UnsafeHeader (a ValueError) before anything is sent.
        """
        if self.state is not WebSocketState.CONNECTING:
            raise RuntimeError("accept() is only allowed once, before anything else")
        encoded = encode_headers(headers) if headers else None
        if subprotocol is not None:
            check_header("sec-websocket-protocol", subprotocol)
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.state = WebSocketState.CLOSED
            raise WebSocketDisconnect(message.get("code", CloseCode.GOING_AWAY))
        reply: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        if encoded:
            reply["headers"] = encoded
        await self._send(reply)
        self.state = WebSocketState.OPEN

    async def _receive_message(self) -> Message:
        if self.state is not WebSocketState.OPEN:
            raise RuntimeError("the connection is not open; call accept() first")
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.state = WebSocketState.CLOSED
            raise WebSocketDisconnect(
                message.get("code", CloseCode.NORMAL), message.get("reason") or ""
            )
        size = len(message.get("text") or "") + len(message.get("bytes") or b"")
        if size > self.max_message_size:
            await self.close(CloseCode.MESSAGE_TOO_BIG, "message too big")
            raise WebSocketDisconnect(CloseCode.MESSAGE_TOO_BIG, "message too big")
        return message

    async def receive_text(self) -> str:
        """The next text message (a binary one closes the connection with 1003)."""
        message = await self._receive_message()
        text = message.get("text")
        if text is None:
            await self.close(CloseCode.UNSUPPORTED_DATA, "expected a text message")
            raise WebSocketDisconnect(CloseCode.UNSUPPORTED_DATA, "expected a text message")
        return str(text)

    async def receive_bytes(self) -> bytes:
        """The next binary message (a text one closes the connection with 1003)."""
        message = await self._receive_message()
        data = message.get("bytes")
        if data is None:
            await self.close(CloseCode.UNSUPPORTED_DATA, "expected a binary message")
            raise WebSocketDisconnect(CloseCode.UNSUPPORTED_DATA, "expected a binary message")
        return bytes(data)

    async def receive_json(self, type: Any = Any) -> Any:
        """The next message decoded as JSON (validated as ``type``); bad JSON closes with 1007."""
        message = await self._receive_message()
        raw = message.get("text")
        payload = raw.encode() if raw is not None else message.get("bytes") or b""
        try:
            return msgspec.json.decode(payload, type=type)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
            await self.close(CloseCode.INVALID_PAYLOAD, "invalid JSON message")
            raise WebSocketDisconnect(CloseCode.INVALID_PAYLOAD, "invalid JSON message") from None

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_json(self, type: Any = Any) -> AsyncIterator[Any]:
        """JSON messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json(type)
        except WebSocketDisconnect:
            return

    async def _send_message(self, message: Message) -> None:
        if self.state is not WebSocketState.OPEN:
            raise RuntimeError("the connection is not open")
        try:
            await self._send(message)
        except OSError:
            self.state = WebSocketState.CLOSED
            raise WebSocketDisconnect(CloseCode.GOING_AWAY) from None

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self._send_message({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self._send_message({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any) -> None:
        """Send ``data`` encoded as JSON in a text message."""
        await self.send_text(msgspec.json.encode(data).decode())

    async def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """Close the connection (before accept() this refuses the handshake with 403)."""
        if self.state is WebSocketState.CLOSED:
            return
        self.state = WebSocketState.CLOSED
        # A close frame carries at most 123 bytes of UTF-8 reason (RFC 6455 section 5.5).
        raw = reason.encode("utf-8", "replace")
        if len(raw) > 123 or raw != reason.encode("utf-8", "surrogatepass"):
            reason = raw[:123].decode("utf-8", "ignore")
        with contextlib.suppress(OSError):  # already gone: nothing left to close
            await self._send({"type": "websocket.close", "code": int(code), "reason": reason})
