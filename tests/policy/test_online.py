from __future__ import annotations

import math
from typing import Any

import pytest
import yaml

from limitwise.kit.errors import InvalidRequest
from limitwise.policy.compiled import Policy
from limitwise.policy.online import PolicyEvaluator
from tests.policy.conftest import POLICIES

CASES = yaml.safe_load((POLICIES / "default.cases.yaml").read_text())
EXISTING: dict[str, Any] = CASES["bases"]["existing"]


def test_trace_shows_each_node_the_values_it_saw(default_policy: Policy) -> None:
    decision = PolicyEvaluator(default_policy).evaluate({**EXISTING, "behaviour_score": 730})
    trace = {step.node: step for step in decision.trace}
    assert [step.node for step in decision.trace] == [s.id for s in default_policy.steps]
    growth = trace["review_growth"]
    assert growth.ran and growth.matched == ("steady_high_use",)
    assert growth.values["action"] == "keep" and growth.values["score"] == 730
    # the cap node ran after the increase, so it saw the raised line and the new action
    cap = trace["customer_cap"]
    assert cap.ran and cap.values["line_fen"] == 2600000 and cap.values["action"] == "increase"
    assert not trace["eligibility"].ran and trace["behaviour_score"].matched == ("beh-monthly@1",)
    assert trace["income_multiple"].ran is False


def test_stop_ends_the_trace(default_policy: Policy) -> None:
    decision = PolicyEvaluator(default_policy).evaluate({**EXISTING, "dpd_now": 95})
    assert decision.trace[-1].node == "review_risk"
    assert decision.trace[-1].matched == ("severe_overdue",)


def test_bad_input_is_refused_field_by_field(default_policy: Policy) -> None:
    features = {**EXISTING, "dpd_now": 1.5, "segment": "vip", "age_years": 7}
    del features["bureau_score"]
    with pytest.raises(InvalidRequest) as info:
        PolicyEvaluator(default_policy).evaluate(features)
    problems = {(p.field, p.rule) for p in info.value.problems}
    assert problems == {
        ("bureau_score", "required"),
        ("dpd_now", "type"),
        ("segment", "enum"),
        ("age_years", "min"),
    }


def test_money_must_be_integer_fen(default_policy: Policy) -> None:
    with pytest.raises(InvalidRequest, match="current_line_fen"):
        PolicyEvaluator(default_policy).evaluate({**EXISTING, "current_line_fen": 2000000.0})


def test_the_record_names_policy_scorecard_and_inputs(default_policy: Policy) -> None:
    body = PolicyEvaluator(default_policy).evaluate(EXISTING).to_dict(with_trace=False)
    assert body["policy"] == {
        "key": "jiebei-default",
        "version": "2026.12.1",
        "hash": default_policy.content_hash,
    }
    assert body["scorecards"] == ["beh-monthly@1"]
    assert body["inputs"] == EXISTING


def test_extra_keys_cannot_preset_variables(default_policy: Policy) -> None:
    evaluator = PolicyEvaluator(default_policy)
    decision = evaluator.evaluate({**EXISTING, "car_line_fen": 999, "score": 900})
    assert decision.sub_lines == {"car_owner": 0}
    assert decision.action == "keep"  # behaviour_score 565 < 580: no increase


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("utilisation_now", math.inf, "type"),
        ("utilisation_now", math.nan, "type"),
        ("dpd_now", 2**53, "type"),
        ("dpd_now", True, "type"),
        ("risk_appetite", 1.6, "max"),
        ("product", "gold", "enum"),
    ],
)
def test_each_out_of_schema_value_is_refused(
    default_policy: Policy, name: str, value: Any, rule: str
) -> None:
    with pytest.raises(InvalidRequest) as info:
        PolicyEvaluator(default_policy).evaluate({**EXISTING, name: value})
    assert [(p.field, p.rule) for p in info.value.problems] == [(name, rule)]


def test_an_integer_for_a_float_feature_is_taken_as_a_float(default_policy: Policy) -> None:
    decision = PolicyEvaluator(default_policy).evaluate({**EXISTING, "risk_appetite": 1})
    assert type(decision.inputs["risk_appetite"]) is float
    assert decision.inputs["risk_appetite"] == 1.0
