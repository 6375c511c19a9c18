"""The set-based close of business equals the per-account one on a simple book: every
repayment type, draws on several days, a catch-up of many days through the first due
dates, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, func, select

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.ledger import batch as ledger_batch
from limitwise.ledger.batch import NewEntry
from limitwise.ledger.chart import CreditPurpose, LenderPurpose, credit_code, lender_code
from limitwise.ledger.models import JournalEntry
from limitwise.ledger.schemas import Leg
from limitwise.servicing import flows, service
from limitwise.servicing.models import CreditAccount, ServicingPosting
from tests.servicing.book_dump import dump_book, first_difference
from tests.servicing.helpers import open_book

OPENED = dt.date(2026, 1, 5)
TYPES = ["daily", "equal_installment", "equal_principal", "interest_first"]


def simple_book(engine: Engine) -> None:
    clock = Clock.fixed(OPENED)
    refs = [f"A{n}" for n in range(8)]
    open_book(engine, clock, refs)
    with unit_of_work(engine) as session:
        for n, ref in enumerate(refs[:6]):
            service.draw(
                session,
                clock,
                account_ref=ref,
                amount_fen=300_000 + 12_345 * n,
                repayment_type=TYPES[n % 4],
                term_months=3,
                key=f"{ref}-d",
            )


def closed(engine: Engine, cob_engine: flows.CobEngine, days: int) -> dict:
    simple_book(engine)
    for through in (OPENED + dt.timedelta(days=3), OPENED + dt.timedelta(days=days)):
        report = flows.run_cob(
            engine, Clock.fixed(through), as_of=through, cob_engine=cob_engine, partition_size=3
        )
        assert report.ok and report.tally.partitions_per_account == 0
    return dump_book(engine)


def test_set_based_cob_equals_per_account_cob(engine: Engine, tmp_path: Path) -> None:
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    migrate.upgrade_engine(reference)
    expected = closed(reference, flows.CobEngine.ACCOUNT, 70)
    actual = closed(engine, flows.CobEngine.SET, 70)
    reference.dispose()
    assert actual == expected, first_difference(actual, expected)
    overdue = [a for a in actual["accounts"].values() if a["events"]]
    assert overdue  # nobody repaid: every drawn account went past due and moved bucket


def caught_up(engine: Engine, *, cob_first: bool) -> dict:
    """Account A0..A5 closed through day 3, then a repayment and a draw on day 10 (after
    COB through day 9 when ``cob_first``)."""
    simple_book(engine)
    day3, today = OPENED + dt.timedelta(days=3), OPENED + dt.timedelta(days=10)
    flows.run_cob(engine, Clock.fixed(day3), as_of=day3)
    if cob_first:
        flows.run_cob(engine, Clock.fixed(today), as_of=today - dt.timedelta(days=1))
    clock = Clock.fixed(today)
    with unit_of_work(engine) as session:
        service.repay(session, clock, account_ref="A1", amount_fen=50_000, key="r")
        service.draw(
            session,
            clock,
            account_ref="A2",
            amount_fen=20_000,
            repayment_type="daily",
            term_months=3,
            key="d2",
        )
    book = dump_book(engine)
    return {ref: book["accounts"][ref] for ref in ("A1", "A2")}


def test_a_live_command_catches_an_account_up_before_it_applies(
    engine: Engine, tmp_path: Path
) -> None:
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    migrate.upgrade_engine(reference)
    expected = caught_up(reference, cob_first=True)
    reference.dispose()
    actual = caught_up(engine, cob_first=False)
    assert actual == expected, first_difference(actual, expected)
    assert actual["A1"]["account"][2] == str(OPENED + dt.timedelta(days=9))  # closed through


def test_a_replay_reverses_a_per_account_accrual_entry_of_the_set_based_engine_once(
    engine: Engine,
) -> None:
    """Before summary entries the set-based engine posted one accrual entry per account
    (``cob:YYYYMMDD:ACCOUNT:N``, with a ``servicing_postings`` row). On a book upgraded
    with such entries, a backdated repayment's replay reverses each of them whole, once:
    it must not also take it for a share of a summary entry."""
    simple_book(engine)
    old_ref = f"cob:{OPENED:%Y%m%d}:1:0"
    legs = (
        Leg(credit_code("A0", CreditPurpose.INTEREST), 123),
        Leg(lender_code(LenderPurpose.INTEREST_INCOME), -123),
    )
    with unit_of_work(engine) as session:
        account_id = session.scalar(select(CreditAccount.id).where(CreditAccount.ref == "A0"))
        ledger_batch.post_entries(
            session, Clock.fixed(OPENED), [NewEntry(old_ref, "accrual", OPENED, legs)]
        )
        session.add(
            ServicingPosting(
                credit_account_id=account_id,
                entry_ref=old_ref,
                kind="accrual",
                effective_date=OPENED,
                reversed=False,
            )
        )
    today = OPENED + dt.timedelta(days=10)
    assert flows.run_cob(engine, Clock.fixed(today), as_of=today - dt.timedelta(days=1)).ok
    with unit_of_work(engine) as session:
        service.repay(
            session,
            Clock.fixed(today),
            account_ref="A0",
            amount_fen=50_000,
            key="backdated",
            effective_date=OPENED + dt.timedelta(days=5),
        )
    with unit_of_work(engine) as session:
        old_id = session.scalar(select(JournalEntry.id).where(JournalEntry.entry_ref == old_ref))
        whole = select(func.count()).where(JournalEntry.reverses_entry_id == old_id)
        shares = select(func.count()).where(JournalEntry.entry_ref.like(f"rev:{old_id}:%"))
        assert (session.scalar(whole), session.scalar(shares)) == (1, 0)
