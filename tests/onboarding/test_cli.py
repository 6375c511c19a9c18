import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from limitwise.cli import app
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.onboarding.models import Application
from tests.onboarding.factory import CAR_OWNER_ID, key

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "applications"
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def applications(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with unit_of_work(engine) as session:
            return session.scalar(select(func.count()).select_from(Application))
    finally:
        engine.dispose()


def test_apply_prints_the_outcome_with_masked_identifiers(db_url):
    result = run("apply", str(EXAMPLES / "car_owner.json"), "--db", db_url, "--as-of", "2026-11-23")
    assert result.exit_code == 0, result.output
    assert "pending_decision" in result.output
    assert "110105********1239" in result.output and CAR_OWNER_ID not in result.output
    result = run(
        "apply", str(EXAMPLES / "under_age.json"), "--db", db_url, "--as-of", "2026-11-23", "--json"
    )
    body = json.loads(result.output)
    assert body["status"] == "declined"
    assert [r["code"] for r in body["reasons"]] == ["below_legal_age"]
    assert applications(db_url) == 2


def test_bad_input_prints_every_problem_and_stores_nothing(db_url, tmp_path):
    result = run(
        "apply", str(EXAMPLES / "bad_input.json"), "--db", db_url, "--as-of", "2026-11-23", "--json"
    )
    assert result.exit_code == 2
    problems = json.loads(result.output)["problems"]
    assert len(problems) == 10
    assert {"field": "bank_card", "rule": "card_check_digit"}.items() <= problems[2].items()
    missing = run("apply", "no-such-file.json", "--db", db_url)
    assert missing.exit_code == 2 and "no-such-file.json: no such file" in missing.stderr
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    garbled = run("apply", str(binary), "--db", db_url)
    assert garbled.exit_code == 2 and "binary.json: contains NUL bytes" in garbled.stderr
    assert applications(db_url) == 0


def test_invite_show_and_rotate_keys(db_url, monkeypatch):
    monkeypatch.setenv("LIMITWISE_PII_KEYS", f"k1:{key('k1')}")
    monkeypatch.setenv("LIMITWISE_ELIGIBILITY_POLICY_PATH", "")
    invited = run("onboarding", "invite", CAR_OWNER_ID, "--campaign", "vip", "--db", db_url)
    assert invited.exit_code == 0 and "110105********1239 (vip)" in invited.output
    applied = run(
        "apply", str(EXAMPLES / "car_owner.json"), "--db", db_url, "--as-of", "2026-11-23", "--json"
    )
    ref = json.loads(applied.output)["application_ref"]
    shown = run("onboarding", "show", ref, "--db", db_url)
    assert shown.exit_code == 0 and ref in shown.output
    assert "110105********1239" in shown.output and CAR_OWNER_ID not in shown.output
    monkeypatch.setenv("LIMITWISE_PII_KEYS", f"k2:{key('k2')},k1:{key('k1')}")
    rotated = run("onboarding", "rotate-keys", "--db", db_url)
    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted 1 application(s) under key k2" in rotated.output
    assert "key k2: 1 application(s)" in rotated.output
