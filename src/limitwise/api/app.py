"""The FastAPI application.

Every refusal becomes a JSON body ``{"code", "message", "field"}`` with the error's HTTP
status; malformed requests become 422 with one problem per field and rule. Endpoints own
their transaction (``kit.db.unit_of_work``), so a refused request leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from limitwise import __version__
from limitwise.businessdate.flows import command_clock
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine
from limitwise.kit.errors import LimitwiseError


@dataclass(frozen=True)
class Runtime:
    """What every endpoint needs: the database and the business date of this request."""

    engine: Engine
    business_date: dt.date

    def clock(self) -> Clock:
        return Clock(self.business_date)


def runtime(request: Request) -> Runtime:
    """The request's runtime: the stored business date is read for every request, so a
    close of business run while the server is up moves what it serves."""
    engine = request.app.state.engine
    assert isinstance(engine, Engine)
    return Runtime(engine=engine, business_date=command_clock(engine).today())


def _refusal(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LimitwiseError)
    return JSONResponse(exc.to_dict(), status_code=exc.http_status)


def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "field": ".".join(str(part) for part in error["loc"] if part not in {"body", "query"}),
            "rule": error["type"],
            "message": error["msg"],
        }
        for error in exc.errors()
    ]
    message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return JSONResponse(
        {"code": "invalid_request", "message": message, "problems": problems}, status_code=422
    )


def create_app(database_url: str | None = None) -> FastAPI:
    """An app serving the database at ``database_url`` on its stored business date."""
    from limitwise.ledger.endpoints import router as ledger_router
    from limitwise.servicing.endpoints import router as servicing_router

    # /docs and /redoc load their scripts from a CDN; the schema itself is served locally.
    app = FastAPI(title="limitwise", version=__version__, docs_url=None, redoc_url=None)
    app.state.engine = make_engine(database_url)
    app.add_exception_handler(LimitwiseError, _refusal)
    app.add_exception_handler(RequestValidationError, _invalid_request)

    @app.get("/health")
    def health(rt: Annotated[Runtime, Depends(runtime)]) -> dict[str, str]:
        return {
            "status": "ok",
            "version": __version__,
            "business_date": rt.business_date.isoformat(),
        }

    app.include_router(servicing_router)
    app.include_router(ledger_router)
    return app
