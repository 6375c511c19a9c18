"""The runtime every endpoint depends on: the database, and the request's unit of work with
the business date read inside it.

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

#: A transaction and the business date held in it.
Unit = tuple[Session, Clock]


@dataclass(frozen=True)
class Runtime:
    """What every endpoint needs: the database it serves, and on an authorized route the
    request's unit of work (``authorize`` opens it, and commits it before the response is
    sent)."""

    engine: Engine
    settings: Settings
    unit: Unit | None = None

    @contextmanager
    def transaction(self) -> Iterator[Unit]:
        """The endpoint's unit of work and the stored business date, read inside it and
        held until it ends: a close of business that finishes meanwhile moves the date for
        the next request, never under this one. On an authorized route this is the
        request's own unit of work, so resolving the caller and serving it cost one
        transaction."""
        if self.unit is not None:
            yield self.unit
            return
        with dated_unit_of_work(self.engine) as unit:
            yield unit


async def runtime(request: Request) -> Runtime:
    """Async: it does no I/O, so it need not cost a trip through the thread pool."""
    engine = request.app.state.engine
    assert isinstance(engine, Engine)
    unit = getattr(request.state, "unit", None)
    return Runtime(engine=engine, settings=request.app.state.settings, unit=unit)
