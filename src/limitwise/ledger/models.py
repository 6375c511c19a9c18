"""Ledger tables.

Sign convention: a leg's ``amount_fen`` is positive for a debit and negative for a credit, so
every entry's legs sum to zero and an account's balance is the sum of its legs (assets such
as receivables carry positive balances, income and liabilities negative ones).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base, BigId


class AccountKind(StrEnum):
    ASSET = "asset"
    """Money owed to the lender or held by it; normal balance is a debit (positive)."""
    LIABILITY = "liability"
    """Money the lender owes (e.g. a borrower's overpayment); normal balance is a credit."""
    INCOME = "income"
    """Interest, penalty and fee income; normal balance is a credit (negative)."""
    EXPENSE = "expense"
    """Losses such as write-offs; normal balance is a debit."""


class HoldStatus(StrEnum):
    PENDING = "pending"
    """Reserved against the account's debit limit; not yet money moved."""
    POSTED = "posted"
    """Turned into a journal entry (the draw was disbursed)."""
    VOIDED = "voided"
    """Released without moving money (the disbursement failed or was cancelled)."""


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    owner_ref: Mapped[str | None] = mapped_column(String(64))
    #: Kept for accounts with an owner; always 0 on lender-wide accounts, whose balance is the
    #: sum of their legs (they are never locked or updated by a posting).
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_debit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Upper bound on balance + pending debits (the credit line on a principal account).
    debit_limit_fen: Mapped[int | None] = mapped_column(BigInteger)
    #: The balance may never cross to the abnormal side (a receivable never goes negative).
    strict_normal_balance: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # an owner's account of one purpose in one probe; the prefix serves the owner alone
        Index("ix_ledger_accounts_owner_ref_purpose", "owner_ref", "purpose"),
        CheckConstraint("pending_debit_fen >= 0", name="pending_non_negative"),
        CheckConstraint(
            "debit_limit_fen IS NULL OR debit_limit_fen >= 0", name="limit_non_negative"
        ),
    )


class JournalEntry(Base):
    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_ref: Mapped[str] = mapped_column(String(48), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    posted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    description: Mapped[str] = mapped_column(String(200), default="")
    #: The entry this one reverses; an entry can be reversed at most once (on PostgreSQL a
    #: partial unique index over the reversing entries, migration 20261204_cob_ledger_indexes).
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id"), unique=True
    )


class JournalLeg(Base):
    __tablename__ = "journal_legs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    #: The account's balance right after this leg: a running balance per account. NULL on
    #: the legs of lender-wide accounts, which keep no running balance (no hot row to lock).
    balance_after_fen: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_non_zero"),
        Index("ix_journal_legs_account_id_id", "account_id", "id"),
    )


class Hold(Base):
    __tablename__ = "ledger_holds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hold_ref: Mapped[str] = mapped_column(String(48), unique=True)
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=HoldStatus.PENDING)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class IdempotencyRecord(Base):
    """One money-moving command per key: the request's fingerprint and its stored result."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    command: Mapped[str] = mapped_column(String(48))
    request_hash: Mapped[str] = mapped_column(String(64))
    result_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
