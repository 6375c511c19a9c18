"""``limitwise users ...``: create the first admin, and service API keys, from the shell."""

from __future__ import annotations

from typing import Annotated

import typer

from limitwise.auth import service
from limitwise.auth.schemas import ApiKeyCreate, Role, Scope, UserCreate
from limitwise.kit.cli import DbOption, command_group
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work

app = command_group("API users and API keys.")


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Lower-case login name.")],
    role: Annotated[Role, typer.Option(help="What the user may do.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    account: Annotated[
        list[str] | None, typer.Option(help="An account a borrower holds (repeatable).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a user (passwords are stored as argon2 hashes)."""
    spec = UserCreate(username=username, password=password, role=role, account_refs=account or [])
    engine = make_engine(db)
    with unit_of_work(engine) as session:
        user = service.create_user(session, Clock.system(), spec=spec)
    typer.echo(f"user {user.username} ({user.role}) created")


@app.command("api-key")
def api_key(
    name: Annotated[str, typer.Argument(help="Which service the key is for.")],
    scope: Annotated[list[Scope], typer.Option(help="A scope granted (repeatable).")],
    db: DbOption = None,
) -> None:
    """Issue a service API key; the key is printed once and only its digest is stored."""
    engine = make_engine(db)
    with unit_of_work(engine) as session:
        issued = service.create_api_key(
            session, Clock.system(), spec=ApiKeyCreate(name=name, scopes=scope), created_by="cli"
        )
    typer.echo(issued.key)
