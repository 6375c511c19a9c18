"""``limitwise cob ...`` and ``limitwise scenario ...``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from limitwise.businessdate.flows import command_clock
from limitwise.kit.cli import DbOption, NewDbOption, command_group
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine
from limitwise.kit.money import format_yuan
from limitwise.servicing import flows
from limitwise.servicing.batch_cob import CobTally
from limitwise.servicing.scenario import ScenarioResult, load_scenario, run_scenario

cob_app = command_group("Close of business: accrue, mark due and overdue, DPD.")
scenario_app = command_group("Replay servicing scenario files.")


EngineOption = Annotated[
    flows.CobEngine,
    typer.Option(
        "--engine",
        help="set: set-based over partitions of the book; account: account by account "
        "through servicing/book.py (debugging).",
    ),
]
PartitionOption = Annotated[
    int,
    typer.Option(
        min=1, max=1_000_000, help="Account ids per partition (one transaction each, set engine)."
    ),
]
ToOption = Annotated[
    dt.datetime | None,
    typer.Option(
        "--to",
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Last business date to close (default: the stored business date).",
    ),
]


@cob_app.command("run")
def cob_run(
    to: ToOption = None,
    db: DbOption = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Accounts closed per transaction (account).")
    ] = flows.DEFAULT_BATCH_SIZE,
    engine_kind: EngineOption = flows.CobEngine.SET,
    partition_size: PartitionOption = flows.DEFAULT_PARTITION_SIZE,
) -> None:
    """Close every account's business days up to TO (catching up day by day), apply the
    line changes that fall due, and advance the stored business date. More processes or
    machines may run `cob work` for the same date meanwhile: they share the partitions.
    Exits 1 when some accounts could not be closed (they are listed, kept in cob_failures
    and retried first by the next run)."""
    from limitwise.lines.flows import default_context, roll

    engine = make_engine(db)
    try:
        through = to.date() if to is not None else command_clock(engine).today()
        with CobProgress(through) as progress:
            result = roll(
                engine,
                Clock(through),
                through=through,
                context=default_context(),
                batch_size=batch_size,
                cob_engine=engine_kind,
                partition_size=partition_size,
                progress=progress,
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
    typer.echo(summary(report.tally))
    for failure in report.failures:
        typer.echo(
            f"  failed: {failure.account} on {failure.business_date} in {failure.step} "
            f"(attempt {failure.attempts}): {failure.error}",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(1)


@cob_app.command("work")
def cob_work(
    to: ToOption = None,
    db: DbOption = None,
    partition_size: PartitionOption = flows.DEFAULT_PARTITION_SIZE,
) -> None:
    """Help a running `cob run` (on this or another machine): claim partitions of TO's
    close of business and close them set-based until none is left. Does not advance the
    business date; `cob run` does that once everything is closed."""
    engine = make_engine(db)
    try:
        through = to.date() if to is not None else command_clock(engine).today()
        with CobProgress(through) as progress:
            tally = flows.work(
                engine, Clock(through), as_of=through, size=partition_size, progress=progress
            )
    finally:
        engine.dispose()
    typer.echo(summary(tally))


def summary(tally: CobTally) -> str:
    """The set-based figures of a run (the accounts the per-account engine closed count in
    accounts and account-days only)."""
    return (
        f"  interest accrued {format_yuan(tally.interest_fen)}, penalty "
        f"{format_yuan(tally.penalty_fen)}, {tally.new_overdue} account(s) newly overdue, "
        f"{tally.bucket_moves} bucket move(s), "
        f"{tally.partitions_per_account} partition(s) closed account by account"
    )


class CobProgress:
    """A rich progress bar on a terminal, a plain line per partition otherwise."""

    def __init__(self, through: dt.date) -> None:
        self.through = through
        self.console = Console(stderr=True)
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> CobProgress:
        if self.console.is_terminal:
            self.bar = Progress(
                TextColumn(f"COB {self.through}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("partitions · {task.fields[days]} account-days"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task("cob", total=None, days=0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def __call__(self, done: int, planned: int, tally: CobTally) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=done, total=planned, days=tally.account_days)
            return
        typer.echo(
            f"COB {self.through}: partition {done}/{planned}, {tally.account_days} account-day(s)",
            err=True,
        )


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
