"""Close of business over the whole book, with either engine.

``set`` (the default): the book is split into account-id ranges (``cob_partitions``);
workers claim them from the database (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and each
partition's days are closed set-based (:mod:`limitwise.servicing.batch_cob`) in one
transaction that also marks it done. A crash leaves the partition in flight undone and
unchanged; a rerun (or another worker) claims it again. Accounts whose close failed in an
earlier run are retried first, account by account; a partition the set-based engine cannot
close is closed account by account instead, recording what fails.

``account``: every account walked day by day through ``servicing/book.py``, in
transactions of ``batch_size`` accounts taken in account-id order. A batch runs in one
transaction; if an account in it fails, the batch is redone with each account in its own
savepoint, so the one that fails is rolled back alone and recorded in ``cob_failures`` and
the rest finish. Both engines produce the same book (the differential tests prove it).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Engine

from limitwise.businessdate import service as business_dates
from limitwise.businessdate.service import BookDates
from limitwise.kit.clock import Clock, wall_today
from limitwise.kit.db import unit_of_work
from limitwise.kit.settings import get_settings
from limitwise.servicing import batch_cob, service
from limitwise.servicing.batch_cob import CobTally
from limitwise.servicing.schemas import CobFailureView

logger = logging.getLogger(__name__)


class CobEngine(StrEnum):
    SET = "set"
    """Set-based over partitions of the book (the default)."""
    ACCOUNT = "account"
    """Account by account through ``servicing/book.py`` (debugging, differential tests)."""


@dataclass(frozen=True)
class CobReport:
    as_of: dt.date
    accounts_closed: int
    days_closed: int
    failures: tuple[CobFailureView, ...] = ()
    tally: CobTally = field(default_factory=CobTally)

    @property
    def ok(self) -> bool:
        return not self.failures


DEFAULT_BATCH_SIZE = 50
DEFAULT_PARTITION_SIZE = 10_000
#: How long a worker waits between looks at partitions other workers still hold.
WAIT_FOR_OTHERS_S = 0.2

#: Told after each partition: (partitions done, partitions planned, the tally so far).
Progress = Callable[[int, int, CobTally], None]


def run_cob(
    engine: Engine,
    clock: Clock,
    *,
    as_of: dt.date,
    batch_size: int = DEFAULT_BATCH_SIZE,
    cob_engine: CobEngine = CobEngine.SET,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    progress: Progress | None = None,
) -> CobReport:
    """Close every account's business days up to and including ``as_of``, retrying the
    accounts the last run could not close first."""
    with unit_of_work(engine) as session:
        retries = service.failed_account_refs(session)
    tally = CobTally()
    _close_refs(engine, clock, retries, as_of, set(retries), batch_size, tally)
    if cob_engine is CobEngine.SET:
        with unit_of_work(engine) as session:
            planned = batch_cob.plan_partitions(session, business_date=as_of, size=partition_size)
        tally.add(work_partitions(engine, clock, as_of=as_of, planned=planned, progress=progress))
    with unit_of_work(engine) as session:
        failed = set(service.failed_account_refs(session))
        behind = [r for r in service.accounts_behind(session, as_of=as_of) if r not in failed]
    _close_refs(engine, clock, behind, as_of, set(), batch_size, tally)
    with unit_of_work(engine) as session:
        failures = tuple(service.cob_failures(session))
    return CobReport(
        as_of=as_of,
        accounts_closed=tally.accounts_closed,
        days_closed=tally.account_days,
        failures=failures,
        tally=tally,
    )


def work_partitions(
    engine: Engine,
    clock: Clock,
    *,
    as_of: dt.date,
    planned: int = 0,
    progress: Progress | None = None,
) -> CobTally:
    """Claim and close partitions of ``as_of`` until none is left, then wait for those
    other workers hold (``limitwise cob work`` runs this on more processes or machines)."""
    tally = CobTally()
    done = planned - _partitions_left(engine, as_of)
    while True:
        closed = _close_next_partition(engine, clock, as_of)
        if closed is None:
            if _partitions_left(engine, as_of) == 0:
                return tally
            time.sleep(WAIT_FOR_OTHERS_S)
            continue
        tally.add(closed)
        done += 1
        if progress is not None:
            progress(done, planned, tally)


def work(
    engine: Engine, clock: Clock, *, as_of: dt.date, size: int, progress: Progress | None = None
) -> CobTally:
    """A helper worker's share of a close of business: plan (a no-op once planned), then
    claim and close partitions until none is left."""
    with unit_of_work(engine) as session:
        planned = batch_cob.plan_partitions(session, business_date=as_of, size=size)
    return work_partitions(engine, clock, as_of=as_of, planned=planned, progress=progress)


def _partitions_left(engine: Engine, as_of: dt.date) -> int:
    with unit_of_work(engine) as session:
        return batch_cob.partitions_left(session, business_date=as_of)


def _close_next_partition(engine: Engine, clock: Clock, as_of: dt.date) -> CobTally | None:
    """One partition in one transaction: claimed, closed set-based and marked done. If
    the set-based close raises, the partition is closed account by account instead."""
    try:
        with unit_of_work(engine) as session:
            claimed = batch_cob.claim_partition(session, business_date=as_of)
            if claimed is None:
                return None
            tally = batch_cob.close_partition(
                session, clock, lo_id=claimed.lo_id, hi_id=claimed.hi_id, through=as_of
            )
            batch_cob.finish_partition(
                session, clock, claimed, accounts_closed=tally.accounts_closed
            )
            return tally
    except Exception:
        logger.exception("set-based COB failed on a partition; closing it account by account")
        return _close_partition_per_account(engine, clock, as_of)


def _close_partition_per_account(engine: Engine, clock: Clock, as_of: dt.date) -> CobTally:
    tally = CobTally(partitions_per_account=1)
    with unit_of_work(engine) as session:
        claimed = batch_cob.claim_partition(session, business_date=as_of)
        if claimed is None:
            return CobTally()
        refs = batch_cob.refs_behind(
            session, lo_id=claimed.lo_id, hi_id=claimed.hi_id, through=as_of
        )
        for ref in refs:
            days = service.close_or_record_failure(session, clock, account_ref=ref, through=as_of)
            if days is not None:
                tally.accounts_closed += 1
                tally.account_days += days
        batch_cob.finish_partition(session, clock, claimed, accounts_closed=tally.accounts_closed)
    return tally


def _close_refs(
    engine: Engine,
    clock: Clock,
    refs: list[str],
    as_of: dt.date,
    retried: set[str],
    batch_size: int,
    tally: CobTally,
) -> None:
    """The per-account engine over ``refs``, ``batch_size`` accounts per transaction."""
    for start in range(0, len(refs), batch_size):
        batch = refs[start : start + batch_size]
        try:
            closed, days = _close_batch(engine, clock, batch, as_of, retried)
        except service.CobStepFailed:
            closed, days = _close_batch_isolated(engine, clock, batch, as_of, retried)
        tally.accounts_closed += closed
        tally.account_days += days


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
    cob_engine: CobEngine = CobEngine.SET,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    progress: Progress | None = None,
) -> tuple[CobReport, BookDates]:
    """The business-date roll: refuse a target that breaks a business-date rule at once,
    close every account through ``through``, run ``then`` on the new business date (what
    else falls due when the day closes), and advance the stored business date."""
    zone = get_settings().business_time_zone
    with unit_of_work(engine) as session:
        business_dates.check_cob_target(session, through, wall_today=wall_today(zone))
    report = run_cob(
        engine,
        clock,
        as_of=through,
        batch_size=batch_size,
        cob_engine=cob_engine,
        partition_size=partition_size,
        progress=progress,
    )
    if then is not None:
        then(Clock(through + dt.timedelta(days=1), clock.now_fn))
    with unit_of_work(engine) as session:
        dates = business_dates.record_cob(session, clock, through=through)
    return report, dates
