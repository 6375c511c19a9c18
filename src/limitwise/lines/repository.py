"""Every lines query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limitwise.lines.models import (
    EventReview,
    LineDecision,
    LineHolder,
    PendingChange,
    PendingState,
    SubLine,
    Timing,
    Trigger,
)
from limitwise.servicing.models import AccountEvent, CreditAccount

Row = LineDecision | LineHolder | SubLine | PendingChange | EventReview


def add(session: Session, row: Row) -> None:
    session.add(row)
    session.flush()


def decisions_of(session: Session, account_ref: str) -> Sequence[LineDecision]:
    """Every decision about an account, oldest first."""
    return session.scalars(
        select(LineDecision)
        .where(LineDecision.account_ref == account_ref)
        .order_by(LineDecision.id)
    ).all()


def applied_changes_since(
    session: Session, account_ref: str, since: dt.date
) -> Sequence[LineDecision]:
    """Decisions that changed the account's line at once on or after ``since``, newest
    first (a scheduled change is applied by its own ``notice_due`` decision)."""
    return session.scalars(
        select(LineDecision)
        .where(
            LineDecision.account_ref == account_ref,
            LineDecision.timing == Timing.NOW.value,
            LineDecision.new_line_fen != LineDecision.old_line_fen,
            LineDecision.effective_on >= since,
        )
        .order_by(LineDecision.id.desc())
    ).all()


def last_line_change(session: Session, account_ref: str) -> LineDecision | None:
    """The latest decision that changed an open account's line (its opening aside)."""
    return session.scalars(
        select(LineDecision)
        .where(
            LineDecision.account_ref == account_ref,
            LineDecision.trigger != Trigger.APPLICATION.value,
            LineDecision.timing == Timing.NOW.value,
            LineDecision.new_line_fen != LineDecision.old_line_fen,
        )
        .order_by(LineDecision.id.desc())
        .limit(1)
    ).one_or_none()


def decision_of_application(session: Session, application_ref: str) -> LineDecision | None:
    """The line decision an application ended in (none while it was not decided)."""
    return session.scalars(
        select(LineDecision).where(
            LineDecision.application_ref == application_ref,
            LineDecision.trigger == Trigger.APPLICATION.value,
        )
    ).one_or_none()


def get_decision(session: Session, decision_id: int) -> LineDecision | None:
    return session.get(LineDecision, decision_id)


def holder_of(session: Session, account_ref: str) -> LineHolder | None:
    return session.scalars(
        select(LineHolder).where(LineHolder.account_ref == account_ref)
    ).one_or_none()


def lines_of_person(session: Session, person_index: str, *, besides: str | None) -> int:
    """The sum of the person's lines on accounts that are not closed, ``besides`` aside."""
    query = (
        select(func.coalesce(func.sum(CreditAccount.line_fen), 0))
        .join(LineHolder, LineHolder.credit_account_id == CreditAccount.id)
        .where(LineHolder.person_index == person_index, CreditAccount.status != "closed")
    )
    if besides is not None:
        query = query.where(LineHolder.account_ref != besides)
    return int(session.scalar(query) or 0)


def sub_lines_of(session: Session, credit_account_id: int) -> dict[str, int]:
    rows = session.scalars(
        select(SubLine).where(SubLine.credit_account_id == credit_account_id)
    ).all()
    return {row.name: row.line_fen for row in rows}


def replace_sub_lines(
    session: Session, *, credit_account_id: int, sub_lines: dict[str, int], decision_id: int
) -> None:
    for row in session.scalars(
        select(SubLine).where(SubLine.credit_account_id == credit_account_id)
    ).all():
        session.delete(row)
    session.flush()
    session.add_all(
        SubLine(
            credit_account_id=credit_account_id, name=name, line_fen=amount, decision_id=decision_id
        )
        for name, amount in sorted(sub_lines.items())
    )
    session.flush()


def pending_of(session: Session, credit_account_id: int) -> PendingChange | None:
    return session.scalars(
        select(PendingChange)
        .where(
            PendingChange.credit_account_id == credit_account_id,
            PendingChange.state == PendingState.PENDING.value,
        )
        .order_by(PendingChange.id.desc())
        .limit(1)
    ).one_or_none()


def due_pending(session: Session, as_of: dt.date) -> Sequence[PendingChange]:
    return session.scalars(
        select(PendingChange)
        .where(
            PendingChange.state == PendingState.PENDING.value,
            PendingChange.effective_on <= as_of,
        )
        .order_by(PendingChange.effective_on, PendingChange.id)
    ).all()


def unreviewed_events(
    session: Session, *, kinds: Sequence[str], limit: int
) -> list[tuple[int, str, str]]:
    """(event id, kind, account ref) of trigger events no decision has answered yet,
    oldest first: the durable queue. Only lines the line service granted are managed (an
    account an operator opened directly keeps the line the operator set)."""
    reviewed = select(EventReview.event_id)
    rows = session.execute(
        select(AccountEvent.id, AccountEvent.kind, LineHolder.account_ref)
        .join(LineHolder, LineHolder.credit_account_id == AccountEvent.credit_account_id)
        .where(AccountEvent.kind.in_(kinds), AccountEvent.id.not_in(reviewed))
        .order_by(AccountEvent.id)
        .limit(limit)
    ).all()
    return [(event_id, kind, ref) for event_id, kind, ref in rows]


def decision_counts_by_action(session: Session) -> dict[str, int]:
    """How many line decisions were recorded, by the action taken."""
    rows = session.execute(
        select(LineDecision.action, func.count()).group_by(LineDecision.action)
    ).all()
    return {action: count for action, count in rows}


def holders_of_person(session: Session, person_index: str) -> Sequence[LineHolder]:
    return session.scalars(
        select(LineHolder)
        .where(LineHolder.person_index == person_index)
        .order_by(LineHolder.account_ref)
    ).all()


def persons_holding(session: Session, account_refs: Sequence[str]) -> set[str]:
    """The people (blind indexes) who hold these accounts."""
    if not account_refs:
        return set()
    return set(
        session.scalars(
            select(LineHolder.person_index).where(LineHolder.account_ref.in_(account_refs))
        )
    )
