"""The server's own routes: health, readiness, metrics, and the floor (a route that does no
work, which the benchmark measures the framework by)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from limitwise import __version__
from limitwise.api.runtime import Runtime, runtime
from limitwise.kit import migrate
from limitwise.kit.errors import LimitwiseError

router = APIRouter(tags=["system"])
metrics_router = APIRouter(tags=["system"])


class NotReady(LimitwiseError):
    code = "not_ready"
    http_status = 503


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    business_date: str


class Ready(BaseModel):
    status: Literal["ready"]
    revisions: list[str]


class Floor(BaseModel):
    ok: bool


@router.get("/health")
def health(rt: Annotated[Runtime, Depends(runtime)]) -> Health:
    with rt.transaction() as (_session, clock):
        business_date = clock.today()
    return Health(status="ok", version=__version__, business_date=business_date.isoformat())


@router.get("/ready")
def ready(request: Request) -> Ready:
    """Ready when the database answers and its schema is at the head this package ships."""
    engine = request.app.state.engine
    assert isinstance(engine, Engine)
    try:
        current = migrate.engine_revisions(engine)
    except SQLAlchemyError as exc:
        detail = f"the database does not answer: {exc}"
        raise NotReady(detail, code="database_unreachable") from None
    heads = request.app.state.schema_heads
    if current != heads:
        raise NotReady(
            f"the database is at {sorted(current) or 'no revision'}, the code needs "
            f"{sorted(heads)}: run `limitwise db upgrade`",
            code="schema_behind",
        )
    return Ready(status="ready", revisions=sorted(current))


@router.get("/floor")
async def floor() -> Floor:
    """Does nothing: the cost of the framework, auth excluded, for the benchmark's floor
    (async, so it does not pay for a trip through the thread pool either)."""
    return Floor(ok=True)


@metrics_router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
