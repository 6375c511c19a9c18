"""The demo book: what ``limitwise demo`` builds. It grows as limitwise grows.

Everything runs on a fixed business date so two runs print the same figures, and every
money-moving step carries an idempotency key so running the demo again applies nothing twice.
"""

from __future__ import annotations

import datetime as dt

from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, resolve_url, unit_of_work
from limitwise.kit.errors import LimitwiseError
from limitwise.kit.money import format_yuan, split_largest_remainder
from limitwise.ledger import service as ledger
from limitwise.ledger.chart import CreditPurpose, LenderPurpose, credit_code, lender_code
from limitwise.ledger.check import check_trial_balance
from limitwise.ledger.cli import print_trial_balance
from limitwise.ledger.idempotency import run_idempotent
from limitwise.ledger.schemas import PostedEntry

DEMO_DATE = dt.date(2026, 1, 5)
DEMO_LINES_FEN = [50_000_00, 30_000_00, 80_000_00, 20_000_00, 120_000_00]


def demo_draw(
    session: Session, clock: Clock, *, owner_ref: str, amount_fen: int, key: str
) -> PostedEntry:
    """Reserve the draw against the line, then disburse it (two-phase)."""

    def action() -> PostedEntry:
        hold = ledger.reserve(
            session,
            clock,
            debit_code=credit_code(owner_ref, CreditPurpose.PRINCIPAL),
            credit_code=lender_code(LenderPurpose.FUNDING),
            amount_fen=amount_fen,
        )
        return ledger.post_hold(session, clock, hold_ref=hold.hold_ref, description="demo draw")

    return run_idempotent(
        session,
        clock,
        key=key,
        command="demo_draw",
        request={"account": owner_ref, "amount_fen": amount_fen},
        action=action,
        dump=PostedEntry.to_dict,
        load=PostedEntry.from_dict,
    )


def demo_repay(
    session: Session, clock: Clock, *, owner_ref: str, amount_fen: int, key: str
) -> PostedEntry:
    def action() -> PostedEntry:
        return ledger.transfer(
            session,
            clock,
            debit_code=lender_code(LenderPurpose.FUNDING),
            credit_code=credit_code(owner_ref, CreditPurpose.PRINCIPAL),
            amount_fen=amount_fen,
            kind="repayment",
            description="demo repayment",
        )

    return run_idempotent(
        session,
        clock,
        key=key,
        command="demo_repay",
        request={"account": owner_ref, "amount_fen": amount_fen},
        action=action,
        dump=PostedEntry.to_dict,
        load=PostedEntry.from_dict,
    )


def run_demo(url: str | None, *, accounts: int, console: Console) -> int:
    """Build (or re-run) the demo book and print its summary; returns the exit code."""
    url = resolve_url(url)
    console.print(f"[bold]limitwise demo[/bold] on {url} (business date {DEMO_DATE})")
    migrate.upgrade(url)
    engine = make_engine(url)
    clock = Clock.fixed(DEMO_DATE)
    refs = [f"DEMO-{i + 1:03d}" for i in range(accounts)]
    with unit_of_work(engine) as session:
        for i, ref in enumerate(refs):
            ledger.open_credit_books(
                session, clock, owner_ref=ref, line_fen=DEMO_LINES_FEN[i % len(DEMO_LINES_FEN)]
            )
    for i, ref in enumerate(refs):
        line_fen = DEMO_LINES_FEN[i % len(DEMO_LINES_FEN)]
        # Draw 60% of the line in three tranches that add up exactly, then repay a quarter.
        tranches = split_largest_remainder(line_fen * 6 // 10, [5, 3, 2])
        with unit_of_work(engine) as session:
            for n, tranche in enumerate(tranches):
                demo_draw(session, clock, owner_ref=ref, amount_fen=tranche, key=f"{ref}-draw-{n}")
            demo_repay(session, clock, owner_ref=ref, amount_fen=line_fen // 4, key=f"{ref}-repay")
    _show_safety(engine, clock, refs[0], console)
    with unit_of_work(engine) as session:
        _print_book(session, refs, console)
        report = check_trial_balance(session)
    print_trial_balance(report, console)
    engine.dispose()
    return 0 if report.ok else 1


def _show_safety(engine: object, clock: Clock, ref: str, console: Console) -> None:
    """A retried draw replays its first result; an over-line draw is refused and changes nothing."""
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    with unit_of_work(engine) as session:
        again = demo_draw(session, clock, owner_ref=ref, amount_fen=15_000_00, key=f"{ref}-draw-0")
    console.print(f"retry of {ref}-draw-0 returned the original entry {again.entry_ref}")
    try:
        with unit_of_work(engine) as session:
            demo_draw(session, clock, owner_ref=ref, amount_fen=10**9, key=f"{ref}-too-much")
    except LimitwiseError as refusal:
        console.print(f"over-line draw refused: {refusal}")


def _print_book(session: Session, refs: list[str], console: Console) -> None:
    table = Table(title="Demo book")
    for column in ("account", "line", "outstanding principal", "available"):
        table.add_column(column, justify="right" if column != "account" else "left")
    for ref in refs:
        principal = ledger.balances_of_owner(session, ref)[CreditPurpose.PRINCIPAL.value]
        table.add_row(
            ref,
            format_yuan(principal.debit_limit_fen or 0),
            format_yuan(principal.balance_fen),
            format_yuan(principal.available_fen or 0),
        )
    console.print(table)
