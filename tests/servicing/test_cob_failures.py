"""Close of business survives one bad account: the account whose data makes its close
raise is rolled back alone and recorded in ``cob_failures``, the rest close, ``cob run``
exits non-zero with a summary, the next run retries it, and once fixed its row is cleared.
The failure is real: a corrupt rate stored on one draw, not a mock of the code."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, text
from typer.testing import CliRunner

from limitwise.cli import app
from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.ledger.check import check_trial_balance
from limitwise.servicing import service
from tests.servicing.helpers import open_book

OPENED = dt.date(2026, 1, 5)
THROUGH = dt.date(2026, 1, 9)


def book_of_three(engine: Engine) -> None:
    clock = Clock.fixed(OPENED)
    open_book(engine, clock, ["A", "B", "C"])
    with unit_of_work(engine) as session:
        for ref in "ABC":
            service.draw(
                session,
                clock,
                account_ref=ref,
                amount_fen=1_200_000,
                repayment_type="daily",
                term_months=3,
                key=f"d-{ref}",
            )


def set_rate_of_b(engine: Engine, rate: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE draws SET daily_rate_bps = :rate WHERE idempotency_key = 'd-B'"),
            {"rate": rate},
        )


def cob(db_url: str):
    return CliRunner().invoke(app, ["cob", "run", "--to", THROUGH.isoformat(), "--db", db_url])


def test_one_bad_account_is_recorded_the_rest_close_and_a_fixed_one_clears(engine, db_url):
    book_of_three(engine)
    set_rate_of_b(engine, "not-a-rate")

    first = cob(db_url)
    assert first.exit_code == 1, first.output
    assert "2 account(s) closed, 10 account-day(s), 1 failure(s)" in first.output
    assert "failed: B on 2026-01-05 in close_day (attempt 1): InvalidOperation" in first.output
    with unit_of_work(engine) as session:
        assert service.accounts_behind(session, as_of=THROUGH) == ["B"]
        [failure] = service.cob_failures(session)
        assert (failure.account, failure.step, failure.attempts) == ("B", "close_day", 1)
        assert check_trial_balance(session).ok

    again = cob(db_url)  # still broken: retried, counted, nothing else touched
    assert again.exit_code == 1
    assert "0 account(s) closed" in again.output and "(attempt 2)" in again.output

    set_rate_of_b(engine, "4.0")
    fixed = cob(db_url)
    assert fixed.exit_code == 0, fixed.output
    assert "1 account(s) closed, 5 account-day(s), 0 failure(s)" in fixed.output
    with unit_of_work(engine) as session:
        assert service.cob_failures(session) == []
        assert service.accounts_behind(session, as_of=THROUGH) == []
        interest = {
            ref: service.account_state(session, ref=ref, as_of=THROUGH).interest_receivable_fen
            for ref in "ABC"
        }
        assert check_trial_balance(session).ok
    assert set(interest.values()) == {5 * 480}
