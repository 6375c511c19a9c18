"""Features tables: the macro facts the risk committee sets (one row per setting).

The risk-appetite factor is a fact about the economy, not about an account: it is stored
once with the business date it holds from, and every feature build reads the latest one on
or before its as-of date.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base, BigId


class MacroFact(Base):
    __tablename__ = "macro_facts"
    __table_args__ = (Index("ix_macro_facts_as_of_id", "as_of", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: The business date the factor holds from (until a later row).
    as_of: Mapped[dt.date] = mapped_column(Date)
    #: Decimal text, e.g. ``"0.8"`` (a factor, exact as the committee set it).
    risk_appetite: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
