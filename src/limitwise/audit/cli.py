"""``limitwise audit ...``: prove the audit chain untouched."""

from __future__ import annotations

import typer
from rich.console import Console

from limitwise.audit import service
from limitwise.kit.cli import DbOption, command_group
from limitwise.kit.db import make_engine, unit_of_work

app = command_group("The hash-chained audit log.")


@app.command("verify")
def verify(db: DbOption = None) -> None:
    """Walk the chain; exit 1 naming the first edited, missing or reordered record."""
    engine = make_engine(db)
    try:
        with unit_of_work(engine) as session:
            result = service.verify(session)
    finally:
        engine.dispose()
    console = Console()
    if result.ok:
        console.print(f"[green]audit chain OK[/green]: {result.records_checked} records")
        return
    console.print(
        f"[red]audit chain BROKEN[/red] at record {result.first_bad_seq}: {result.problem} "
        f"({result.records_checked} records before it are intact)"
    )
    raise typer.Exit(1)
