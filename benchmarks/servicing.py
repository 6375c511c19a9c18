"""Servicing throughput on PostgreSQL: repayments/s and COB accounts/s.

Each figure is printed next to a baseline measured in the same run on the same database:
the bare ledger posting the same money movement, with the same transactions: a funding →
principal transfer per repayment (one transaction each), and one interest-accrual entry
per account for a COB day (in transactions of COB's batch size). The ratio is the price of
servicing (locks, waterfall, schedule, allocations, DPD) over the bare postings.

    PYTHONPATH=src python benchmarks/servicing.py [--accounts 200] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import uuid
from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, text

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.ledger import service as ledger
from limitwise.ledger.chart import CreditPurpose, LenderPurpose, credit_code, lender_code
from limitwise.ledger.schemas import Leg
from limitwise.servicing import flows, service
from limitwise.servicing.schemas import ProductSpec

DRAWN_ON = dt.date(2026, 1, 5)
PRODUCT = ProductSpec.parse(
    {
        "name": "bench",
        "daily_rate_bps": "4.0",
        "repayment_types": ["daily", "equal_installment"],
        "terms_months": [12],
    }
)

#: (operation, how many, seconds)
Row = tuple[str, int, float]


def timed(label: str, count: int, work: Callable[[], None]) -> Row:
    started = time.perf_counter()
    work()
    return label, count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--catch-up-days", type=int, default=10)
    parser.add_argument(
        "--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    name = f"lw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        run(url, args.accounts, args.catch_up_days)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


WARM_UP_ACCOUNTS = 20


def run(url: str, accounts: int, catch_up_days: int) -> None:
    """Measure a small warm-up book first (connections, prepared statements, caches), then
    the real one; only the second is printed."""
    migrate.upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        service.define_product(session, Clock.fixed(DRAWN_ON), spec=PRODUCT)
    measure(engine, "W", WARM_UP_ACCOUNTS, catch_up_days)
    rows, catch = measure(engine, "B", accounts, catch_up_days)
    engine.dispose()
    print_figures(accounts, rows, catch)


def measure(
    engine: Engine, prefix: str, accounts: int, catch_up_days: int
) -> tuple[list[tuple[Row, Row]], Row]:
    clock = Clock.fixed(DRAWN_ON)
    refs = [f"{prefix}{i:05d}" for i in range(accounts)]
    with unit_of_work(engine) as session:
        for ref in refs:
            service.open_account(session, clock, ref=ref, product_code="bench", line_fen=5_000_000)
            ledger.open_credit_books(session, clock, owner_ref=f"L{ref}", line_fen=5_000_000)
            service.draw(
                session,
                clock,
                account_ref=ref,
                amount_fen=1_200_000,
                repayment_type="equal_installment",
                term_months=12,
                key=f"{ref}-d",
            )
            ledger.transfer(
                session,
                clock,
                debit_code=credit_code(f"L{ref}", CreditPurpose.PRINCIPAL),
                credit_code=lender_code(LenderPurpose.FUNDING),
                amount_fen=1_200_000,
            )

    def ledger_accruals() -> None:
        for start in range(0, accounts, flows.DEFAULT_BATCH_SIZE):
            with unit_of_work(engine) as session:
                for ref in refs[start : start + flows.DEFAULT_BATCH_SIZE]:
                    ledger.post_entry(
                        session,
                        clock,
                        kind="accrual",
                        legs=[
                            Leg(credit_code(f"L{ref}", CreditPurpose.INTEREST), 464),
                            Leg(lender_code(LenderPurpose.INTEREST_INCOME), -464),
                        ],
                    )

    def cob_one_day() -> None:
        report = flows.run_cob(engine, clock, as_of=DRAWN_ON)
        assert report.days_closed == accounts

    next_day = Clock.fixed(DRAWN_ON + dt.timedelta(days=1))

    def ledger_repayments() -> None:
        for ref in refs:
            with unit_of_work(engine) as session:
                ledger.transfer(
                    session,
                    next_day,
                    debit_code=lender_code(LenderPurpose.FUNDING),
                    credit_code=credit_code(f"L{ref}", CreditPurpose.PRINCIPAL),
                    amount_fen=10_000,
                    kind="repayment",
                )

    def repayments() -> None:
        for ref in refs:
            with unit_of_work(engine) as session:
                service.repay(session, next_day, account_ref=ref, amount_fen=10_000, key=f"{ref}-r")

    def catch_up() -> None:
        through = DRAWN_ON + dt.timedelta(days=catch_up_days)
        report = flows.run_cob(engine, clock, as_of=through)
        assert report.days_closed == accounts * catch_up_days

    rows = [
        (
            timed("ledger accrual entry (baseline)", accounts, ledger_accruals),
            timed("COB, one day (accounts/s)", accounts, cob_one_day),
        ),
        (
            timed("ledger transfer (baseline)", accounts, ledger_repayments),
            timed("repayment (repayments/s)", accounts, repayments),
        ),
    ]
    catch = timed(
        f"COB catch-up, {catch_up_days} days (account-days/s)", accounts * catch_up_days, catch_up
    )
    return rows, catch


def print_figures(accounts: int, rows: list[tuple[Row, Row]], catch: Row) -> None:
    table = Table(title=f"Servicing on PostgreSQL, {accounts} accounts")
    for column in ("operation", "per second", "baseline per second", "ratio"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for (b_label, b_count, b_secs), (label, count, secs) in rows:
        rate, base = count / secs, b_count / b_secs
        table.add_row(label, f"{rate:,.0f}", f"{base:,.0f}  ({b_label})", f"{rate / base:.2f}×")
    label, count, secs = catch
    table.add_row(label, f"{count / secs:,.0f}", "", "")
    Console(width=130).print(table)


if __name__ == "__main__":
    main()
