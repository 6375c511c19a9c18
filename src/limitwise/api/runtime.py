"""The runtime every endpoint depends on: the database and the business date it serves.

Its own module so that domain ``endpoints.py`` files depend on it without importing the
application (which imports them to mount their routers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from limitwise.businessdate.flows import command_clock
from limitwise.kit.clock import Clock
from limitwise.kit.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """What every endpoint needs: the database and the business date of this request."""

    engine: Engine
    business_date: dt.date
    settings: Settings

    def clock(self) -> Clock:
        return Clock(self.business_date)


def runtime(request: Request) -> Runtime:
    """The request's runtime: the stored business date is read for every request, so a
    close of business run while the server is up moves what it serves. Authorization reads
    it in the transaction that resolves the caller (``request.state.business_date``); other
    routes read it here."""
    engine = request.app.state.engine
    assert isinstance(engine, Engine)
    business_date = getattr(request.state, "business_date", None)
    if business_date is None:
        business_date = command_clock(engine).today()
    return Runtime(engine=engine, business_date=business_date, settings=request.app.state.settings)
