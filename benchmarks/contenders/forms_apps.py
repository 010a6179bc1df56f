"""The same three form routes in duoweb and each peer, for benchmarks/forms.py.

``POST /upload``: one file part ``file``; answer its size (each framework's natural way to
get at the content). ``POST /fields``: an urlencoded form; answer the number of fields.
``POST /parts``: a multipart form of text parts; answer the number of parts.
"""

# No ``from __future__ import annotations``: FastAPI and Litestar read the handlers'
# annotations at runtime, and some name classes imported inside the builders.
import tempfile
from typing import Any

BIG = 2 * 1024**3  # every app accepts the uploads (50 MiB, and 1 GiB for the memory check)
MANY = 2000  # and more fields/parts than the benchmark sends
SPOOL = 1024 * 1024  # in memory up to 1 MiB, as duoweb's and Starlette's uploads


def duoweb_app() -> Any:
    """Under WSGI: ``def`` handlers, each mode's natural kind (as the peers use theirs)."""
    from duoweb import App, FormData, FormLimits, UploadFile

    app = App(
        max_body_size=BIG, form_limits=FormLimits(max_parts=MANY), openapi_url=None, docs_url=None
    )

    @app.post("/upload")
    def upload(file: UploadFile) -> int:
        return file.size

    @app.post("/fields")
    def fields(form: FormData) -> int:
        return len(form.multi_items())

    @app.post("/parts")
    def parts(form: FormData) -> int:
        return len(form.multi_items())

    return app


def duoweb_async_app() -> Any:
    """Under ASGI: ``async def`` handlers, as the ASGI peers' are."""
    from duoweb import App, FormData, FormLimits, UploadFile

    app = App(
        max_body_size=BIG, form_limits=FormLimits(max_parts=MANY), openapi_url=None, docs_url=None
    )

    @app.post("/upload")
    async def upload(file: UploadFile) -> int:
        return file.size

    @app.post("/fields")
    async def fields(form: FormData) -> int:
        return len(form.multi_items())

    @app.post("/parts")
    async def parts(form: FormData) -> int:
        return len(form.multi_items())

    return app.asgi


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def upload(request: Request) -> JSONResponse:
        async with request.form(max_files=10, max_fields=MANY) as form:
            file: Any = form["file"]
            return JSONResponse(file.size)

    async def count(request: Request) -> JSONResponse:
        async with request.form(max_fields=MANY) as form:
            return JSONResponse(len(form.multi_items()))

    return Starlette(
        routes=[
            Route("/upload", upload, methods=["POST"]),
            Route("/fields", count, methods=["POST"]),
            Route("/parts", count, methods=["POST"]),
        ]
    )


def fastapi_app() -> Any:
    from fastapi import FastAPI, Request, UploadFile

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/upload")
    async def upload(file: UploadFile) -> int:
        return file.size or 0

    @app.post("/fields")
    async def fields(request: Request) -> int:
        async with request.form(max_fields=MANY) as form:
            return len(form.multi_items())

    @app.post("/parts")
    async def parts(request: Request) -> int:
        async with request.form(max_fields=MANY) as form:
            return len(form.multi_items())

    return app


def litestar_app() -> Any:
    from typing import Annotated

    from litestar import Litestar, post
    from litestar.datastructures import UploadFile
    from litestar.enums import RequestEncodingType
    from litestar.params import Body

    @post("/upload", request_max_body_size=BIG)
    async def upload(
        data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> int:
        content = await data["file"].read()
        return len(content)

    @post("/fields")
    async def fields(
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> int:
        return len(data)

    @post("/parts")
    async def parts(
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> int:
        return len(data)

    return Litestar([upload, fields, parts], openapi_config=None, multipart_form_part_limit=MANY)


class _FalconRoutes:
    """Falcon resources for the three routes (shared by its WSGI and ASGI apps)."""

    @staticmethod
    def configure(app: Any) -> None:
        import falcon

        handler = app.req_options.media_handlers[falcon.MEDIA_MULTIPART]
        handler.parse_options.max_body_part_count = MANY


def falcon_wsgi_app() -> Any:
    import falcon

    class Upload:
        def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
            # Falcon streams parts and stores nothing: keep the file as the others do.
            with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
                for part in req.get_media():
                    while chunk := part.stream.read(65536):
                        spool.write(chunk)
                resp.media = spool.tell()

    class Count:
        def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
            media = req.get_media()
            if isinstance(media, dict):
                resp.media = len(media)
            else:
                resp.media = sum(1 for part in media if part.text is not None)

    app = falcon.App()
    _FalconRoutes.configure(app)
    app.add_route("/upload", Upload())
    app.add_route("/fields", Count())
    app.add_route("/parts", Count())
    return app


def falcon_asgi_app() -> Any:
    import falcon
    import falcon.asgi

    class Upload:
        async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
            with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
                async for part in await req.get_media():
                    async for chunk in part.stream:
                        spool.write(chunk)
                resp.media = spool.tell()

    class Count:
        async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
            media = await req.get_media()
            if isinstance(media, dict):
                resp.media = len(media)
            else:
                count = 0
                async for part in media:
                    await part.get_text()
                    count += 1
                resp.media = count

    app = falcon.asgi.App()
    _FalconRoutes.configure(app)
    app.add_route("/upload", Upload())
    app.add_route("/fields", Count())
    app.add_route("/parts", Count())
    return app


def flask_app() -> Any:
    from flask import Flask, request

    app = Flask("forms")
    app.config["MAX_CONTENT_LENGTH"] = BIG
    app.config["MAX_FORM_PARTS"] = MANY

    @app.post("/upload")
    def upload() -> Any:
        stream = request.files["file"].stream
        return {"size": stream.seek(0, 2)}

    @app.post("/fields")
    def fields() -> Any:
        return {"count": len(list(request.form.items(multi=True)))}

    @app.post("/parts")
    def parts() -> Any:
        return {"count": len(list(request.form.items(multi=True)))}

    return app


class _RawForm:
    """The raw ceiling's parse: duoweb's compiled parsers with no framework around them.

    Each app below answers the three routes straight from environ/scope, feeding the body to
    the same push parser duoweb uses and spooling file content as duoweb does (its
    SpoolWriter: 1 MiB writes once on disk), so the gap
    between it and duoweb is what duoweb's routing, checks and FormData cost.
    """

    def __init__(self, path: str, content_type: str) -> None:
        from duoweb._multipart import MultipartParser
        from duoweb.headers import parse_content_type

        self.path = path
        self.chunks: list[bytes] = []
        self.parser: Any = None
        if path != "/fields":
            boundary = parse_content_type(content_type)[1]["boundary"].encode("latin-1")
            self.parser = MultipartParser(boundary, 8192, 16, MANY)
        self.items: list[tuple[str, Any]] = []
        self.spool: Any = None
        self.text = bytearray()
        self.name = ""

    def feed(self, chunk: bytes) -> None:
        if self.parser is None:
            self.chunks.append(chunk)
            return
        for event in self.parser.feed(chunk):
            if event is None:
                if self.spool is not None:
                    self.spool.flush()
                    self.items.append((self.name, self.spool.upload.file))
                    self.spool = None
                else:
                    self.items.append((self.name, self.text.decode("utf-8", "replace")))
                    self.text.clear()
            elif type(event) is bytes:
                if self.spool is not None:
                    self.spool.write(event)
                else:
                    self.text += event
            else:
                self.name = event[0]
                if event[1] is not None:
                    from duoweb import UploadFile
                    from duoweb.form_spool import SpoolWriter

                    file = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115
                    self.spool = SpoolWriter(UploadFile(file), SPOOL)

    def answer(self) -> bytes:
        if self.parser is None:
            from duoweb._multipart import parse_urlencoded

            return b"%d" % len(parse_urlencoded(b"".join(self.chunks), MANY))
        assert self.parser.complete
        if self.path == "/upload":
            spool = self.items[0][1]
            size = spool.seek(0, 2)  # (written past the buffered file's own position)
            spool.close()
            return b"%d" % size
        return b"%d" % len(self.items)


def raw_wsgi_app() -> Any:
    """The raw ceiling under WSGI: a bare callable reading wsgi.input in 64 KiB reads."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        form = _RawForm(environ["PATH_INFO"], environ.get("CONTENT_TYPE", ""))
        stream = environ["wsgi.input"]
        remaining = int(environ["CONTENT_LENGTH"])
        while remaining:
            chunk = stream.read(min(65536, remaining))
            remaining -= len(chunk)
            form.feed(chunk)
        body = form.answer()
        start_response(
            "200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))]
        )
        return [body]

    return app


def raw_asgi_app() -> Any:
    """The raw ceiling under ASGI: a bare callable feeding each received body message."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        form = _RawForm(scope["path"], content_type.decode("latin-1"))
        more = True
        while more:
            message = await receive()
            form.feed(message.get("body", b""))
            more = message.get("more_body", False)
        body = form.answer()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"%d" % len(body)),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


#: name -> (mode, app builder)
FORM_CONTENDERS: dict[str, tuple[str, Any]] = {
    "duoweb-wsgi": ("wsgi", duoweb_app),
    "duoweb-asgi": ("asgi", duoweb_async_app),
    "raw-ceiling-wsgi": ("wsgi", raw_wsgi_app),
    "raw-ceiling-asgi": ("asgi", raw_asgi_app),
    "falcon-wsgi": ("wsgi", falcon_wsgi_app),
    "falcon-asgi": ("asgi", falcon_asgi_app),
    "flask": ("wsgi", flask_app),
    "starlette": ("asgi", starlette_app),
    "fastapi": ("asgi", fastapi_app),
    "litestar": ("asgi", litestar_app),
}
