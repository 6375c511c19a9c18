"""The macro factor is one stored fact read as of a date, not an event on every account."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

from limitwise.features import service as features
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.servicing import service as servicing
from limitwise.servicing.scenario import load_scenario, run_scenario

SCENARIO = """\
steps:
  - {on: 2026-01-05, open_account: {id: A, line: "10000.00", product: jiebei-standard}}
  - {on: 2026-02-01, set_macro: {risk_appetite: 0.7}}
  - {on: 2026-02-01, open_account: {id: B, line: "10000.00", product: jiebei-standard}}
  - {on: 2026-03-01, set_macro: {risk_appetite: 1.3}}
  - {on: 2026-03-01, expect: {account: A, events: []}}
"""


def risk_appetite(engine: Engine, ref: str, on: dt.date) -> float:
    with unit_of_work(engine) as session:
        return features.PolicyFeatures().account(session, ref=ref, as_of=on).values["risk_appetite"]


def test_set_macro_stores_one_fact_that_features_read_as_of_their_date(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "macro.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    result = run_scenario(load_scenario(path), url=db_url)
    assert result.passed, [c for c in result.checks if not c.ok]
    engine = make_engine(db_url)
    try:
        with unit_of_work(engine) as session:
            assert servicing.account_events(session) == []  # no event on any account
        assert risk_appetite(engine, "A", dt.date(2026, 1, 31)) == 1.0  # nothing set yet
        assert risk_appetite(engine, "A", dt.date(2026, 2, 1)) == 0.7
        assert risk_appetite(engine, "B", dt.date(2026, 2, 28)) == 0.7  # opened after it
        assert risk_appetite(engine, "A", dt.date(2026, 3, 1)) == 1.3
    finally:
        engine.dispose()
