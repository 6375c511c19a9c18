"""Policy tables: immutable published versions and the append-only activation history.

A version row is never updated or deleted (database triggers refuse it); which version of a
key is live is the latest ``policy_activations`` row, so a rollback is a new activation.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base, BigId


class PolicyVersion(Base):
    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("policy_key", "version", name="uq_policy_versions_key_version"),
        Index("ix_policy_versions_content_hash", "content_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    policy_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    source_yaml: Mapped[str] = mapped_column(Text)
    """The bundle exactly as published (comments included); the hash is over its content."""
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(String(64))


class PolicyActivation(Base):
    __tablename__ = "policy_activations"
    __table_args__ = (Index("ix_policy_activations_policy_key_id", "policy_key", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    policy_key: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("policy_versions.id", name="fk_policy_activations_version_id")
    )
    activated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(200))
