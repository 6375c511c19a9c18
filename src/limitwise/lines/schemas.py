"""Line decisions as the CLI, scenarios and the API show them. Money in fen; the CLI
renders yuan."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel

from limitwise.lines.models import LineDecision


@dataclass(frozen=True)
class DecisionView:
    decision_ref: str
    trigger: str
    trigger_ref: str
    account_ref: str | None
    application_ref: str | None
    as_of: dt.date
    policy: str
    proposed_action: str
    proposed_line_fen: int
    action: str
    old_line_fen: int
    new_line_fen: int
    old_status: str
    new_status: str
    timing: str
    effective_on: dt.date
    reasons: list[dict[str, str]]
    notice: str | None
    sub_lines: dict[str, int]
    adjustments: list[dict[str, str]]
    scorecards: list[dict[str, Any]]
    missing: list[str]

    @classmethod
    def of(cls, row: LineDecision) -> DecisionView:
        return cls(
            decision_ref=row.decision_ref,
            trigger=row.trigger,
            trigger_ref=row.trigger_ref,
            account_ref=row.account_ref,
            application_ref=row.application_ref,
            as_of=row.as_of,
            policy=f"{row.policy_key}@{row.policy_version}",
            proposed_action=row.proposed_action,
            proposed_line_fen=row.proposed_line_fen,
            action=row.action,
            old_line_fen=row.old_line_fen,
            new_line_fen=row.new_line_fen,
            old_status=row.old_status,
            new_status=row.new_status,
            timing=row.timing,
            effective_on=row.effective_on,
            reasons=json.loads(row.reasons_json),
            notice=row.notice,
            sub_lines=json.loads(row.sub_lines_json),
            adjustments=json.loads(row.adjustments_json),
            scorecards=json.loads(row.scorecards_json),
            missing=json.loads(row.missing_json),
        )

    @property
    def reason_codes(self) -> list[str]:
        return [r["code"] for r in self.reasons]

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["as_of"] = self.as_of.isoformat()
        body["effective_on"] = self.effective_on.isoformat()
        return body


@dataclass(frozen=True)
class ApplicationDecision:
    """An application's end: the decision and, when approved, the account it opened."""

    decision: DecisionView
    account_ref: str | None
    product: str | None
    apr: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.to_dict(),
            "account": self.account_ref,
            "product": self.product,
            "apr": self.apr,
        }


class LineDecisionRead(BaseModel):
    """One decision on an account's line, with its reasons (most telling first)."""

    decision_ref: str
    trigger: str
    as_of: dt.date
    policy: str
    action: str
    old_line_fen: int
    new_line_fen: int
    old_status: str
    new_status: str
    timing: str
    effective_on: dt.date
    reasons: list[dict[str, str]]
    notice: str | None
    sub_lines_fen: dict[str, int]

    @classmethod
    def of(cls, view: DecisionView) -> LineDecisionRead:
        return cls(
            **{name: getattr(view, name) for name in cls.model_fields if hasattr(view, name)},
            sub_lines_fen=view.sub_lines,
        )
