"""``limitwise account ...``, ``limitwise lines ...`` and ``limitwise init``.

Money is yuan for people (``12,000.00``) and integer fen in ``--json`` output.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from limitwise.businessdate import service as business_dates
from limitwise.businessdate.flows import command_clock
from limitwise.kit import migrate
from limitwise.kit.cli import AsOfOption, DbOption, NewDbOption, as_date, command_group
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.money import format_yuan, parse_amount_fen
from limitwise.lines import flows, service
from limitwise.lines.flows import default_context
from limitwise.lines.schemas import DecisionView
from limitwise.servicing import service as servicing
from limitwise.servicing.schemas import AccountState

account_app = command_group("Credit accounts: list, show, draw, repay, history.")
lines_app = command_group("Line decisions: review an account, roll the business date.")

T = TypeVar("T")
RefArg = Annotated[str, typer.Argument(help="Credit account reference.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (money in fen).")]


def _clock(engine: Engine, as_of: dt.datetime | None) -> Clock:
    return command_clock(engine, as_date(as_of))


def _view_date(session: Session, as_of: dt.datetime | None) -> dt.date:
    """The day a read shows: ``--as-of`` if given (any day), else the business date."""
    return as_date(as_of) or business_dates.business_date(session)


def _with_engine(db: str | None, work: Callable[[Engine], T]) -> T:
    engine = make_engine(db)
    try:
        return work(engine)
    finally:
        engine.dispose()


def _read(db: str | None, work: Callable[[Session], T]) -> T:
    def run(engine: Engine) -> T:
        with unit_of_work(engine) as session:
            return work(session)

    return _with_engine(db, run)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# --- init ------------------------------------------------------------------------------------


def init(db: NewDbOption = None) -> None:
    """Migrate the database and install the shipped products, default policy and
    scorecards where nothing is live yet."""
    migrate.upgrade(db)
    installed = _with_engine(
        db, lambda engine: flows.prepare(engine, _clock(engine, None), context=default_context())
    )
    for item in installed:
        typer.echo(f"installed {item}")
    typer.echo("ready" if installed else "already set up: nothing to install")


# --- account ---------------------------------------------------------------------------------


@account_app.command("list")
def account_list(
    db: DbOption = None, as_of: AsOfOption = None, as_json: JsonOption = False
) -> None:
    """Every credit account: status, line, available (as of the business date, or AS_OF)."""

    def read(session: Session) -> tuple[dt.date, list[AccountState]]:
        day = _view_date(session, as_of)
        refs = servicing.account_refs(session)
        return day, [servicing.account_state(session, ref=ref, as_of=day) for ref in refs]

    day, states = _read(db, read)
    if as_json:
        _echo_json([_state_json(state) for state in states])
        return
    table = Table(title=f"Credit accounts on {day}")
    for column in ("account", "product", "status", "line", "available", "principal", "DPD"):
        table.add_column(column)
    for st in states:
        table.add_row(
            st.ref,
            st.product,
            st.status,
            format_yuan(st.line_fen),
            format_yuan(st.available_fen),
            format_yuan(st.outstanding_principal_fen),
            str(st.days_past_due),
        )
    Console().print(table)


@account_app.command("show")
def account_show(
    ref: RefArg, db: DbOption = None, as_of: AsOfOption = None, as_json: JsonOption = False
) -> None:
    """Line, available, APR, status, sub-lines and any change announced with notice (as of
    the business date, or AS_OF)."""

    def read(session: Session) -> dict[str, Any]:
        day = _view_date(session, as_of)
        state = servicing.account_state(session, ref=ref, as_of=day)
        product = servicing.product_named(session, state.product)
        return _state_json(state) | {
            "as_of": day.isoformat(),
            "apr": state.apr or servicing.format_apr(product.nominal_apr),
            "sub_lines_fen": service.sub_lines(session, ref=ref),
            "pending_change": service.pending_change(session, ref=ref),
        }

    body = _read(db, read)
    if as_json:
        _echo_json(body)
        return
    console = Console()
    console.print(
        f"[bold]{ref}[/bold] on {body['as_of']} ({body['product']}): [bold]{body['status']}[/bold]"
    )
    console.print(
        f"  line {format_yuan(body['line_fen'])} yuan, available "
        f"{format_yuan(body['available_fen'])}, outstanding principal "
        f"{format_yuan(body['outstanding_principal_fen'])}, APR {body['apr']}"
    )
    for name, amount in body["sub_lines_fen"].items():
        console.print(f"  sub-line {name}: {format_yuan(amount)} yuan (inside the line)")
    pending = body["pending_change"]
    if pending:
        console.print(
            f"  announced: {pending['action']} to {format_yuan(pending['line_fen'])} yuan "
            f"on {pending['effective_on']}"
        )


@account_app.command("history")
def account_history(ref: RefArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every decision about the account, with its reasons and what the guards did."""
    views = _read(db, lambda s: service.history(s, ref=ref))
    if as_json:
        _echo_json([v.to_dict() for v in views])
        return
    print_history(views, Console(), title=f"Line history of {ref}")


def print_history(views: list[DecisionView], console: Console, *, title: str) -> None:
    table = Table(title=title)
    for column in (
        "as of",
        "trigger",
        "policy said",
        "applied",
        "line",
        "effective",
        "reasons",
        "line service",
    ):
        table.add_column(column)
    for v in views:
        table.add_row(
            v.as_of.isoformat(),
            v.trigger,
            f"{v.proposed_action} {format_yuan(v.proposed_line_fen)}",
            f"{v.action} ({v.timing})",
            f"{format_yuan(v.old_line_fen)} → {format_yuan(v.new_line_fen)}",
            v.effective_on.isoformat(),
            "\n".join(f"{r['code']}: {r['en']}" for r in v.reasons),
            "\n".join(f"{a['guard']}: {a['detail']}" for a in v.adjustments),
        )
    console.print(table)


@account_app.command("draw")
def account_draw(
    ref: RefArg,
    amount: Annotated[str, typer.Argument(help="Amount in yuan, e.g. 1000.00.")],
    key: Annotated[str, typer.Option(help="Idempotency key of this draw.")],
    repayment: Annotated[str, typer.Option(help="Repayment type.")] = "equal_installment",
    term_months: Annotated[int, typer.Option(help="Term in months.")] = 12,
    db: DbOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Borrow under the line on the business date; the account is re-decided right after
    (a draw is a trigger)."""
    amount_fen = parse_amount_fen(amount, field="amount")

    def run(engine: Engine) -> str:
        clock = _clock(engine, as_of)
        result = flows.command(
            engine,
            clock,
            lambda s: servicing.draw(
                s,
                clock,
                account_ref=ref,
                amount_fen=amount_fen,
                repayment_type=repayment,
                term_months=term_months,
                key=key,
            ),
            context=default_context(),
        )
        return f"drew {format_yuan(result.amount_fen)} yuan on {result.drawn_on}, APR {result.apr}"

    typer.echo(_with_engine(db, run))


@account_app.command("repay")
def account_repay(
    ref: RefArg,
    amount: Annotated[str, typer.Argument(help="Amount in yuan.")],
    key: Annotated[str, typer.Option(help="Idempotency key of this repayment.")],
    db: DbOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Repay on the business date; the account is re-decided right after (a repayment is
    a trigger)."""
    amount_fen = parse_amount_fen(amount, field="amount")

    def run(engine: Engine) -> str:
        clock = _clock(engine, as_of)
        result = flows.command(
            engine,
            clock,
            lambda s: servicing.repay(s, clock, account_ref=ref, amount_fen=amount_fen, key=key),
            context=default_context(),
        )
        paid = ", ".join(f"{k} {format_yuan(v)}" for k, v in result.allocated_fen.items() if v)
        return f"repaid {format_yuan(result.amount_fen)} yuan: {paid or 'credit balance'}"

    typer.echo(_with_engine(db, run))


# --- lines -----------------------------------------------------------------------------------


@lines_app.command("review")
def lines_review(
    ref: RefArg, db: DbOption = None, as_of: AsOfOption = None, as_json: JsonOption = False
) -> None:
    """Re-decide one account through the live policy and apply what the line service allows."""

    def run(engine: Engine) -> DecisionView:
        clock = _clock(engine, as_of)
        with unit_of_work(engine) as session:
            return service.review_account(session, clock, ref=ref, context=default_context())

    view = _with_engine(db, run)
    if as_json:
        _echo_json(view.to_dict())
    else:
        print_history([view], Console(), title=f"Review of {ref}")


@lines_app.command("roll")
def lines_roll(
    through: Annotated[
        dt.datetime | None,
        typer.Option(
            "--through",
            formats=["%Y-%m-%d"],
            help="Last business date to close (default: the stored business date).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """The same roll as `cob run`: close business days through THROUGH, apply changes
    whose notice has run, answer the triggers COB raised, advance the business date."""

    def run(engine: Engine) -> flows.RollReport:
        day = as_date(through) or _clock(engine, None).today()
        return flows.roll(engine, Clock(day), through=day, context=default_context())

    result = _with_engine(db, run)
    typer.echo(
        f"closed through {result.cob.as_of}; {result.changes_applied} announced change(s) "
        f"applied; business date now {result.dates.business_date}"
    )
    if not result.cob.ok:
        typer.echo(f"{len(result.cob.failures)} account(s) failed: see `cob run`", err=True)
        raise typer.Exit(1)


def _state_json(state: AccountState) -> dict[str, Any]:
    return {
        "ref": state.ref,
        "product": state.product,
        "status": state.status,
        "line_fen": state.line_fen,
        "available_fen": state.available_fen,
        "outstanding_principal_fen": state.outstanding_principal_fen,
        "days_past_due": state.days_past_due,
        "bucket": state.bucket,
        "apr": state.apr,
    }
