import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from limitwise.kit.db import unit_of_work
from limitwise.kit.errors import InvalidInput, NotFound, Refused
from limitwise.ledger import service as ledger
from limitwise.ledger.check import check_trial_balance
from limitwise.ledger.schemas import Leg
from limitwise.ledger.service import LimitExceeded, UnbalancedEntry, WouldOverdraw
from tests.ledger.helpers import (
    FUNDING,
    draw,
    open_books,
    principal,
    principal_state,
    repay,
    row_counts,
)


def test_opening_books_twice_changes_nothing(engine, clock):
    open_books(engine, clock, "A", 500_00)
    open_books(engine, clock, "A", 999_00)
    with unit_of_work(engine) as session:
        books = ledger.balances_of_owner(session, "A")
        everything = ledger.all_balances(session)
    assert set(books) == {"principal", "interest", "penalty", "fee", "credit_balance"}
    assert books["principal"].debit_limit_fen == 500_00
    assert len(everything) == 10


def test_reserve_then_post_moves_pending_into_balance(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    with unit_of_work(engine) as session:
        hold = ledger.reserve(
            session, clock, debit_code=principal("A"), credit_code=FUNDING, amount_fen=300_00
        )
    assert principal_state(engine, "A") == (0, 300_00, 1000_00)
    with unit_of_work(engine) as session:
        assert ledger.balance(session, principal("A")).available_fen == 700_00
        entry = ledger.post_hold(session, clock, hold_ref=hold.hold_ref)
    assert entry.legs == (Leg(principal("A"), 300_00), Leg(FUNDING, -300_00))
    assert principal_state(engine, "A") == (300_00, 0, 1000_00)
    with unit_of_work(engine) as session, pytest.raises(Refused) as caught:
        ledger.post_hold(session, clock, hold_ref=hold.hold_ref)
    assert caught.value.code == "hold_not_pending"


def test_void_releases_the_reservation(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    with unit_of_work(engine) as session:
        hold = ledger.reserve(
            session, clock, debit_code=principal("A"), credit_code=FUNDING, amount_fen=1000_00
        )
        voided = ledger.void_hold(session, clock, hold_ref=hold.hold_ref)
    assert voided.status == "voided"
    assert principal_state(engine, "A") == (0, 0, 1000_00)
    with unit_of_work(engine) as session:
        assert check_trial_balance(session).ok


def test_draw_over_the_line_is_refused_and_changes_nothing(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    draw(engine, clock, "A", 600_00)
    before = (principal_state(engine, "A"), row_counts(engine))
    with pytest.raises(LimitExceeded) as caught:
        draw(engine, clock, "A", 400_01)
    assert caught.value.code == "exceeds_available_line"
    assert "400.01" in caught.value.message and "400.00" in caught.value.message
    assert (principal_state(engine, "A"), row_counts(engine)) == before
    draw(engine, clock, "A", 400_00)
    assert principal_state(engine, "A") == (1000_00, 0, 1000_00)


def test_pending_holds_count_against_the_line(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    with unit_of_work(engine) as session:
        ledger.reserve(
            session, clock, debit_code=principal("A"), credit_code=FUNDING, amount_fen=800_00
        )
    with pytest.raises(LimitExceeded):
        draw(engine, clock, "A", 200_01)


def test_line_cut_below_outstanding_stops_further_draws(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    draw(engine, clock, "A", 700_00)
    with unit_of_work(engine) as session:
        ledger.set_line(session, owner_ref="A", line_fen=500_00)
        assert ledger.balance(session, principal("A")).available_fen == 0
    with pytest.raises(LimitExceeded):
        draw(engine, clock, "A", 1)
    repay(engine, clock, "A", 300_00)
    draw(engine, clock, "A", 100_00)
    assert principal_state(engine, "A") == (500_00, 0, 500_00)


def test_receivable_never_goes_negative(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    draw(engine, clock, "A", 100_00)
    with pytest.raises(WouldOverdraw):
        repay(engine, clock, "A", 100_01)
    assert principal_state(engine, "A") == (100_00, 0, 1000_00)


@pytest.mark.parametrize(
    ("legs", "error"),
    [
        ([Leg("lender:funding", 5)], UnbalancedEntry),
        ([Leg("lender:funding", 5), Leg("lender:interest_income", -4)], UnbalancedEntry),
        ([Leg("lender:funding", 0), Leg("lender:interest_income", 0)], UnbalancedEntry),
        ([Leg("lender:funding", 5), Leg("lender:nope", -5)], NotFound),
    ],
)
def test_bad_entries_are_refused(engine, clock, legs, error):
    open_books(engine, clock, "A", 100)
    with unit_of_work(engine) as session, pytest.raises(error):
        ledger.post_entry(session, clock, kind="manual", legs=legs)
    assert row_counts(engine) == (0, 0)


def test_bad_amounts_and_lines_name_the_field(engine, clock):
    with unit_of_work(engine) as session, pytest.raises(InvalidInput) as caught:
        ledger.open_credit_books(session, clock, owner_ref="A", line_fen=-1)
    assert caught.value.field == "line"
    open_books(engine, clock, "A", 100)
    with unit_of_work(engine) as session, pytest.raises(InvalidInput) as caught:
        ledger.reserve(session, clock, debit_code=principal("A"), credit_code=FUNDING, amount_fen=0)
    assert caught.value.field == "amount"


def test_reversal_mirrors_the_entry_once(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    drawn = draw(engine, clock, "A", 250_00)
    with unit_of_work(engine) as session:
        reversal = ledger.reverse(session, clock, entry_ref=drawn.entry_ref)
    assert reversal.reverses_entry_ref == drawn.entry_ref
    assert reversal.legs == (Leg(principal("A"), -250_00), Leg(FUNDING, 250_00))
    assert principal_state(engine, "A") == (0, 0, 1000_00)
    with unit_of_work(engine) as session, pytest.raises(Refused) as caught:
        ledger.reverse(session, clock, entry_ref=drawn.entry_ref)
    assert caught.value.code == "already_reversed"
    with unit_of_work(engine) as session, pytest.raises(Refused) as caught:
        ledger.reverse(session, clock, entry_ref=reversal.entry_ref)
    assert caught.value.code == "cannot_reverse_reversal"
    with unit_of_work(engine) as session:
        assert check_trial_balance(session).ok


def test_reversal_of_a_draw_already_repaid_is_refused(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    drawn = draw(engine, clock, "A", 250_00)
    repay(engine, clock, "A", 250_00)
    with unit_of_work(engine) as session, pytest.raises(WouldOverdraw):
        ledger.reverse(session, clock, entry_ref=drawn.entry_ref)


@pytest.mark.parametrize(
    "statement", ["UPDATE journal_legs SET amount_fen = 1", "DELETE FROM journal_entries"]
)
def test_journal_is_append_only(engine, clock, statement):
    open_books(engine, clock, "A", 1000_00)
    draw(engine, clock, "A", 250_00)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    with unit_of_work(engine) as session:
        assert check_trial_balance(session).ok


def test_check_reports_a_tampered_balance(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    draw(engine, clock, "A", 250_00)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE ledger_accounts SET balance_fen = balance_fen + 1 "
                "WHERE code = 'lender:funding'"
            )
        )
        conn.execute(
            text(
                "UPDATE ledger_accounts SET pending_debit_fen = 7 WHERE code = 'credit:A:principal'"
            )
        )
    with unit_of_work(engine) as session:
        report = check_trial_balance(session)
    assert not report.ok
    assert any("lender:funding" in p and "legs sum to" in p for p in report.problems)
    assert any("credit:A:principal" in p and "reserved" in p for p in report.problems)
