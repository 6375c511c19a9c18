"""The FastAPI application, versioned under ``/v1``.

Every error is RFC 9457 problem details (``api/problems.py``); the Host allow-list, the
body size limit and the retry of requests that lost a database race run in front of every
route (``api/guards.py``), and every request's latency is measured (``api/metrics.py``).
Each route is public or behind ``authorize``, and every route has its line in the
authorization matrix (``api/authz.py``): the app refuses to start otherwise. An authorized
request runs in one unit of work, opened by ``authorize`` and committed before the response
is sent, so a refused request leaves nothing behind.
Interactive docs (``/docs``, ``/redoc``) are served from assets bundled with
fastapi-offline: no CDN.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi_offline import FastAPIOffline

from limitwise import __version__
from limitwise.api import problems
from limitwise.api.authz import RateLimiter, anonymous, authorize, bind_rules
from limitwise.api.guards import AllowedHosts, RequestGuard
from limitwise.api.metrics import RequestTimer, registry_for
from limitwise.kit import migrate
from limitwise.kit.db import make_engine
from limitwise.kit.settings import Settings, get_settings

#: Error statuses any route may answer, each documented with the problem shape.
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 500, 503)
VERSION_PREFIX = "/v1"


def _routers() -> tuple[list[APIRouter], list[APIRouter]]:
    """(public routers, routers behind authorization): each domain's ``endpoints.py``."""
    from limitwise.api import system
    from limitwise.applications.endpoints import router as applications_router
    from limitwise.audit.endpoints import router as audit_router
    from limitwise.auth.endpoints import public_router as auth_public
    from limitwise.auth.endpoints import router as auth_router
    from limitwise.ledger.endpoints import router as ledger_router
    from limitwise.lines.endpoints import router as lines_router
    from limitwise.onboarding.endpoints import router as holders_router
    from limitwise.policy.endpoints import router as policy_router
    from limitwise.scoring.endpoints import router as scoring_router
    from limitwise.servicing.endpoints import cob_router
    from limitwise.servicing.endpoints import router as accounts_router

    public = [system.router, auth_public]
    protected = [
        auth_router,
        accounts_router,
        lines_router,
        applications_router,
        holders_router,
        ledger_router,
        cob_router,
        policy_router,
        scoring_router,
        audit_router,
    ]
    return public, protected


def create_app(
    database_url: str | None = None,
    *,
    settings: Settings | None = None,
) -> FastAPI:
    """An app serving the database at ``database_url`` on its stored business date."""
    from limitwise.api.system import metrics_router

    settings = settings or get_settings()
    app = FastAPIOffline(
        title="limitwise",
        version=__version__,
        description="Money is integer fen (1/100 yuan) in every request and response.",
        responses=problems.documented(*ERROR_STATUSES),
    )
    app.state.engine = make_engine(database_url)
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings.rate_limit)
    app.state.schema_heads = migrate.shipped_heads()
    app.state.metrics, latency = registry_for(app.state.engine)
    problems.install(app)
    public, protected = _routers()
    for router in public:
        app.include_router(router, prefix=VERSION_PREFIX, dependencies=[Depends(anonymous)])
    for router in protected:
        app.include_router(
            router, prefix=VERSION_PREFIX, dependencies=[Depends(authorize, scope="function")]
        )
    app.include_router(metrics_router, dependencies=[Depends(anonymous)])
    app.state.mounted = [(VERSION_PREFIX, router) for router in [*public, *protected]]
    app.state.mounted.append(("", metrics_router))
    bind_rules(app, app.state.mounted)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(AllowedHosts, hosts=settings.allowed_hosts.split(","))
    app.add_middleware(RequestTimer, latency=latency)
    return app
