"""The FastAPI application.

Every error is RFC 9457 problem details (``api/problems.py``); the Host allow-list, the
body size limit and the retry of requests that lost a database race run in front of every
route (``api/guards.py``). Endpoints own their transaction (``kit.db.unit_of_work``), so a
refused request leaves nothing behind.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI

from limitwise import __version__
from limitwise.api import problems
from limitwise.api.guards import AllowedHosts, RequestGuard
from limitwise.api.runtime import Runtime, runtime
from limitwise.kit.db import make_engine
from limitwise.kit.settings import Settings, get_settings

#: Error statuses any route may answer, each documented with the problem shape.
ERROR_STATUSES = (400, 404, 409, 413, 422, 500, 503)


def create_app(
    database_url: str | None = None,
    *,
    settings: Settings | None = None,
) -> FastAPI:
    """An app serving the database at ``database_url`` on its stored business date."""
    from limitwise.ledger.endpoints import router as ledger_router
    from limitwise.servicing.endpoints import router as servicing_router

    settings = settings or get_settings()
    # /docs and /redoc load their scripts from a CDN; the schema itself is served locally.
    app = FastAPI(
        title="limitwise",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        responses=problems.documented(*ERROR_STATUSES),
    )
    app.state.engine = make_engine(database_url)
    problems.install(app)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(AllowedHosts, hosts=settings.allowed_hosts.split(","))

    @app.get("/health")
    def health(rt: Annotated[Runtime, Depends(runtime)]) -> dict[str, str]:
        with rt.transaction() as (_session, clock):
            business_date = clock.today()
        return {"status": "ok", "version": __version__, "business_date": business_date.isoformat()}

    app.include_router(servicing_router)
    app.include_router(ledger_router)
    return app
