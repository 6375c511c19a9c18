"""The runtime every endpoint depends on: the database, and the business date read inside
each endpoint's own transaction.

Its own module so that domain ``endpoints.py`` files depend on it without importing the
application (which imports them to mount their routers).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from limitwise.businessdate.flows import dated_unit_of_work
from limitwise.kit.clock import Clock
from limitwise.kit.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """What every endpoint needs: the database it serves."""

    engine: Engine
    settings: Settings

    @contextmanager
    def transaction(self) -> Iterator[tuple[Session, Clock]]:
        """The endpoint's unit of work and the stored business date, read inside it and
        held until it ends: a close of business that finishes meanwhile moves the date for
        the next request, never under this one."""
        with dated_unit_of_work(self.engine) as (session, clock):
            yield session, clock


def runtime(request: Request) -> Runtime:
    engine = request.app.state.engine
    assert isinstance(engine, Engine)
    return Runtime(engine=engine, settings=request.app.state.settings)
