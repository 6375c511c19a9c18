"""The business-date clock: the only place business logic learns "what day is it".

Close of business, accrual, DPD and reviews all take an explicit business date; nothing else
reads the wall clock. ``posted_at`` timestamps (when a row was written) come from the same
clock so replays and tests are deterministic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limitwise.kit.errors import InvalidInput


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def wall_today(zone: str) -> dt.date:
    """Today's date on the wall clock in time zone ``zone`` (e.g. ``Asia/Shanghai``): the
    only wall-clock date limitwise reads, to seed a real book's business date and to refuse
    closing a day that has not ended yet."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"unknown time zone {zone!r}: name an IANA zone such as Asia/Shanghai",
            field="business_time_zone",
            code="unknown_time_zone",
        ) from exc
    return dt.datetime.now(tz).date()


@dataclass
class Clock:
    """A business date plus a source of posting timestamps."""

    business_date: dt.date
    now_fn: Callable[[], dt.datetime] = field(default=_utc_now)

    def today(self) -> dt.date:
        return self.business_date

    def now(self) -> dt.datetime:
        return self.now_fn()

    def advance_to(self, day: dt.date) -> None:
        if day < self.business_date:
            raise ValueError(f"business date cannot move back from {self.business_date} to {day}")
        self.business_date = day

    @classmethod
    def fixed(cls, business_date: dt.date, at: dt.datetime | None = None) -> Clock:
        """A clock frozen at one instant: for tests, replays and simulations."""
        stamp = at or dt.datetime.combine(business_date, dt.time(), tzinfo=dt.UTC)
        return cls(business_date, lambda: stamp)

    @classmethod
    def system(cls) -> Clock:
        """Today's date in UTC (for operator commands that did not name a date)."""
        return cls(_utc_now().date())
