"""The servicing engine: accrual, the repayment waterfall and delinquency on one account.

A :class:`Book` holds one credit account's loaded rows; the functions here change them in
memory (SQLAlchemy flushes the changes) and return what the ledger must be told. They never
query or post themselves, so COB, live repayments and replays share exactly one engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from limitwise.servicing.models import CreditAccount, Draw, DrawStatus, Instalment
from limitwise.servicing.schedule import (
    BPS,
    RepaymentType,
    interest_on,
    monthly_rate,
    plan_schedule,
    round_half_up_fen,
)
from limitwise.servicing.schemas import Component, ProductSpec, Timing

NANO_PER_FEN = 10**9


@dataclass
class Book:
    account: CreditAccount
    product: ProductSpec
    draws: list[Draw]
    instalments: dict[int, list[Instalment]]

    def schedule_of(self, draw: Draw) -> list[Instalment]:
        return self.instalments[draw.id]

    def open_items(self, *, before_seq: int | None = None) -> Iterator[tuple[Draw, Instalment]]:
        """Instalments of open draws, oldest due first (draws made before ``before_seq``)."""
        items = [
            (draw, inst)
            for draw in self.draws
            if draw.status == DrawStatus.OPEN and (before_seq is None or draw.seq < before_seq)
            for inst in self.instalments[draw.id]
        ]
        items.sort(key=lambda item: (item[1].due_date, item[0].seq, item[1].seq))
        return iter(items)


@dataclass(frozen=True)
class Part:
    instalment: Instalment
    timing: Timing
    component: Component
    amount_fen: int


@dataclass
class Allocation:
    parts: list[Part] = field(default_factory=list)
    accelerated_interest_fen: int = 0
    leftover_fen: int = 0

    def total_by_component(self) -> dict[str, int]:
        totals = {component.value: 0 for component in Component}
        for part in self.parts:
            totals[part.component.value] += part.amount_fen
        return totals


# --- classification ------------------------------------------------------------------------


def timing_of(inst: Instalment, day: dt.date) -> Timing:
    if inst.due_date < day:
        return Timing.PAST_DUE
    if inst.due_date == day:
        return Timing.DUE
    return Timing.IN_ADVANCE


def is_instalment_type(draw: Draw) -> bool:
    return RepaymentType(draw.repayment_type) is not RepaymentType.DAILY


def in_progress(inst: Instalment, day: dt.date) -> bool:
    return inst.period_start <= day < inst.due_date


def principal_left(inst: Instalment) -> int:
    return inst.principal_due_fen - inst.principal_paid_fen


def interest_owed(draw: Draw, inst: Instalment, day: dt.date) -> int:
    """Interest of this instalment that is owed by ``day``: for instalment types the whole
    scheduled amount once its period has started (it is fixed at the period's start); for
    ``daily`` what has accrued."""
    if is_instalment_type(draw) and inst.period_start <= day:
        return max(inst.interest_scheduled_fen, inst.interest_accrued_fen)
    return inst.interest_accrued_fen


def unpaid_now(inst: Instalment) -> int:
    """What is unpaid of the amounts already posted to the receivables."""
    return (
        principal_left(inst)
        + inst.interest_accrued_fen
        - inst.interest_paid_fen
        + inst.penalty_accrued_fen
        - inst.penalty_paid_fen
        + inst.fee_charged_fen
        - inst.fee_paid_fen
    )


def is_settled(draw: Draw, inst: Instalment, day: dt.date) -> bool:
    return unpaid_now(inst) == 0 and inst.interest_paid_fen >= interest_owed(draw, inst, day)


# --- accrual -------------------------------------------------------------------------------


def _nano(principal_fen: int, rate_bps: Decimal) -> int:
    return round_half_up_fen(Decimal(principal_fen) * rate_bps * NANO_PER_FEN / BPS)


def accrue_interest(book: Book, day: dt.date) -> int:
    """Interest for ``day``: daily type on the principal outstanding, with the sub-fen
    remainder carried; instalment types spread each period's interest over its actual days
    (cumulative, rounded down, so the period's days sum exactly to its interest)."""
    total = 0
    for draw in book.draws:
        if draw.status != DrawStatus.OPEN or day < draw.drawn_on:
            continue
        current = next((i for i in book.schedule_of(draw) if in_progress(i, day)), None)
        if current is None:
            continue
        if is_instalment_type(draw):
            days_in = (current.due_date - current.period_start).days
            elapsed = (day - current.period_start).days + 1
            target = current.interest_scheduled_fen * elapsed // days_in
            amount = max(0, target - current.interest_accrued_fen)
        else:
            exact = _nano(draw.principal_outstanding_fen, Decimal(draw.daily_rate_bps))
            carried = exact + draw.accrual_remainder_nfen
            amount, draw.accrual_remainder_nfen = divmod(carried, NANO_PER_FEN)
        current.interest_accrued_fen += amount
        total += amount
    return total


def accrue_penalty(book: Book, day: dt.date) -> int:
    """Penalty for ``day`` on principal overdue past the grace days, remainder carried."""
    total = 0
    grace = dt.timedelta(days=book.product.grace_days)
    for draw, inst in book.open_items():
        overdue = principal_left(inst)
        if overdue <= 0 or day <= inst.due_date + grace:
            continue
        exact = _nano(overdue, Decimal(draw.penalty_rate_bps)) + inst.penalty_remainder_nfen
        amount, inst.penalty_remainder_nfen = divmod(exact, NANO_PER_FEN)
        inst.penalty_accrued_fen += amount
        total += amount
    return total


# --- delinquency ---------------------------------------------------------------------------


def days_past_due(book: Book, day: dt.date) -> int:
    """Days since the oldest unpaid due date (0 while within the grace days)."""
    oldest = min(
        (
            inst.due_date
            for draw, inst in book.open_items()
            if inst.due_date < day and not is_settled(draw, inst, day)
        ),
        default=None,
    )
    if oldest is None:
        return 0
    days = (day - oldest).days
    return days if days > book.product.grace_days else 0


def falls_due(book: Book, day: dt.date) -> bool:
    """Whether an instalment of an open draw falls due on ``day``."""
    return any(inst.due_date == day for _draw, inst in book.open_items())


def due_total(book: Book, day: dt.date) -> int:
    """Everything due on or before ``day`` and still unpaid."""
    return sum(
        unpaid_now(inst) + max(0, interest_owed(draw, inst, day) - inst.interest_accrued_fen)
        for draw, inst in book.open_items()
        if inst.due_date <= day
    )


# --- the waterfall -------------------------------------------------------------------------


def _payable(draw: Draw, inst: Instalment, component: Component, day: dt.date) -> int:
    if component is Component.PENALTY:
        return inst.penalty_accrued_fen - inst.penalty_paid_fen
    if component is Component.FEE:
        return inst.fee_charged_fen - inst.fee_paid_fen
    if component is Component.INTEREST:
        return interest_owed(draw, inst, day) - inst.interest_paid_fen
    return principal_left(inst)


def _with_fee(principal_fen: int, money_fen: int, fee_bps: Decimal) -> tuple[int, int]:
    """Largest principal (≤ ``principal_fen``) whose early-repayment fee also fits in money."""
    if fee_bps == 0:
        return min(principal_fen, money_fen), 0
    principal = min(principal_fen, int(Decimal(money_fen) * BPS / (BPS + fee_bps)) + 1)
    fee = round_half_up_fen(Decimal(principal) * fee_bps / BPS)
    while principal > 0 and principal + fee > money_fen:
        principal -= 1
        fee = round_half_up_fen(Decimal(principal) * fee_bps / BPS)
    return principal, fee


def allocate(
    book: Book,
    *,
    day: dt.date,
    amount_fen: int,
    slots: list[str],
    before_seq: int | None = None,
) -> Allocation:
    """Pay ``amount_fen`` slot by slot (``timing.component``), oldest instalment first.

    Interest paid ahead of accrual is accrued on the spot (``accelerated_interest_fen``);
    principal paid in advance on an instalment type re-prices the periods not yet started.
    What no slot takes is ``leftover_fen`` (it becomes a credit balance).
    """
    outcome = Allocation()
    money = amount_fen
    prepaid: set[int] = set()
    for slot in slots:
        timing_name, component_name = slot.split(".")
        timing, component = Timing(timing_name), Component(component_name)
        for draw, inst in book.open_items(before_seq=before_seq):
            if money == 0:
                break
            if timing_of(inst, day) is not timing:
                continue
            pay = min(money, _payable(draw, inst, component, day))
            if pay <= 0:
                continue
            if component is Component.PRINCIPAL:
                fee_bps = Decimal(draw.early_repayment_fee_bps)
                fee = 0
                if timing is Timing.IN_ADVANCE:
                    pay, fee = _with_fee(pay, money, fee_bps)
                    prepaid.add(draw.id)
                if pay <= 0:
                    continue
                inst.principal_paid_fen += pay
                draw.principal_outstanding_fen -= pay
                if fee:
                    inst.fee_charged_fen += fee
                    inst.fee_paid_fen += fee
                    outcome.parts.append(Part(inst, timing, Component.FEE, fee))
                    money -= fee
            elif component is Component.INTEREST:
                short = inst.interest_paid_fen + pay - inst.interest_accrued_fen
                if short > 0:
                    inst.interest_accrued_fen += short
                    outcome.accelerated_interest_fen += short
                inst.interest_paid_fen += pay
            elif component is Component.PENALTY:
                inst.penalty_paid_fen += pay
            else:
                inst.fee_paid_fen += pay
            outcome.parts.append(Part(inst, timing, component, pay))
            money -= pay
    for draw in book.draws:
        if draw.id in prepaid and is_instalment_type(draw):
            reprice_future_periods(draw, book.schedule_of(draw), day)
    refresh_draw_status(book, day)
    outcome.leftover_fen = money
    return outcome


def reprice_future_periods(draw: Draw, schedule: list[Instalment], day: dt.date) -> None:
    """After a prepayment, each period not yet started charges interest on the principal
    that will then be outstanding (the current period's interest was fixed at its start)."""
    rate = monthly_rate(Decimal(draw.daily_rate_bps))
    for k, inst in enumerate(schedule):
        if inst.period_start > day:
            inst.interest_scheduled_fen = interest_on(
                sum(principal_left(later) for later in schedule[k:]), rate
            )


def refresh_draw_status(book: Book, day: dt.date) -> None:
    for draw in book.draws:
        if (
            draw.status == DrawStatus.OPEN
            and draw.principal_outstanding_fen == 0
            and all(is_settled(draw, inst, day) for inst in book.schedule_of(draw))
        ):
            draw.status = DrawStatus.PAID_OFF.value


def reset_draw(draw: Draw, schedule: list[Instalment]) -> None:
    """Back to the state at disbursement (for a replay)."""
    plan = plan_schedule(
        amount_fen=draw.amount_fen,
        repayment_type=RepaymentType(draw.repayment_type),
        term_months=draw.term_months,
        drawn_on=draw.drawn_on,
        daily_rate_bps=Decimal(draw.daily_rate_bps),
    )
    draw.principal_outstanding_fen = draw.amount_fen
    draw.accrual_remainder_nfen = 0
    draw.status = DrawStatus.OPEN.value
    for inst, planned in zip(schedule, plan, strict=True):
        inst.principal_due_fen = planned.principal_fen
        inst.interest_scheduled_fen = planned.interest_fen
        for name in (
            "interest_accrued_fen",
            "penalty_accrued_fen",
            "penalty_remainder_nfen",
            "fee_charged_fen",
            "principal_paid_fen",
            "interest_paid_fen",
            "penalty_paid_fen",
            "fee_paid_fen",
        ):
            setattr(inst, name, 0)
