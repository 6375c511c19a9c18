"""The runtime every endpoint depends on: the database and the business date it serves.

Its own module so that domain ``endpoints.py`` files depend on it without importing the
application (which imports them to mount their routers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from limitwise.kit.clock import Clock


@dataclass
class Runtime:
    """What every endpoint needs: the database and the business date it serves."""

    engine: Engine
    business_date: dt.date

    def clock(self) -> Clock:
        return Clock(self.business_date)


def runtime(request: Request) -> Runtime:
    value = request.app.state.runtime
    assert isinstance(value, Runtime)
    return value
