"""Forms and uploads in both modes: typed fields, files, models, FormData, limits, errors."""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Any

import msgspec
import pytest
from pydantic import BaseModel, Field

from duoweb import App, Form, FormData, FormLimits, UploadFile
from duoweb.testing import TestClient
from tests.conftest import MakeClient

WEBKIT = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
FIREFOX = "---------------------------9051914041544843365972754266"


def multipart_body(
    boundary: str, parts: list[tuple[str, bytes]], newline: bytes = b"\r\n"
) -> bytes:
    """A multipart body from (header lines, content) pairs, as a client writes it."""
    out = b""
    for headers, content in parts:
        out += b"--" + boundary.encode() + newline
        out += headers.encode().replace(b"\r\n", newline) + newline * 2 + content + newline
    return out + b"--" + boundary.encode() + b"--" + newline


def send(client: TestClient, path: str, boundary: str, body: bytes) -> Any:
    return client.post(
        path, content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class PydSignup(BaseModel):
    user: Annotated[str, Field(min_length=2)]
    age: int
    tags: list[str] = []


class StructSignup(msgspec.Struct):
    user: Annotated[str, msgspec.Meta(min_length=2)]
    age: int
    tags: list[str] = []


@dataclasses.dataclass
class DataSignup:
    user: str
    age: int
    tags: list[str] = dataclasses.field(default_factory=list)


def profile_app(is_async: bool) -> App:
    app = App()

    def profile(
        name: Annotated[str, Form(min_length=1)],
        avatar: UploadFile,
        tags: Annotated[list[str], Form()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {
            "name": name,
            "filename": avatar.filename,
            "content_type": avatar.content_type,
            "size": avatar.size,
            "content": avatar.read().decode("latin-1"),
            "tags": tags,
        }

    async def profile_async(
        name: Annotated[str, Form(min_length=1)],
        avatar: UploadFile,
        tags: Annotated[list[str], Form()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return profile(name, avatar, tags)

    app.post("/profile")(profile_async if is_async else profile)
    return app


@pytest.mark.parametrize("is_async", [False, True], ids=["def", "async"])
def test_profile_contract(make_client: MakeClient, is_async: bool) -> None:
    with make_client(profile_app(is_async)) as client:
        response = client.post(
            "/profile",
            data={"name": "Ada", "tags": ["x", "y"]},
            files={"avatar": ("me.png", b"\x89PNG\r\n\x00", "image/png")},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "name": "Ada",
            "filename": "me.png",
            "content_type": "image/png",
            "size": 7,
            "content": "\x89PNG\r\n\x00",
            "tags": ["x", "y"],
        }
        missing = client.post("/profile", data={"name": ""})
        assert missing.status_code == 422
        errors = {tuple(e["loc"]): e["type"] for e in missing.json()["errors"]}
        assert errors[("form", "avatar")] == "missing"
        assert ("form", "name") in errors


def test_fields_convert_like_query_parameters(make_client: MakeClient) -> None:
    app = App()

    @app.post("/order")
    def order(
        count: Annotated[int, Form(ge=1, le=10)],
        color: Annotated[Color, Form()],
        ids: Annotated[list[int], Form()],
        note: Annotated[str | None, Form()] = None,
        wire: Annotated[str, Form(alias="wire-name")] = "none",
    ) -> dict[str, Any]:
        return {"count": count, "color": color.value, "ids": ids, "note": note, "wire": wire}

    with make_client(app) as client:
        ok = client.post("/order", data={"count": "3", "color": "red", "ids": ["1", "2"]})
        assert ok.json() == {
            "count": 3,
            "color": "red",
            "ids": [1, 2],
            "note": None,
            "wire": "none",
        }
        aliased = client.post(
            "/order", data={"count": "1", "color": "blue", "ids": "7", "wire-name": "w"}
        )
        assert aliased.json()["wire"] == "w"
        bad = client.post("/order", data={"count": "11", "color": "green", "ids": ["x"]})
        assert bad.status_code == 422
        assert sorted(tuple(e["loc"]) for e in bad.json()["errors"]) == [
            ("form", "color"),
            ("form", "count"),
            ("form", "ids"),
        ]
        # The same fields sent as multipart convert the same way.
        multi = client.post(
            "/order",
            data={"count": "2", "color": "blue", "ids": ["5"]},
            files={"unrelated": ("u.txt", b"u")},
        )
        assert multi.json() == {
            "count": 2,
            "color": "blue",
            "ids": [5],
            "note": None,
            "wire": "none",
        }


@pytest.mark.parametrize("model", [PydSignup, StructSignup, DataSignup])
@pytest.mark.parametrize("is_async", [False, True], ids=["def", "async"])
def test_models_from_form_fields(make_client: MakeClient, model: type, is_async: bool) -> None:
    app = App()

    def signup(data: Annotated[model, Form()]) -> dict[str, Any]:  # type: ignore[valid-type]
        found: Any = data
        return {"user": found.user, "age": found.age, "tags": found.tags}

    async def signup_async(data: Annotated[model, Form()]) -> dict[str, Any]:  # type: ignore[valid-type]
        return signup(data)

    app.post("/signup")(signup_async if is_async else signup)
    with make_client(app) as client:
        ok = client.post("/signup", data={"user": "ada", "age": "36", "tags": ["a"]})
        assert ok.json() == {"user": "ada", "age": 36, "tags": ["a"]}
        bad = client.post("/signup", data={"user": "ada", "age": "old"})
        assert bad.status_code == 422
        assert [e["loc"] for e in bad.json()["errors"]] == [["form", "age"]]
        missing = client.post("/signup", data={"age": "3"})
        assert missing.status_code == 422
        assert [e["loc"] for e in missing.json()["errors"]] == [["form", "user"]]


def test_form_data_keeps_order_and_repeats(make_client: MakeClient) -> None:
    app = App()

    @app.post("/raw")
    def raw(form: FormData) -> list[list[Any]]:
        return [
            [name, value if isinstance(value, str) else [value.filename, value.read().decode()]]
            for name, value in form.multi_items()
        ]

    body = multipart_body(
        WEBKIT,
        [
            ('Content-Disposition: form-data; name="a"', b"1"),
            ('Content-Disposition: form-data; name="f"; filename="x.txt"', b"file"),
            ('Content-Disposition: form-data; name="a"', b"2"),
        ],
    )
    with make_client(app) as client:
        response = send(client, "/raw", WEBKIT, body)
        assert response.json() == [["a", "1"], ["f", ["x.txt", "file"]], ["a", "2"]]
        urlencoded = client.post(
            "/raw",
            content=b"b=1&a=%C3%A9&b=2",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert urlencoded.json() == [["b", "1"], ["a", "é"], ["b", "2"]]


def test_file_lists_optional_files_and_wrong_kinds(make_client: MakeClient) -> None:
    app = App()

    @app.post("/many")
    def many(files: list[UploadFile], extra: UploadFile | None = None) -> dict[str, Any]:
        return {"names": [f.filename for f in files], "extra": extra and extra.filename}

    with make_client(app) as client:
        body = multipart_body(
            FIREFOX,
            [
                ('Content-Disposition: form-data; name="files"; filename="1.txt"', b"1"),
                ('Content-Disposition: form-data; name="files"; filename="2.txt"', b"2"),
            ],
        )
        assert send(client, "/many", FIREFOX, body).json() == {
            "names": ["1.txt", "2.txt"],
            "extra": None,
        }
        text = client.post("/many", data={"files": "not a file"})
        assert text.status_code == 422
        assert text.json()["errors"][0]["msg"] == "Expected a file, got a text field"
        assert client.post("/many", data={}).json()["errors"][0]["loc"] == ["form", "files"]


CLIENT_FILENAMES = [
    # (Content-Disposition parameters as sent, filename the handler sees)
    ('filename="plain.txt"', "plain.txt"),
    ('filename=""', ""),  # a browser's empty file input
    ('filename="say %22hi%22.txt"', 'say "hi".txt'),  # browsers percent-encode quotes
    ('filename="say \\"hi\\".txt"', 'say "hi".txt'),  # curl escapes them with backslashes
    ('filename="back\\slash.txt"', "back\\slash.txt"),  # a backslash browsers send raw
    ('filename="C:\\dir\\name.txt"', "name.txt"),  # old browsers' full Windows path
    ("filename=\"euro.txt\"; filename*=UTF-8''%E2%82%AC.txt", "\u20ac.txt"),
    ("filename*=utf-8''na%C3%AFve.txt", "na\u00efve.txt"),
]


@pytest.mark.parametrize(("sent", "expected"), CLIENT_FILENAMES)
def test_filenames_as_clients_send_them(make_client: MakeClient, sent: str, expected: str) -> None:
    app = App()

    @app.post("/up")
    def up(file: UploadFile) -> dict[str, Any]:
        return {"filename": file.filename, "size": file.size, "type": file.content_type}

    body = multipart_body(WEBKIT, [(f'Content-Disposition: form-data; name="file"; {sent}', b"")])
    with make_client(app) as client:
        response = send(client, "/up", WEBKIT, body)
        assert response.status_code == 200, response.text
        assert response.json() == {"filename": expected, "size": 0, "type": None}


def test_lf_only_line_breaks_are_read_when_the_body_uses_them_throughout(
    make_client: MakeClient,
) -> None:
    app = App()

    @app.post("/raw")
    def raw(form: FormData) -> list[list[Any]]:
        return [
            [name, value if isinstance(value, str) else [value.filename, value.read().decode()]]
            for name, value in form.multi_items()
        ]

    body = multipart_body(
        WEBKIT,
        [
            ('Content-Disposition: form-data; name="a"', b"one\ntwo"),
            (
                'Content-Disposition: form-data; name="f"; filename="x.txt"\r\n'
                "Content-Type: text/plain",
                b"line 1\r\nline 2\n",
            ),
        ],
        b"\n",
    )
    with make_client(app) as client:
        response = send(client, "/raw", WEBKIT, body)
        assert response.status_code == 200, response.text
        assert response.json() == [["a", "one\ntwo"], ["f", ["x.txt", "line 1\r\nline 2\n"]]]


def test_clients_encodings_of_the_same_form_agree(make_client: MakeClient) -> None:
    import requests

    app = App()

    @app.post("/echo")
    def echo(name: Annotated[str, Form()], file: UploadFile) -> list[Any]:
        return [name, file.filename, file.content_type, file.read().decode()]

    prepared = requests.Request(
        "POST", "http://testserver/echo", data={"name": "n"}, files={"file": ("r.csv", b"a,b")}
    ).prepare()
    assert isinstance(prepared.body, bytes)
    with make_client(app) as client:
        via_requests = client.post(
            "/echo",
            content=prepared.body,
            headers={"content-type": str(prepared.headers["Content-Type"])},
        )
        via_httpx = client.post("/echo", data={"name": "n"}, files={"file": ("r.csv", b"a,b")})
        assert via_requests.json() == ["n", "r.csv", None, "a,b"]
        assert via_httpx.json() == ["n", "r.csv", "text/csv", "a,b"]


MALFORMED: dict[str, tuple[dict[str, str], bytes, str]] = {
    "no boundary": (
        {"content-type": "multipart/form-data"},
        multipart_body(WEBKIT, [('Content-Disposition: form-data; name="a"', b"1")]),
        "needs a boundary",
    ),
    "wrong boundary": (
        {"content-type": "multipart/form-data; boundary=other"},
        multipart_body(WEBKIT, [('Content-Disposition: form-data; name="a"', b"1")]),
        "no part delimited by the boundary",
    ),
    "missing final boundary": (
        {"content-type": f"multipart/form-data; boundary={WEBKIT}"},
        multipart_body(WEBKIT, [('Content-Disposition: form-data; name="a"', b"1")])[
            : -(len(WEBKIT) + 6)
        ],
        "ends before its final boundary",
    ),
    "truncated body": (
        {"content-type": f"multipart/form-data; boundary={WEBKIT}"},
        multipart_body(
            WEBKIT, [('Content-Disposition: form-data; name="f"; filename="x"', b"x" * 99)]
        )[:80],
        "ends before its final boundary",
    ),
    "no Content-Disposition": (
        {"content-type": f"multipart/form-data; boundary={WEBKIT}"},
        multipart_body(WEBKIT, [("Content-Type: text/plain", b"1")]),
        "no Content-Disposition",
    ),
    "no name": (
        {"content-type": f"multipart/form-data; boundary={WEBKIT}"},
        multipart_body(WEBKIT, [('Content-Disposition: form-data; filename="x"', b"1")]),
        "has no name",
    ),
    "headers without the blank line": (
        {"content-type": f"multipart/form-data; boundary={WEBKIT}"},
        f'--{WEBKIT}\r\nContent-Disposition: form-data; name="a"\r\n--{WEBKIT}--\r\n'.encode(),
        "headers are malformed",
    ),
    "not form-data": (
        {"content-type": f"multipart/form-data; boundary={WEBKIT}"},
        multipart_body(WEBKIT, [('Content-Disposition: attachment; name="a"', b"1")]),
        "not form-data",
    ),
    "CRLF boundary, then LF headers": (
        {"content-type": f"multipart/form-data; boundary={WEBKIT}"},
        f'--{WEBKIT}\r\nContent-Disposition: form-data; name="a"\n\n1\r\n--{WEBKIT}--\r\n'.encode(),
        "headers are malformed",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_multipart_is_a_400_naming_the_problem(
    make_client: MakeClient, case: str
) -> None:
    headers, body, detail = MALFORMED[case]
    app = App()

    @app.post("/form")
    def form(data: FormData) -> int:
        return len(data)

    with make_client(app) as client:
        response = client.post("/form", content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert detail in response.json()["detail"]


def test_a_body_that_is_not_a_form_is_415(make_client: MakeClient) -> None:
    app = App()

    @app.post("/form")
    def form(name: Annotated[str, Form()] = "none") -> str:
        return name

    with make_client(app) as client:
        json = client.post("/form", json={"name": "x"})
        assert json.status_code == 415
        assert "multipart/form-data" in json.json()["detail"]
        assert client.post("/form").json() == "none"  # no body at all: an empty form


LIMITS = FormLimits(
    max_parts=3, max_files=1, max_part_header_size=200, max_file_size=10, max_field_size=5
)


@pytest.mark.parametrize(
    ("data", "files", "detail"),
    [
        ({"a": ["1", "2", "3"]}, {"f": ("1", b"1")}, "more than 3 parts"),
        ({}, {"f": ("1", b"1"), "g": ("2", b"2")}, "more than 1 files"),
        ({}, {"f": ("x" * 300, b"1")}, "header section is larger than 200 bytes"),
        ({}, {"f": ("big", b"x" * 11)}, "file in part 'f' is larger than 10 bytes"),
        ({"a": "123456"}, {"f": ("1", b"1")}, "field 'a' is larger than 5 bytes"),
    ],
)
def test_each_limit_is_a_413_naming_it(
    make_client: MakeClient, data: dict[str, Any], files: dict[str, Any], detail: str
) -> None:
    app = App(form_limits=LIMITS)

    @app.post("/form")
    def form(data: FormData) -> int:
        return len(data)

    with make_client(app) as client:
        response = client.post("/form", data=data, files=files or None)
        assert response.status_code == 413, response.text
        assert detail in response.json()["detail"]


def test_limits_per_route_and_urlencoded(make_client: MakeClient) -> None:
    app = App(max_body_size=100)

    @app.post("/small", form_limits=FormLimits(max_parts=2))
    def small(data: FormData) -> int:
        return len(data)

    @app.post("/big", max_body_size=10_000)
    def big(data: FormData) -> int:
        return len(data)

    with make_client(app) as client:
        too_many = client.post("/small", data={"a": "1", "b": "2", "c": "3"})
        assert too_many.status_code == 413
        assert "more than 2 fields" in too_many.json()["detail"]
        assert client.post("/small", data={"a": "1", "b": "2"}).json() == 2
        body = client.post("/small", files={"f": ("f", b"x" * 200)})
        assert body.status_code == 413
        assert "larger than 100 bytes" in body.json()["detail"]
        assert client.post("/big", files={"f": ("f", b"x" * 200)}).json() == 1


def test_files_spool_to_disk_and_are_closed_after_the_response(make_client: MakeClient) -> None:
    app = App(max_body_size=1 << 20, form_limits=FormLimits(spool_size=1000))
    seen: list[UploadFile] = []

    @app.post("/keep")
    def keep(file: UploadFile) -> dict[str, Any]:
        seen.append(file)
        return {"rolled": bool(getattr(file.file, "_rolled", False)), "size": len(file.read())}

    @app.post("/fail")
    async def fail(file: UploadFile) -> None:
        seen.append(file)
        raise RuntimeError("handler failed")

    with make_client(app) as client:
        small = client.post("/keep", files={"file": ("s", b"x" * 10)})
        assert small.json() == {"rolled": False, "size": 10}
        large = client.post("/keep", files={"file": ("l", b"x" * 5000)})
        assert large.json() == {"rolled": True, "size": 5000}
        assert client.post("/fail", files={"file": ("f", b"x" * 5000)}).status_code == 500
    assert len(seen) == 3
    assert all(upload.file.closed for upload in seen)


def test_many_small_files_share_one_memory_budget(make_client: MakeClient) -> None:
    app = App(form_limits=FormLimits(spool_size=1000, max_memory=2500))

    @app.post("/many")
    def many(files: list[UploadFile]) -> list[bool]:
        return [bool(getattr(f.file, "_rolled", False)) for f in files]

    with make_client(app) as client:
        sent = [("files", (f"{i}.bin", b"x" * 900)) for i in range(4)]
        # 900 + 900 fit the 2500-byte budget; the third and fourth go to disk.
        assert client.post("/many", files=sent).json() == [False, False, True, True]


def test_a_dependency_may_read_form_fields(make_client: MakeClient) -> None:
    from duoweb import Depends

    app = App()

    def credentials(
        username: Annotated[str, Form()], password: Annotated[str, Form()]
    ) -> tuple[str, str]:
        return username, password

    @app.post("/token")
    def token(creds: Annotated[tuple[str, str], Depends(credentials)]) -> dict[str, str]:
        return {"access_token": creds[0] + ":" + str(len(creds[1]))}

    with make_client(app) as client:
        response = client.post("/token", data={"username": "ada", "password": "secret"})
        assert response.json() == {"access_token": "ada:6"}


@pytest.mark.parametrize("kind", ["def", "async"])
def test_forms_behind_middleware(make_client: MakeClient, kind: str) -> None:
    from duoweb import Request, Response

    app = App()
    seen: list[str] = []

    if kind == "def":

        @app.middleware
        def tag(request: Request, call_next: Any) -> Response:
            response: Response = call_next(request)
            seen.append(request.path)
            return response

    else:

        @app.middleware
        async def tag_async(request: Request, call_next: Any) -> Response:
            response: Response = await call_next(request)
            seen.append(request.path)
            return response

    @app.post("/up")
    def up(request: Request, note: Annotated[str, Form()], file: UploadFile) -> list[Any]:
        return [note, file.read().decode(), len(request.body)]

    with make_client(app) as client:
        response = client.post("/up", data={"note": "n"}, files={"file": ("f", b"content")})
        assert response.json() == ["n", "content", 0]  # the form parser consumed the body
    assert seen == ["/up"]
