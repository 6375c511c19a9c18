"""Close of business over the whole book, in transactions of ``batch_size`` accounts taken
in account-id order (contiguous id ranges, the partitions a set-based engine will claim).
A batch runs in one transaction; if an account in it fails, the batch is redone with each
account in its own savepoint, so the one that fails is rolled back alone and recorded in
``cob_failures`` and the rest finish. A crash loses at most the batch in flight (its days
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
    retried = set(retries)
    refs = retries + [ref for ref in behind if ref not in retried]
    days = closed = 0
    for start in range(0, len(refs), batch_size):
        batch = refs[start : start + batch_size]
        try:
            batch_closed, batch_days = _close_batch(engine, clock, batch, as_of, retried)
        except service.CobStepFailed:
            batch_closed, batch_days = _close_batch_isolated(engine, clock, batch, as_of, retried)
        closed += batch_closed
        days += batch_days
    with unit_of_work(engine) as session:
        failures = tuple(service.cob_failures(session))
    return CobReport(as_of=as_of, accounts_closed=closed, days_closed=days, failures=failures)


def _close_batch(
    engine: Engine, clock: Clock, refs: list[str], as_of: dt.date, retried: set[str]
) -> tuple[int, int]:
    """The fast path: the batch in one transaction with no savepoints (two round trips
    less per account); any account's failure rolls the whole batch back."""
    days = 0
    with unit_of_work(engine) as session:
        for ref in refs:
            days += service.close_business_days(session, clock, account_ref=ref, through=as_of)
            if ref in retried:
                service.clear_cob_failure(session, ref)
    return len(refs), days


def _close_batch_isolated(
    engine: Engine, clock: Clock, refs: list[str], as_of: dt.date, retried: set[str]
) -> tuple[int, int]:
    """A batch in which an account failed, closed again account by account, each in its
    own savepoint, recording what fails."""
    closed = days = 0
    with unit_of_work(engine) as session:
        for ref in refs:
            done = service.close_or_record_failure(
                session, clock, account_ref=ref, through=as_of, retry=ref in retried
            )
            if done is not None:
                closed += 1
                days += done
    return closed, days


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
