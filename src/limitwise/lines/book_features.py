"""The policy's features from the book, until the ``features`` domain lands.

INTERIM BRIDGE: issue 11 §1 gives every feature definition (set-based and one-account,
proven equal) to ``limitwise.features``, built in parallel; this module is the line
service's one-account stand-in so applications and reviews run end to end today. It maps
each policy feature from the application's facts and the servicing book in one place; when
``limitwise.features`` is merged, ``lines.flows.default_context`` switches to it and this
module goes. Simplifications are named where they are made (``missing`` lists the inputs
not computed).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from limitwise.lines import repository
from limitwise.lines.inputs import FeatureRow
from limitwise.onboarding.schemas import ApplicationOutcome
from limitwise.scoring import service as scoring
from limitwise.scoring.schemas import Purpose
from limitwise.scoring.serve import score_row
from limitwise.servicing import service as servicing

SCORE_MIN, SCORE_MAX = 300, 900
ANOMALY_WINDOW_DAYS = 30
#: Carried from the application decision when no later event refreshed them.
CARRIED = (
    "product",
    "age_years",
    "kyc_verified",
    "bureau_score",
    "verified_income_monthly_fen",
    "vehicle_value_fen",
    "multi_lender_count",
    "risk_appetite",
)


def _score(session: Session, purpose: Purpose, row: dict[str, Any]) -> tuple[str, int]:
    card = scoring.live_scorecard(session, purpose=purpose)
    points = score_row(card, row).score
    return card.version, max(SCORE_MIN, min(SCORE_MAX, points))


def _months(start: dt.date, end: dt.date) -> int:
    return max((end.year - start.year) * 12 + end.month - start.month - (end.day < start.day), 0)


class BookFeatures:
    """A :class:`~limitwise.lines.inputs.FeatureSource` over the facts and the book."""

    def applicant(
        self, session: Session, *, outcome: ApplicationOutcome, as_of: dt.date
    ) -> FeatureRow:
        facts = outcome.facts
        assert facts is not None  # pending_decision always carries its facts
        bureau = facts.bureau.facts if facts.bureau.usable else None
        income = facts.income.facts if facts.income.usable else None
        vehicle = facts.vehicle.facts if facts.vehicle and facts.vehicle.usable else None
        macro = facts.macro.facts if facts.macro.usable else None
        missing = [name for name, got in (("bureau", bureau), ("income", income)) if got is None]
        income_fen = income.verified_monthly_income_fen if income else 0
        dpd_24m = bureau.days_past_due_max_24m if bureau else 0
        gmsc = {
            "age": facts.identity.age_years,
            "MonthlyIncome": income_fen / 100 if income else None,
            "NumberOfOpenCreditLinesAndLoans": bureau.linked_accounts if bureau else None,
            "NumberOfTimes90DaysLate": int(dpd_24m >= 90) if bureau else None,
            "NumberOfTime60-89DaysPastDueNotWorse": int(60 <= dpd_24m < 90) if bureau else None,
            "NumberOfTime30-59DaysPastDueNotWorse": int(30 <= dpd_24m < 60) if bureau else None,
            # Not in the facts: scored as missing.
            "RevolvingUtilizationOfUnsecuredLines": None,
            "DebtRatio": None,
            "NumberRealEstateLoansOrLines": None,
            "NumberOfDependents": None,
        }
        missing += [f"app_score.{name}" for name, value in gmsc.items() if value is None]
        version, app_score = _score(session, Purpose.APPLICATION, gmsc)
        values: dict[str, Any] = {
            "segment": "new",
            "product": "car_owner" if vehicle and vehicle.valuation_fen > 0 else "standard",
            "age_years": max(16, min(100, facts.identity.age_years)),
            "kyc_verified": facts.identity.verified,
            "fraud_flag": False,
            "app_score": app_score,
            "behaviour_score": SCORE_MIN,
            "bureau_score": max(SCORE_MIN, min(SCORE_MAX, bureau.credit_score if bureau else 0)),
            "verified_income_monthly_fen": income_fen,
            "vehicle_value_fen": vehicle.valuation_fen if vehicle else 0,
            "dpd_now": 0,
            "dpd_max_3m": 0,
            "dpd_max_12m": dpd_24m,
            "on_time_streak_months": 0,
            "utilisation_now": 0.0,
            "utilisation_avg_6m": 0.0,
            "draws_last_7d": 0,
            "months_since_last_activity": 0,
            "months_since_last_line_change": 0,
            "early_payoff_count_12m": 0,
            "device_anomaly": False,
            "login_anomaly": False,
            "multi_lender_count": bureau.lenders_90d if bureau else 0,
            "current_line_fen": 0,
            "risk_appetite": min(max(float(macro.risk_appetite_factor), 0.5), 1.5)
            if macro
            else 1.0,
        }
        return FeatureRow(values, tuple(missing), {version: app_score})

    def account(self, session: Session, *, ref: str, as_of: dt.date) -> FeatureRow:
        state = servicing.account_state(session, ref=ref, as_of=as_of)
        events = [
            e for e in servicing.account_events(session, ref=ref) if e["as_of"] <= as_of.isoformat()
        ]
        decisions = repository.decisions_of(session, ref)
        opened = decisions[0].as_of if decisions else as_of
        carried = _carried(decisions[0].features_json if decisions else "{}")
        for event in events:
            if event["kind"] == "bureau_update":
                carried |= {
                    k: event[k] for k in ("bureau_score", "multi_lender_count") if k in event
                }
            if event["kind"] == "revaluation" and "vehicle_value_fen" in event:
                carried["vehicle_value_fen"] = event["vehicle_value_fen"]
            if event["kind"] == "macro" and "risk_appetite" in event:
                carried["risk_appetite"] = event["risk_appetite"]
        dpd_3m, dpd_12m, last_cure = _lateness(events, state.days_past_due, as_of)
        activity = [
            dt.date.fromisoformat(e["as_of"]) for e in events if e["kind"] in ("drawn", "repaid")
        ]
        last_change = repository.last_line_change(session, ref)
        utilisation = (
            min(state.outstanding_principal_fen / state.line_fen, 2.0) if state.line_fen else 0.0
        )
        recent = as_of - dt.timedelta(days=ANOMALY_WINDOW_DAYS)
        flagged = {e["kind"] for e in events if dt.date.fromisoformat(e["as_of"]) >= recent}
        values: dict[str, Any] = carried | {
            "segment": "existing",
            "fraud_flag": "fraud_confirmed" in flagged,
            "dpd_now": state.days_past_due,
            "dpd_max_3m": dpd_3m,
            "dpd_max_12m": dpd_12m,
            "on_time_streak_months": _months(last_cure or opened, as_of),
            "utilisation_now": utilisation,
            # Simplification: the 6-month average is today's utilisation.
            "utilisation_avg_6m": utilisation,
            "draws_last_7d": _count(events, "drawn", as_of, 7),
            "months_since_last_activity": _months(max(activity, default=opened), as_of),
            "months_since_last_line_change": _months(
                last_change.effective_on if last_change else opened, as_of
            ),
            "early_payoff_count_12m": 0,
            "device_anomaly": "device_anomaly" in flagged,
            "login_anomaly": "login_anomaly" in flagged,
            "current_line_fen": state.line_fen,
        }
        behaviour = {
            "utilisation_now": utilisation,
            "utilisation_avg_6m": utilisation,
            "on_time_streak_months": values["on_time_streak_months"],
            "days_past_due_max_12m": dpd_12m,
            "draws_last_30d": _count(events, "drawn", as_of, 30),
            "months_active": _months(opened, as_of),
            "early_payoff_count": 0,
        }
        version, points = _score(session, Purpose.BEHAVIOUR, behaviour)
        values["behaviour_score"] = points
        values.setdefault("app_score", SCORE_MIN)
        return FeatureRow(
            values, ("early_payoff_count_12m", "utilisation_avg_6m"), {version: points}
        )


def _count(events: list[dict[str, Any]], kind: str, as_of: dt.date, days: int) -> int:
    return sum(
        1
        for e in events
        if e["kind"] == kind and (as_of - dt.date.fromisoformat(e["as_of"])).days < days
    )


def _carried(application_features_json: str) -> dict[str, Any]:
    """What the account's application decision saw, for what the book cannot tell."""
    features = json.loads(application_features_json)
    defaults: dict[str, Any] = {
        "product": "standard",
        "age_years": 30,
        "kyc_verified": True,
        "bureau_score": 650,
        "verified_income_monthly_fen": 0,
        "vehicle_value_fen": 0,
        "multi_lender_count": 0,
        "risk_appetite": 1.0,
    }
    return {name: features.get(name, defaults[name]) for name in CARRIED}


def _lateness(
    events: list[dict[str, Any]], dpd_now: int, as_of: dt.date
) -> tuple[int, int, dt.date | None]:
    """Worst days past due in 3 and 12 months, from the bucket moves (an episode's worst is
    its length: it starts at 1 day and ends when the account returns to the first bucket),
    and the day the last episode was cured."""
    worst: list[tuple[dt.date, int]] = [(as_of, dpd_now)]
    started: dt.date | None = None
    cured: dt.date | None = None
    for event in (e for e in events if e["kind"] == "bucket_changed"):
        day = dt.date.fromisoformat(event["as_of"])
        if event["from"] == "M0":
            started = day - dt.timedelta(days=max(int(event["days_past_due"]) - 1, 0))
        elif event["days_past_due"] == 0 and started is not None:
            worst.append((day, (day - started).days))
            started, cured = None, day
    if started is not None:
        cured = None

    def window(days: int) -> int:
        return max((d for day, d in worst if (as_of - day).days <= days), default=0)

    return window(92), window(366), cured
