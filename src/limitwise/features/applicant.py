"""Applicant features: from the application's facts (identity, bureau, verified income,
vehicle valuation) and the application scorecard, scored at decision time.

:func:`scorecard_inputs` is the one place each input of the shipped application scorecard
(trained on Give Me Some Credit's columns) is mapped from the facts; an input the facts do
not carry is ``None``, scores as missing and is listed in ``FeatureRow.missing``.
"""

from __future__ import annotations

from typing import Any

from limitwise.onboarding.schemas import FactsBundle
from limitwise.providers.schemas import BureauFacts, IncomeFacts

SCORE_BOUNDS = (300, 900)
AGE_BOUNDS = (16, 100)
#: Features an applicant has no history for: the values an empty book gives.
NO_HISTORY: dict[str, Any] = {
    "fraud_flag": False,
    "behaviour_score": SCORE_BOUNDS[0],
    "dpd_now": 0,
    "dpd_max_3m": 0,
    "on_time_streak_months": 0,
    "utilisation_now": 0.0,
    "utilisation_avg_6m": 0.0,
    "draws_last_7d": 0,
    "months_since_last_activity": 0,
    "months_since_last_line_change": 0,
    "early_payoff_count_12m": 0,
    "device_anomaly": False,
    "login_anomaly": False,
    "current_line_fen": 0,
}


def clamp(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], value))


def scorecard_inputs(
    facts: FactsBundle, bureau: BureauFacts | None, income: IncomeFacts | None
) -> dict[str, Any]:
    """Give Me Some Credit's columns from the facts. The bureau's worst lateness in 24
    months stands for the three lateness counts (one episode at its worst band); the
    facts hold no revolving utilisation, debt ratio, real-estate loans or dependents."""
    dpd_24m = bureau.days_past_due_max_24m if bureau else 0
    return {
        "age": facts.identity.age_years,
        "MonthlyIncome": income.verified_monthly_income_fen / 100 if income else None,
        "NumberOfOpenCreditLinesAndLoans": bureau.linked_accounts if bureau else None,
        "NumberOfTimes90DaysLate": int(dpd_24m >= 90) if bureau else None,
        "NumberOfTime60-89DaysPastDueNotWorse": int(60 <= dpd_24m < 90) if bureau else None,
        "NumberOfTime30-59DaysPastDueNotWorse": int(30 <= dpd_24m < 60) if bureau else None,
        "RevolvingUtilizationOfUnsecuredLines": None,
        "DebtRatio": None,
        "NumberRealEstateLoansOrLines": None,
        "NumberOfDependents": None,
    }


def applicant_values(
    facts: FactsBundle, *, app_score: int, risk_appetite: float | None
) -> tuple[dict[str, Any], list[str]]:
    """Every policy feature of an applicant (the book has no history for them yet), and
    the facts that were missing."""
    bureau = facts.bureau.facts if facts.bureau.usable else None
    income = facts.income.facts if facts.income.usable else None
    vehicle = facts.vehicle.facts if facts.vehicle and facts.vehicle.usable else None
    macro = facts.macro.facts if facts.macro.usable else None
    if risk_appetite is None and macro is not None:
        risk_appetite = float(macro.risk_appetite_factor)
    missing = [name for name, got in (("bureau", bureau), ("income", income)) if got is None]
    values = NO_HISTORY | {
        "segment": "new",
        "product": "car_owner" if vehicle and vehicle.valuation_fen > 0 else "standard",
        "age_years": clamp(facts.identity.age_years, AGE_BOUNDS),
        "kyc_verified": facts.identity.verified,
        "app_score": app_score,
        "bureau_score": clamp(bureau.credit_score if bureau else 0, SCORE_BOUNDS),
        "verified_income_monthly_fen": income.verified_monthly_income_fen if income else 0,
        "vehicle_value_fen": vehicle.valuation_fen if vehicle else 0,
        "dpd_max_12m": bureau.days_past_due_max_24m if bureau else 0,
        "multi_lender_count": bureau.lenders_90d if bureau else 0,
        "risk_appetite": min(max(risk_appetite, 0.5), 1.5) if risk_appetite is not None else 1.0,
    }
    return values, missing
