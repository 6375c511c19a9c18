"""Small builders shared by the servicing tests."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.ledger.models import JournalEntry
from limitwise.servicing import service
from limitwise.servicing.schemas import ProductSpec

STD = ProductSpec.parse(
    {
        "name": "std",
        "daily_rate_bps": "4.0",
        "repayment_types": ["daily", "equal_installment", "equal_principal", "interest_first"],
        "terms_months": [3, 6, 12],
    }
)


def open_book(engine: Engine, clock: Clock, refs: list[str], *, line_fen: int = 5_000_000) -> None:
    with unit_of_work(engine) as session:
        service.define_product(session, clock, spec=STD)
        for ref in refs:
            service.open_account(session, clock, ref=ref, product_code="std", line_fen=line_fen)


def entry_count(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count(JournalEntry.id))) or 0)
