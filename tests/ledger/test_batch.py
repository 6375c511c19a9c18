"""Batched postings keep every invariant a single posting keeps: the batch leaves the same
balances and running balances as the same entries posted one by one, refuses an unbalanced
entry, a line overrun or a receivable gone negative with nothing written, refuses a step
posted twice by its ref, and ``ledger check`` passes. A summary entry (legs of several
owners against one income total) is reversed one owner's share at a time, each share at
most once."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.errors import Refused
from limitwise.ledger import batch
from limitwise.ledger import service as ledger
from limitwise.ledger.chart import CreditPurpose, LenderPurpose, credit_code, lender_code
from limitwise.ledger.check import check_trial_balance
from limitwise.ledger.schemas import Leg
from limitwise.ledger.service import LimitExceeded, UnbalancedEntry, WouldOverdraw
from tests.ledger.helpers import draw, open_books

DAY = dt.date(2026, 1, 5)
OWNERS = ["A", "B", "C"]
INCOME = lender_code(LenderPurpose.INTEREST_INCOME)


def interest(ref: str) -> str:
    return credit_code(ref, CreditPurpose.INTEREST)


def running_balances(engine: Engine) -> list[tuple[str, int, int | None]]:
    with unit_of_work(engine) as session:
        rows = session.execute(
            text(
                "SELECT a.code, l.amount_fen, l.balance_after_fen FROM journal_legs l"
                " JOIN ledger_accounts a ON a.id = l.account_id ORDER BY a.code, l.id"
            )
        )
        return [(code, int(amount), after) for code, amount, after in rows]


def state(engine: Engine) -> tuple[dict[str, int], list]:
    with unit_of_work(engine) as session:
        assert check_trial_balance(session).ok
        balances = {b.code: b.balance_fen for b in ledger.all_balances(session)}
    return balances, running_balances(engine)


def accruals(amounts: list[tuple[int, int]]) -> list[batch.NewEntry]:
    """Entries moving interest (positive or a reversal of part of it) on the owners."""
    return [
        batch.NewEntry(
            entry_ref=f"step-{n}",
            kind="accrual",
            effective_date=DAY,
            legs=(Leg(interest(OWNERS[owner]), amount), Leg(INCOME, -amount)),
        )
        for n, (owner, amount) in enumerate(amounts)
    ]


def open_owners(engine: Engine, clock: Clock) -> None:
    for ref in OWNERS:
        open_books(engine, clock, ref, 1_000_00)


entries_strategy = st.lists(
    st.tuples(st.integers(0, len(OWNERS) - 1), st.integers(1, 50_000)), min_size=1, max_size=30
)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=entries_strategy)
def test_a_batch_equals_the_same_entries_posted_one_by_one(tmp_path_factory, amounts):
    folder = tmp_path_factory.mktemp("batch")
    engines = []
    for name in ("one", "batch"):
        engine = make_engine(f"sqlite:///{folder / name}.db")
        migrate.upgrade_engine(engine)
        open_owners(engine, Clock.fixed(DAY))
        engines.append(engine)
    one_by_one, batched = engines
    clock = Clock.fixed(DAY)
    with unit_of_work(one_by_one) as session:
        for entry in accruals(amounts):
            ledger.post_entry(session, clock, kind=entry.kind, legs=entry.legs)
    with unit_of_work(batched) as session:
        assert batch.post_entries(session, clock, accruals(amounts)) == len(amounts)
    assert state(batched) == state(one_by_one)
    for engine in engines:
        engine.dispose()


def test_batched_entries_keep_running_balances_on_both_backends(engine, clock):
    open_owners(engine, clock)
    draw(engine, clock, "A", 500_00)
    with unit_of_work(engine) as session:
        batch.post_entries(session, clock, accruals([(0, 100), (1, 7), (0, 23)]))
    legs = [leg for leg in running_balances(engine) if leg[0] == interest("A")]
    assert legs == [(interest("A"), 100, 100), (interest("A"), 23, 123)]
    balances, _ = state(engine)
    assert balances[interest("B")] == 7
    assert balances[INCOME] == -130


def rejected(engine: Engine, clock: Clock, entries: list[batch.NewEntry], error: type) -> None:
    before = state(engine)
    with pytest.raises(error), unit_of_work(engine) as session:
        batch.post_entries(session, clock, entries)
    assert state(engine) == before


def test_an_unbalanced_entry_in_a_batch_writes_nothing(engine, clock):
    open_owners(engine, clock)
    good = accruals([(0, 100)])
    bad = batch.NewEntry("bad", "accrual", DAY, (Leg(interest("A"), 5), Leg(INCOME, -4)))
    rejected(engine, clock, [*good, bad], UnbalancedEntry)


def test_staged_rows_are_checked_too(engine, clock):
    """The checks run on the staged rows, whoever staged them."""
    open_owners(engine, clock)
    before = state(engine)
    with pytest.raises(UnbalancedEntry), unit_of_work(engine) as session:
        batch.begin(session)
        batch.stage_sql(
            session,
            "SELECT 1, 0, 'x', 'accrual', :d, '', id, 5 FROM ledger_accounts WHERE code = :code",
            {"d": DAY, "code": interest("A")},
        )
        batch.post_staged(session, clock)
    assert state(engine) == before


def test_a_batch_over_the_line_or_below_zero_writes_nothing(engine, clock):
    open_owners(engine, clock)
    principal = credit_code("A", CreditPurpose.PRINCIPAL)
    funding = lender_code(LenderPurpose.FUNDING)
    over = [
        batch.NewEntry(f"d{n}", "draw", DAY, (Leg(principal, 600_00), Leg(funding, -600_00)))
        for n in range(2)
    ]
    rejected(engine, clock, over, LimitExceeded)
    below = [
        *accruals([(0, 100)]),
        batch.NewEntry("r", "reversal", DAY, (Leg(INCOME, 101), Leg(interest("A"), -101))),
    ]
    rejected(engine, clock, below, WouldOverdraw)


def test_a_step_posted_twice_is_refused_by_its_ref(engine, clock):
    open_owners(engine, clock)
    with unit_of_work(engine) as session:
        batch.post_entries(session, clock, accruals([(0, 100)]))
    before = state(engine)
    with pytest.raises(IntegrityError), unit_of_work(engine) as session:
        batch.post_entries(session, clock, accruals([(0, 100)]))
    assert state(engine) == before


def summary(ref: str, amounts: dict[str, int]) -> batch.NewEntry:
    """One entry: each owner's interest receivable debited, the income credited the total."""
    legs = [Leg(interest(owner), amount) for owner, amount in amounts.items()]
    return batch.NewEntry(ref, "accrual", DAY, (*legs, Leg(INCOME, -sum(amounts.values()))))


def test_an_owners_share_of_a_summary_entry_is_reversed_alone_and_once(engine, clock):
    open_owners(engine, clock)
    with unit_of_work(engine) as session:
        batch.post_entries(
            session, clock, [summary("s1", {"A": 100, "B": 7}), summary("s2", {"A": 23})]
        )
    offsets = {interest("A"): INCOME}
    with unit_of_work(engine) as session:
        shares = ledger.live_shares(session, owner_ref="A", ref_prefix="s")
        assert [(s.entry_ref, s.legs) for s in shares] == [
            ("s1", (Leg(interest("A"), 100),)),
            ("s2", (Leg(interest("A"), 23),)),
        ]
        ledger.reverse_share(session, clock, share=shares[0], owner_ref="A", offsets=offsets)
    balances, legs = state(engine)
    assert balances[interest("A")] == 23
    assert balances[interest("B")] == 7
    assert balances[INCOME] == -30
    assert (interest("A"), -100, 23) in legs
    with unit_of_work(engine) as session:
        assert [
            s.entry_ref for s in ledger.live_shares(session, owner_ref="A", ref_prefix="s")
        ] == ["s2"]
        assert [
            s.entry_ref for s in ledger.live_shares(session, owner_ref="B", ref_prefix="s")
        ] == ["s1"]
    before = state(engine)
    with pytest.raises(Refused, match="already been reversed"), unit_of_work(engine) as session:
        ledger.reverse_share(session, clock, share=shares[0], owner_ref="A", offsets=offsets)
    assert state(engine) == before
