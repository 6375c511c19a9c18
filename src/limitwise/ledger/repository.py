"""Every ledger query. Row locks are taken in ascending id order to rule out deadlocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from limitwise.ledger.models import (
    Hold,
    HoldStatus,
    IdempotencyRecord,
    JournalEntry,
    JournalLeg,
    LedgerAccount,
)


def lock_accounts(session: Session, codes: Iterable[str]) -> dict[str, LedgerAccount]:
    """Load accounts by code with ``FOR UPDATE`` (ignored by SQLite), locking in id order."""
    rows = session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.code.in_(sorted(set(codes))))
        .order_by(LedgerAccount.id)
        .with_for_update()
    ).all()
    return {row.code: row for row in rows}


def lock_account_ids(session: Session, ids: Iterable[int]) -> dict[int, LedgerAccount]:
    rows = session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.id.in_(sorted(set(ids))))
        .order_by(LedgerAccount.id)
        .with_for_update()
    ).all()
    return {row.id: row for row in rows}


def find_account(session: Session, code: str) -> LedgerAccount | None:
    return session.scalars(select(LedgerAccount).where(LedgerAccount.code == code)).one_or_none()


def accounts_of_owner(session: Session, owner_ref: str) -> Sequence[LedgerAccount]:
    return session.scalars(
        select(LedgerAccount).where(LedgerAccount.owner_ref == owner_ref).order_by(LedgerAccount.id)
    ).all()


def all_accounts(session: Session) -> Sequence[LedgerAccount]:
    return session.scalars(select(LedgerAccount).order_by(LedgerAccount.id)).all()


def add(session: Session, row: LedgerAccount | JournalEntry | JournalLeg | Hold) -> None:
    session.add(row)
    session.flush()


def add_legs(session: Session, legs: Sequence[JournalLeg]) -> None:
    session.add_all(legs)
    session.flush()


def find_entry(session: Session, entry_ref: str) -> JournalEntry | None:
    return session.scalars(
        select(JournalEntry).where(JournalEntry.entry_ref == entry_ref)
    ).one_or_none()


def legs_of_entry(session: Session, entry_id: int) -> Sequence[JournalLeg]:
    return session.scalars(
        select(JournalLeg).where(JournalLeg.entry_id == entry_id).order_by(JournalLeg.id)
    ).all()


def reversal_of(session: Session, entry_id: int) -> JournalEntry | None:
    return session.scalars(
        select(JournalEntry).where(JournalEntry.reverses_entry_id == entry_id)
    ).one_or_none()


def lock_hold(session: Session, hold_ref: str) -> Hold | None:
    return session.scalars(
        select(Hold).where(Hold.hold_ref == hold_ref).with_for_update()
    ).one_or_none()


def account_codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.code).where(LedgerAccount.id.in_(set(ids)))
    ).all()
    return {row.id: row.code for row in rows}


def claim_idempotency_key(
    session: Session, *, key: str, command: str, request_hash: str, created_at: dt.datetime
) -> IdempotencyRecord | None:
    """Claim ``key`` for this transaction; return the earlier record if it was taken.

    On PostgreSQL a concurrent claim of the same key waits for the first transaction to end,
    so the loser sees the winner's stored result instead of applying the command again.
    """
    values = {
        "key": key,
        "command": command,
        "request_hash": request_hash,
        "created_at": created_at,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    claimed = session.execute(
        insert(IdempotencyRecord)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(IdempotencyRecord.key)
    ).first()
    if claimed is not None:
        return None
    return session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == key)).one()


def store_idempotent_result(session: Session, *, key: str, result_json: str) -> None:
    record = session.get(IdempotencyRecord, key)
    assert record is not None, f"idempotency key {key} was not claimed"
    record.result_json = result_json
    session.flush()


# --- trial balance checks -----------------------------------------------------------------


def unbalanced_entries(session: Session) -> list[tuple[str, int]]:
    rows = session.execute(
        select(JournalEntry.entry_ref, func.sum(JournalLeg.amount_fen))
        .join(JournalLeg, JournalLeg.entry_id == JournalEntry.id)
        .group_by(JournalEntry.id, JournalEntry.entry_ref)
        .having(func.sum(JournalLeg.amount_fen) != 0)
    ).all()
    return [(ref, int(total)) for ref, total in rows]


def entries_with_fewer_than_two_legs(session: Session) -> list[str]:
    leg_count = (
        select(func.count(JournalLeg.id))
        .where(JournalLeg.entry_id == JournalEntry.id)
        .correlate(JournalEntry)
        .scalar_subquery()
    )
    return list(session.scalars(select(JournalEntry.entry_ref).where(leg_count < 2)).all())


def grand_total_fen(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(JournalLeg.amount_fen), 0))) or 0)


def leg_totals_by_account(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(JournalLeg.account_id, func.sum(JournalLeg.amount_fen)).group_by(
            JournalLeg.account_id
        )
    ).all()
    return {account_id: int(total) for account_id, total in rows}


def broken_running_balances(session: Session) -> list[tuple[str, int, int, int]]:
    """Legs whose ``balance_after`` is not the previous leg's plus this leg's amount.

    Returns (account code, leg id, expected balance, recorded balance).
    """
    previous = (
        func.lag(JournalLeg.balance_after_fen, 1, 0)
        .over(partition_by=JournalLeg.account_id, order_by=JournalLeg.id)
        .label("previous")
    )
    ordered = select(
        JournalLeg.id,
        JournalLeg.account_id,
        JournalLeg.amount_fen,
        JournalLeg.balance_after_fen,
        previous,
    ).subquery()
    rows = session.execute(
        select(
            LedgerAccount.code,
            ordered.c.id,
            ordered.c.previous + ordered.c.amount_fen,
            ordered.c.balance_after_fen,
        )
        .join(LedgerAccount, LedgerAccount.id == ordered.c.account_id)
        .where(ordered.c.previous + ordered.c.amount_fen != ordered.c.balance_after_fen)
        .order_by(ordered.c.id)
        .limit(100)
    ).all()
    return [(code, leg_id, int(exp), int(got)) for code, leg_id, exp, got in rows]


def pending_hold_totals(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Hold.debit_account_id, func.sum(Hold.amount_fen))
        .where(Hold.status == HoldStatus.PENDING)
        .group_by(Hold.debit_account_id)
    ).all()
    return {account_id: int(total) for account_id, total in rows}


def posted_holds_without_entry(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Hold.hold_ref).where(
                (Hold.status == HoldStatus.POSTED) & Hold.entry_id.is_(None)
            )
        ).all()
    )


def count_entries(session: Session) -> int:
    return int(session.scalar(select(func.count(JournalEntry.id))) or 0)
