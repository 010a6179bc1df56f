"""Every ```python block in docs/*.md and README.md runs, so the documentation cannot rot.

The conventions (also described in docs/index.md):

- One test per Markdown file. Its blocks run in order in one shared namespace, so a later
  block can use an earlier block's ``app``. Put ``assert`` lines in samples: they are tests.
- The blocks run in a fresh temporary working directory, with ``TODO_DB`` naming a database
  file in it, so samples may create files without touching the checkout.
- A block whose first line is ``# not run: <reason>`` is skipped. Use it sparingly.
- A block whose first line is ``# file: NAME.py`` is (part of) the file NAME.py the page
  builds. Its code runs in the shared namespace like any block, which is also importable as
  ``NAME`` (so a later block may ``from NAME import app``), and it is appended to NAME.py in
  the working directory. Blocks of a ``test_*.py`` or ``conftest.py`` are pytest's: they
  are not run in the namespace; once every block has run, pytest runs the test files in a
  subprocess, next to the other files the page wrote.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*ROOT.joinpath("docs").glob("*.md"), ROOT / "README.md"])

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)[^`]*$")
_NOT_RUN = re.compile(r"#\s*not run:\s*\S")
_FILE = re.compile(r"#\s*file:\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\.py\s*$")


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced Python block: where it starts (1-based line of its first code line)."""

    line: int
    source: str

    @property
    def first_line(self) -> str:
        lines = self.source.splitlines()
        return lines[0].strip() if lines else ""

    @property
    def skipped(self) -> bool:
        return _NOT_RUN.match(self.first_line) is not None

    @property
    def file(self) -> str | None:
        found = _FILE.match(self.first_line)
        return found.group("name") if found else None


def python_blocks(text: str) -> Iterator[Block]:
    """The ```python (or ```py) blocks of a Markdown text, in order, dedented."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        index += 1
        if opening is None:
            continue
        fence, indent = opening.group("fence"), opening.group("indent")
        body: list[str] = []
        start = index + 1
        while index < len(lines):
            line = lines[index]
            index += 1
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                break
            body.append(line[len(indent) :] if line.startswith(indent) else line)
        if opening.group("info").lower() in ("python", "py", "python3"):
            yield Block(start, textwrap.dedent("\n".join(body)) + "\n")


def _pages_with_code() -> list[Path]:
    return [page for page in PAGES if any(python_blocks(page.read_text(encoding="utf-8")))]


def test_the_block_parser_finds_fenced_python() -> None:
    text = (
        "x\n```python\na = 1\n```\n\n  ```py\n  # not run: shell\n  b = 2\n  ```\n```sh\nc\n```\n"
    )
    blocks = list(python_blocks(text))
    assert [(b.line, b.source) for b in blocks] == [
        (3, "a = 1\n"),
        (7, "# not run: shell\nb = 2\n"),
    ]
    assert [b.skipped for b in blocks] == [False, True]
    assert Block(1, "# file: todo.py\nx = 1\n").file == "todo"


@pytest.mark.parametrize("page", _pages_with_code(), ids=lambda page: page.name)
def test_python_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TODO_DB", str(tmp_path / "todo.sqlite3"))
    monkeypatch.syspath_prepend(str(tmp_path))
    relative = page.relative_to(ROOT)
    module = types.ModuleType(f"docs_sample_{page.stem.replace('-', '_')}")
    module.__file__ = str(tmp_path / "__docs_sample__.py")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    test_files: set[str] = set()
    for block in python_blocks(page.read_text(encoding="utf-8")):
        if block.skipped:
            continue
        name = block.file
        if name is not None:
            with (tmp_path / f"{name}.py").open("a", encoding="utf-8") as out:
                out.write(block.source + "\n")
            if name.startswith("test_"):
                test_files.add(f"{name}.py")
            if name.startswith("test_") or name == "conftest":
                continue
            monkeypatch.setitem(sys.modules, name, module)
        # Pad so that a traceback's line numbers are the Markdown file's line numbers.
        code = compile("\n" * (block.line - 1) + block.source, str(relative), "exec")
        exec(code, module.__dict__)
    if test_files:
        _run_pytest(sorted(test_files), tmp_path)


def test_tutorial_checks_run_as_scripts(tmp_path: Path) -> None:
    """As the tutorial says: each ``check.py`` replaces the last and runs with ``python``."""
    env = {k: v for k, v in os.environ.items() if k not in ("TODO_DB", "PYTHONPATH")}
    tutorial = ROOT.joinpath("docs", "tutorial.md").read_text(encoding="utf-8")
    checks = 0
    for block in python_blocks(tutorial):
        if block.file == "todo":
            with (tmp_path / "todo.py").open("a", encoding="utf-8") as out:
                out.write(block.source + "\n")
        elif block.file == "check":
            (tmp_path / "check.py").write_text(block.source, encoding="utf-8")
            result = subprocess.run(
                [sys.executable, "check.py"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert (result.returncode, result.stdout) == (0, ""), result.stderr
            checks += 1
    assert checks >= 4
    # No TODO_DB: the database is todo.sqlite3 in the working directory, as the page says.
    assert (tmp_path / "todo.sqlite3").exists()


def _run_pytest(files: list[str], where: Path) -> None:
    """Run the test files a page wrote, with pytest, in a subprocess rooted at ``where``."""
    # No third-party plugins: loading them costs seconds, and a sample must not need them.
    env = {**os.environ, "PYTHONPATH": str(where), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", ".", *files],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def test_index_links_every_page() -> None:
    index = ROOT.joinpath("docs", "index.md").read_text(encoding="utf-8")
    linked = {found.group("target").partition("#")[0] for found in _LINK.finditer(index)}
    pages = {page.name for page in ROOT.joinpath("docs").glob("*.md")} - {"index.md"}
    assert sorted(pages - linked) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_relative_links_resolve(page: Path) -> None:
    """A link to another file of the repository points at a file that exists."""
    broken = []
    for found in _LINK.finditer(page.read_text(encoding="utf-8")):
        target = found.group("target").partition("#")[0]
        if not target or "://" in target or target.startswith(("mailto:", "/")):
            continue
        if not (page.parent / target).exists():
            broken.append(target)
    assert broken == []
