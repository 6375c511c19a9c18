"""Close of business over the whole book: one transaction per account, so a crash loses
nothing and a rerun for the same date finishes the work without applying anything twice."""

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


def run_cob(engine: Engine, clock: Clock, *, as_of: dt.date) -> CobReport:
    """Close every account's business days up to and including ``as_of``, day by day."""
    with unit_of_work(engine) as session:
        refs = service.accounts_behind(session, as_of=as_of)
    days = 0
    for ref in refs:
        with unit_of_work(engine) as session:
            days += service.close_business_days(session, clock, account_ref=ref, through=as_of)
    return CobReport(as_of=as_of, accounts_closed=len(refs), days_closed=days)
