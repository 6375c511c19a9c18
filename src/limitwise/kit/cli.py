"""Shared CLI pieces: the ``--db`` options, the command-group factory, and the root group
that loads each command's module only when it runs and turns every refusal into one line.

This module imports nothing heavy (no SQLAlchemy, no polars) so ``limitwise --help`` and
``--version`` stay fast; what a command needs is imported when the command is resolved.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import sys
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, NoReturn

import typer
from typer import _click as click  # typer vendors its own click: its types are these
from typer.core import TyperGroup

from limitwise.kit.errors import LimitwiseError

#: Help in click's plain layout: the rich layout of this typer prints a type after every
#: flag (``--json <bool>``) and renders reST/markdown markup literally.
HELP_MARKUP: Any = None
EXIT_REFUSED = 2


def _usable_db(value: str | None) -> str | None:
    from limitwise.kit.db import check_url  # SQLAlchemy only once a command runs

    return None if value is None else check_url(value, may_create=False)


def _creatable_db(value: str | None) -> str | None:
    from limitwise.kit.db import check_url

    return None if value is None else check_url(value, may_create=True)


_DB_HELP = "Database URL (default: $LIMITWISE_DATABASE_URL or sqlite:///limitwise.db)."

#: ``--db`` of a command that reads an existing book: a missing SQLite file is refused.
DbOption = Annotated[
    str | None,
    typer.Option("--db", metavar="URL", help=_DB_HELP, show_default=False, callback=_usable_db),
]
#: ``--db`` of a command that creates the book (``db upgrade``, ``init``, ``demo``, ``apply``,
#: ``scenario run``).
NewDbOption = Annotated[
    str | None,
    typer.Option("--db", metavar="URL", help=_DB_HELP, show_default=False, callback=_creatable_db),
]

AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="Business date."),
]


def as_date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def command_group(help: str) -> typer.Typer:
    """A sub-command group laid out like every other limitwise group."""
    return typer.Typer(
        help=help,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=HELP_MARKUP,
        cls=PlainUsageGroup,
    )


def one_line(text: str) -> str:
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def refuse(message: str) -> NoReturn:
    """Print a refusal as one line on stderr and exit with code 2."""
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(EXIT_REFUSED)


def database_refusal(exc: Exception) -> str | None:
    """What to say about a database error, or ``None`` if ``exc`` is none."""
    errors = sys.modules.get("sqlalchemy.exc")  # loaded whenever a database was used
    if errors is None or not isinstance(exc, errors.DBAPIError):
        return None
    message = f"cannot use the database: {exc.orig}"
    if _schema_is_behind(exc):
        message += " (the schema is older than this limitwise: run `limitwise db upgrade`)"
    return message


def _schema_is_behind(exc: Any) -> bool:
    """A missing table (SQLite) or undefined table (PostgreSQL) means migrations are due."""
    text = str(exc.orig).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


class PlainUsageGroup(TyperGroup):
    """Usage lines name arguments the click way (``FILE``, ``[REF]``), not ``{file}``."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [*_usage_pieces(self, ctx), self.subcommand_metavar]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _plain_usage(super().get_command(ctx, cmd_name))


def _usage_pieces(command: click.Command, ctx: click.Context) -> list[str]:
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            name = (param.metavar or param.name or "arg").upper()
            name = name if param.required else f"[{name}]"
            pieces.append(name + ("..." if param.nargs != 1 else ""))
    return pieces


def _plain_usage(command: click.Command | None) -> click.Command | None:
    """Give a leaf command the same usage line as its group."""
    if command is not None and not isinstance(command, TyperGroup):
        command.collect_usage_pieces = functools.partial(  # type: ignore[method-assign]
            _usage_pieces, command
        )
    return command


@dataclass(frozen=True)
class Lazy:
    """A command whose module is imported only when the command is used."""

    module: str
    attribute: str
    help: str

    def load(self, name: str) -> click.Command:
        target = getattr(importlib.import_module(self.module), self.attribute)
        if isinstance(target, typer.Typer):
            command: click.Command = typer.main.get_group(target)
        else:
            single = typer.Typer(rich_markup_mode=HELP_MARKUP, add_completion=False)
            single.command(name)(target)
            command = typer.main.get_command(single)
        command.name = name
        return command


class RootGroup(PlainUsageGroup):
    """The ``limitwise`` group: lazy sub-commands, and every refusal as one line (exit 2)."""

    lazy: ClassVar[dict[str, Lazy]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.commands, *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.commands[cmd_name] = self.lazy[cmd_name].load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self._short_help(name)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _short_help(self, name: str) -> str:
        if name in self.lazy:
            return self.lazy[name].help
        return self.commands[name].get_short_help_str(limit=80)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LimitwiseError as exc:
            refuse(str(exc))
        except Exception as exc:
            message = database_refusal(exc)
            if message is None:
                raise
            refuse(message)
