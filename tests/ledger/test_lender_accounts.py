"""Lender-wide accounts are never locked or updated by a posting: their balance is the sum
of their legs, so no transaction waits on them and they are no hot row."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event, text

from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.kit.errors import InvalidInput
from limitwise.ledger import service as ledger
from limitwise.ledger.chart import CreditPurpose, LenderPurpose, credit_code, lender_code
from limitwise.ledger.check import check_trial_balance
from limitwise.ledger.models import AccountKind
from limitwise.ledger.schemas import Leg
from tests.ledger.helpers import FUNDING, draw, open_books

INCOME = lender_code(LenderPurpose.INTEREST_INCOME)


def accrue(session: object, clock: Clock, ref: str, amount_fen: int) -> None:
    ledger.post_entry(
        session,  # type: ignore[arg-type]
        clock,
        kind="accrual",
        legs=[Leg(credit_code(ref, CreditPurpose.INTEREST), amount_fen), Leg(INCOME, -amount_fen)],
    )


def test_lender_wide_balances_are_the_sum_of_their_legs(engine: Engine, clock: Clock) -> None:
    open_books(engine, clock, "A", 1000_00)
    draw(engine, clock, "A", 250_00)
    with unit_of_work(engine) as session:
        accrue(session, clock, "A", 7)
        accrue(session, clock, "A", 5)
    with unit_of_work(engine) as session:
        assert ledger.balance(session, FUNDING).balance_fen == -250_00
        assert ledger.balance(session, INCOME).balance_fen == -12
        report = check_trial_balance(session)
        assert report.ok, report.problems
        assert report.totals_by_purpose_fen["lender:interest_income"] == -12
        stored = session.execute(
            text(
                "SELECT a.balance_fen, l.balance_after_fen FROM ledger_accounts a "
                "JOIN journal_legs l ON l.account_id = a.id WHERE a.code = :code"
            ),
            {"code": INCOME},
        ).all()
    assert stored == [(0, None), (0, None)]


def test_a_lender_wide_account_cannot_carry_unchecked_rules(engine: Engine, clock: Clock) -> None:
    with unit_of_work(engine) as session, pytest.raises(InvalidInput) as refusal:
        ledger.open_account(
            session,
            clock,
            code="lender:reserve",
            kind=AccountKind.ASSET,
            purpose="reserve",
            strict_normal_balance=True,
        )
    assert refusal.value.code == "lender_account_unchecked"


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_postings_to_one_income_account_never_wait_for_each_other(
    engine: Engine, clock: Clock
) -> None:
    """An open transaction that posted to the income account does not hold it: a second
    account's posting to the same income account commits while the first is still open."""
    open_books(engine, clock, "A", 1000_00)
    open_books(engine, clock, "B", 1000_00)
    with unit_of_work(engine) as first:
        accrue(first, clock, "A", 3)
        with unit_of_work(engine) as second:
            second.execute(text("SET LOCAL lock_timeout = '500ms'"))
            accrue(second, clock, "B", 4)
    with unit_of_work(engine) as session:
        assert ledger.balance(session, INCOME).balance_fen == -7
        assert check_trial_balance(session).ok


def test_opening_a_credit_account_never_sums_the_lender_wide_legs(
    engine: Engine, clock: Clock
) -> None:
    """A lender-wide balance is a sum over every leg in the book: opening one more credit
    account (every approval does) must not compute it, or it would slow as the book grows."""
    open_books(engine, clock, "A", 1000_00)
    draw(engine, clock, "A", 250_00)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        open_books(engine, clock, "B", 1000_00)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert any("insert into ledger_accounts" in s for s in statements)
    assert [s for s in statements if "sum(journal_legs.amount_fen)" in s] == []
