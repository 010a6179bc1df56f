"""The forms benchmark's own contenders answer its three requests correctly, in both modes."""

from __future__ import annotations

import pytest

from benchmarks import forms
from benchmarks.contenders.forms_apps import FORM_CONTENDERS

OURS = [name for name in FORM_CONTENDERS if name.startswith(forms.OURS)]


@pytest.mark.parametrize("name", OURS)
def test_the_contender_answers_each_request(name: str) -> None:
    mode, build = FORM_CONTENDERS[name]
    call = forms.caller(mode, build())
    assert str(1024 * 1024).encode() in call(forms.upload_exchange(1), 1)
    assert b"1000" in call(forms.fields_exchange(), 2)
    assert b"200" in call(forms.parts_exchange(), 2)


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_a_wrong_answer_fails_the_benchmark(mode: str) -> None:
    build = FORM_CONTENDERS[f"raw-ceiling-{mode}"][1]
    call = forms.caller(mode, build())
    exchange = forms.fields_exchange()
    wrong = forms.Exchange(
        exchange.path, exchange.content_type, exchange.length, exchange.body, b"999"
    )
    with pytest.raises(AssertionError):
        call(wrong, 1)


def test_the_upload_content_is_binary_with_line_breaks() -> None:
    content = b"".join(list(forms.upload_chunks(1))[1:-1])
    assert content == forms.CONTENT_BLOCK
    assert len(content) == 1024 * 1024
    assert content.count(b"\r") > 1000
    assert b"\r\n" in content
    first, again = (list(forms.upload_chunks(1))[1] for _ in range(2))
    assert first == again
    assert first is not again  # a new object per chunk, as from a socket


def test_the_table_compares_with_the_fastest_peer() -> None:
    rows = [
        {"name": "duoweb-wsgi", "upload_mb_s": 900.0, "upload_peak_mib": 0.8},
        {"name": "peer-a", "upload_mb_s": 300.0, "upload_peak_mib": 1.0},
        {"name": "peer-b", "upload_mb_s": 450.0, "upload_peak_mib": 1.0},
    ]
    table = forms.table(rows)
    assert "| duoweb-wsgi | 900 (2.00x) | 0.8 |" in table
    assert "| peer-b | 450 | 1.0 |" in table


def test_the_table_also_compares_with_the_fastest_peer_of_the_same_mode() -> None:
    rows = [
        {"name": "duoweb-asgi", "upload_mb_s": 900.0, "upload_peak_mib": 0.8},
        {"name": "falcon-wsgi", "upload_mb_s": 600.0, "upload_peak_mib": 1.0},
        {"name": "falcon-asgi", "upload_mb_s": 300.0, "upload_peak_mib": 1.0},
    ]
    assert "| duoweb-asgi | 900 (1.50x; 3.00x ASGI) | 0.8 |" in forms.table(rows)


def test_the_upload_floor_prints_each_floor(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import upload_floor

    assert upload_floor.main(["--upload-mib", "1", "--runs", "1"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == list(upload_floor.FLOORS)
    assert all(float(row.split(" | ")[2].rstrip(" |")) > 0 for row in rows)
