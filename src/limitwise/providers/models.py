"""Provider responses: every answer kept with its provider, time and quality verdict."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base, BigId


class ProviderResponse(Base):
    __tablename__ = "provider_responses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: The application the data was gathered for (None for data not about a person).
    application_ref: Mapped[str | None] = mapped_column(String(48), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(80))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    data_as_of: Mapped[dt.date | None] = mapped_column(Date)
    quality: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(300))
    #: The validated facts (never the raw payload, which may echo identifiers).
    facts_json: Mapped[str | None] = mapped_column(Text)
