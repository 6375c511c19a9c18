"""Line tables: the append-only decision log, who holds each line, sub-lines, changes
scheduled with notice, and the account events already re-decided (the trigger queue).

A decision row is never updated or deleted (database triggers refuse it). Every line or
status change of a credit account names the decision that made it
(``credit_accounts.line_decision_id``), so nothing changes a line without a record.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base, BigId


class Trigger(StrEnum):
    APPLICATION = "application"
    """An applicant's first decision."""
    EVENT = "event"
    """An account event (repayment, draw, bucket change, bureau update, anomaly flag)."""
    REVIEW = "review"
    """A review of one account asked for by an operator or the periodic review."""
    NOTICE_DUE = "notice_due"
    """A change scheduled with notice falls due on the business-date roll."""
    MANUAL = "manual"
    """An operator's own change (scenario files, support), with its stated reason."""


class Timing(StrEnum):
    NOW = "now"
    """Applied on the decision's business date."""
    SCHEDULED = "scheduled"
    """Applied on ``effective_on`` after advance notice, unless a later decision cancels it."""
    NONE = "none"
    """Nothing to apply (kept, declined or held back by a guard)."""


class LineDecision(Base):
    __tablename__ = "line_decisions"
    __table_args__ = (Index("ix_line_decisions_account_ref_id", "account_ref", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    decision_ref: Mapped[str] = mapped_column(String(48), unique=True)
    trigger: Mapped[str] = mapped_column(String(16))
    #: What set it off: the application ref, ``event:<id> <kind>``, or the operator's note.
    trigger_ref: Mapped[str] = mapped_column(String(128))
    account_ref: Mapped[str | None] = mapped_column(String(64))
    application_ref: Mapped[str | None] = mapped_column(String(48), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    policy_key: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(32))
    policy_hash: Mapped[str] = mapped_column(String(64))
    #: ``[{"policy_expects": "key@version"}, ..., {"scored": "version", "score": points}, ...]``
    scorecards_json: Mapped[str] = mapped_column(Text)
    features_json: Mapped[str] = mapped_column(Text)
    #: Inputs the features could not be computed from (scored as missing).
    missing_json: Mapped[str] = mapped_column(Text)
    trace_json: Mapped[str] = mapped_column(Text)
    proposed_action: Mapped[str] = mapped_column(String(16))
    proposed_line_fen: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(16))
    old_line_fen: Mapped[int] = mapped_column(BigInteger)
    new_line_fen: Mapped[int] = mapped_column(BigInteger)
    old_status: Mapped[str] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    timing: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    #: 1-4 reason codes, most telling first: ``[{"code", "en", "zh"}, ...]``
    reasons_json: Mapped[str] = mapped_column(Text)
    notice: Mapped[str | None] = mapped_column(String(32))
    sub_lines_json: Mapped[str] = mapped_column(Text)
    #: What the line service changed or held back: ``[{"guard", "detail", ...}, ...]``
    adjustments_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LineHolder(Base):
    """Who holds a credit account's line: the per-customer cap sums a person's lines."""

    __tablename__ = "line_holders"

    credit_account_id: Mapped[int] = mapped_column(
        ForeignKey("credit_accounts.id"), primary_key=True
    )
    account_ref: Mapped[str] = mapped_column(String(64), unique=True)
    person_index: Mapped[str] = mapped_column(String(64), index=True)
    application_ref: Mapped[str] = mapped_column(String(48))
    verified_income_monthly_fen: Mapped[int | None] = mapped_column(BigInteger)


class SubLine(Base):
    """A sub-line inside an account's line (e.g. the car-owner line), as last decided."""

    __tablename__ = "line_sub_lines"

    credit_account_id: Mapped[int] = mapped_column(
        ForeignKey("credit_accounts.id"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    line_fen: Mapped[int] = mapped_column(BigInteger)
    decision_id: Mapped[int] = mapped_column(ForeignKey("line_decisions.id"))


class PendingState(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    CANCELLED = "cancelled"


class PendingChange(Base):
    """A decrease or closure announced with notice, applied on ``effective_on``."""

    __tablename__ = "line_pending_changes"
    __table_args__ = (Index("ix_line_pending_changes_state_effective", "state", "effective_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("line_decisions.id"))
    action: Mapped[str] = mapped_column(String(16))
    line_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    #: The decision that applied or cancelled it.
    settled_by_decision_id: Mapped[int | None] = mapped_column(ForeignKey("line_decisions.id"))


class EventReview(Base):
    """An account event already re-decided: the durable trigger queue is every trigger
    event without a row here, so a crash loses none and a rerun decides none twice."""

    __tablename__ = "line_event_reviews"

    event_id: Mapped[int] = mapped_column(ForeignKey("account_events.id"), primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("line_decisions.id"))
