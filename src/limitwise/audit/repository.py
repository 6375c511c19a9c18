"""Every audit query."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from limitwise.audit.models import FIRST_CHAIN, AuditHead, AuditRecord

#: Rows fetched per round trip while verifying the chain.
VERIFY_BATCH = 5_000


def claim_free_head(session: Session) -> AuditHead | None:
    """The head of a chain no other transaction is appending to, locked until this one
    ends; None when every head is held. (SQLite ignores the lock: its writers are
    serialised, and this is always the first chain.)"""
    return session.scalars(
        select(AuditHead).order_by(AuditHead.id).limit(1).with_for_update(skip_locked=True)
    ).first()


def lock_first_head(session: Session) -> AuditHead | None:
    """The first chain's head, waiting for it if another transaction holds it."""
    return session.scalars(
        select(AuditHead).where(AuditHead.id == FIRST_CHAIN).with_for_update()
    ).one_or_none()


def heads(session: Session) -> Sequence[AuditHead]:
    return session.scalars(select(AuditHead).order_by(AuditHead.id)).all()


def add(session: Session, row: AuditRecord | AuditHead) -> None:
    session.add(row)
    session.flush()


def records_in_order(session: Session) -> Iterator[AuditRecord]:
    """Every record, chain by chain, by sequence number, streamed."""
    yield from session.scalars(
        select(AuditRecord)
        .order_by(AuditRecord.chain, AuditRecord.seq)
        .execution_options(yield_per=VERIFY_BATCH)
    )
