"""The set-based close of business: a second evaluator of ``servicing/book.py``'s rules.

One call closes every open day up to a date for the accounts of one partition (an
account-id range), day by day, each day in a few statements over the whole partition
(:mod:`limitwise.servicing.queries`) and one batched ledger posting
(:mod:`limitwise.ledger.batch`). It produces the entries, balances, instalment states, days
past due and bucket events the per-account engine produces; the differential tests prove
it. Accounts that need the repayment waterfall during COB (a credit balance to settle what
falls due), a paid-off draw that may still close, or a rate that is not a whole number of
nano-fen per fen and day are closed by the per-account engine instead, in the same
transaction. Services never commit.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from limitwise.kit.clock import Clock
from limitwise.ledger import batch as ledger_batch
from limitwise.ledger import repository as ledger_repository
from limitwise.ledger.chart import LenderPurpose, lender_code
from limitwise.servicing import queries, repository, service
from limitwise.servicing.schedule import BPS

ONE_DAY = dt.timedelta(days=1)
NANO_PER_BPS = queries.NANO // int(BPS)


@dataclass
class CobTally:
    """What a close of business did (the set-based figures; the accounts the per-account
    engine closed count in ``accounts_closed`` and ``account_days`` only)."""

    accounts_closed: int = 0
    account_days: int = 0
    interest_fen: int = 0
    penalty_fen: int = 0
    new_overdue: int = 0
    bucket_moves: int = 0
    #: Partitions the set-based engine raised on, closed account by account instead.
    partitions_per_account: int = 0

    def add(self, other: CobTally) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def nano_factor(rate_bps: str) -> int | None:
    """Nano-fen of interest per fen and day at ``rate_bps``, if it is a whole number (then
    ``book._nano`` needs no rounding and SQL can use integers); else ``None``."""
    try:
        factor = Decimal(rate_bps) * NANO_PER_BPS
    except InvalidOperation:
        return None
    if not factor.is_finite() or factor < 0 or factor != factor.to_integral_value():
        return None
    return int(factor)


def close_partition(
    session: Session, clock: Clock, *, lo_id: int, hi_id: int, through: dt.date
) -> CobTally:
    """Close every open day up to ``through`` of the accounts with ids in [lo, hi) that have
    no recorded COB failure (those are retried by the per-account engine first)."""
    queries.prepare(session)
    behind = queries.lock_behind(session, lo=lo_id, hi=hi_id, through=through)
    tally = CobTally()
    if not behind:
        return tally
    _load_rules(session, lo_id=lo_id, hi_id=hi_id)
    for ref in queries.mark_fallback(session, lo=lo_id, hi=hi_id, through=through):
        days = service.close_or_record_failure(session, clock, account_ref=ref, through=through)
        if days is not None:
            tally.accounts_closed += 1
            tally.account_days += days
    session.flush()
    session.expire_all()
    closed_before = queries.count_closed(session, lo=lo_id, hi=hi_id, through=through)
    first = queries.first_open_day(session, lo=lo_id, hi=hi_id, through=through)
    if first is not None:
        tally.add(_close_days(session, clock, lo_id, hi_id, first, through))
    closed_after = queries.count_closed(session, lo=lo_id, hi=hi_id, through=through)
    tally.accounts_closed += closed_after - closed_before
    return tally


def _load_rules(session: Session, *, lo_id: int, hi_id: int) -> None:
    """The partition's products (grace days, buckets) and exact rate factors."""
    grace: dict[int, int] = {}
    buckets: list[tuple[int, int, int | None, str]] = []
    for product_id in queries.product_ids(session, lo=lo_id, hi=hi_id):
        spec = service.parse_product(repository.get_product(session, product_id).definition_json)
        grace[product_id] = spec.grace_days
        buckets += [(product_id, b.min_dpd, b.max_dpd, b.name) for b in spec.buckets]
    queries.load_products(session, grace, buckets)
    factors = {
        rate: nano_factor(rate) for rate in queries.open_draw_rates(session, lo=lo_id, hi=hi_id)
    }
    queries.load_rates(session, {rate: f for rate, f in factors.items() if f is not None})


def _income_accounts(session: Session) -> dict[str, int]:
    codes = {
        "interest_income": lender_code(LenderPurpose.INTEREST_INCOME),
        "penalty_income": lender_code(LenderPurpose.PENALTY_INCOME),
    }
    ids = ledger_repository.account_ids_by_code(session, codes.values())
    return {name: ids.get(code, 0) for name, code in codes.items()}


def _close_days(
    session: Session, clock: Clock, lo_id: int, hi_id: int, first: dt.date, through: dt.date
) -> CobTally:
    """The set-based accounts' days from ``first`` to ``through``, one day at a time, with
    the accrual entries of all the days staged as one batched ledger posting and each
    account's closed-through date written once, at the end."""
    queries.load_accounts(session, lo=lo_id, hi=hi_id, through=through)
    income = _income_accounts(session)
    ledger_batch.begin(session)
    tally = CobTally()
    for day_no in range((through - first).days + 1):
        day = first + day_no * ONE_DAY
        legs = queries.legs_params(day, day_no=day_no, lo=lo_id, hi=hi_id, **income)
        tally.add(_close_day(session, clock, lo_id, hi_id, day, legs))
    ledger_batch.post_staged(session, clock)
    queries.write_back_accounts(session, lo=lo_id, hi=hi_id, through=through)
    return tally


def _close_day(
    session: Session, clock: Clock, lo_id: int, hi_id: int, day: dt.date, legs: dict[str, Any]
) -> CobTally:
    """book.py's close of one day for every account of the partition due to close it:
    accrue → stage the entries → days past due and bucket → bucket events → the day is
    closed."""
    if queries.start_day(session, day=day) == 0:
        return CobTally()
    queries.accrue(session, lo=lo_id, hi=hi_id, day=day)
    ledger_batch.stage_sql(session, queries.LEGS_SQL, legs)
    moves = queries.delinquency(session, lo=lo_id, hi=hi_id, day=day)
    as_of = day + ONE_DAY
    now = clock.now()
    queries.insert_events(
        session,
        [
            {
                "credit_account_id": account_id,
                "kind": "bucket_changed",
                "as_of": as_of,
                "payload_json": json.dumps(
                    {"from": before, "to": after, "days_past_due": dpd}, sort_keys=True
                ),
                "created_at": now,
            }
            for account_id, before, after, dpd in moves
        ],
    )
    accounts, interest, penalty, new_overdue = queries.day_tally(session)
    queries.close_day(session)
    return CobTally(
        account_days=accounts,
        interest_fen=interest,
        penalty_fen=penalty,
        new_overdue=new_overdue,
        bucket_moves=len(moves),
    )


# --- partitions ----------------------------------------------------------------------------


def plan_partitions(session: Session, *, business_date: dt.date, size: int) -> int:
    """Split the accounts still open for ``business_date`` into id ranges of ``size``
    (aligned to multiples of it, so a rerun plans the same ranges); returns how many
    partitions the date has."""
    span = queries.account_id_span(session, through=business_date)
    if span is not None:
        first, last = span
        queries.add_partitions(
            session,
            [
                {
                    "business_date": business_date,
                    "lo_id": lo,
                    "hi_id": lo + size,
                    "done": False,
                    "accounts_closed": 0,
                    "finished_at": None,
                }
                for lo in range(first // size * size, last + 1, size)
            ],
        )
    return queries.partition_count(session, business_date=business_date)


@dataclass(frozen=True)
class Claimed:
    id: int
    lo_id: int
    hi_id: int


def claim_partition(session: Session, *, business_date: dt.date) -> Claimed | None:
    """Take the next undone partition of the date that no other worker holds; it stays
    held until this transaction ends."""
    row = queries.claim_partition(session, business_date=business_date)
    return None if row is None else Claimed(row.id, row.lo_id, row.hi_id)


def finish_partition(
    session: Session, clock: Clock, partition: Claimed, *, accounts_closed: int
) -> None:
    queries.finish_partition(
        session, partition.id, accounts_closed=accounts_closed, finished_at=clock.now()
    )


def partitions_left(session: Session, *, business_date: dt.date) -> int:
    return queries.partitions_left(session, business_date=business_date)


def refs_behind(session: Session, *, lo_id: int, hi_id: int, through: dt.date) -> list[str]:
    """Accounts of a partition with a day up to ``through`` open and no recorded failure."""
    return queries.refs_behind(session, lo=lo_id, hi=hi_id, through=through)
