"""Every business-date query."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from limitwise.businessdate.models import BOOK_ROW_ID, BusinessDate


def find(session: Session) -> BusinessDate | None:
    return session.get(BusinessDate, BOOK_ROW_ID)


def lock(session: Session) -> BusinessDate | None:
    """The row, locked until the transaction ends (a COB run and a date change serialise)."""
    return session.scalars(
        select(BusinessDate).where(BusinessDate.id == BOOK_ROW_ID).with_for_update()
    ).one_or_none()


def add(session: Session, row: BusinessDate) -> None:
    session.add(row)
    session.flush()
