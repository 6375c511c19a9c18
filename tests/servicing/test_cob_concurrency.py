"""Close of business and live traffic on the same accounts never deadlock (PostgreSQL).

COB catches a small book up day by day while threads draw and repay on the same accounts
on the next business date. Every COB batch posts accruals to the lender's income account
and then locks the next credit account; every repayment holds its credit account and posts
early-paid interest to the same income account. The window ends before the first due date,
so the live operations commute with COB and the final book must equal COB first and then
each thread's operations, applied serially on a fresh database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.ledger import service as ledger
from limitwise.ledger.check import check_trial_balance
from limitwise.servicing import flows, service
from limitwise.servicing.schemas import AccountState
from tests.servicing.helpers import open_book

DRAWN_ON = dt.date(2026, 1, 22)
LIVE_ON = dt.date(2026, 2, 4)  # the first instalments fall due on 22 February
THREADS = 4
ACCOUNTS_PER_THREAD = 5
MAX_ROUNDS = 16
#: every other account is quiet: COB keeps posting its accruals while it holds the batch
REFS = [f"C{n:02d}" for n in range(2 * THREADS * ACCOUNTS_PER_THREAD)]
LIVE = REFS[1::2]

pytestmark = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def open_drawn_book(engine: Engine) -> None:
    clock = Clock.fixed(DRAWN_ON)
    open_book(engine, clock, REFS)
    with unit_of_work(engine) as session:
        for ref in REFS:
            draw(session, clock, ref, 1_200_000, f"{ref}-open")


def draw(session: Any, clock: Clock, ref: str, amount_fen: int, key: str) -> None:
    service.draw(
        session,
        clock,
        account_ref=ref,
        amount_fen=amount_fen,
        repayment_type="equal_installment",
        term_months=12,
        key=key,
    )


#: (account, operation number): even numbers draw, odd ones repay
Op = tuple[str, int]


def apply(engine: Engine, op: Op) -> None:
    """A draw, or a repayment that pays the newest draw's first-period interest early
    (posting the rest of that interest to the lender's income account on the spot)."""
    ref, n = op
    clock = Clock.fixed(LIVE_ON)
    with unit_of_work(engine) as session:
        if n % 2 == 0:
            draw(session, clock, ref, 100_000, f"{ref}-{n}")
        else:
            service.repay(session, clock, account_ref=ref, amount_fen=30_000, key=f"{ref}-{n}")


def live_traffic(engine: Engine, thread: int, cob_done: threading.Event) -> list[Op]:
    """Draw and repay in turn on this thread's accounts until COB is done; returns the
    operations in the order they ran."""
    done: list[Op] = []
    for n in range(MAX_ROUNDS):
        if cob_done.is_set():
            break
        for ref in LIVE[thread::THREADS]:
            apply(engine, (ref, n))
            done.append((ref, n))
    return done


def close_day_by_day(engine: Engine) -> None:
    day = DRAWN_ON
    while day < LIVE_ON:
        flows.run_cob(engine, Clock.fixed(day), as_of=day, batch_size=7)
        day += dt.timedelta(days=1)


def book_of(engine: Engine) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        report = check_trial_balance(session)
        assert report.ok, report.problems
        return {
            "balances": {
                b.code: (b.balance_fen, b.pending_debit_fen) for b in ledger.all_balances(session)
            },
            "accounts": {
                ref: _without_draw_refs(service.account_state(session, ref=ref, as_of=LIVE_ON))
                for ref in REFS
            },
        }


def _without_draw_refs(state: AccountState) -> AccountState:
    """Each database draws its own draw refs at random: everything else must be equal."""
    return dataclasses.replace(
        state, draws=[dataclasses.replace(draw, ref="") for draw in state.draws]
    )


def test_cob_and_live_traffic_never_deadlock(engine: Engine, tmp_path: Path) -> None:
    open_drawn_book(engine)
    errors: list[BaseException] = []
    done: dict[int, list[Op]] = {}
    start, cob_done = threading.Barrier(THREADS + 1), threading.Event()

    def cob() -> None:
        start.wait()
        try:
            close_day_by_day(engine)
        except BaseException as exc:  # asserted empty below
            errors.append(exc)
        finally:
            cob_done.set()

    def traffic(thread: int) -> None:
        start.wait()
        try:
            done[thread] = live_traffic(engine, thread, cob_done)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=cob)]
    workers += [threading.Thread(target=traffic, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert all(len(ops) >= 2 * ACCOUNTS_PER_THREAD for ops in done.values())  # they overlapped

    serial = make_engine(f"sqlite:///{tmp_path / 'serial.db'}")
    migrate.upgrade_engine(serial)
    open_drawn_book(serial)
    close_day_by_day(serial)
    for ops in done.values():
        for op in ops:
            apply(serial, op)
    assert book_of(engine) == book_of(serial)
    serial.dispose()
