"""A small app with form routes, served by real servers in tests/e2e/test_forms_served.py."""

from __future__ import annotations

import hashlib
from typing import Annotated

from duoweb import App, Form, FormLimits, UploadFile

app = App(max_body_size=64 * 1024 * 1024, form_limits=FormLimits(max_files=3))


@app.post("/upload")
def upload(
    title: Annotated[str, Form(min_length=1)], file: UploadFile
) -> dict[str, str | int | None]:
    """The upload's name, size and digest, read back from its spool."""
    digest = hashlib.sha256()
    while chunk := file.read(65536):
        digest.update(chunk)
    return {
        "title": title,
        "filename": file.filename,
        "size": file.size,
        "sha256": digest.hexdigest(),
    }


@app.post("/login")
async def login(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> str:
    """An OAuth2-style password form, urlencoded, to an async handler."""
    return f"{username}:{len(password)}"
