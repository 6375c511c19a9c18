"""The ``limitwise`` command line. Each domain contributes a sub-command group.

Commands are registered by module path and imported only when used, so ``--help`` and
``--version`` load none of SQLAlchemy, polars, numba, DuckDB or FastAPI. Every refusal
(:class:`~limitwise.kit.errors.LimitwiseError`, an unusable file or database) is printed as
one line on stderr with exit code 2, by :class:`~limitwise.kit.cli.RootGroup`.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import typer

from limitwise import __version__
from limitwise.kit.cli import HELP_MARKUP, Lazy, RootGroup


class LimitwiseGroup(RootGroup):
    lazy: ClassVar[dict[str, Lazy]] = {
        "apply": Lazy(
            "limitwise.onboarding.cli",
            "apply",
            "Submit an application from a JSON file and print the outcome.",
        ),
        "init": Lazy(
            "limitwise.lines.cli",
            "init",
            "Migrate the database and install the shipped products, policy and scorecards.",
        ),
        "demo": Lazy("limitwise.commands", "demo", "Build the demo book and prove it balances."),
        "serve": Lazy("limitwise.commands", "serve", "Serve the HTTP API."),
        "db": Lazy("limitwise.commands", "db_app", "Database schema."),
        "ledger": Lazy("limitwise.ledger.cli", "app", "The double-entry ledger."),
        "audit": Lazy("limitwise.audit.cli", "app", "The hash-chained audit log."),
        "users": Lazy("limitwise.auth.cli", "app", "API users and API keys."),
        "onboarding": Lazy(
            "limitwise.onboarding.cli", "app", "Applications, invitations and the PII vault."
        ),
        "account": Lazy(
            "limitwise.lines.cli", "account_app", "Credit accounts: list, show, draw, repay."
        ),
        "lines": Lazy(
            "limitwise.lines.cli", "lines_app", "Line decisions: review, roll the business date."
        ),
        "cob": Lazy("limitwise.servicing.cli", "cob_app", "Close of business: accrue, due, DPD."),
        "scenario": Lazy(
            "limitwise.servicing.cli", "scenario_app", "Replay servicing scenario files."
        ),
        "score": Lazy(
            "limitwise.scoring.cli", "app", "Credit scorecards: train, evaluate, apply, publish."
        ),
        "policy": Lazy(
            "limitwise.policy.cli", "app", "Versioned line policies: validate, publish, diff."
        ),
    }


app = typer.Typer(
    help="limitwise: consumer revolving credit lines, decided and explained.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=HELP_MARKUP,
    cls=LimitwiseGroup,
)


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


def main() -> None:
    """Console entry point."""
    app()
