"""The ``limitwise`` command line. Each domain contributes a sub-command group."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from limitwise import __version__
from limitwise.kit import migrate
from limitwise.kit.cli import DbOption
from limitwise.kit.errors import LimitwiseError
from limitwise.ledger.cli import app as ledger_app
from limitwise.lines import cli as lines_cli
from limitwise.onboarding import cli as onboarding_cli
from limitwise.policy.cli import app as policy_app
from limitwise.scoring.cli import app as score_app
from limitwise.servicing.cli import cob_app, scenario_app

app = typer.Typer(
    help="limitwise: consumer revolving credit lines, decided and explained.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")
app.add_typer(onboarding_cli.app, name="onboarding")
app.command("apply")(onboarding_cli.apply)
app.command("init")(lines_cli.init)
app.add_typer(lines_cli.account_app, name="account")
app.add_typer(lines_cli.lines_app, name="lines")
app.add_typer(cob_app, name="cob")
app.add_typer(scenario_app, name="scenario")
app.add_typer(score_app, name="score")
app.add_typer(policy_app, name="policy")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"limitwise {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """limitwise command line."""


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Migrate the database to the newest schema."""
    migrate.upgrade(db)
    current, _heads = migrate.current_revisions(db)
    typer.echo(f"database at {', '.join(sorted(current))}")


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Show the schema revision of the database and whether it is up to date."""
    current, heads = migrate.current_revisions(db)
    state = "up to date" if current == heads else f"behind (head: {', '.join(sorted(heads))})"
    typer.echo(f"{', '.join(sorted(current)) or 'empty'}: {state}")


HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]


@app.command("demo")
def demo(
    db: DbOption = None,
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


@app.command("serve")
def serve(
    db: DbOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
) -> None:
    """Serve the HTTP API on the stored business date (read for every request; `cob run`
    advances it)."""
    serve_api(db, host=host, port=port)


def serve_api(db: str | None, *, host: str, port: int) -> None:
    import uvicorn

    from limitwise.api.app import create_app

    api = create_app(db)
    Console().print(
        f"serving on [bold]http://{host}:{port}[/bold] "
        "(OpenAPI schema at /openapi.json); Ctrl-C to stop"
    )
    uvicorn.run(api, host=host, port=port, log_level="warning")


def main() -> None:
    """Console entry point: refusals and unreachable databases become one clear line."""
    err = Console(stderr=True)
    try:
        app()
    except LimitwiseError as exc:
        err.print(f"[red]error[/red]: {exc}")
        sys.exit(2)
    except (OperationalError, ProgrammingError) as exc:
        err.print(f"[red]error[/red]: cannot use the database: {exc.orig}")
        if _schema_is_behind(exc):
            err.print("the schema is older than this limitwise: run `limitwise db upgrade`")
        sys.exit(2)


def _schema_is_behind(exc: DBAPIError) -> bool:
    """A missing table (SQLite) or undefined table (PostgreSQL) means migrations are due."""
    text = str(exc.orig).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)
