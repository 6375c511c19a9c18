"""Reading an application: its status and decision, assembled from what onboarding stored
and the line decision it ended in; and who may read it. Never commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from limitwise.applications.schemas import (
    ApplicationDecisionRead,
    ApplicationRead,
    ApplicationState,
    ReasonRead,
)
from limitwise.auth import service as auth
from limitwise.auth.schemas import Principal, Role
from limitwise.kit.errors import NotFound
from limitwise.lines import service as lines
from limitwise.lines.schemas import DecisionView
from limitwise.onboarding import service as onboarding
from limitwise.onboarding.schemas import ApplicationStatus
from limitwise.onboarding.service import StoredOutcome


def not_found(ref: str) -> NotFound:
    """The one answer for an application that does not exist or is not the caller's."""
    return NotFound(f"no application {ref!r}", field="application")


def visible_to(session: Session, principal: Principal, *, ref: str) -> bool:
    """A borrower sees the applications they submitted and those that opened an account
    they hold; staff and services (whose routes and scopes the matrix limits) see all."""
    if principal.role is not Role.BORROWER:
        return True
    if auth.submitted_by(session, username=principal.subject, application_ref=ref):
        return True
    decision = lines.application_decision(session, application_ref=ref)
    return (
        decision is not None
        and decision.account_ref is not None
        and principal.sees(decision.account_ref)
    )


def status_of(session: Session, *, ref: str) -> ApplicationRead:
    stored, decision = _load(session, ref)
    return ApplicationRead(
        application_ref=ref,
        status=_state(stored, decision),
        received_on=stored.business_date,
        resident_id=stored.outcome["resident_id"],
        duplicate_of=stored.outcome["duplicate_of"],
        account_ref=decision.account_ref if decision else None,
    )


def decision_of(session: Session, *, ref: str) -> ApplicationDecisionRead:
    stored, decision = _load(session, ref)
    common = {
        "application_ref": ref,
        "status": _state(stored, decision),
        "eligibility_policy": stored.outcome["policy_version"],
    }
    if decision is None:
        return ApplicationDecisionRead(
            **common,
            decided_on=stored.business_date,
            line_policy=None,
            decision_ref=None,
            reasons=[ReasonRead(**reason) for reason in stored.outcome["reasons"]],
            line_fen=0,
            sub_lines_fen={},
            account_ref=None,
        )
    return ApplicationDecisionRead(
        **common,
        decided_on=decision.as_of,
        line_policy=decision.policy,
        decision_ref=decision.decision_ref,
        reasons=[
            ReasonRead(code=r["code"], message=r["en"], message_zh=r.get("zh"))
            for r in decision.reasons
        ],
        line_fen=decision.new_line_fen,
        sub_lines_fen=decision.sub_lines,
        account_ref=decision.account_ref,
    )


def _load(session: Session, ref: str) -> tuple[StoredOutcome, DecisionView | None]:
    stored = onboarding.stored_outcome(session, application_ref=ref)
    if stored is None:
        raise not_found(ref)
    return stored, lines.application_decision(session, application_ref=ref)


def _state(stored: StoredOutcome, decision: DecisionView | None) -> ApplicationState:
    if decision is not None:
        opened = decision.account_ref is not None
        return ApplicationState.APPROVED if opened else ApplicationState.DECLINED
    return ApplicationState(ApplicationStatus(stored.outcome["status"]).value)
