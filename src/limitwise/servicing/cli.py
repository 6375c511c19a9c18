"""``limitwise cob ...`` and ``limitwise scenario ...``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from limitwise.businessdate.flows import command_clock
from limitwise.kit.cli import DbOption, NewDbOption, command_group
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine
from limitwise.servicing import flows
from limitwise.servicing.scenario import ScenarioResult, load_scenario, run_scenario

cob_app = command_group("Close of business: accrue, mark due and overdue, DPD.")
scenario_app = command_group("Replay servicing scenario files.")


@cob_app.command("run")
def cob_run(
    to: Annotated[
        dt.datetime | None,
        typer.Option(
            "--to",
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Last business date to close (default: the stored business date).",
        ),
    ] = None,
    db: DbOption = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Accounts closed per transaction.")
    ] = flows.DEFAULT_BATCH_SIZE,
) -> None:
    """Close every account's business days up to TO (catching up day by day), apply the
    line changes that fall due, and advance the stored business date. Exits 1 when some
    accounts could not be closed (they are listed, kept in cob_failures and retried first
    by the next run)."""
    from limitwise.lines.flows import default_context, roll

    engine = make_engine(db)
    try:
        through = to.date() if to is not None else command_clock(engine).today()
        result = roll(
            engine,
            Clock(through),
            through=through,
            context=default_context(),
            batch_size=batch_size,
        )
    finally:
        engine.dispose()
    report = result.cob
    typer.echo(
        f"COB through {report.as_of}: {report.accounts_closed} account(s) closed, "
        f"{report.days_closed} account-day(s), {len(report.failures)} failure(s), "
        f"{result.changes_applied} announced line change(s) applied; "
        f"business date now {result.dates.business_date}"
    )
    for failure in report.failures:
        typer.echo(
            f"  failed: {failure.account} on {failure.business_date} in {failure.step} "
            f"(attempt {failure.attempts}): {failure.error}",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(1)


@scenario_app.command("run")
def scenario_run(
    file: Annotated[Path, typer.Argument(help="Scenario YAML.")],
    db: NewDbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final state as JSON.")] = False,
) -> None:
    """Replay FILE on a fresh database; exit 0 only if every check passes."""
    result = run_scenario(load_scenario(file), url=db)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print_checks(result, Console(width=max(Console().width, 120)), title=file.name)
    raise typer.Exit(0 if result.passed else 1)


def print_checks(result: ScenarioResult, console: Console, *, title: str) -> None:
    table = Table(title=f"Scenario {title}")
    for column in ("step", "on", "subject", "field", "expected", "actual", ""):
        table.add_column(column)
    for check in result.checks:
        mark = "[green]ok[/green]" if check.ok else "[red]MISMATCH[/red]"
        table.add_row(
            str(check.step),
            str(check.on),
            check.subject,
            check.field,
            check.expected,
            check.actual,
            mark,
        )
    console.print(table)
    failed = [c for c in result.checks if not c.ok]
    if failed:
        console.print(f"[red]{len(failed)} of {len(result.checks)} checks failed[/red]")
    else:
        console.print(f"[green]all {len(result.checks)} checks passed[/green]")
