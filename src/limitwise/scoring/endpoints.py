"""``/v1/scorecards``: the registered scorecard versions and which one is live."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from limitwise.api.runtime import Runtime, runtime
from limitwise.scoring import service
from limitwise.scoring.schemas import RegistryEntry

router = APIRouter(prefix="/scorecards", tags=["scorecards"])


@router.get("")
def list_scorecards(rt: Annotated[Runtime, Depends(runtime)]) -> list[RegistryEntry]:
    with rt.transaction() as (session, _clock):
        return service.list_scorecards(session)
