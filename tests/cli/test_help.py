"""``--help`` and ``--version`` are fast (import nothing heavy) and read like a kept CLI's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from limitwise.cli import app
from limitwise.kit.cli import RootGroup

HEAVY = ("polars", "numba", "duckdb", "fastapi", "sqlalchemy", "numpy", "alembic", "pydantic")
runner = CliRunner()


def _modules_loaded_by(*args: str) -> set[str]:
    """Run the CLI in a fresh interpreter and report which top-level modules it imported."""
    script = (
        "import json, sys\n"
        "from limitwise.cli import app\n"
        "try:\n"
        f"    app({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(done.stderr.splitlines()[-1]))


@pytest.mark.parametrize("args", [["--version"], ["--help"], []])
def test_version_and_help_import_nothing_heavy(args: list[str]) -> None:
    assert _modules_loaded_by(*args) & set(HEAVY) == set()


def test_a_command_still_loads_what_it_needs() -> None:
    assert "sqlalchemy" in _modules_loaded_by("ledger", "check", "--help")


def _command_paths() -> list[list[str]]:
    """Every command and group, found by walking the (lazily loaded) command tree."""
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        if isinstance(command, RootGroup) or hasattr(command, "commands"):
            ctx = None
            names = command.list_commands(ctx)  # type: ignore[attr-defined]
            for name in names:
                walk(command.get_command(ctx, name), [*path, name])  # type: ignore[attr-defined]

    walk(get_command(app), [])
    return paths


COMMANDS = _command_paths()


def test_the_walk_finds_every_command() -> None:
    assert len(COMMANDS) > 40
    assert ["scenario", "run"] in COMMANDS and ["apply"] in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "limitwise")
def test_help_reads_cleanly(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "<bool>" not in text  # a flag takes no value
    assert "{" not in text.splitlines()[0]  # usage names arguments FILE, not {file}
    assert "``" not in text  # no raw reST
    assert "--install-completion" not in text
    assert "Traceback" not in text
