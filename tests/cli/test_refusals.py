"""Every refusal of every command is one line on stderr with exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from limitwise.cli import app
from limitwise.kit import files

ROOT = Path(__file__).resolve().parents[2]
POLICY = str(ROOT / "policies" / "default.yaml")
runner = CliRunner()


def refused(*args: str) -> str:
    """Run the CLI; assert a one-line refusal with exit code 2 and return that line."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("book.db", "not_a_url"),
        ("sqllite:///x.db", "unsupported_database"),
        ("mysql://user@host/book", "unsupported_database"),
        ("postgresql+asyncpg://user@host/book", "unsupported_database"),
        ("sqlite+aiosqlite:///x.db", "unsupported_database"),
    ],
)
def test_a_bad_database_url_is_refused_by_rule(url: str, rule: str) -> None:
    line = refused("ledger", "check", "--db", url)
    assert "--db" in line and f"[{rule}]" in line


def test_a_missing_sqlite_file_is_refused_and_not_created(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    line = refused("ledger", "check", "--db", f"sqlite:///{typo}")
    assert "[database_not_found]" in line and "db upgrade" in line
    assert not typo.exists()


def test_db_upgrade_may_create_the_sqlite_file(tmp_path: Path) -> None:
    book = tmp_path / "new.db"
    result = runner.invoke(app, ["db", "upgrade", "--db", f"sqlite:///{book}"])
    assert result.exit_code == 0, result.output
    assert book.exists()


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"\x00\x01\x02binary", "binary_file"),
        (b'{"a": "\xff\xfe"}', "not_utf8"),
        (b'{"a": 1,\n "b": }', "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
        (b"[" * 100_000, "too_deep"),
        (b'{"a": ' * 70 + b"1" + b"}" * 70, "too_deep"),
    ],
)
def test_a_bad_input_file_is_refused_naming_file_and_rule(
    tmp_path: Path, content: bytes, rule: str
) -> None:
    path = _write(tmp_path, "features.json", content)
    line = refused("policy", "evaluate", POLICY, "--input", f"@{path}")
    assert path in line and f"[{rule}]" in line


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "features.json", b'{"a": 1,\n "b": }')
    assert "line 2, column 7" in refused("policy", "evaluate", POLICY, "--input", f"@{path}")


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    missing = refused("policy", "evaluate", POLICY, "--input", f"@{tmp_path}/missing.json")
    assert "missing.json" in missing and "[file_not_found]" in missing
    directory = refused("policy", "evaluate", POLICY, "--input", f"@{tmp_path}")
    assert str(tmp_path) in directory and "[not_a_file]" in directory


def test_a_huge_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1_000)
    path = _write(tmp_path, "big.json", b" " * 1_001 + b"{}")
    assert "[file_too_large]" in refused("policy", "evaluate", POLICY, "--input", f"@{path}")


def test_inline_json_is_refused_naming_the_option() -> None:
    line = refused("policy", "evaluate", POLICY, "--input", "[[")
    assert line.startswith("error: --input: invalid JSON") and "[invalid_json]" in line


@pytest.mark.parametrize("command", [["policy", "validate"], ["policy", "sql"], ["apply"]])
def test_every_file_command_refuses_a_missing_file(command: list[str], tmp_path: Path) -> None:
    assert "[file_not_found]" in refused(*command, str(tmp_path / "nope"))


def test_a_scenario_directory_is_refused(tmp_path: Path) -> None:
    assert "[not_a_file]" in refused("scenario", "run", str(tmp_path))


@pytest.mark.parametrize(
    ("second_day", "words"),
    [
        ("2026-02-30", "day value is outside expected range"),
        ("9999-12-31", "between 2000-01-01 and 2100-12-31"),
        ("2099-01-01", "span more than"),
    ],
)
def test_impossible_and_absurd_scenario_dates_are_refused_by_field(
    tmp_path: Path, second_day: str, words: str
) -> None:
    body = f"steps:\n  - on: 2026-02-01\n    advance_to: {{}}\n  - on: {second_day}\n"
    path = _write(tmp_path, "s.yaml", (body + "    advance_to: {}\n").encode())
    line = refused("scenario", "run", path)
    assert words in line
    if "span" not in words:
        assert "steps.2.on" in line


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.yaml", b"steps:\n  - on: [2026\n")
    line = refused("scenario", "run", path)
    assert "[invalid_yaml]" in line and "line 3, column 1" in line
