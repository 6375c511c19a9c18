"""Every business-date query."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limitwise.businessdate.models import BOOK_ROW_ID, BusinessDate

#: PostgreSQL advisory lock on the business date, in the two-key space (apart from the
#: one-key person locks of onboarding): shared while a request uses the date, exclusive
#: while the date is changed.
DATE_LOCK = (0x6C77, 1)


def find(session: Session) -> BusinessDate | None:
    return session.get(BusinessDate, BOOK_ROW_ID)


#: ``Session.info`` key of the held row: referenced there, it stays in the session's
#: identity map, so reading the date again in the transaction costs no round trip.
HELD = "limitwise.businessdate.held"


def hold(session: Session) -> BusinessDate | None:
    """The row, kept from changing until the transaction ends. Holders never wait for each
    other; a date change waits for them, and they for it. SQLite needs no lock: every
    transaction starts with BEGIN IMMEDIATE, so a change cannot overlap a request."""
    if _is_postgresql(session):
        session.execute(select(func.pg_advisory_xact_lock_shared(*DATE_LOCK)))
    row = session.info[HELD] = find(session)
    return row


def lock(session: Session) -> BusinessDate | None:
    """The row, locked until the transaction ends (a COB run and a date change serialise,
    and the change waits for every request holding the date)."""
    if _is_postgresql(session):
        session.execute(select(func.pg_advisory_xact_lock(*DATE_LOCK)))
    return session.scalars(
        select(BusinessDate).where(BusinessDate.id == BOOK_ROW_ID).with_for_update()
    ).one_or_none()


def add(session: Session, row: BusinessDate) -> None:
    session.add(row)
    session.flush()


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
