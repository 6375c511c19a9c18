"""Random draw / repay / backdated repay / COB sequences: ledger and schedules reconcile.

After every sequence: Σ principal legs = Σ drawn − Σ principal repaid; Σ daily accruals =
interest receivable + interest paid (and the same for penalty); every schedule's principal
adds up to its draw; the credit balance is what was overpaid minus what it settled; the
trial balance holds.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.errors import Refused
from limitwise.ledger import service as ledger
from limitwise.ledger.check import check_trial_balance
from limitwise.servicing import repository, service
from tests.servicing.helpers import STD

START = dt.date(2026, 1, 5)
#: the product rules a random sequence may run into
REFUSALS = {"exceeds_available_line", "account_delinquent", "credit_balance_above_cap"}
REFS = (f"H{n}" for n in itertools.count())

draws = st.tuples(
    st.just("draw"),
    st.integers(10_000, 2_000_000),
    st.sampled_from(["daily", "equal_installment", "equal_principal", "interest_first"]),
    st.sampled_from([3, 6]),
)
repays = st.tuples(st.just("repay"), st.integers(1, 1_500_000), st.integers(0, 0), st.just(0))
backdated = st.tuples(st.just("repay"), st.integers(1, 800_000), st.integers(1, 25), st.just(0))
advances = st.tuples(st.just("advance"), st.integers(1, 75), st.just(""), st.just(0))
operations = st.lists(st.one_of(draws, advances, repays, backdated), min_size=2, max_size=9)


@pytest.fixture(scope="module")
def memory_engine() -> Iterator[Engine]:
    engine = make_engine("sqlite://")
    migrate.upgrade_engine(engine)
    with unit_of_work(engine) as session:
        service.define_product(session, Clock.fixed(START), spec=STD)
    yield engine
    engine.dispose()


def run(engine: Engine, ops: list[tuple[str, int, object, int]]) -> str:
    ref = next(REFS)
    clock = Clock.fixed(START)
    with unit_of_work(engine) as session:
        service.open_account(session, clock, ref=ref, product_code="std", line_fen=3_000_000)
    for n, (op, amount, detail, term) in enumerate(ops):
        try:
            with unit_of_work(engine) as session:
                if op == "draw":
                    service.draw(
                        session,
                        clock,
                        account_ref=ref,
                        amount_fen=amount,
                        repayment_type=str(detail),
                        term_months=term,
                        key=f"{ref}-{n}",
                    )
                elif op == "repay":
                    back = min(int(str(detail) or 0), (clock.today() - START).days)
                    service.repay(
                        session,
                        clock,
                        account_ref=ref,
                        amount_fen=amount,
                        key=f"{ref}-{n}",
                        effective_date=clock.today() - dt.timedelta(days=back),
                    )
                else:
                    through = clock.today() + dt.timedelta(days=amount - 1)
                    service.close_business_days(session, clock, account_ref=ref, through=through)
                    clock = Clock.fixed(through + dt.timedelta(days=1))
        except Refused as refusal:
            assert refusal.code in REFUSALS
    return ref


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_ledger_and_schedules_reconcile(
    memory_engine: Engine, ops: list[tuple[str, int, object, int]]
) -> None:
    ref = run(memory_engine, ops)
    with unit_of_work(memory_engine) as session:
        account = repository.find_account(session, ref)
        assert account is not None
        books = ledger.balances_of_owner(session, ref)
        draw_rows = repository.draws_of(session, account.id)
        schedule = repository.instalments_of(session, [d.id for d in draw_rows])
        allocations = repository.live_allocations(session, account.id)
        paid = {
            c: sum(a.amount_fen for a in allocations if a.component == c and a.repayment_id)
            for c in ("principal", "interest", "penalty", "fee", "credit_balance")
        }
        from_credit = {
            c: sum(a.amount_fen for a in allocations if a.component == c and a.repayment_id is None)
            for c in ("principal", "interest", "penalty")
        }

        drawn = sum(d.amount_fen for d in draw_rows)
        principal_repaid = paid["principal"] + from_credit["principal"]
        assert books["principal"].balance_fen == drawn - principal_repaid
        assert books["principal"].balance_fen == sum(d.principal_outstanding_fen for d in draw_rows)
        for d in draw_rows:
            mine = [i for i in schedule if i.draw_id == d.id]
            assert sum(i.principal_due_fen for i in mine) == d.amount_fen
            assert d.principal_outstanding_fen == d.amount_fen - sum(
                i.principal_paid_fen for i in mine
            )

        accrued = sum(i.interest_accrued_fen for i in schedule)
        interest_paid = paid["interest"] + from_credit["interest"]
        assert accrued == books["interest"].balance_fen + interest_paid
        assert interest_paid == sum(i.interest_paid_fen for i in schedule)
        penalty = sum(i.penalty_accrued_fen for i in schedule)
        assert penalty == books["penalty"].balance_fen + paid["penalty"] + from_credit["penalty"]

        settled_from_credit = sum(from_credit.values())
        assert -books["credit_balance"].balance_fen == paid["credit_balance"] - settled_from_credit
        assert all(b.balance_fen >= 0 for p, b in books.items() if p != "credit_balance")
        report = check_trial_balance(session)
        assert report.ok, report.problems
        replayed = any(e["kind"] == "replayed" for e in service.account_events(session, ref=ref))
        event(f"replayed={replayed}, penalty={penalty > 0}")
