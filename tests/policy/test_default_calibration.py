"""The shipped default policy and the shipped behaviour scorecard are calibrated together:
records a lender would raise score above the growth rows' thresholds on the card's own
scale, so every growth row can be reached, and a record that should wait does not.

Each record is scored by the real card and decided by the real policy."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from limitwise.policy.compiled import Policy
from limitwise.policy.online import PolicyEvaluator
from limitwise.scoring.artifact import default_scorecard
from limitwise.scoring.schemas import Purpose
from limitwise.scoring.serve import score_row
from tests.policy.conftest import POLICIES

EXISTING: dict[str, Any] = yaml.safe_load((POLICIES / "default.cases.yaml").read_text())["bases"][
    "existing"
]

#: (behaviour scorecard inputs, the growth row the policy must match or None for "keep")
RECORDS = {
    "six months on time, a third of the line used": (
        dict(months=8, streak=6, util_now=0.3, util_avg=0.3, early=0, draws=0),
        "steady_low_use",
    ),
    "fourteen months on time, most of the line used, two early payoffs": (
        dict(months=14, streak=14, util_now=0.6, util_avg=0.6, early=2, draws=0),
        "steady_high_use",
    ),
    "five months on time, the line nearly full, two early payoffs": (
        dict(months=5, streak=5, util_now=0.75, util_avg=0.75, early=2, draws=0),
        "building_high_use",
    ),
    "six months on time, most of the line used, drawing again this month": (
        dict(months=8, streak=6, util_now=0.6, util_avg=0.6, early=0, draws=1),
        None,
    ),
}


def behaviour_score(record: dict[str, Any]) -> int:
    card = default_scorecard(Purpose.BEHAVIOUR)
    row = {
        "utilisation_now": record["util_now"],
        "utilisation_avg_6m": record["util_avg"],
        "on_time_streak_months": record["streak"],
        "days_past_due_max_12m": 0,
        "months_active": record["months"],
        "early_payoff_count": record["early"],
        "draws_last_30d": record["draws"],
    }
    return score_row(card, row).score


@pytest.mark.parametrize("name", list(RECORDS))
def test_a_good_record_reaches_its_growth_row(default_policy: Policy, name: str) -> None:
    record, row_id = RECORDS[name]
    features = {
        **EXISTING,
        "behaviour_score": behaviour_score(record),
        "on_time_streak_months": record["streak"],
        "utilisation_now": record["util_now"],
        "utilisation_avg_6m": record["util_avg"],
        "early_payoff_count_12m": record["early"],
    }
    decision = PolicyEvaluator(default_policy).evaluate(features)
    growth = {step.node: step for step in decision.trace}["review_growth"]
    assert growth.ran
    if row_id is None:
        assert decision.action == "keep" and growth.matched == ()
    else:
        assert decision.action == "increase" and growth.matched == (row_id,)


def test_the_best_record_the_card_can_score_clears_every_growth_threshold() -> None:
    best = dict(months=70, streak=24, util_now=0.0, util_avg=0.0, early=3, draws=0)
    assert behaviour_score(best) == 706
    source = yaml.safe_load((POLICIES / "default.yaml").read_text())
    growth = next(node for node in source["nodes"] if node["id"] == "review_growth")
    thresholds = [int(row["when"][1].removeprefix(">= ")) for row in growth["rows"]]
    assert thresholds == [580, 580, 560]
    assert all(behaviour_score(best) > threshold for threshold in thresholds)
