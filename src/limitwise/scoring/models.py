"""Scorecard registry tables.

``score_models`` holds every registered artifact verbatim; ``score_model_publications`` is an
append-only log of who made which version live for a purpose and when. The live version of a
purpose is its latest publication, so the history of what was live is never lost.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base, BigId


class ScoreModel(Base):
    __tablename__ = "score_models"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(120), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    #: sha256 of ``artifact_json``: decisions record it next to the version.
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    artifact_json: Mapped[str] = mapped_column(Text)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ScoreModelPublication(Base):
    __tablename__ = "score_model_publications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    purpose: Mapped[str] = mapped_column(String(16))
    model_id: Mapped[int] = mapped_column(ForeignKey("score_models.id"))
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_score_model_publications_purpose_id", "purpose", "id"),)
