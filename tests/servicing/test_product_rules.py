"""Product rules on draws and repayments, and a repayment retried after midnight."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.kit.errors import Refused
from limitwise.ledger.check import check_trial_balance
from limitwise.servicing import flows, service
from limitwise.servicing.schemas import ProductSpec
from tests.servicing.helpers import STD, entry_count, open_book

DRAWN_ON = dt.date(2026, 1, 5)
FIRST_DUE = dt.date(2026, 2, 5)


def draw(engine: Engine, clock: Clock, key: str, *, ref: str = "A") -> service.DrawResult:
    with unit_of_work(engine) as session:
        return service.draw(
            session,
            clock,
            account_ref=ref,
            amount_fen=1_200_000,
            repayment_type="equal_installment",
            term_months=12,
            key=key,
        )


def repay(engine: Engine, clock: Clock, amount_fen: int, key: str) -> service.RepaymentResult:
    with unit_of_work(engine) as session:
        return service.repay(session, clock, account_ref="A", amount_fen=amount_fen, key=key)


def state(engine: Engine, day: dt.date) -> service.AccountState:
    with unit_of_work(engine) as session:
        return service.account_state(session, ref="A", as_of=day)


def test_a_repayment_retried_after_midnight_gets_the_original_answer(
    engine: Engine, clock: Clock
) -> None:
    open_book(engine, clock, ["A"])
    draw(engine, clock, "d")
    first = repay(engine, clock, 100_000, "r")
    entries = entry_count(engine)
    assert repay(engine, Clock.fixed(DRAWN_ON + dt.timedelta(days=1)), 100_000, "r") == first
    assert entry_count(engine) == entries


@pytest.mark.parametrize(("days_late", "bucket"), [(43, "M2"), (300, "M4+")])
def test_a_delinquent_account_may_not_draw(
    engine: Engine, clock: Clock, days_late: int, bucket: str
) -> None:
    open_book(engine, clock, ["A"], line_fen=10_000_000)
    draw(engine, clock, "d1")
    today = FIRST_DUE + dt.timedelta(days=days_late)
    flows.run_cob(engine, clock, as_of=today - dt.timedelta(days=1))
    entries = entry_count(engine)
    with pytest.raises(Refused) as refusal:
        draw(engine, Clock.fixed(today), "d2")
    assert refusal.value.code == "account_delinquent"
    assert f"{days_late} days past due ({bucket})" in str(refusal.value)
    assert "max_draw_dpd" in str(refusal.value)
    assert entry_count(engine) == entries
    assert len(state(engine, today).draws) == 1


def test_a_product_may_allow_draws_while_slightly_late(engine: Engine, clock: Clock) -> None:
    lenient = ProductSpec.parse({**STD.model_dump(mode="json"), "name": "len", "max_draw_dpd": 5})
    with unit_of_work(engine) as session:
        service.define_product(session, clock, spec=lenient)
        service.open_account(session, clock, ref="A", product_code="len", line_fen=10_000_000)
    draw(engine, clock, "d1")
    flows.run_cob(engine, clock, as_of=FIRST_DUE + dt.timedelta(days=4))
    draw(engine, Clock.fixed(FIRST_DUE + dt.timedelta(days=5)), "d2")  # 5 days late: allowed
    flows.run_cob(engine, clock, as_of=FIRST_DUE + dt.timedelta(days=5))
    with pytest.raises(Refused, match="6 days past due"):
        draw(engine, Clock.fixed(FIRST_DUE + dt.timedelta(days=6)), "d3")


def test_a_repayment_may_not_leave_more_credit_than_the_cap(engine: Engine, clock: Clock) -> None:
    open_book(engine, clock, ["A"])
    draw(engine, clock, "d")
    before = state(engine, DRAWN_ON)
    entries = entry_count(engine)
    with pytest.raises(Refused) as refusal:
        repay(engine, clock, 9_999_999_900, "huge")
    assert refusal.value.code == "credit_balance_above_cap"
    assert refusal.value.field == "amount"
    assert "max_credit_balance" in str(refusal.value)
    assert "at most 22144.00 can be repaid now" in str(refusal.value)
    assert entry_count(engine) == entries
    assert state(engine, DRAWN_ON) == before
    # the cap itself is allowed, one fen more is not; the refused key is not burnt
    assert repay(engine, clock, 2_214_400, "huge").credit_balance_fen == 1_000_000
    with pytest.raises(Refused, match=r"at most 0\.00 can be repaid"):
        repay(engine, clock, 1, "more")
    with unit_of_work(engine) as session:
        assert check_trial_balance(session).ok
