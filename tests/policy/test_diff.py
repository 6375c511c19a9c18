from __future__ import annotations

from limitwise.policy.compiled import Policy
from limitwise.policy.diff import diff_bundles
from limitwise.policy.validate import load_text
from tests.policy.conftest import POLICIES


def test_rule_level_changes_and_moves(default_policy: Policy) -> None:
    text = (POLICIES / "default.yaml").read_text()
    lines = text.splitlines(keepends=True)
    fraud = next(i for i, line in enumerate(lines) if "{id: fraud," in line)
    kyc = fraud + 1
    lines[fraud], lines[kyc] = lines[kyc], lines[fraud]  # swap two knock-out rules
    edited = (
        "".join(lines)
        .replace("bureau_score < 550", "bureau_score < 560")
        .replace(
            "  CAR_OWNER: {en: A car-owner line",
            "  NEW_CODE: {en: New., zh: 新。}\n  CAR_OWNER: {en: A car-owner line",
        )
    )
    changes = [str(c) for c in diff_bundles(default_policy.bundle, load_text(edited).bundle)]
    assert (
        "~ nodes/eligibility.rules/bureau.when: bureau_score < 550 -> bureau_score < 560" in changes
    )
    assert "~ nodes/eligibility.rules/fraud: moved from position 0 to 1" in changes
    assert "~ nodes/eligibility.rules/kyc: moved from position 1 to 0" in changes
    assert "+ reasons.NEW_CODE: {'en': 'New.', 'zh': '新。'}" in changes
    assert len(changes) == 4
