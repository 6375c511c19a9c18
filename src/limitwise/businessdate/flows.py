"""The business date for commands that own their transactions (the CLI, the API)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from limitwise.businessdate import service
from limitwise.kit.clock import Clock
from limitwise.kit.db import snapshot_unit_of_work, unit_of_work


def command_clock(engine: Engine, as_of: dt.date | None = None) -> Clock:
    """The stored business date, read in its own short transaction; an explicit ``as_of``
    may backdate, or on a simulation book name any date."""
    with unit_of_work(engine) as session:
        return service.clock_for(session, as_of)


@contextmanager
def dated_unit_of_work(engine: Engine) -> Iterator[tuple[Session, Clock]]:
    """One transaction and the business date read inside it, held until it ends: a close of
    business cannot move the date between reading it and using it."""
    with unit_of_work(engine) as session:
        yield session, service.held_clock(session)


@contextmanager
def dated_snapshot(engine: Engine) -> Iterator[tuple[Session, Clock]]:
    """A read-only transaction on one snapshot and the business date read in it. It needs
    no lock on the date: a close of business that commits meanwhile is not in the
    snapshot, so the date and everything read with it stay of one moment."""
    with snapshot_unit_of_work(engine) as session:
        yield session, service.clock(session)
