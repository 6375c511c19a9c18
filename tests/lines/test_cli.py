"""The README's tour: apply, show the decision and the account, review, history."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from limitwise.cli import app
from tests.onboarding.test_cli import EXAMPLES

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_apply_opens_an_account_that_show_and_history_explain(db_url):
    applied = run(
        "apply", str(EXAMPLES / "car_owner.json"), "--db", db_url, "--as-of", "2026-11-23", "--json"
    )
    assert applied.exit_code == 0, applied.output
    body = json.loads(applied.output)
    decision = body["line_decision"]
    ref = decision["account"]
    assert decision["decision"]["action"] == "approve" and ref
    shown = json.loads(run("account", "show", ref, "--db", db_url, "--json").output)
    assert shown["line_fen"] == decision["decision"]["new_line_fen"] == 1_440_000
    assert shown["sub_lines_fen"] == {"car_owner": 960_000}
    assert shown["apr"] == decision["apr"] == "12.78%"
    text = run("account", "show", ref, "--db", db_url).output
    assert "line 14400.00 yuan" in text and "sub-line car_owner: 9600.00 yuan" in text
    reviewed = run("lines", "review", ref, "--db", db_url, "--as-of", "2026-12-01", "--json")
    assert json.loads(reviewed.output)["trigger"] == "review"
    history = json.loads(run("account", "history", ref, "--db", db_url, "--json").output)
    assert [h["trigger"] for h in history] == ["application", "review"]
    listed = json.loads(run("account", "list", "--db", db_url, "--json").output)
    assert [a["ref"] for a in listed] == [ref]


def test_history_of_an_unknown_account_is_a_clear_error(db_url):
    run("init", "--db", db_url)
    result = runner.invoke(app, ["account", "history", "nope", "--db", db_url])
    assert result.exit_code == 2
    assert "no credit account 'nope'" in result.stderr
