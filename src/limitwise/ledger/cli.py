"""``limitwise ledger ...``: inspect and prove the books."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from limitwise.kit.cli import DbOption, command_group
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.money import format_yuan
from limitwise.ledger.check import TrialBalance, check_trial_balance

app = command_group("The double-entry ledger.")


def print_trial_balance(report: TrialBalance, console: Console) -> None:
    table = Table(title="Trial balance", show_lines=False)
    table.add_column("book")
    table.add_column("balance (yuan)", justify="right")
    for purpose, total in sorted(report.totals_by_purpose_fen.items()):
        table.add_row(purpose, format_yuan(total))
    table.add_row("[bold]all legs[/bold]", f"[bold]{format_yuan(report.grand_total_fen)}[/bold]")
    console.print(table)
    console.print(f"{report.entries_checked} entries, {report.accounts_checked} accounts checked")
    if report.ok:
        console.print("[green]trial balance OK[/green]: every entry balances, Σ legs = 0")
    else:
        console.print(f"[red]trial balance FAILED[/red]: {len(report.problems)} problem(s)")
        for problem in report.problems:
            console.print(f"  - {problem}")


@app.command("check")
def check(db: DbOption = None) -> None:
    """Prove the trial balance; exit 1 with a readable report when anything is off."""
    engine = make_engine(db)
    with unit_of_work(engine) as session:
        report = check_trial_balance(session)
    print_trial_balance(report, Console())
    if not report.ok:
        raise typer.Exit(1)
