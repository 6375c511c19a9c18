"""``limitwise audit ...``: prove the audit chains untouched, and anchor them outside the
database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from limitwise.audit import service
from limitwise.kit.cli import DbOption, command_group
from limitwise.kit.db import make_engine, unit_of_work

app = command_group("The hash-chained audit log.")

AnchorFile = Annotated[
    Path | None,
    typer.Option(
        "--anchor",
        help="An anchor written by `audit anchor`: fail unless every chain still holds it.",
        exists=True,
        dir_okay=False,
    ),
]
OutputFile = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the anchor here instead of printing it."),
]


@app.command("verify")
def verify(db: DbOption = None, anchor: AnchorFile = None) -> None:
    """Walk the chains; exit 1 naming the first edited, missing or reordered record (or,
    with --anchor, a chain that no longer holds its anchored record)."""
    anchored = service.Anchor.from_json(anchor.read_text()) if anchor else None
    engine = make_engine(db)
    try:
        with unit_of_work(engine) as session:
            result = service.verify(session, anchored)
    finally:
        engine.dispose()
    console = Console(soft_wrap=True)
    if result.ok:
        against = " (and the anchor)" if anchored else ""
        console.print(f"[green]audit chain OK[/green]: {result.records_checked} records{against}")
        return
    console.print(
        f"[red]audit chain BROKEN[/red] in chain {result.first_bad_chain} at record "
        f"{result.first_bad_seq}: {result.problem} ({result.records_checked} records before "
        "it are intact)"
    )
    raise typer.Exit(1)


@app.command("anchor")
def anchor(db: DbOption = None, output: OutputFile = None) -> None:
    """Print (or write) the head of every chain as JSON, to keep outside the database:
    `audit verify --anchor FILE` later proves the chains were not rewritten since."""
    engine = make_engine(db)
    try:
        with unit_of_work(engine) as session:
            document = service.anchor(session).to_json()
    finally:
        engine.dispose()
    if output is None:
        typer.echo(document)
        return
    output.write_text(document + "\n")
    Console(stderr=True).print(f"anchor written to {output}")
