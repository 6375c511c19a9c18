"""Every shipped scenario passes on SQLite and PostgreSQL; the runner reports mismatches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from limitwise.cli import app
from limitwise.kit.errors import InvalidRequest
from limitwise.servicing.scenario import load_scenario, run_scenario

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
SCENARIOS = sorted(SCENARIO_DIR.glob("*.yaml")) + sorted(SCENARIO_DIR.glob("seeds/*.yaml"))


def test_scenarios_are_shipped() -> None:
    names = {path.stem for path in SCENARIOS}
    assert {"worked_example", "refusals", "backdated_repayment", "overdue_buckets"} <= names
    seeds = {"car_owner_sub_line", "risk_cut_not_minor_late", "repaid_everything"}
    seeds |= {"inactive_notice", "no_growth_named", "growth"}
    assert seeds <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_passes(path: Path, db_url: str) -> None:
    result = run_scenario(load_scenario(path), url=db_url)
    failed = [check for check in result.checks if not check.ok]
    assert not failed, failed
    assert result.passed


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


PRODUCT = "product: {name: std, daily_rate_bps: 4.0, repayment_types: [daily], terms_months: [3]}\n"


def test_mismatch_exits_non_zero_and_names_field_expected_actual(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PRODUCT
        + "steps:\n"
        + '  - {on: 2026-01-05, open_account: {id: A, line: "1000.00"}}\n'
        + '  - {on: 2026-01-05, expect: {account: A, available: "999.00"}}\n',
    )
    result = CliRunner().invoke(app, ["scenario", "run", str(path)])
    assert result.exit_code == 1
    assert "available" in result.output and "999.00" in result.output
    assert "1000.00" in result.output and "MISMATCH" in result.output


def test_json_prints_final_state_of_every_account(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PRODUCT
        + "steps:\n"
        + '  - {on: 2026-01-05, open_account: {id: A, line: "1000.00"}}\n'
        + '  - {on: 2026-01-05, draw: {account: A, amount: "500.00", repayment: daily, key: k}}\n'
        + '  - {on: 2026-01-15, expect: {account: A, interest_receivable: "2.00"}}\n',
    )
    result = CliRunner().invoke(app, ["scenario", "run", str(path), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["passed"] is True
    [account] = body["accounts"]
    assert account["ref"] == "A"
    assert account["outstanding_principal_fen"] == 50_000
    assert account["interest_receivable_fen"] == 200
    assert account["draws"][0]["schedule"][0]["due"] == "2026-02-05"


def test_bad_scenario_names_step_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PRODUCT
        + "steps:\n"
        + '  - {on: 2026-01-05, open_account: {id: A, line: "1.00"}}\n'
        + '  - {on: 2026-01-05, open_account: {id: B, line: "1.00"}, freeze: {account: A}}\n',
    )
    with pytest.raises(InvalidRequest) as error:
        load_scenario(path)
    assert "steps.2" in str(error.value) and "exactly one thing" in str(error.value)


def test_bad_product_is_reported_with_every_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "product: {name: bad, daily_rate_bps: 9.0, repayment_types: [weekly], terms_months: [0]}\n"
        'steps:\n  - {on: 2026-01-05, open_account: {id: A, line: "1.00"}}\n',
    )
    with pytest.raises(InvalidRequest) as error:
        run_scenario(load_scenario(path))
    fields = {problem.field for problem in error.value.problems}
    assert {"product.repayment_types.0", "product.terms_months"} <= fields
