"""The behaviour score: how an open account has been used and repaid, as a scorecard.

Inputs are one row per account with the columns of :data:`BEHAVIOUR_FEATURES` (the servicing
domain computes them from the ledger and repayment history; until that is wired into close
of business, the synthetic book in :mod:`limitwise.scoring.synthetic` supplies them).
Scoring uses the same frozen artifact and serving code as the application scorecard.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from limitwise.kit.errors import InvalidRequest, Problem
from limitwise.scoring.artifact import default_scorecard
from limitwise.scoring.schemas import CharacteristicConfig, Purpose, Scorecard, TrainingConfig
from limitwise.scoring.serve import Lang, score_frame

ACCOUNT_ID = "account_id"
OUTCOME = "bad_12m"


@dataclass(frozen=True)
class Feature:
    """One behaviour input: meaning, bounds, and how risk moves as it grows."""

    description: str
    label_en: str
    label_zh: str
    #: optbinning trend of the bad rate as the value grows.
    trend: str
    maximum: float | None = None


BEHAVIOUR_FEATURES: dict[str, Feature] = {
    "utilisation_now": Feature(
        "outstanding principal / credit line today (0 = unused, 1 = fully drawn)",
        "Current line utilisation",
        "当前额度使用率",
        "ascending",
        2.0,
    ),
    "utilisation_avg_6m": Feature(
        "average of the month-end utilisation over the last 6 months",
        "Average utilisation over 6 months",
        "近6个月平均额度使用率",
        "ascending",
        2.0,
    ),
    "on_time_streak_months": Feature(
        "consecutive most recent monthly due dates paid in full on time",
        "Months of on-time repayment in a row",
        "连续按时还款月数",
        "descending",
    ),
    "days_past_due_max_12m": Feature(
        "worst days past due reached in the last 12 months (0 = never late)",
        "Worst lateness in the last 12 months",
        "近12个月最长逾期天数",
        "ascending",
    ),
    "draws_last_30d": Feature(
        "number of draws (borrowings) in the last 30 days",
        "Number of draws in the last 30 days",
        "近30天借款次数",
        "ascending",
    ),
    "months_active": Feature(
        "whole months since the line was opened",
        "Months since the line was opened",
        "开户月数",
        "descending",
    ),
    "early_payoff_count": Feature(
        "loans repaid in full before their final due date, ever",
        "Loans repaid early",
        "提前结清笔数",
        "descending",
    ),
}


def behaviour_training_config() -> TrainingConfig:
    """Training options for the behaviour scorecard: declared trends and zh/en labels."""
    return TrainingConfig(
        name="behaviour",
        purpose=Purpose.BEHAVIOUR,
        bad_values=["1"],
        min_iv=0.01,
        max_correlation=0.9,
        columns={
            name: CharacteristicConfig(
                kind="numeric",
                monotonic_trend=feature.trend,
                label_en=feature.label_en,
                label_zh=feature.label_zh,
            )
            for name, feature in BEHAVIOUR_FEATURES.items()
        },
    )


def check_features(frame: pl.DataFrame) -> None:
    """Refuse a feature frame with missing columns, non-numbers or out-of-range values."""
    problems: list[Problem] = []
    for name, feature in BEHAVIOUR_FEATURES.items():
        if name not in frame.columns:
            problems.append(Problem(name, "column_required", f"column {name!r} is required"))
            continue
        column = frame[name]
        if not column.dtype.is_numeric():
            problems.append(Problem(name, "numeric", f"{name} must be numeric"))
            continue
        if (column < 0).any():
            problems.append(Problem(name, "non_negative", f"{name} must not be negative"))
        if feature.maximum is not None and (column > feature.maximum).any():
            problems.append(Problem(name, "maximum", f"{name} must be at most {feature.maximum}"))
    if problems:
        raise InvalidRequest(problems=problems)


def score_accounts(
    frame: pl.DataFrame, *, scorecard: Scorecard | None = None, lang: Lang = "en"
) -> pl.DataFrame:
    """Behaviour score and reasons for every account row (default: the shipped scorecard)."""
    check_features(frame)
    return score_frame(scorecard or default_scorecard(Purpose.BEHAVIOUR), frame, lang=lang)
