"""The business date for commands that own their transactions (the CLI)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from limitwise.businessdate import service
from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work


def command_clock(engine: Engine, as_of: dt.date | None = None) -> Clock:
    """The stored business date, read in its own short transaction; an explicit ``as_of``
    may backdate, or on a simulation book name any date."""
    with unit_of_work(engine) as session:
        return service.clock_for(session, as_of)
