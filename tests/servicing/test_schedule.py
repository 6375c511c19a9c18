"""Schedules and APR against an independent reference (exact fractions, float IRR)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from scipy.optimize import brentq

from limitwise.servicing.schedule import (
    RepaymentType,
    add_months_clamped,
    plan_schedule,
    schedule_apr,
)

INSTALMENT_TYPES = [
    RepaymentType.EQUAL_INSTALLMENT,
    RepaymentType.EQUAL_PRINCIPAL,
    RepaymentType.INTEREST_FIRST,
]


def half_up(value: Fraction) -> int:
    """Round a non-negative exact fen amount half-up (reference implementation)."""
    return int(value + Fraction(1, 2))


def reference_schedule(
    amount_fen: int, kind: RepaymentType, periods: int, daily_bps: Fraction
) -> list[tuple[int, int]]:
    """Textbook schedule in exact rationals: monthly rate = daily rate x 30."""
    rate = daily_bps / 10_000 * 30
    annuity = half_up(amount_fen * rate * (1 + rate) ** periods / ((1 + rate) ** periods - 1))
    rows = []
    balance = amount_fen
    for k in range(1, periods + 1):
        interest = half_up(balance * rate)
        if k == periods:
            principal = balance
        elif kind is RepaymentType.EQUAL_INSTALLMENT:
            principal = annuity - interest
        elif kind is RepaymentType.EQUAL_PRINCIPAL:
            principal = half_up(Fraction(amount_fen, periods))
        else:
            principal = 0
        rows.append((principal, interest))
        balance -= principal
    return rows


def reference_apr(flows: list[tuple[dt.date, int]]) -> float:
    """Daily IRR x 365 found by a float root finder (a different method from ours)."""
    start = flows[0][0]

    def npv(rate: float) -> float:
        return sum(amount / (1 + rate) ** (day - start).days for day, amount in flows)

    return float(brentq(npv, 1e-12, 0.05, xtol=1e-15)) * 365


def test_worked_example_first_instalment() -> None:
    plan = plan_schedule(
        amount_fen=1_200_000,
        repayment_type=RepaymentType.EQUAL_INSTALLMENT,
        term_months=12,
        drawn_on=dt.date(2026, 1, 5),
        daily_rate_bps=Decimal("4.0"),
    )
    assert plan[0].total_fen == 107_971
    assert plan[0].interest_fen == 14_400
    assert all(item.total_fen == 107_971 for item in plan[:-1])
    assert plan[-1].total_fen == 107_964  # the last instalment absorbs rounding
    assert sum(item.principal_fen for item in plan) == 1_200_000
    assert [item.due_date.day for item in plan] == [5] * 12


@pytest.mark.parametrize("kind", INSTALMENT_TYPES)
@pytest.mark.parametrize("term", [3, 6, 12])
@pytest.mark.parametrize(
    ("amount_fen", "bps"),
    [(1_200_000, "4.0"), (123_457, "3.5"), (10_000, "5.25"), (99_999_99, "1")],
)
def test_schedule_matches_reference(
    kind: RepaymentType, term: int, amount_fen: int, bps: str
) -> None:
    plan = plan_schedule(
        amount_fen=amount_fen,
        repayment_type=kind,
        term_months=term,
        drawn_on=dt.date(2026, 3, 31),
        daily_rate_bps=Decimal(bps),
    )
    expected = reference_schedule(amount_fen, kind, term, Fraction(bps))
    assert [(item.principal_fen, item.interest_fen) for item in plan] == expected
    assert sum(item.principal_fen for item in plan) == amount_fen


def test_due_dates_clamp_to_month_end() -> None:
    drawn = dt.date(2026, 1, 31)
    assert [add_months_clamped(drawn, k) for k in range(1, 5)] == [
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 30),
        dt.date(2026, 5, 31),
    ]
    assert add_months_clamped(dt.date(2027, 12, 31), 2) == dt.date(2028, 2, 29)


def test_daily_schedule_estimates_actual_day_interest() -> None:
    plan = plan_schedule(
        amount_fen=1_000_000,
        repayment_type=RepaymentType.DAILY,
        term_months=3,
        drawn_on=dt.date(2026, 1, 5),
        daily_rate_bps=Decimal("4.0"),
    )
    assert [(p.principal_fen, p.interest_fen) for p in plan] == [
        (0, 12_400),  # 31 days x 4.00
        (0, 11_200),  # 28 days
        (1_000_000, 12_400),  # 31 days
    ]


@pytest.mark.parametrize("kind", list(RepaymentType))
@pytest.mark.parametrize("drawn_on", [dt.date(2026, 1, 5), dt.date(2026, 1, 31)])
def test_apr_is_the_irr_of_the_scheduled_flows(kind: RepaymentType, drawn_on: dt.date) -> None:
    plan = plan_schedule(
        amount_fen=1_200_000,
        repayment_type=kind,
        term_months=6,
        drawn_on=drawn_on,
        daily_rate_bps=Decimal("4.0"),
    )
    flows = [(drawn_on, -1_200_000), *((p.due_date, p.total_fen) for p in plan)]
    apr = schedule_apr(drawn_on, 1_200_000, plan)
    assert float(apr) == pytest.approx(reference_apr(flows), abs=2e-6)
    assert Decimal("0.13") < apr < Decimal("0.16")
