"""The business date: one row per book, the model being Apache Fineract's business-date
table with its two dates (``BUSINESS_DATE`` and ``COB_DATE``).

``business_date`` is the day live traffic (draws, repayments, reviews) is dated;
``cob_closed_through`` is the last day close of business finished. Once a day has been
closed the business date is the day after it. ``simulation`` marks a book whose dates may
run ahead of the wall clock (the demo, scenario runs).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, Integer
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base

#: The one row's primary key.
BOOK_ROW_ID = 1


class BusinessDate(Base):
    __tablename__ = "business_dates"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    cob_closed_through: Mapped[dt.date | None] = mapped_column(Date)
    simulation: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
