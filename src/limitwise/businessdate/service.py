"""The business date as a stored fact. Services never commit: callers own the transaction.

Rules (each refusal names it):
- close of business may close a day only once it has ended on the wall clock in the
  configured time zone, unless the book is a simulation book;
- it may never jump more than :data:`MAX_COB_DAYS` days past the last closed day (an
  absurd date would otherwise run for ever in one transaction);
- a command may be dated before the business date (backdating; servicing still refuses a
  closed day), after it only on a simulation book.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from limitwise.businessdate import repository
from limitwise.businessdate.models import BusinessDate
from limitwise.kit.clock import Clock
from limitwise.kit.errors import InvalidInput, LimitwiseError, Refused

#: The furthest one close-of-business run may reach past the last closed day.
MAX_COB_DAYS = 366
ONE_DAY = dt.timedelta(days=1)


class BusinessDateMissing(LimitwiseError):
    code = "business_date_missing"
    http_status = 503


@dataclass(frozen=True)
class BookDates:
    business_date: dt.date
    cob_closed_through: dt.date | None
    simulation: bool

    def to_dict(self) -> dict[str, object]:
        closed = self.cob_closed_through
        return {
            "business_date": self.business_date.isoformat(),
            "cob_closed_through": closed.isoformat() if closed else None,
            "simulation": self.simulation,
        }


def book_dates(session: Session) -> BookDates:
    row = _row(session)
    return BookDates(row.business_date, row.cob_closed_through, row.simulation)


def business_date(session: Session) -> dt.date:
    """The day live traffic is dated: read from the database every time it is needed."""
    return _row(session).business_date


def clock(session: Session) -> Clock:
    """A clock on the stored business date."""
    return Clock(business_date(session))


def held_clock(session: Session) -> Clock:
    """A clock on the stored business date, which stays the business date until the
    transaction ends: a close of business finishing meanwhile waits to advance it."""
    row = repository.hold(session)
    if row is None:
        raise _missing()
    return Clock(row.business_date)


def clock_for(session: Session, as_of: dt.date | None) -> Clock:
    """The stored business date, or an explicit ``as_of``: a past date is backdating (the
    services decide whether it is allowed); a future one only on a simulation book."""
    if as_of is None:
        return clock(session)
    dates = book_dates(session)
    if as_of > dates.business_date and not dates.simulation:
        raise Refused(
            f"{as_of} is after the business date {dates.business_date}: only a simulation "
            "book may date commands ahead of it (run close of business to advance it)",
            code="date_after_business_date",
            field="as_of",
        )
    return Clock(as_of)


def check_cob_target(session: Session, target: dt.date, *, wall_today: dt.date) -> None:
    """Refuse at once a close-of-business date that breaks a rule (see the module doc)."""
    dates = book_dates(session)
    last_closed = dates.cob_closed_through or dates.business_date - ONE_DAY
    if (target - last_closed).days > MAX_COB_DAYS:
        raise InvalidInput(
            f"cannot close through {target}: that is more than {MAX_COB_DAYS} days after the "
            f"last closed day {last_closed}; close of business catches up at most a year per run",
            field="to",
            code="cob_too_far",
        )
    if target >= wall_today and not dates.simulation:
        raise Refused(
            f"cannot close {target}: the day has not ended on the wall clock (today is "
            f"{wall_today} in the business time zone); only a simulation book may close "
            "days ahead of the wall clock",
            code="cob_in_future",
            field="to",
        )


def record_cob(session: Session, clock: Clock, *, through: dt.date) -> BookDates:
    """Close of business finished ``through``: the business date becomes the day after the
    last closed day. Recording an earlier day again (a rerun) moves nothing back."""
    row = _locked(session)
    closed = max(row.cob_closed_through or through, through)
    row.cob_closed_through = closed
    row.business_date = closed + ONE_DAY
    row.updated_at = clock.now()
    session.flush()
    return BookDates(row.business_date, row.cob_closed_through, row.simulation)


def start_simulation(session: Session, clock: Clock, *, on: dt.date) -> None:
    """Mark the book as a simulation book whose dates run ahead of the wall clock (the
    demo, scenario runs), starting on ``on`` if no day has been closed yet; on a book that
    has closed days already (a rerun), its dates stay as they are."""
    row = _locked(session)
    row.simulation = True
    if row.cob_closed_through is None:
        row.business_date = on
    row.updated_at = clock.now()
    session.flush()


def _row(session: Session) -> BusinessDate:
    row = repository.find(session)
    if row is None:
        raise _missing()
    return row


def _locked(session: Session) -> BusinessDate:
    row = repository.lock(session)
    if row is None:
        raise _missing()
    return row


def _missing() -> BusinessDateMissing:
    return BusinessDateMissing(
        "the database stores no business date: run `limitwise db upgrade`", field="business_date"
    )
