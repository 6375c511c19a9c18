"""Every onboarding query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limitwise.onboarding.models import Application, ApplicationCheck, ConsentRecord, Invitation
from limitwise.onboarding.schemas import ApplicationStatus

Row = Application | ApplicationCheck | ConsentRecord | Invitation


def add(session: Session, row: Row) -> None:
    session.add(row)
    session.flush()


def add_all(session: Session, rows: Sequence[Row]) -> None:
    """Insert many rows with one flush (one round trip per table, not per row)."""
    session.add_all(rows)
    session.flush()


def lock_person(session: Session, person_index: str) -> None:
    """Serialise submissions for one person until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed by the blind index. SQLite needs
    none: every transaction starts with BEGIN IMMEDIATE, so writers already take turns.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(int(person_index[:15], 16))))


def latest_application_after(
    session: Session, *, person_index: str, after: dt.date
) -> Application | None:
    """The person's newest non-duplicate application dated after ``after``."""
    return session.scalars(
        select(Application)
        .where(
            Application.person_index == person_index,
            Application.business_date > after,
            Application.status != ApplicationStatus.DUPLICATE.value,
        )
        .order_by(Application.id.desc())
        .limit(1)
    ).first()


def other_people_sharing(
    session: Session, *, card_index: str, mobile_index: str, person_index: str
) -> tuple[int, int]:
    """How many other people applied with this card, and with this mobile."""

    def others(column: Any, value: str) -> int:
        query = select(func.count(func.distinct(Application.person_index))).where(
            column == value, Application.person_index != person_index
        )
        return int(session.scalar(query) or 0)

    return others(Application.card_index, card_index), others(
        Application.mobile_index, mobile_index
    )


def find_invitation(session: Session, person_index: str) -> Invitation | None:
    return session.scalars(
        select(Invitation).where(Invitation.person_index == person_index)
    ).one_or_none()


def find_application(session: Session, application_ref: str) -> Application | None:
    return session.scalars(
        select(Application).where(Application.application_ref == application_ref)
    ).one_or_none()


def checks_of(session: Session, application_id: int) -> Sequence[ApplicationCheck]:
    return session.scalars(
        select(ApplicationCheck)
        .where(ApplicationCheck.application_id == application_id)
        .order_by(ApplicationCheck.id)
    ).all()


def consents_of(session: Session, application_id: int) -> Sequence[ConsentRecord]:
    return session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.application_id == application_id)
        .order_by(ConsentRecord.id)
    ).all()


def lock_applications_not_on_key(
    session: Session, *, key_id: str, limit: int
) -> Sequence[Application]:
    return session.scalars(
        select(Application)
        .where(Application.pii_key_id != key_id)
        .order_by(Application.id)
        .limit(limit)
        .with_for_update()
    ).all()


def count_by_key_id(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Application.pii_key_id, func.count(Application.id)).group_by(Application.pii_key_id)
    ).all()
    return {key_id: int(count) for key_id, count in rows}
