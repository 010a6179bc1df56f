"""The forms benchmark's own contenders answer its three requests correctly, in both modes."""

from __future__ import annotations

import pytest

from benchmarks import forms
from benchmarks.contenders.forms_apps import FORM_CONTENDERS

OURS = [name for name in FORM_CONTENDERS if name.startswith(forms.OURS)]


@pytest.mark.parametrize("name", OURS)
def test_the_contender_answers_each_request(name: str) -> None:
    mode, build = FORM_CONTENDERS[name]
    call = (forms.wsgi_caller if mode == "wsgi" else forms.asgi_caller)(build())
    head, count, tail = forms.upload_parts(1)
    length = len(head) + count * len(forms.CHUNK) + len(tail)
    answer = call("/upload", forms.MULTIPART, length, lambda: forms.upload_chunks(1))
    assert str(count * len(forms.CHUNK)).encode() in answer
    fields = forms.fields_body()
    assert b"1000" in call("/fields", forms.URLENCODED, len(fields), lambda: iter([fields]))
    parts = forms.parts_body()
    pieces = [parts[i : i + 1000] for i in range(0, len(parts), 1000)]
    assert b"200" in call("/parts", forms.MULTIPART, len(parts), lambda: iter(pieces))


def test_the_table_compares_with_the_fastest_peer() -> None:
    rows = [
        {"name": "duoweb-wsgi", "upload_mb_s": 900.0, "upload_peak_mib": 0.8},
        {"name": "peer-a", "upload_mb_s": 300.0, "upload_peak_mib": 1.0},
        {"name": "peer-b", "upload_mb_s": 450.0, "upload_peak_mib": 1.0},
    ]
    table = forms.table(rows)
    assert "| duoweb-wsgi | 900 (2.00x) | 0.8 |" in table
    assert "| peer-b | 450 | 1.0 |" in table


def test_the_upload_floor_prints_each_floor(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import upload_floor

    assert upload_floor.main(["--upload-mib", "1", "--runs", "1"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == list(upload_floor.FLOORS)
    assert all(float(row.split(" | ")[2].rstrip(" |")) > 0 for row in rows)
