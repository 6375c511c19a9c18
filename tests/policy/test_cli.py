from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from limitwise.policy.cli import app
from tests.policy.conftest import POLICIES

runner = CliRunner()
DEFAULT = str(POLICIES / "default.yaml")


def test_validate_ok_and_broken(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["validate", DEFAULT])
    assert ok.exit_code == 0 and "valid: jiebei-default 2026.12.1" in ok.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (POLICIES / "default.yaml")
        .read_text()
        .replace("when: bureau_score < 550", "when: bureau_scor < 550")
    )
    result = runner.invoke(app, ["validate", str(broken)])
    assert result.exit_code == 1
    assert (
        "node 'eligibility'" in result.output
        and "unknown feature or variable 'bureau_scor'" in result.output
    )


def test_evaluate_prints_decision_and_trace() -> None:
    cases = yaml.safe_load((POLICIES / "default.cases.yaml").read_text())
    features = {**cases["bases"]["existing"], "dpd_now": 10, "dpd_max_3m": 10, "dpd_max_12m": 10}
    result = runner.invoke(
        app, ["evaluate", DEFAULT, "--input", json.dumps(features), "--lang", "zh"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["action"], body["line_fen"]) == ("decrease", 1000000)
    assert body["reasons"] == [{"code": "DPD_NOW", "text": "当前有逾期未还款项。"}]
    risk = next(step for step in body["trace"] if step["node"] == "review_risk")
    assert risk["matched"] == ["overdue_short"] and risk["values"]["dpd_now"] == 10


def test_publish_list_and_diff_through_the_database(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    from limitwise.kit import migrate

    migrate.upgrade(db)
    assert runner.invoke(app, ["publish", DEFAULT, "--db", db]).exit_code == 0
    v2 = tmp_path / "v2.yaml"
    v2.write_text(
        Path(DEFAULT)
        .read_text()
        .replace('"2026.12.1"', '"2026.12.2"')
        .replace('">= 15"]', '">= 12"]')
    )
    assert runner.invoke(app, ["publish", str(v2), "--db", db]).exit_code == 0
    listed = runner.invoke(app, ["list", "--db", db])
    assert "2026.12.1" in listed.output and "2026.12.2" in listed.output
    diff = runner.invoke(app, ["diff", "jiebei-default@2026.12.1", str(v2), "--db", db])
    assert "nodes/review_risk.rows/draw_burst.when" in diff.output
    assert "2 change(s)" in diff.output
    stored = runner.invoke(
        app,
        ["evaluate", "jiebei-default@2026.12.2", "--input", _burst(12), "--db", db, "--no-trace"],
    )
    assert stored.exit_code == 0, stored.output
    assert json.loads(stored.output)["action"] == "freeze"  # 12 draws: v2's tighter rule
    from_file = runner.invoke(app, ["evaluate", DEFAULT, "--input", _burst(12), "--no-trace"])
    assert json.loads(from_file.output)["action"] == "keep"


def _burst(draws: int) -> str:
    cases = yaml.safe_load((POLICIES / "default.cases.yaml").read_text())
    return json.dumps({**cases["bases"]["existing"], "draws_last_7d": draws})


def test_evaluate_refuses_an_unknown_language() -> None:
    command = ["policy", "evaluate", DEFAULT, "--input", _burst(0), "--lang", "fr"]
    result = subprocess.run(
        [sys.executable, "-m", "limitwise", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "lang" in result.stderr and "use en or zh" in result.stderr
    assert "Traceback" not in result.stderr
