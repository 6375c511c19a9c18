"""Pure schedule arithmetic: due dates, the four repayment types, and the APR as an IRR.

Nothing here touches the database, so the numbers can be checked against an independent
reference calculation and reused by COB, re-scheduling after prepayment and the scenarios.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

BPS = Decimal(10_000)
#: For instalment types the monthly rate is the daily rate times this many days.
DAYS_PER_MONTH_RATE = 30
DAYS_PER_YEAR_APR = 365


class RepaymentType(StrEnum):
    DAILY = "daily"
    """随借随还: interest accrues daily on outstanding principal and falls due monthly;
    principal is due at term end and may be repaid in any amount at any time."""
    EQUAL_INSTALLMENT = "equal_installment"
    """等额本息: equal monthly instalments of principal plus interest."""
    EQUAL_PRINCIPAL = "equal_principal"
    """等额本金: equal monthly principal plus interest on the principal outstanding."""
    INTEREST_FIRST = "interest_first"
    """先息后本: monthly interest only, all principal with the last instalment."""


@dataclass(frozen=True)
class PlannedInstalment:
    seq: int
    period_start: dt.date
    due_date: dt.date
    principal_fen: int
    interest_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen


def round_half_up_fen(amount_fen: Decimal) -> int:
    """Round an exact fen amount half-up to a whole fen."""
    return int(amount_fen.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def add_months_clamped(start: dt.date, months: int) -> dt.date:
    """The same day of month ``months`` later, clamped to the end of a shorter month."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(drawn_on: dt.date, term_months: int) -> list[dt.date]:
    return [add_months_clamped(drawn_on, k) for k in range(1, term_months + 1)]


def daily_rate(daily_rate_bps: Decimal) -> Decimal:
    return daily_rate_bps / BPS


def monthly_rate(daily_rate_bps: Decimal) -> Decimal:
    return daily_rate(daily_rate_bps) * DAYS_PER_MONTH_RATE


def interest_on(principal_fen: int, rate: Decimal) -> int:
    return round_half_up_fen(Decimal(principal_fen) * rate)


def equal_installment_fen(principal_fen: int, periods: int, rate: Decimal) -> int:
    """The standard annuity payment P·r·(1+r)^n / ((1+r)^n − 1), half-up to the fen."""
    if rate == 0:
        return round_half_up_fen(Decimal(principal_fen) / periods)
    with localcontext() as ctx:
        ctx.prec = 40
        growth = (1 + rate) ** periods
        return round_half_up_fen(Decimal(principal_fen) * rate * growth / (growth - 1))


def amortize(
    principal_fen: int, periods: int, rate: Decimal, repayment_type: RepaymentType
) -> list[tuple[int, int]]:
    """(principal, interest) per period for an instalment type; the last absorbs rounding.

    Each period's interest is ``rate`` times the principal outstanding at its start.
    """
    parts: list[tuple[int, int]] = []
    outstanding = principal_fen
    payment = equal_installment_fen(principal_fen, periods, rate)
    even_principal = round_half_up_fen(Decimal(principal_fen) / periods)
    for k in range(1, periods + 1):
        interest = interest_on(outstanding, rate)
        if k == periods:
            principal = outstanding
        elif repayment_type is RepaymentType.EQUAL_INSTALLMENT:
            principal = min(outstanding, max(0, payment - interest))
        elif repayment_type is RepaymentType.EQUAL_PRINCIPAL:
            principal = min(outstanding, even_principal)
        else:
            principal = 0
        parts.append((principal, interest))
        outstanding -= principal
    return parts


def plan_schedule(
    *,
    amount_fen: int,
    repayment_type: RepaymentType,
    term_months: int,
    drawn_on: dt.date,
    daily_rate_bps: Decimal,
) -> list[PlannedInstalment]:
    """The contractual schedule of a draw.

    For ``daily`` the interest shown is the estimate for the full principal over each
    period's actual days; what falls due is what actually accrued.
    """
    dues = due_dates(drawn_on, term_months)
    starts = [drawn_on, *dues[:-1]]
    if repayment_type is RepaymentType.DAILY:
        rate = daily_rate(daily_rate_bps)
        parts = [
            (
                amount_fen if k == term_months else 0,
                interest_on(amount_fen, rate * (due - start).days),
            )
            for k, (start, due) in enumerate(zip(starts, dues, strict=True), start=1)
        ]
    else:
        parts = amortize(amount_fen, term_months, monthly_rate(daily_rate_bps), repayment_type)
    return [
        PlannedInstalment(seq, start, due, principal, interest)
        for seq, (start, due, (principal, interest)) in enumerate(
            zip(starts, dues, parts, strict=True), start=1
        )
    ]


def apr_of_cash_flows(flows: list[tuple[dt.date, int]]) -> Decimal:
    """Annualised IRR (daily IRR × 365) of dated cash flows, the first being the outlay.

    Solved by bisection in Decimal, so it is exact to the digits shown (six decimals).
    """
    start = flows[0][0]
    timed = [((day - start).days, Decimal(amount)) for day, amount in flows]

    def npv(rate: Decimal) -> Decimal:
        return sum((amount / (1 + rate) ** days for days, amount in timed), Decimal(0))

    low, high = Decimal(0), Decimal("0.05")
    with localcontext() as ctx:
        ctx.prec = 34
        if npv(low) <= 0:
            return Decimal(0)
        for _ in range(80):
            mid = (low + high) / 2
            if npv(mid) > 0:
                low = mid
            else:
                high = mid
        return (low * DAYS_PER_YEAR_APR).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def schedule_apr(drawn_on: dt.date, amount_fen: int, plan: list[PlannedInstalment]) -> Decimal:
    """The APR a borrower is shown: the IRR of disbursement and every scheduled payment."""
    return apr_of_cash_flows(
        [(drawn_on, -amount_fen), *((item.due_date, item.total_fen) for item in plan)]
    )
