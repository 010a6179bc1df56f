"""The PEP 3333 adapter: environ -> Request, Response -> start_response + body."""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from duoweb._lazy import lazy_logger
from duoweb._messages import decode_path_info
from duoweb._serve import WSGICore
from duoweb.concurrency import run_on_thread_loop
from duoweb.errors import HTTPError
from duoweb.headers import Headers
from duoweb.lifespan import failed_response, starting_response
from duoweb.requests import BodyAlreadyRead, Request, body_too_large
from duoweb.streaming import ChunkSource, FileResponse, StreamingResponse, as_bytes

if TYPE_CHECKING:
    from duoweb._serve import BackgroundTasks
    from duoweb.app import App

StartResponse = Callable[..., Any]

#: "200 OK"-style status lines, built once.
STATUS_LINES: dict[int, str] = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}

_READ_CHUNK = 64 * 1024
# Set in the environ once a chunk reader has started on the body (PEP 3333 extension key).
_BODY_STREAMED = "duoweb.body_streamed"

logger = lazy_logger("duoweb", globals())


class WSGIRequest(Request):
    """A Request read from a WSGI environ (built by ``wsgi_request``, not by calling it)."""

    __slots__ = ("environ",)

    environ: dict[str, Any]

    def _build_headers(self) -> Headers:
        return Headers.from_environ(self.environ)

    def _raw_content_length(self) -> str | None:
        value = self.environ.get("CONTENT_LENGTH")
        return value if value else None

    def raw_content_type(self) -> str | None:
        value = self.environ.get("CONTENT_TYPE")
        return value if value else None

    def _is_chunked(self) -> bool:
        environ = self.environ
        return (
            bool(environ.get("wsgi.input_terminated"))
            or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        )

    def read_body(self, limit: int) -> bytes:
        stream = self.environ.get("wsgi.input")
        if stream is None:
            return b""
        declared = self.content_length
        try:
            if declared is not None:
                if declared > limit:
                    raise body_too_large(limit)
                if declared == 0:
                    return b""
                data: bytes = stream.read(declared)
                if len(data) < declared:
                    self._refuse_consumed_body()
                    raise HTTPError(400, "The request body is shorter than its Content-Length.")
                return data
            if not self._is_chunked():
                return b""  # PEP 3333: without a length, reading may block; there is no body
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = stream.read(min(_READ_CHUNK, limit + 1 - size))
                if not chunk:
                    if not chunks:
                        self._refuse_consumed_body()
                    return b"".join(chunks)
                size += len(chunk)
                if size > limit:
                    raise body_too_large(limit)
                chunks.append(chunk)
        except (HTTPError, BodyAlreadyRead):
            raise
        except Exception as exc:  # the server's framing errors (e.g. a bad chunk) are the client's
            raise HTTPError(400, "The request body could not be read.") from exc

    async def receive_body(self, limit: int) -> bytes:
        # The async path under WSGI runs on the worker thread's own loop: blocking is fine.
        return self.read_body(limit)

    def body_chunks(self, limit: int) -> Iterator[bytes]:
        environ = self.environ
        stream = environ.get("wsgi.input")
        if stream is None:
            return
        if _BODY_STREAMED in environ:
            raise BodyAlreadyRead
        environ[_BODY_STREAMED] = True
        declared = self.content_length
        if declared is not None:
            if declared > limit:
                raise body_too_large(limit)
            remaining = declared
            while remaining:
                chunk = _read_some(stream, min(_READ_CHUNK, remaining))
                if not chunk:
                    raise HTTPError(400, "The request body is shorter than its Content-Length.")
                remaining -= len(chunk)
                yield chunk
            return
        if not self._is_chunked():
            return  # PEP 3333: without a length, reading may block; there is no body
        size = 0
        while True:
            chunk = _read_some(stream, min(_READ_CHUNK, limit + 1 - size))
            if not chunk:
                return
            size += len(chunk)
            if size > limit:
                raise body_too_large(limit)
            yield chunk

    async def receive_body_chunks(self, limit: int) -> AsyncIterator[bytes]:
        # As receive_body: on the worker thread's own loop, reading may block.
        for chunk in self.body_chunks(limit):
            yield chunk

    def _refuse_consumed_body(self) -> None:
        """Raise BodyAlreadyRead when a chunk reader took the body a whole read found gone."""
        if _BODY_STREAMED in self.environ:
            raise BodyAlreadyRead

    def _server_scheme(self) -> str:
        """The URL scheme from ``wsgi.url_scheme``."""
        return str(self.environ.get("wsgi.url_scheme", "http"))

    def _peer(self) -> tuple[str, int] | None:
        """REMOTE_ADDR and REMOTE_PORT, when the server sets them."""
        host = self.environ.get("REMOTE_ADDR")
        if not host:
            return None
        try:
            port = int(self.environ.get("REMOTE_PORT", 0))
        except ValueError:
            port = 0
        return (host, port)

    @property
    def root_path(self) -> str:
        """SCRIPT_NAME, decoded like the path."""
        return decode_path_info(self.environ.get("SCRIPT_NAME", ""))


def _read_some(stream: Any, size: int) -> bytes:
    """Up to ``size`` bytes from ``wsgi.input``; the server's framing errors are a 400."""
    try:
        data: bytes = stream.read(size)
    except Exception as exc:
        raise HTTPError(400, "The request body could not be read.") from exc
    return data


class WSGIAdapter(WSGICore):
    """Serves an App to a WSGI server; runs the startup hooks once per worker process.

    The per-request path (``__call__``) is ``WSGICore``'s, compiled with the speedups.
    """

    def __init__(self, app: App) -> None:
        super().__init__(app, app.dispatcher, WSGIRequest, STATUS_LINES)
        self._started_pid = 0
        #: This worker's startup failed: it answers 503 until restarted.
        self._failed = False
        self._lock = threading.Lock()
        # A forked worker must run its own startup hooks, even if its parent ran them.
        os.register_at_fork(after_in_child=self._forget_started(weakref.ref(self)))

    @staticmethod
    def _forget_started(adapter_ref: weakref.ref[WSGIAdapter]) -> Callable[[], None]:
        def forget() -> None:
            adapter = adapter_ref()
            if adapter is not None:
                adapter.started = False
                adapter._failed = False
                adapter._lock = threading.Lock()

        return forget

    def start(self) -> None:
        """Enter the lifespan and run the startup hooks now, once; undone at process exit."""
        if self.started:
            return
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        if self.started:
            return
        self.app.run_startup_sync()
        self._started_pid = os.getpid()
        self.started = True
        atexit.register(self.stop)
        _stop_with_multiprocessing_child(self.stop)

    def stop(self) -> None:
        """Run the shutdown hooks if this process ran the startup hooks.

        The worker counts as started until the hooks have run, and the lock is held
        meanwhile: a request on another thread is served as before rather than starting the
        app again while it shuts down.
        """
        with self._lock:
            if not self.started or self._started_pid != os.getpid():
                return
            try:
                self.app.run_shutdown_sync()
            finally:
                self.started = False

    def start_or_refuse(self, start_response: StartResponse) -> list[bytes] | None:
        """Start this worker; None when serving may go on, else the 503 answer already begun.

        The first request starts the worker; one arriving meanwhile (another thread of a
        threaded server) waits for that startup, up to ``App.startup_wait`` seconds, and is
        told to retry after that. Once startup has failed every request is refused without
        retrying it.
        """
        if self._failed:
            response = failed_response()
        elif not self._lock.acquire(timeout=self.app.startup_wait):
            response = starting_response()
        elif self._failed:  # the startup this request waited for failed
            self._lock.release()
            response = failed_response()
        else:
            try:
                self._start_locked()
                return None
            except Exception:
                self._failed = True
                logger.exception("startup failed: this worker answers 503 until it is restarted")
                response = failed_response()
            finally:
                self._lock.release()
        start_response(STATUS_LINES[503], response.header_list())
        return [response.body]

    def stream_body(
        self, environ: dict[str, Any], response: StreamingResponse, head: bool
    ) -> Iterable[bytes]:
        """The body iterable of a streaming response (``wsgi.file_wrapper`` for files)."""
        body = SyncBody(response.stream)
        if head:
            body.close()
            return []
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None and isinstance(response, FileResponse) and response.whole_file:
            body.close()  # the server sends the file itself (sendfile where it can)
            file = response.open()  # the server closes it when done
            wrapped: Iterable[bytes] = wrapper(file, response.chunk_size)
            return wrapped
        return body

    def body_with_tasks(self, body: Iterable[bytes], tasks: BackgroundTasks) -> Iterable[bytes]:
        """``WSGICore.body_with_tasks``: a ``TasksBody`` around ``body``."""
        from duoweb.background import TasksBody  # only apps whose handlers add tasks

        return TasksBody(body, tasks)


class SyncBody:
    """A WSGI body iterable over a sync or async chunk iterator; ``close()`` closes it."""

    def __init__(self, stream: ChunkSource) -> None:
        self._async = isinstance(stream, AsyncIterable)
        self._iterator: Any = aiter(stream) if self._async else iter(stream)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[bytes]:
        if not self._async:
            for chunk in self._iterator:
                yield as_bytes(chunk)
            return
        while True:
            try:
                chunk = run_on_thread_loop(anext(self._iterator))
            except StopAsyncIteration:
                return
            yield as_bytes(chunk)

    def close(self) -> None:
        """Close the underlying iterator so its cleanup code runs."""
        if self._async:
            close = getattr(self._iterator, "aclose", None)
            if close is not None:
                run_on_thread_loop(close())
        else:
            close = getattr(self._iterator, "close", None)
            if close is not None:
                close()


def _stop_with_multiprocessing_child(stop: Callable[[], None]) -> None:
    """Also run ``stop`` when this process is a multiprocessing child that exits.

    Such a child (a Granian worker, for one) ends with ``os._exit``, which skips atexit;
    multiprocessing runs its own exit finalizers first. ``stop`` is idempotent.
    """
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None or multiprocessing.parent_process() is None:
        return
    from multiprocessing.util import Finalize

    Finalize(None, stop, exitpriority=0)
