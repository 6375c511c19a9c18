"""``limitwise users``: the first admin and service keys from the shell."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from limitwise.api.app import create_app
from limitwise.cli import app


def test_an_admin_and_a_key_made_on_the_shell_work_over_http(tmp_path: Path, sqlite_template):
    path = tmp_path / "book.db"
    shutil.copyfile(sqlite_template, path)
    db = f"sqlite:///{path}"
    runner = CliRunner()
    created = runner.invoke(
        app,
        ["users", "create", "root", "--role", "admin", "--db", db],
        input="root-password\nroot-password\n",
    )
    assert created.exit_code == 0, created.output
    assert "user root (admin) created" in created.output
    issued = runner.invoke(
        app, ["users", "api-key", "lender-app", "--scope", "accounts:read", "--db", db]
    )
    assert issued.exit_code == 0, issued.output
    key = issued.output.strip().splitlines()[-1]
    api = create_app(db)
    with TestClient(api) as client:
        form = {"grant_type": "password", "username": "root", "password": "root-password"}
        assert client.post("/v1/auth/token", data=form).status_code == 200
        assert client.get("/v1/accounts", headers={"X-API-Key": key}).json() == []
    api.state.engine.dispose()
