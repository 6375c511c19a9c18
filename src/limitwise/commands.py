"""``limitwise db ...``, ``limitwise demo`` and ``limitwise serve``: the book itself."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from limitwise.kit import migrate
from limitwise.kit.cli import DbOption, NewDbOption, command_group

db_app = command_group("Database schema.")

HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]
WorkersOption = Annotated[
    int, typer.Option(min=1, max=64, help="Server processes (each with its own pool).")
]


@db_app.command("upgrade")
def db_upgrade(db: NewDbOption = None) -> None:
    """Migrate the database to the newest schema (creating a SQLite file if needed)."""
    migrate.upgrade(db)
    current, _heads = migrate.current_revisions(db)
    typer.echo(f"database at {', '.join(sorted(current))}")


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Show the schema revision of the database and whether it is up to date."""
    current, heads = migrate.current_revisions(db)
    state = "up to date" if current == heads else f"behind (head: {', '.join(sorted(heads))})"
    typer.echo(f"{', '.join(sorted(current)) or 'empty'}: {state}")


def demo(
    db: NewDbOption = None,
    accounts: Annotated[int, typer.Option(help="How many demo accounts to open.")] = 5,
    serve: Annotated[bool, typer.Option("--serve", help="Serve the book afterwards.")] = False,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
) -> None:
    """Build the demo book: migrate, open accounts, move money, prove the trial balance."""
    from limitwise.demo import run_demo

    code = run_demo(db, accounts=accounts, console=Console())
    if code == 0 and serve:
        serve_api(db, host=host, port=port)
    raise typer.Exit(code)


def serve(
    db: DbOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: WorkersOption = 1,
) -> None:
    """Serve the HTTP API on uvicorn, on the stored business date (read for every request;
    `cob run` advances it)."""
    serve_api(db, host=host, port=port, workers=workers)


def serve_api(db: str | None, *, host: str, port: int, workers: int = 1) -> None:
    """Refuse the published development secrets outside dev mode, then serve. Workers are
    separate processes: each builds the app from the environment (``api/app.py``)."""
    import os

    import uvicorn

    from limitwise.kit.db import resolve_url
    from limitwise.kit.settings import get_settings

    get_settings().require_own_keys(serving=True)
    os.environ["LIMITWISE_DATABASE_URL"] = resolve_url(db)
    Console().print(
        f"serving on [bold]http://{host}:{port}[/bold] with {workers} worker(s) "
        "(OpenAPI schema at /openapi.json, docs at /docs); Ctrl-C to stop"
    )
    uvicorn.run(
        "limitwise.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
