"""Close of business over the whole book, in transactions of ``batch_size`` accounts taken
in account-id order (contiguous id ranges, the partitions a set-based engine will claim).
Each account closes in its own savepoint: one that fails is rolled back alone and recorded
in ``cob_failures``, the rest finish. A crash loses at most the batch in flight (its days
stay open), and a rerun for the same date retries the failures first and finishes the work
without applying anything twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from limitwise.businessdate import service as business_dates
from limitwise.businessdate.service import BookDates
from limitwise.kit.clock import Clock, wall_today
from limitwise.kit.db import unit_of_work
from limitwise.kit.settings import get_settings
from limitwise.servicing import service
from limitwise.servicing.schemas import CobFailureView


@dataclass(frozen=True)
class CobReport:
    as_of: dt.date
    accounts_closed: int
    days_closed: int
    failures: tuple[CobFailureView, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures


DEFAULT_BATCH_SIZE = 50


def run_cob(
    engine: Engine, clock: Clock, *, as_of: dt.date, batch_size: int = DEFAULT_BATCH_SIZE
) -> CobReport:
    """Close every account's business days up to and including ``as_of``, day by day,
    retrying the accounts the last run could not close first."""
    with unit_of_work(engine) as session:
        retries = service.failed_account_refs(session)
        behind = service.accounts_behind(session, as_of=as_of)
    refs = retries + [ref for ref in behind if ref not in set(retries)]
    days = closed = 0
    for start in range(0, len(refs), batch_size):
        with unit_of_work(engine) as session:
            for ref in refs[start : start + batch_size]:
                done = service.close_or_record_failure(
                    session, clock, account_ref=ref, through=as_of
                )
                if done is not None:
                    days += done
                    closed += 1
    with unit_of_work(engine) as session:
        failures = tuple(service.cob_failures(session))
    return CobReport(as_of=as_of, accounts_closed=closed, days_closed=days, failures=failures)


def close_through(
    engine: Engine,
    clock: Clock,
    *,
    through: dt.date,
    batch_size: int = DEFAULT_BATCH_SIZE,
    then: Callable[[Clock], None] | None = None,
) -> tuple[CobReport, BookDates]:
    """The business-date roll: refuse a target that breaks a business-date rule at once,
    close every account through ``through``, run ``then`` on the new business date (what
    else falls due when the day closes), and advance the stored business date."""
    zone = get_settings().business_time_zone
    with unit_of_work(engine) as session:
        business_dates.check_cob_target(session, through, wall_today=wall_today(zone))
    report = run_cob(engine, clock, as_of=through, batch_size=batch_size)
    if then is not None:
        then(Clock(through + dt.timedelta(days=1), clock.now_fn))
    with unit_of_work(engine) as session:
        dates = business_dates.record_cob(session, clock, through=through)
    return report, dates
