"""Draws, repayments, COB, line and status changes on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from limitwise.cli import app
from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.errors import Conflict, LimitwiseError, Refused
from limitwise.ledger.check import check_trial_balance
from limitwise.lines import service as lines
from limitwise.servicing import book as engine_module
from limitwise.servicing import flows, service
from limitwise.servicing.models import AccountStatus
from limitwise.servicing.schemas import ProductSpec
from tests.servicing.helpers import STD, entry_count, open_book

DRAWN_ON = dt.date(2026, 1, 5)


def draw(
    engine: Engine,
    clock: Clock,
    *,
    ref: str = "A",
    amount_fen: int = 1_200_000,
    kind: str = "equal_installment",
    key: str = "d1",
) -> service.DrawResult:
    with unit_of_work(engine) as session:
        return service.draw(
            session,
            clock,
            account_ref=ref,
            amount_fen=amount_fen,
            repayment_type=kind,
            term_months=12,
            key=key,
        )


def state(engine: Engine, ref: str, day: dt.date) -> service.AccountState:
    with unit_of_work(engine) as session:
        return service.account_state(session, ref=ref, as_of=day)


def test_draw_is_idempotent_and_a_changed_body_conflicts(engine: Engine, clock: Clock) -> None:
    open_book(engine, clock, ["A"])
    first = draw(engine, clock)
    entries = entry_count(engine)
    assert draw(engine, clock) == first
    assert entry_count(engine) == entries
    with pytest.raises(Conflict) as error:
        draw(engine, clock, amount_fen=100_000)
    assert error.value.code == "idempotency_key_reused"
    assert state(engine, "A", DRAWN_ON).outstanding_principal_fen == 1_200_000


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount_fen": 10_000_000}, "exceeds_available_line"),
        ({"amount_fen": 9_999}, "below_minimum_draw"),
        ({"amount_fen": 0}, "amount_not_positive"),
        ({"kind": "balloon"}, "repayment_type_not_offered"),
        ({"ref": "nobody"}, "not_found"),
    ],
)
def test_refused_draw_changes_nothing(
    engine: Engine, clock: Clock, kwargs: dict[str, object], code: str
) -> None:
    open_book(engine, clock, ["A"])
    entries = entry_count(engine)
    with pytest.raises(LimitwiseError) as error:
        draw(engine, clock, key="bad", **kwargs)  # type: ignore[arg-type]
    assert error.value.code == code
    assert entry_count(engine) == entries
    after = state(engine, "A", DRAWN_ON)
    assert (after.outstanding_principal_fen, after.available_fen, after.draws) == (0, 5_000_000, [])
    draw(engine, clock, key="bad")  # the key was not burnt by the refusal


def test_cob_twice_changes_nothing_and_a_range_catches_up_day_by_day(
    engine: Engine, clock: Clock, db_url: str
) -> None:
    open_book(engine, clock, ["A", "B"])
    draw(engine, clock, ref="A", kind="daily", key="a")
    draw(engine, clock, ref="B", kind="daily", key="b")
    for day in (DRAWN_ON + dt.timedelta(days=n) for n in range(10)):
        flows.run_cob(engine, Clock.fixed(day), as_of=day)
    report = flows.run_cob(engine, clock, as_of=dt.date(2026, 1, 14))
    assert (report.accounts_closed, report.days_closed) == (0, 0)
    entries = entry_count(engine)
    flows.run_cob(engine, clock, as_of=dt.date(2026, 1, 14))
    assert entry_count(engine) == entries
    one_by_one = state(engine, "A", dt.date(2026, 1, 15))
    assert one_by_one.interest_receivable_fen == 10 * 480  # 12000.00 x 0.04% x 10 days
    # B's days were closed in the same runs; a fresh account catches up in one run
    open_book(engine, clock, ["C"])
    draw(engine, clock, ref="C", kind="daily", key="c")
    report = flows.run_cob(engine, clock, as_of=dt.date(2026, 1, 14))
    assert (report.accounts_closed, report.days_closed) == (1, 10)
    caught_up = state(engine, "C", dt.date(2026, 1, 15))
    assert caught_up.interest_receivable_fen == one_by_one.interest_receivable_fen
    assert caught_up.draws[0].schedule == one_by_one.draws[0].schedule


def test_concurrent_draws_never_exceed_the_line(engine: Engine, clock: Clock) -> None:
    open_book(engine, clock, ["A"], line_fen=1_000_000)
    outcomes: list[str] = []

    def borrow(n: int) -> None:
        try:
            draw(engine, clock, amount_fen=300_000, kind="daily", key=f"k{n}")
            outcomes.append("ok")
        except Refused as refusal:
            outcomes.append(refusal.code)

    threads = [threading.Thread(target=borrow, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["exceeds_available_line"] * 3 + ["ok"] * 3
    assert state(engine, "A", DRAWN_ON).outstanding_principal_fen == 900_000
    with unit_of_work(engine) as session:
        assert check_trial_balance(session).ok


def test_line_changes_and_status_are_events(engine: Engine, clock: Clock) -> None:
    open_book(engine, clock, ["A"], line_fen=1_000_000)
    draw(engine, clock, amount_fen=600_000, kind="daily")
    with unit_of_work(engine) as session:
        cut_by = lines.operator_change(session, clock, ref="A", line_fen=500_000, note="risk cut")
    cut = state(engine, "A", DRAWN_ON)
    assert (cut.line_fen, cut.available_fen) == (500_000, 0)
    with pytest.raises(Refused) as error:
        draw(engine, clock, amount_fen=10_000, kind="daily", key="d2")
    assert error.value.code == "exceeds_available_line"
    with unit_of_work(engine) as session:
        lines.operator_change(session, clock, ref="A", status=AccountStatus.FROZEN, note="fraud")
        lines.operator_change(session, clock, ref="A", status=AccountStatus.CLOSED, note="asked")
    with unit_of_work(engine) as session, pytest.raises(Refused) as closed:
        lines.operator_change(session, clock, ref="A", status=AccountStatus.ACTIVE, note="again")
    assert closed.value.code == "account_closed"
    with unit_of_work(engine) as session:
        events = service.account_events(session, ref="A")
        history = lines.history(session, ref="A")
    assert [(e["kind"], e.get("to"), e.get("to_fen")) for e in events if e["kind"] != "drawn"] == [
        ("line_changed", None, 500_000),
        ("status_changed", "frozen", None),
        ("status_changed", "closed", None),
    ]
    assert history[0].decision_ref == cut_by.decision_ref
    assert history[0].adjustments[0]["detail"] == "risk cut"
    assert [d.reason_codes for d in history] == [["OPERATOR"]] * 3


def test_a_line_cannot_change_without_a_recorded_decision(engine: Engine, clock: Clock) -> None:
    open_book(engine, clock, ["A"], line_fen=1_000_000)
    with pytest.raises(IntegrityError), unit_of_work(engine) as session:
        service.change_line(session, clock, ref="A", line_fen=500_000, decision_id=987_654)
    assert state(engine, "A", DRAWN_ON).line_fen == 1_000_000


def test_a_product_is_defined_once(engine: Engine, clock: Clock) -> None:
    open_book(engine, clock, [])
    open_book(engine, clock, [])  # same definition again: a no-op
    other = ProductSpec.parse({**STD.model_dump(), "daily_rate_bps": "5"})
    with unit_of_work(engine) as session, pytest.raises(Conflict):
        service.define_product(session, clock, spec=other)


def test_cob_cli_closes_days(tmp_path: Path, clock: Clock) -> None:
    url = f"sqlite:///{tmp_path / 'cob.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    open_book(engine, clock, ["A"])
    draw(engine, clock, kind="daily")
    result = CliRunner().invoke(app, ["cob", "run", "--as-of", "2026-01-09", "--db", url])
    assert result.exit_code == 0, result.output
    assert "1 account(s) closed, 5 account-day(s), 0 failure(s)" in result.output
    assert state(engine, "A", dt.date(2026, 1, 10)).interest_receivable_fen == 5 * 480
    engine.dispose()


def test_a_crash_in_cob_loses_nothing_and_a_rerun_finishes(
    engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_book(engine, clock, ["A", "B", "C"])
    for ref in ("A", "B", "C"):
        draw(engine, clock, ref=ref, kind="daily", key=f"d-{ref}")
    real_accrue = engine_module.accrue_interest

    def crash_on_c(book: engine_module.Book, day: dt.date) -> int:
        if book.account.ref == "C":
            raise KeyboardInterrupt("power cut")  # the process dies; not an account's error
        return real_accrue(book, day)

    monkeypatch.setattr(engine_module, "accrue_interest", crash_on_c)
    per_account = flows.CobEngine.ACCOUNT  # the set-based engine: test_cob_kill.py
    with pytest.raises(KeyboardInterrupt):
        flows.run_cob(
            engine, clock, as_of=dt.date(2026, 1, 9), batch_size=2, cob_engine=per_account
        )
    with unit_of_work(engine) as session:
        assert service.accounts_behind(session, as_of=dt.date(2026, 1, 9)) == ["C"]
    monkeypatch.setattr(engine_module, "accrue_interest", real_accrue)
    report = flows.run_cob(
        engine, clock, as_of=dt.date(2026, 1, 9), batch_size=2, cob_engine=per_account
    )
    assert (report.accounts_closed, report.days_closed) == (1, 5)
    day = dt.date(2026, 1, 10)
    assert {state(engine, ref, day).interest_receivable_fen for ref in "ABC"} == {5 * 480}


def test_concurrent_draws_and_repayments_reconcile(engine: Engine, clock: Clock) -> None:
    open_book(engine, clock, ["A"], line_fen=10_000_000)
    results: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        # threads 0 and 1 share a key: the draw happens once, both get the same result
        made = draw(engine, clock, amount_fen=500_000, kind="daily", key=f"k{max(n, 1)}")
        with unit_of_work(engine) as session:
            service.repay(session, clock, account_ref="A", amount_fen=100_000, key=f"r{n}")
        with lock:
            results.append(made.ref)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 5 and len(set(results)) == 4
    after = state(engine, "A", DRAWN_ON)
    assert after.outstanding_principal_fen == 4 * 500_000 - 5 * 100_000
    assert len(after.draws) == 4
    with unit_of_work(engine) as session:
        assert check_trial_balance(session).ok


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_snapshot_waits_for_a_change_in_flight_on_the_account(engine: Engine, clock: Clock):
    """The audit log digests an account before and after each change: a snapshot taken
    while another change holds the account must be of the state that change leaves."""
    open_book(engine, clock, ["A"])
    seen: list[dict[str, object]] = []

    def snapshot() -> None:
        with unit_of_work(engine) as session:
            seen.append(service.account_snapshot(session, ref="A"))

    with unit_of_work(engine) as session:
        service.draw(
            session,
            clock,
            account_ref="A",
            amount_fen=100_000,
            repayment_type="daily",
            term_months=3,
            key="in-flight",
        )
        reader = threading.Thread(target=snapshot)
        reader.start()
        _wait_until_blocked_on_a_lock(engine)
        assert seen == []
    reader.join(timeout=30)
    with unit_of_work(engine) as session:
        assert seen == [service.account_snapshot(session, ref="A")]
    assert seen[0]["balances_fen"]["principal"] == 100_000  # type: ignore[index]


def _wait_until_blocked_on_a_lock(engine: Engine) -> None:
    database = engine.url.database
    deadline = time.monotonic() + 30
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = :db AND wait_event_type = 'Lock'"
                ),
                {"db": database},
            ).scalar_one()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the snapshot never waited for the account's lock")
