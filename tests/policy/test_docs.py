"""The complete example in docs/policy.md is a valid policy that decides as described."""

from __future__ import annotations

import re
from pathlib import Path

from limitwise.policy.online import PolicyEvaluator
from limitwise.policy.validate import load_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


def test_the_documented_example_validates_and_decides() -> None:
    example = re.search(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert example is not None
    evaluator = PolicyEvaluator(load_text(example.group(1), source="docs/policy.md"))
    applicant = {
        "segment": "new",
        "app_score": 700,
        "verified_income_monthly_fen": 1200000,
        "dpd_now": 0,
        "utilisation_avg_6m": 0.0,
        "device_anomaly": False,
        "current_line_fen": 0,
    }
    approved = evaluator.evaluate(applicant)
    assert (approved.action, approved.line_fen) == ("approve", 2400000)  # 12k x 2.0 months
    existing = {
        **applicant,
        "segment": "existing",
        "app_score": 760,
        "utilisation_avg_6m": 0.8,
        "current_line_fen": 1000000,
    }
    raised = evaluator.evaluate(existing)
    assert (raised.action, raised.line_fen, raised.reasons) == (
        "increase",
        1200000,
        ["GOOD_HISTORY"],
    )
