"""Builders for the lines tests: a feature source that hands the line service chosen
features (the subject here is the line service, not the feature definitions)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from limitwise.businessdate import service as business_dates
from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.lines.inputs import FeatureRow
from limitwise.onboarding.schemas import ApplicationOutcome
from limitwise.servicing import service

APPLICANT: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "examples" / "policy" / "applicant.json").read_text()
)
#: A well-behaved existing account of the default policy.
EXISTING: dict[str, Any] = APPLICANT | {
    "segment": "existing",
    "behaviour_score": 700,
    "on_time_streak_months": 2,
    "months_since_last_line_change": 1,
}


@dataclass
class ChosenFeatures:
    """Features for applicants and, by account ref, for accounts; ``current_line_fen`` is
    always the account's real line, so the policy sees what the book holds."""

    applicant_values: dict[str, Any] = field(default_factory=lambda: dict(APPLICANT))
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def check(self, policy: str, features: Iterable[str]) -> None:
        """Every feature is chosen by the test, whatever the policy reads."""

    def applicant(
        self, session: Session, *, outcome: ApplicationOutcome, as_of: dt.date
    ) -> FeatureRow:
        self.asked.append(outcome.application_ref)
        values = dict(self.applicant_values)
        return FeatureRow(values, scores={"app-gmsc@1": values["app_score"]})

    def account(self, session: Session, *, ref: str, as_of: dt.date) -> FeatureRow:
        self.asked.append(ref)
        line = service.account_state(session, ref=ref, as_of=as_of).line_fen
        values = dict(self.accounts.get(ref, EXISTING)) | {"current_line_fen": line}
        return FeatureRow(values, scores={"beh-monthly@1": values["behaviour_score"]})


def start_simulation(engine: Engine, clock: Clock) -> None:
    """These tests move the business date past the wall clock: a simulation book."""
    with unit_of_work(engine) as session:
        business_dates.start_simulation(session, clock, on=clock.today())
