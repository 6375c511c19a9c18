"""The demo book: what ``limitwise demo`` builds. It grows as limitwise grows.

The demo is a simulation book: its business date starts on ``OPENED_ON`` and each close of
business moves it, ending on ``DEMO_DATE`` (what ``limitwise serve`` then serves). Every
step runs on a fixed business date and carries an idempotency key, and COB never closes a
day twice, so running the demo again on the same database applies nothing twice and
prints the same figures.
"""

from __future__ import annotations

import datetime as dt

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from limitwise.auth import service as auth
from limitwise.auth.schemas import Role, UserCreate
from limitwise.businessdate import service as business_dates
from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, resolve_url, unit_of_work
from limitwise.kit.errors import LimitwiseError, NotFound
from limitwise.kit.money import format_yuan
from limitwise.ledger.check import check_trial_balance
from limitwise.ledger.cli import print_trial_balance
from limitwise.servicing import flows, service
from limitwise.servicing.schedule import RepaymentType
from limitwise.servicing.schemas import AccountState, ProductSpec

OPENED_ON = dt.date(2026, 1, 5)
EARLY_REPAYMENT_ON = dt.date(2026, 1, 20)
DUE_DATES = [dt.date(2026, 2, 5), dt.date(2026, 3, 5)]
DEMO_DATE = dt.date(2026, 3, 20)
DEMO_LINES_FEN = [50_000_00, 30_000_00, 80_000_00, 20_000_00, 120_000_00]
DEMO_TYPES = list(RepaymentType)
#: DEV-ONLY logins of the demo book (docs/api.md): (username, password, role). The borrower
#: holds the first demo account. The passwords are published: never on a real book.
DEMO_LOGINS = [
    ("admin", "admin-dev-password", Role.ADMIN),
    ("analyst", "analyst-dev-password", Role.ANALYST),
    ("borrower", "borrower-dev-password", Role.BORROWER),
    ("borrower2", "borrower2-dev-password", Role.BORROWER),
]
DEMO_PRODUCT = ProductSpec.parse(
    {
        "name": "jiebei-std",
        "daily_rate_bps": "4.0",
        "repayment_types": [t.value for t in RepaymentType],
        "terms_months": [3, 6, 12],
    }
)


def run_demo(url: str | None, *, accounts: int, console: Console) -> int:
    """Build (or re-run) the demo book and print its summary; returns the exit code."""
    url = resolve_url(url)
    console.print(f"[bold]limitwise demo[/bold] on {url} (business date {DEMO_DATE})")
    migrate.upgrade(url)
    engine = make_engine(url)
    refs = [f"DEMO-{i + 1:03d}" for i in range(accounts)]
    try:
        _open_and_draw(engine, refs)
        _repay_and_close_days(engine, refs)
        _show_safety(engine, refs[0], console)
        _create_logins(engine, refs, console)
        with unit_of_work(engine) as session:
            _print_book(
                [service.account_state(session, ref=ref, as_of=DEMO_DATE) for ref in refs],
                console,
            )
            report = check_trial_balance(session)
        print_trial_balance(report, console)
    finally:
        engine.dispose()
    return 0 if report.ok else 1


def _open_and_draw(engine: Engine, refs: list[str]) -> None:
    """Open every account on the demo product and draw 60% of each line, one repayment
    type per account in turn."""
    clock = Clock.fixed(OPENED_ON)
    with unit_of_work(engine) as session:
        business_dates.start_simulation(session, clock, on=OPENED_ON)
        service.define_product(session, clock, spec=DEMO_PRODUCT)
        for i, ref in enumerate(refs):
            line_fen = DEMO_LINES_FEN[i % len(DEMO_LINES_FEN)]
            service.open_account(
                session, clock, ref=ref, product_code=DEMO_PRODUCT.name, line_fen=line_fen
            )
            service.draw(
                session,
                clock,
                account_ref=ref,
                amount_fen=line_fen * 6 // 10,
                repayment_type=DEMO_TYPES[i % len(DEMO_TYPES)].value,
                term_months=12,
                key=f"{ref}-draw",
            )


def _repay_and_close_days(engine: Engine, refs: list[str]) -> None:
    """COB day by day; the first account repays a quarter of its line early, every account
    but the last pays a tenth of its line on each due date (enough for what is due, the rest
    pays ahead), and the last one never pays, so it goes overdue."""
    _cob_through(engine, EARLY_REPAYMENT_ON - dt.timedelta(days=1))
    with unit_of_work(engine) as session:
        service.repay(
            session,
            Clock.fixed(EARLY_REPAYMENT_ON),
            account_ref=refs[0],
            amount_fen=DEMO_LINES_FEN[0] // 4,
            key=f"{refs[0]}-early",
        )
    for due_on in DUE_DATES:
        _cob_through(engine, due_on - dt.timedelta(days=1))
        with unit_of_work(engine) as session:
            for i, ref in enumerate(refs[:-1]):
                service.repay(
                    session,
                    Clock.fixed(due_on),
                    account_ref=ref,
                    amount_fen=DEMO_LINES_FEN[i % len(DEMO_LINES_FEN)] // 10,
                    key=f"{ref}-due-{due_on}",
                )
    _cob_through(engine, DEMO_DATE - dt.timedelta(days=1))


def _cob_through(engine: Engine, day: dt.date) -> None:
    flows.close_through(engine, Clock.fixed(day), through=day)


def _show_safety(engine: Engine, ref: str, console: Console) -> None:
    """A retried draw replays its first result; an over-line draw is refused and changes nothing."""
    clock = Clock.fixed(DEMO_DATE)
    with unit_of_work(engine) as session:
        first = service.draw(
            session,
            Clock.fixed(OPENED_ON),
            account_ref=ref,
            amount_fen=DEMO_LINES_FEN[0] * 6 // 10,
            repayment_type=DEMO_TYPES[0].value,
            term_months=12,
            key=f"{ref}-draw",
        )
    console.print(f"retry of {ref}-draw returned the original draw {first.ref}")
    try:
        with unit_of_work(engine) as session:
            service.draw(
                session,
                clock,
                account_ref=ref,
                amount_fen=10**9,
                repayment_type=DEMO_TYPES[0].value,
                term_months=3,
                key=f"{ref}-too-much",
            )
    except LimitwiseError as refusal:
        console.print(f"over-line draw refused: {refusal}")


def _create_logins(engine: Engine, refs: list[str], console: Console) -> None:
    """The demo's API users, once; borrower N holds demo account N."""
    clock = Clock.fixed(DEMO_DATE)
    borrowers = iter(refs)
    with unit_of_work(engine) as session:
        for username, password, role in DEMO_LOGINS:
            held = [next(borrowers, refs[0])] if role is Role.BORROWER else []
            try:
                auth.get_user(session, clock, username=username)
            except NotFound:
                spec = UserCreate(
                    username=username, password=password, role=role, account_refs=held
                )
                auth.create_user(session, clock, spec=spec)
    logins = ", ".join(f"{name}/{password}" for name, password, _ in DEMO_LOGINS)
    console.print(f"API logins (dev only, see docs/api.md): {logins}")


def _print_book(states: list[AccountState], console: Console) -> None:
    table = Table(title=f"Demo book on {DEMO_DATE}")
    columns = ["account", "APR", "repayment", "line", "principal", "interest", "penalty"]
    for column in [*columns, "due", "DPD", "bucket"]:
        table.add_column(
            column, justify="left" if column in {"account", "repayment"} else "right", no_wrap=True
        )
    for state in states:
        table.add_row(
            state.ref,
            f"[bold]{state.apr}[/bold]",
            ", ".join(d.repayment_type for d in state.draws),
            format_yuan(state.line_fen),
            format_yuan(state.outstanding_principal_fen),
            format_yuan(state.interest_receivable_fen),
            format_yuan(state.penalty_receivable_fen),
            format_yuan(state.due_total_fen),
            str(state.days_past_due),
            state.bucket,
        )
    # Ten columns need more than the 80 a pipe gets by default; a terminal keeps its width.
    wide = Console(
        file=console.file, width=max(console.width, 120), force_terminal=console.is_terminal
    )
    wide.print(table)
