"""Servicing tables: products, credit accounts, draws and their instalments, repayments with
their allocations, the servicing entries posted to the ledger, and account events.

Money is integer fen; sub-fen accrual remainders are integer nano-fen (10⁻⁹ fen) so the
daily postings sum exactly. Rates are decimal strings (exact), never floats.
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
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base, BigId


class AccountStatus(StrEnum):
    ACTIVE = "active"
    """Draws allowed under the line."""
    FROZEN = "frozen"
    """No new draws; repayments and COB go on. Can be unfrozen."""
    CLOSED = "closed"
    """No new draws ever; what is owed is still serviced until repaid."""


class DrawStatus(StrEnum):
    OPEN = "open"
    """Something is still owed or scheduled."""
    PAID_OFF = "paid_off"
    """Principal, interest and penalty all repaid; accrual stops."""


class Product(Base):
    """A loan product as data: its validated definition is stored as JSON."""

    __tablename__ = "servicing_products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    definition_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CreditAccount(Base):
    __tablename__ = "credit_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("servicing_products.id"))
    line_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    #: Last business date closed by COB for this account (None: no day closed yet).
    cob_through: Mapped[dt.date | None] = mapped_column(Date)
    #: Days past due and bucket as stored by the last COB (for the next business day).
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(16))
    #: Orders draws and repayments within a day, so a replay applies them as they happened.
    next_seq: Mapped[int] = mapped_column(Integer, default=1)
    #: The recorded line decision behind the current line and status (None only for an
    #: account an operator opened directly, before any decision): see ``limitwise.lines``.
    line_decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("line_decisions.id", use_alter=True)
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("line_fen >= 0", name="line_non_negative"),)


class Draw(Base):
    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(48), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    repayment_type: Mapped[str] = mapped_column(String(24))
    term_months: Mapped[int] = mapped_column(Integer)
    drawn_on: Mapped[dt.date] = mapped_column(Date)
    daily_rate_bps: Mapped[str] = mapped_column(String(24))
    penalty_rate_bps: Mapped[str] = mapped_column(String(24))
    early_repayment_fee_bps: Mapped[str] = mapped_column(String(24))
    #: Annualised IRR of the scheduled cash flows, as a decimal fraction string.
    apr: Mapped[str] = mapped_column(String(24))
    principal_outstanding_fen: Mapped[int] = mapped_column(BigInteger)
    #: Sub-fen interest carried to the next day (daily repayment type), in nano-fen.
    accrual_remainder_nfen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))
    disbursement_entry_ref: Mapped[str] = mapped_column(String(48))

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("principal_outstanding_fen >= 0", name="principal_non_negative"),
    )


class Instalment(Base):
    """One period of a draw: what is scheduled, accrued and paid, per component."""

    __tablename__ = "instalments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    principal_due_fen: Mapped[int] = mapped_column(BigInteger)
    interest_scheduled_fen: Mapped[int] = mapped_column(BigInteger)
    interest_accrued_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_accrued_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_remainder_nfen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_charged_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (UniqueConstraint("draw_id", "seq"),)


class Repayment(Base):
    __tablename__ = "repayments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(48), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    received_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class Allocation(Base):
    """Where money went: one row per (instalment, slot) paid, or to the credit balance.

    ``repayment_id`` is null when the money came out of the credit balance. A replay after a
    backdated repayment marks the earlier allocations ``superseded`` and writes new ones.
    """

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id"), index=True)
    repayment_id: Mapped[int | None] = mapped_column(ForeignKey("repayments.id"), index=True)
    instalment_id: Mapped[int | None] = mapped_column(ForeignKey("instalments.id"))
    timing: Mapped[str] = mapped_column(String(16))
    component: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class ServicingPosting(Base):
    """A ledger entry servicing posted for an account (accrual, repayment, credit balance).

    A replay reverses every live posting of the account and posts the history again.
    """

    __tablename__ = "servicing_postings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id"))
    entry_ref: Mapped[str] = mapped_column(String(48), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    reversed: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_servicing_postings_account_live", "credit_account_id", "reversed"),)


class AccountEvent(Base):
    """Something that happened to a credit account that other domains react to."""

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[dt.date] = mapped_column(Date)
    payload_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CobFailure(Base):
    """An account close of business could not close: which day, which step, what error.

    One row per account (the newest failure; ``attempts`` counts the runs that failed on
    it). The next run retries these accounts first; closing the account deletes its row.
    """

    __tablename__ = "cob_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id"), unique=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    failed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CobPartition(Base):
    """One account-id range ``[lo_id, hi_id)`` of a set-based close of business for a
    business date. A worker claims an undone partition (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL), closes its accounts and marks it done in the same transaction, so a crash
    leaves it undone for the next worker or run."""

    __tablename__ = "cob_partitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    lo_id: Mapped[int] = mapped_column(BigInteger)
    hi_id: Mapped[int] = mapped_column(BigInteger)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    accounts_closed: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("business_date", "lo_id"),)
