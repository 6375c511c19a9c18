"""Close of business over the whole book, in transactions of ``batch_size`` accounts: a
crash loses at most the batch in flight (its days stay open), and a rerun for the same
date finishes the work without applying anything twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine

from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.servicing import service


@dataclass(frozen=True)
class CobReport:
    as_of: dt.date
    accounts_closed: int
    days_closed: int


DEFAULT_BATCH_SIZE = 50


def run_cob(
    engine: Engine, clock: Clock, *, as_of: dt.date, batch_size: int = DEFAULT_BATCH_SIZE
) -> CobReport:
    """Close every account's business days up to and including ``as_of``, day by day."""
    with unit_of_work(engine) as session:
        refs = service.accounts_behind(session, as_of=as_of)
    days = 0
    for start in range(0, len(refs), batch_size):
        with unit_of_work(engine) as session:
            for ref in refs[start : start + batch_size]:
                days += service.close_business_days(session, clock, account_ref=ref, through=as_of)
    return CobReport(as_of=as_of, accounts_closed=len(refs), days_closed=days)
