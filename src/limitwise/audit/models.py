"""Audit tables: the records, and the heads of the chains they form.

The log is several hash chains (``CHAINS``), each with its own head row. An append locks
one head that no other transaction holds (``FOR UPDATE SKIP LOCKED``) and links the new
record to it, so concurrent changes never queue behind one row; records stay append-only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base, BigId

#: Chains the log is spread over: more than the transactions that append at once (every
#: server worker's pool), so an append almost never waits for a head.
CHAINS = 32
#: The chain an append waits for when every head is held (and SQLite's only chain: its
#: writers are serialised anyway).
FIRST_CHAIN = 1


class AuditRecord(Base):
    """Who did what to which target, when, with digests of the target before and after.

    ``seq`` numbers the records of one ``chain`` from 1; ``hash`` is sha256 over the
    record's fields and ``prev_hash``, the hash of the chain's previous record: editing,
    deleting or reordering any row breaks its chain from that row on.
    """

    __tablename__ = "audit_records"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chain: Mapped[int] = mapped_column(SmallInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(80))
    #: ``draw.create``, ``user.update``, ``pii.read``, ...
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(String(128))
    before_digest: Mapped[str] = mapped_column(String(64))
    after_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One chain's last sequence number and hash: a deleted tail shows against it."""

    __tablename__ = "audit_heads"
    __table_args__ = (CheckConstraint(f"id BETWEEN 1 AND {CHAINS}", name="chain_number"),)

    #: The chain's number, 1 to ``CHAINS``.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
