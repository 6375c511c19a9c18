"""The business date is one stored fact: seeded by the migration, advanced by close of
business, and every rule a close-of-business date can break is refused at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from limitwise.businessdate import service as business_dates
from limitwise.businessdate.flows import dated_unit_of_work
from limitwise.cli import app
from limitwise.kit.clock import Clock, wall_today
from limitwise.kit.db import unit_of_work
from limitwise.kit.errors import InvalidInput, Refused
from limitwise.servicing import service
from limitwise.servicing.flows import close_through
from tests.servicing.helpers import open_book

ZONE = "Asia/Shanghai"
START = dt.date(2026, 1, 5)


def dates(engine: Engine) -> business_dates.BookDates:
    with unit_of_work(engine) as session:
        return business_dates.book_dates(session)


def simulation(engine: Engine, on: dt.date = START) -> None:
    with unit_of_work(engine) as session:
        business_dates.start_simulation(session, Clock.fixed(on), on=on)


def cob(db_url: str, *args: str):
    return CliRunner().invoke(app, ["cob", "run", "--db", db_url, *args])


def test_a_new_book_starts_today_on_the_wall_clock_of_the_business_zone(engine):
    assert dates(engine) == business_dates.BookDates(wall_today(ZONE), None, False)


def test_wall_today_refuses_an_unknown_zone_by_name():
    with pytest.raises(InvalidInput, match="unknown time zone 'Mars/Olympus'"):
        wall_today("Mars/Olympus")


def test_cob_catches_up_several_days_and_advances_the_stored_date(engine, db_url):
    simulation(engine)
    open_book(engine, Clock.fixed(START), ["A"])
    result = cob(db_url, "--to", "2026-01-09")
    assert result.exit_code == 0, result.output
    assert "5 account-day(s)" in result.output
    closed = business_dates.BookDates(dt.date(2026, 1, 10), dt.date(2026, 1, 9), True)
    assert dates(engine) == closed
    again = cob(db_url)  # no --to: closes the stored business date
    assert again.exit_code == 0, again.output
    assert dates(engine).business_date == dt.date(2026, 1, 11)


def test_an_absurd_date_is_refused_at_once_and_closes_nothing(engine, db_url):
    simulation(engine)
    open_book(engine, Clock.fixed(START), ["A"])
    result = cob(db_url, "--as-of", "9999-12-31")
    assert result.exit_code == 2
    assert "[cob_too_far]" in result.output and "Traceback" not in result.output
    assert "more than 366 days after the last closed day 2026-01-04" in result.output
    with unit_of_work(engine) as session:
        assert service.accounts_behind(session, as_of=START) == ["A"]
    assert dates(engine).cob_closed_through is None


def test_an_impossible_date_is_one_clear_line(db_url):
    result = cob(db_url, "--to", "2026-02-30")
    assert result.exit_code == 2
    assert "2026-02-30" in result.output and "Traceback" not in result.output


def test_a_day_that_has_not_ended_is_refused_on_a_real_book_only(engine):
    today = wall_today(ZONE)
    with pytest.raises(Refused, match="the day has not ended on the wall clock") as refused:
        close_through(engine, Clock.fixed(today), through=today)
    assert refused.value.code == "cob_in_future"
    assert dates(engine).cob_closed_through is None
    close_through(engine, Clock.fixed(today), through=today - dt.timedelta(days=1))
    assert dates(engine).business_date == today  # yesterday is over: it may close
    simulation(engine)
    future = today + dt.timedelta(days=30)
    close_through(engine, Clock.fixed(future), through=future)
    assert dates(engine).business_date == future + dt.timedelta(days=1)


def test_a_command_may_backdate_but_not_run_ahead_of_a_real_book(engine):
    today = wall_today(ZONE)
    with unit_of_work(engine) as session:
        assert business_dates.clock_for(session, None).today() == today
        assert business_dates.clock_for(session, START).today() == START
        with pytest.raises(Refused, match="only a simulation book") as refused:
            business_dates.clock_for(session, today + dt.timedelta(days=1))
    assert refused.value.field == "as_of"


def test_a_rerun_for_an_earlier_day_moves_nothing_back(engine):
    simulation(engine)
    close_through(engine, Clock.fixed(START), through=dt.date(2026, 1, 9))
    close_through(engine, Clock.fixed(START), through=dt.date(2026, 1, 7))
    assert dates(engine).business_date == dt.date(2026, 1, 10)


def test_the_date_stays_still_under_a_transaction_that_read_it(engine):
    """A close of business that finishes while a request uses the business date waits for
    the request to end before it advances the date (PostgreSQL: a shared advisory lock
    against the change's exclusive one; SQLite: BEGIN IMMEDIATE)."""
    simulation(engine)
    advanced = threading.Event()

    def record_cob() -> None:
        with unit_of_work(engine) as session:
            business_dates.record_cob(session, Clock.fixed(START), through=START)
        advanced.set()

    with dated_unit_of_work(engine) as (session, clock):
        change = threading.Thread(target=record_cob)
        change.start()
        assert not advanced.wait(timeout=1.0)  # the change waits for this transaction
        assert business_dates.business_date(session) == clock.today() == START
    change.join(timeout=30)
    assert advanced.is_set() and dates(engine).business_date == START + dt.timedelta(days=1)
    with dated_unit_of_work(engine) as (_session, clock):
        assert clock.today() == START + dt.timedelta(days=1)
