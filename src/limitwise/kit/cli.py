"""Shared CLI pieces: the ``--db`` option and turning refusals into clear messages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $LIMITWISE_DATABASE_URL or sqlite:///limitwise.db).",
        show_default=False,
    ),
]

AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Business date (YYYY-MM-DD)."),
]


def as_date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None
