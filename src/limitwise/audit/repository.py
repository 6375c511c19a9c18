"""Every audit query."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from limitwise.audit.models import HEAD_ROW_ID, AuditHead, AuditRecord

#: Rows fetched per round trip while verifying the chain.
VERIFY_BATCH = 5_000


def lock_head(session: Session) -> AuditHead | None:
    """The head of the chain, locked: appends happen one at a time, in order."""
    return session.scalars(
        select(AuditHead).where(AuditHead.id == HEAD_ROW_ID).with_for_update()
    ).one_or_none()


def find_head(session: Session) -> AuditHead | None:
    return session.get(AuditHead, HEAD_ROW_ID)


def add(session: Session, row: AuditRecord | AuditHead) -> None:
    session.add(row)
    session.flush()


def records_in_order(session: Session) -> Iterator[AuditRecord]:
    """Every record by sequence number, streamed."""
    yield from session.scalars(
        select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=VERIFY_BATCH)
    )


def recent(session: Session, limit: int) -> list[AuditRecord]:
    return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(limit)))
